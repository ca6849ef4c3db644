// Encoders and bounded decoders for the run_tokens BLOB columns (layouts in
// token_blobs.h). Decoding goes through engine::BoundedReader, so no read
// ever passes the end of the blob.
#include "projects/token_blobs.h"

#include <bit>
#include <cstring>
#include <string>

#include "engine/bounded_reader.h"
#include "engine/checked_math.h"

namespace glassbox::projects {

using engine::BoundedReader;
using engine::Error;
using engine::ErrorCode;
using engine::makeError;
using engine::Result;

static_assert(std::endian::native == std::endian::little,
              "project BLOBs are little-endian and written with memcpy");

namespace {

template <class T>
void put(std::vector<uint8_t>& out, T value) {
    const size_t at = out.size();
    out.resize(at + sizeof(T));
    std::memcpy(out.data() + at, &value, sizeof(T));
}

Error malformed(std::string_view field, uint64_t offset, std::string message) {
    return makeError(ErrorCode::Malformed, std::move(message), std::string(field), offset);
}

// Reads `count` records of `recordBytes` each, after checking they fit.
Result<uint64_t> checkedRecordBytes(const BoundedReader& in, uint64_t count, uint64_t recordBytes,
                                    std::string_view field) {
    const auto total = engine::checkedMul(count, recordBytes);
    if (!total) return makeError(ErrorCode::Overflow, "record count overflows", std::string(field), in.offset());
    if (*total > in.remaining())
        return makeError(ErrorCode::Truncated,
                         "declares " + std::to_string(count) + " records (" + std::to_string(*total) +
                             " bytes) but only " + std::to_string(in.remaining()) + " bytes remain",
                         std::string(field), in.offset());
    return *total;
}

Result<engine::SamplerStage> decodeStage(BoundedReader& in, int previousKind, std::string_view field) {
    const uint64_t start = in.offset();
    GB_ASSIGN_OR_RETURN(const uint8_t kind, in.read<uint8_t>(field));
    GB_ASSIGN_OR_RETURN(const uint8_t flags, in.read<uint8_t>(field));
    GB_ASSIGN_OR_RETURN(const uint16_t reserved, in.read<uint16_t>(field));
    GB_ASSIGN_OR_RETURN(const uint32_t count, in.read<uint32_t>(field));
    GB_ASSIGN_OR_RETURN(const int64_t survivors, in.read<int64_t>(field));
    if (kind >= engine::kSamplerStageCount)
        return malformed(field, start, "unknown sampler stage kind " + std::to_string(kind));
    if (int(kind) <= previousKind)
        return malformed(field, start, "sampler stages out of order or repeated");
    if ((flags & ~uint8_t(1)) != 0 || reserved != 0)
        return malformed(field, start + 1, "reserved stage bits are set");
    if (survivors < 0) return malformed(field, start + 8, "negative survivor count");
    GB_TRY(checkedRecordBytes(in, count, 12, field));

    engine::SamplerStage stage;
    stage.kind = engine::SamplerStageKind(kind);
    stage.active = (flags & 1) != 0;
    stage.survivors = survivors;
    stage.top.resize(count);
    for (engine::StageCandidate& c : stage.top) {
        GB_ASSIGN_OR_RETURN(c.id, in.read<int32_t>(field));
        GB_ASSIGN_OR_RETURN(c.logit, in.read<float>(field));
        GB_ASSIGN_OR_RETURN(c.prob, in.read<float>(field));
    }
    return stage;
}

}  // namespace

Result<std::vector<uint8_t>> encodeAlternatives(std::span<const engine::TokenLogprob> alternatives) {
    if (alternatives.size() > UINT16_MAX)
        return makeError(ErrorCode::InvalidArgument, "at most 65535 alternatives per token", "alternatives");
    std::vector<uint8_t> out;
    out.reserve(4 + 8 * alternatives.size());
    put<uint8_t>(out, kAlternativesFormat);
    put<uint8_t>(out, 0);
    put<uint16_t>(out, uint16_t(alternatives.size()));
    for (const engine::TokenLogprob& a : alternatives) {
        put<int32_t>(out, a.id);
        put<float>(out, a.logprob);
    }
    return out;
}

Result<std::vector<engine::TokenLogprob>> decodeAlternatives(std::span<const uint8_t> blob,
                                                             std::string_view field) {
    BoundedReader in(blob);
    GB_ASSIGN_OR_RETURN(const uint8_t format, in.read<uint8_t>(field));
    if (format != kAlternativesFormat)
        return malformed(field, 0, "unknown alternatives format " + std::to_string(format));
    GB_ASSIGN_OR_RETURN(const uint8_t reserved, in.read<uint8_t>(field));
    if (reserved != 0) return malformed(field, 1, "reserved byte is set");
    GB_ASSIGN_OR_RETURN(const uint16_t count, in.read<uint16_t>(field));
    GB_ASSIGN_OR_RETURN(const uint64_t bytes, checkedRecordBytes(in, count, 8, field));
    if (bytes != in.remaining())
        return malformed(field, in.offset() + bytes, "trailing bytes after the alternatives");
    std::vector<engine::TokenLogprob> out(count);
    for (engine::TokenLogprob& a : out) {
        GB_ASSIGN_OR_RETURN(a.id, in.read<int32_t>(field));
        GB_ASSIGN_OR_RETURN(a.logprob, in.read<float>(field));
    }
    return out;
}

Result<std::vector<uint8_t>> encodeStages(const engine::SamplerStages& stages) {
    size_t bytes = 4;
    for (const engine::SamplerStage& s : stages.stages) {
        if (s.top.size() > UINT32_MAX)
            return makeError(ErrorCode::InvalidArgument, "too many stage candidates", "stages");
        bytes += 16 + 12 * s.top.size();
    }
    std::vector<uint8_t> out;
    out.reserve(bytes);
    put<uint8_t>(out, kStagesFormat);
    put<uint8_t>(out, uint8_t(engine::kSamplerStageCount));
    put<uint16_t>(out, 0);
    for (size_t k = 0; k < engine::kSamplerStageCount; ++k) {
        const engine::SamplerStage& s = stages.stages[k];
        put<uint8_t>(out, uint8_t(k));
        put<uint8_t>(out, s.active ? 1 : 0);
        put<uint16_t>(out, 0);
        put<uint32_t>(out, uint32_t(s.top.size()));
        put<int64_t>(out, s.survivors);
        for (const engine::StageCandidate& c : s.top) {
            put<int32_t>(out, c.id);
            put<float>(out, c.logit);
            put<float>(out, c.prob);
        }
    }
    return out;
}

Result<engine::SamplerStages> decodeStages(std::span<const uint8_t> blob, std::string_view field) {
    BoundedReader in(blob);
    GB_ASSIGN_OR_RETURN(const uint8_t format, in.read<uint8_t>(field));
    if (format != kStagesFormat)
        return malformed(field, 0, "unknown stages format " + std::to_string(format));
    GB_ASSIGN_OR_RETURN(const uint8_t count, in.read<uint8_t>(field));
    if (count > engine::kSamplerStageCount)
        return malformed(field, 1, "more sampler stages than there are kinds");
    GB_ASSIGN_OR_RETURN(const uint16_t reserved, in.read<uint16_t>(field));
    if (reserved != 0) return malformed(field, 2, "reserved bytes are set");

    engine::SamplerStages out;
    for (size_t k = 0; k < engine::kSamplerStageCount; ++k) out.stages[k].kind = engine::SamplerStageKind(k);
    int previousKind = -1;
    for (uint8_t i = 0; i < count; ++i) {
        GB_ASSIGN_OR_RETURN(engine::SamplerStage stage, decodeStage(in, previousKind, field));
        previousKind = int(stage.kind);
        out.stages[size_t(stage.kind)] = std::move(stage);
    }
    if (in.remaining() != 0) return malformed(field, in.offset(), "trailing bytes after the stages");
    return out;
}

std::vector<uint8_t> encodeTokenIds(std::span<const int32_t> ids) {
    std::vector<uint8_t> out(ids.size() * sizeof(int32_t));
    if (!ids.empty()) std::memcpy(out.data(), ids.data(), out.size());
    return out;
}

Result<std::vector<int32_t>> decodeTokenIds(std::span<const uint8_t> blob, std::string_view field) {
    if (blob.size() % sizeof(int32_t) != 0)
        return malformed(field, blob.size() - blob.size() % sizeof(int32_t),
                         "token id list length " + std::to_string(blob.size()) + " is not a multiple of 4");
    std::vector<int32_t> out(blob.size() / sizeof(int32_t));
    if (!out.empty()) std::memcpy(out.data(), blob.data(), blob.size());
    return out;
}

}  // namespace glassbox::projects
