// safetensors serialization: header JSON, space padding, tensor data.
#include "engine/safetensors_writer.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <set>

#include "engine/checked_math.h"
#include "engine/json.h"

namespace glassbox::engine {
namespace {

Status checkTensor(const SafetensorsWriteTensor& t) {
    if (t.name == "__metadata__")
        return makeError(ErrorCode::InvalidArgument, "\"__metadata__\" cannot name a tensor",
                         t.name);
    if (t.shape.size() > kSafetensorsMaxDims)
        return makeError(ErrorCode::InvalidArgument, "too many dimensions", t.name);
    uint64_t elements = 1;
    for (const uint64_t d : t.shape) {
        const auto product = checkedMul(elements, d);
        if (!product) return makeError(ErrorCode::InvalidArgument, "shape overflows", t.name);
        elements = *product;
    }
    const auto bytes = safetensorsDataBytes(t.dtype, elements);
    if (!bytes || *bytes != t.data.size())
        return makeError(ErrorCode::InvalidArgument,
                         "data has " + std::to_string(t.data.size()) +
                             " bytes, which does not match dtype and shape",
                         t.name);
    return {};
}

}  // namespace

Result<std::vector<uint8_t>> serializeSafetensors(std::span<const SafetensorsWriteTensor> tensors,
                                                  const SafetensorsMetadata& metadata) {
    std::vector<const SafetensorsWriteTensor*> order;
    std::set<std::string_view> names;
    for (const auto& t : tensors) {
        GB_TRY(checkTensor(t));
        if (!names.insert(t.name).second)
            return makeError(ErrorCode::InvalidArgument, "duplicate tensor name", t.name);
        order.push_back(&t);
    }
    std::stable_sort(order.begin(), order.end(), [](const auto* a, const auto* b) {
        const uint32_t ba = safetensorsDtypeBits(a->dtype), bb = safetensorsDtypeBits(b->dtype);
        if (ba != bb) return ba > bb;
        return a->name < b->name;
    });

    JsonValue header = JsonValue::makeObject();
    if (!metadata.empty()) {
        JsonValue meta = JsonValue::makeObject();
        for (const auto& [k, v] : metadata) meta.set(k, JsonValue(v));
        header.set("__metadata__", std::move(meta));
    }
    uint64_t offset = 0;
    for (const auto* t : order) {
        JsonValue shape = JsonValue::makeArray();
        for (const uint64_t d : t->shape) shape.push(JsonValue(d));
        JsonValue offsets = JsonValue::makeArray();
        offsets.push(JsonValue(offset));
        offset += t->data.size();
        offsets.push(JsonValue(offset));
        JsonValue entry = JsonValue::makeObject();
        entry.set("dtype", JsonValue(safetensorsDtypeName(t->dtype)));
        entry.set("shape", std::move(shape));
        entry.set("data_offsets", std::move(offsets));
        header.object()->append(t->name, std::move(entry));
    }
    std::string text = dumpJson(header);
    text.append((8 - text.size() % 8) % 8, ' ');
    if (text.size() > kSafetensorsMaxHeaderBytes)
        return makeError(ErrorCode::InvalidArgument, "header exceeds the format's size limit",
                         "header");

    std::vector<uint8_t> out;
    out.reserve(8 + text.size() + offset);
    const uint64_t n = text.size();
    for (int i = 0; i < 8; ++i) out.push_back(uint8_t(n >> (8 * i)));
    out.insert(out.end(), text.begin(), text.end());
    for (const auto* t : order) out.insert(out.end(), t->data.begin(), t->data.end());
    return out;
}

Status writeSafetensorsFile(const std::string& path,
                            std::span<const SafetensorsWriteTensor> tensors,
                            const SafetensorsMetadata& metadata) {
    GB_ASSIGN_OR_RETURN(const std::vector<uint8_t> bytes, serializeSafetensors(tensors, metadata));
    const std::string tmp = path + ".tmp";
    std::FILE* f = std::fopen(tmp.c_str(), "wb");
    if (!f) return makeError(ErrorCode::Io, "cannot create '" + tmp + "'");
    const bool written = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
    const bool closed = std::fclose(f) == 0;
    std::error_code ec;
    if (!written || !closed) {
        std::filesystem::remove(tmp, ec);
        return makeError(ErrorCode::Io, "cannot write '" + tmp + "'");
    }
    std::filesystem::rename(tmp, path, ec);
    if (ec) {
        std::filesystem::remove(tmp, ec);
        return makeError(ErrorCode::Io, "cannot rename '" + tmp + "' to '" + path + "'");
    }
    return {};
}

}  // namespace glassbox::engine
