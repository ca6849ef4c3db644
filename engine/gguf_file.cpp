// GGUF parsing (lookups and value decoding are in gguf_value.cpp, the value
// builders live with the encoder in gguf_writer.cpp). GgufParser walks the file twice with one
// BoundedReader: a validating pass that keeps only compact index vectors
// (each no larger than the input), then, for a well-formed file, a building
// pass that fills the GgufFile tables. Array values keep a view of their
// encoded elements plus, for strings and nested arrays, the start of each
// element, so decoding an item later needs no further validation.
#include "engine/gguf_file.h"

#include <algorithm>
#include <bit>
#include <cstdio>
#include <cstring>
#include <limits>

#include "engine/bounded_reader.h"
#include "engine/checked_math.h"

namespace glassbox::engine {

static_assert(std::endian::native == std::endian::little, "GGUF decoding assumes a little-endian host");

namespace {

constexpr uint64_t kNoIndex = ~uint64_t(0);
constexpr uint64_t kMinKvBytes = 8 + 4;                      // key length, value type
constexpr uint64_t kMinTensorInfoBytes = 8 + 4 + 8 + 4 + 8;  // name length, n_dims, one dim, type, offset
constexpr uint64_t kMinStringBytes = 8;
constexpr uint64_t kMinArrayBytes = 4 + 8;
constexpr size_t kMaxLabelBytes = 64;

bool knownValueType(uint32_t raw) { return raw <= static_cast<uint32_t>(GgufValueType::Float64); }

// Names the field being read; the text is only built when an error is reported.
struct FieldName {
    FieldName(const char* s, uint64_t i = kNoIndex, const char* p = "", std::string_view l = {})
        : section(s), index(i), part(p), label(l) {}
    const char* section;
    uint64_t index;
    const char* part;
    std::string_view label;  // the key or tensor name, once known

    std::string str() const {
        std::string s = section;
        if (index != kNoIndex) s += "[" + std::to_string(index) + "]";
        if (*part) s.append(".").append(part);
        if (!label.empty()) {
            s += std::string_view(section) == "kv" ? " (key '" : " ('";
            for (char c : label.substr(0, kMaxLabelBytes))
                s += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? '?' : c;
            if (label.size() > kMaxLabelBytes) s += "...";
            s += "')";
        }
        return s;
    }
};

void appendText(std::string& s, std::string_view v) { s += v; }
void appendText(std::string& s, std::integral auto v) { s += std::to_string(v); }

// An error message built from text and numbers.
template <class... Parts>
std::string cat(const Parts&... parts) {
    std::string s;
    (appendText(s, parts), ...);
    return s;
}

template <class... Parts>
Error fail(ErrorCode code, const FieldName& field, uint64_t offset, const Parts&... message) {
    return makeError(code, cat(message...), field.str(), offset);
}

Error withField(Error e, const FieldName& field) {
    e.field = field.str();
    return e;
}

template <class T>
Result<T> readField(BoundedReader& r, const FieldName& field) {
    auto v = r.read<T>({});
    if (!v.ok()) return withField(v.error(), field);
    return v;
}

Result<std::span<const uint8_t>> takeField(BoundedReader& r, uint64_t n, const FieldName& field) {
    auto v = r.take(n, {});
    if (!v.ok()) return withField(v.error(), field);
    return v;
}

// A GGUF string: uint64 length, then that many bytes (checked before use).
Result<std::string_view> readStringView(BoundedReader& r, const FieldName& field) {
    GB_ASSIGN_OR_RETURN(uint64_t length, readField<uint64_t>(r, field));
    GB_ASSIGN_OR_RETURN(auto bytes, takeField(r, length, field));
    return std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

template <class T>
Status readScalar(BoundedReader& r, GgufValue* out, const FieldName& f) {
    GB_ASSIGN_OR_RETURN(T v, readField<T>(r, f));
    if (!out) return {};
    if constexpr (std::is_floating_point_v<T>) out->f = v;
    else if constexpr (std::is_signed_v<T>) out->i = v;
    else out->u = v;
    return {};
}

}  // namespace

// Walks a GGUF file; validates when m_out is null, builds m_out otherwise.
class GgufParser {
public:
    GgufParser(std::span<const uint8_t> bytes, GgufFile* out) : m_r(bytes), m_bytes(bytes), m_out(out) {}

    Status run();

    // The payload of one value whose type id was already read; `depth`
    // counts the arrays enclosing it. With `out` the value is filled in.
    static Status readValue(BoundedReader& r, GgufValueType type, int depth, GgufValue* out, const FieldName& f);
    // An array payload: element type, count, elements.
    static Status readArray(BoundedReader& r, int depth, GgufValue* out, const FieldName& f);
    // Element `index` of a fixed-size-element array.
    static GgufValue fixedItem(const GgufValue& array, uint64_t index);

private:
    struct TensorRecord {
        uint64_t namePos;  // where the tensor info starts
        uint64_t offset;
        uint64_t bytes;
    };

    Status readHeader();
    Status readKv(uint64_t index);
    Status readAlignment(const FieldName& f, GgufValue* out);
    Status readTensorInfo(uint64_t index);
    Status checkDuplicateKeys();
    Status checkTensors();
    std::string_view stringAt(uint64_t pos) const;
    uint64_t tensorIndex(uint64_t namePos) const;

    BoundedReader m_r;
    std::span<const uint8_t> m_bytes;
    GgufFile* m_out;
    uint32_t m_version = 0;
    uint64_t m_tensorCount = 0;
    uint64_t m_kvCount = 0;
    uint32_t m_alignment = kGgufDefaultAlignment;
    uint64_t m_dataOffset = 0;
    std::vector<uint64_t> m_keyPositions;  // validating only
    std::vector<TensorRecord> m_records;   // validating only
};

Status GgufParser::run() {
    GB_TRY(readHeader());
    if (m_out) m_out->m_metadata.reserve(m_kvCount);
    else m_keyPositions.reserve(m_kvCount);
    for (uint64_t k = 0; k < m_kvCount; ++k) GB_TRY(readKv(k));
    if (!m_out) GB_TRY(checkDuplicateKeys());

    if (m_out) m_out->m_tensors.reserve(m_tensorCount);
    else m_records.reserve(m_tensorCount);
    for (uint64_t k = 0; k < m_tensorCount; ++k) GB_TRY(readTensorInfo(k));

    const auto dataOffset = alignUp(m_r.offset(), m_alignment);
    if (!dataOffset) return fail(ErrorCode::Overflow, FieldName("data"), m_r.offset(), "data offset overflows");
    m_dataOffset = *dataOffset;
    if (!m_out) return checkTensors();
    m_out->m_version = m_version;
    m_out->m_alignment = m_alignment;
    m_out->m_dataOffset = m_dataOffset;
    return {};
}

Status GgufParser::readHeader() {
    FieldName f("header", kNoIndex, "magic");
    GB_ASSIGN_OR_RETURN(uint32_t magic, readField<uint32_t>(m_r, f));
    if (magic != kGgufMagic) {
        char text[16];
        std::snprintf(text, sizeof text, "0x%08x", magic);
        return fail(ErrorCode::Malformed, f, 0, "bad magic ", text, ", expected \"GGUF\" (0x46554747)");
    }
    f.part = "version";
    GB_ASSIGN_OR_RETURN(m_version, readField<uint32_t>(m_r, f));
    if (m_version == 1) return fail(ErrorCode::Unsupported, f, 4, "GGUF version 1 is not supported");
    if (m_version != 0 && (m_version & 0xffff) == 0)
        return fail(ErrorCode::Unsupported, f, 4, "big-endian GGUF files are not supported");
    if (m_version != 2 && m_version != 3)
        return fail(ErrorCode::Unsupported, f, 4, "unknown GGUF version ", m_version);
    f.part = "tensor_count";
    GB_ASSIGN_OR_RETURN(m_tensorCount, readField<uint64_t>(m_r, f));
    f.part = "kv_count";
    GB_ASSIGN_OR_RETURN(m_kvCount, readField<uint64_t>(m_r, f));

    // Every KV and tensor info takes a minimum number of bytes: counts that
    // could not fit in what is left are rejected before anything is reserved.
    const uint64_t left = m_r.remaining();
    const auto tensorBytes = checkedMul(m_tensorCount, kMinTensorInfoBytes);
    if (!tensorBytes || *tensorBytes > left)
        return fail(ErrorCode::Overflow, FieldName("header", kNoIndex, "tensor_count"), 8, m_tensorCount,
                    " tensor infos can not fit in the ", left, " bytes left");
    const auto kvBytes = checkedMul(m_kvCount, kMinKvBytes);
    const auto total = kvBytes ? checkedAdd(*kvBytes, *tensorBytes) : std::nullopt;
    if (!total || *total > left)
        return fail(ErrorCode::Overflow, f, 16, m_kvCount, " KVs and ", m_tensorCount,
                    " tensor infos can not fit in the ", left, " bytes left");
    return {};
}

Status GgufParser::readKv(uint64_t index) {
    FieldName f("kv", index, "key");
    const uint64_t keyPos = m_r.offset();
    GB_ASSIGN_OR_RETURN(std::string_view key, readStringView(m_r, f));
    f.label = key;
    f.part = "type";
    const uint64_t typePos = m_r.offset();
    GB_ASSIGN_OR_RETURN(uint32_t rawType, readField<uint32_t>(m_r, f));
    if (!knownValueType(rawType)) return fail(ErrorCode::Malformed, f, typePos, "unknown value type ", rawType);
    const auto type = static_cast<GgufValueType>(rawType);
    const bool isAlignment = key == "general.alignment";
    if (isAlignment && type != GgufValueType::Uint32)
        return fail(ErrorCode::Malformed, f, typePos, "must be uint32, not ", ggufValueTypeName(type));

    GgufValue* out = nullptr;
    if (m_out) {
        m_out->m_metadataIndex.emplace(std::string(key), m_out->m_metadata.size());
        out = &m_out->m_metadata.emplace_back(std::string(key), GgufValue{}).second;
    } else {
        m_keyPositions.push_back(keyPos);
    }
    f.part = "value";
    return isAlignment ? readAlignment(f, out) : readValue(m_r, type, 0, out, f);
}

Status GgufParser::readAlignment(const FieldName& f, GgufValue* out) {
    const uint64_t pos = m_r.offset();
    GB_ASSIGN_OR_RETURN(uint32_t alignment, readField<uint32_t>(m_r, f));
    if (alignment == 0 || (alignment & (alignment - 1)) != 0)
        return fail(ErrorCode::Malformed, f, pos, "alignment ", alignment, " is not a power of two");
    if (alignment > kGgufMaxAlignment)
        return fail(ErrorCode::Unsupported, f, pos, "alignment ", alignment, " exceeds ", kGgufMaxAlignment);
    m_alignment = alignment;
    if (out) *out = GgufValue::of(alignment);
    return {};
}

Status GgufParser::readValue(BoundedReader& r, GgufValueType type, int depth, GgufValue* out, const FieldName& f) {
    if (out) out->type = type;
    const uint64_t pos = r.offset();
    switch (type) {
    case GgufValueType::Uint8: return readScalar<uint8_t>(r, out, f);
    case GgufValueType::Int8: return readScalar<int8_t>(r, out, f);
    case GgufValueType::Uint16: return readScalar<uint16_t>(r, out, f);
    case GgufValueType::Int16: return readScalar<int16_t>(r, out, f);
    case GgufValueType::Uint32: return readScalar<uint32_t>(r, out, f);
    case GgufValueType::Int32: return readScalar<int32_t>(r, out, f);
    case GgufValueType::Float32: return readScalar<float>(r, out, f);
    case GgufValueType::Uint64: return readScalar<uint64_t>(r, out, f);
    case GgufValueType::Int64: return readScalar<int64_t>(r, out, f);
    case GgufValueType::Float64: return readScalar<double>(r, out, f);
    case GgufValueType::Bool: {
        GB_ASSIGN_OR_RETURN(uint8_t v, readField<uint8_t>(r, f));
        if (v > 1) return fail(ErrorCode::Malformed, f, pos, "bool value ", v, " is neither 0 nor 1");
        if (out) out->u = v;
        return {};
    }
    case GgufValueType::String: {
        GB_ASSIGN_OR_RETURN(std::string_view s, readStringView(r, f));
        if (out) out->s.assign(s);
        return {};
    }
    case GgufValueType::Array: return readArray(r, depth + 1, out, f);
    }
    return fail(ErrorCode::Malformed, f, pos, "unknown value type");
}

Status GgufParser::readArray(BoundedReader& r, int depth, GgufValue* out, const FieldName& f) {
    const uint64_t typePos = r.offset();
    if (depth > kGgufMaxArrayDepth)
        return fail(ErrorCode::Malformed, f, typePos, "arrays nested deeper than ", kGgufMaxArrayDepth, " levels");
    GB_ASSIGN_OR_RETURN(uint32_t rawType, readField<uint32_t>(r, f));
    if (!knownValueType(rawType))
        return fail(ErrorCode::Malformed, f, typePos, "unknown array element type ", rawType);
    const auto elementType = static_cast<GgufValueType>(rawType);
    const uint64_t countPos = r.offset();
    GB_ASSIGN_OR_RETURN(uint64_t count, readField<uint64_t>(r, f));
    const uint64_t bodyPos = r.offset();
    if (out) {
        out->type = GgufValueType::Array;
        out->arrayType = elementType;
        out->m_count = count;
    }
    if (const size_t size = ggufValueTypeSize(elementType)) {
        const auto bytes = checkedMul(count, size);
        if (!bytes) return fail(ErrorCode::Overflow, f, countPos, count, " elements of ", size, " bytes overflow");
        GB_ASSIGN_OR_RETURN(auto body, takeField(r, *bytes, f));
        for (size_t k = 0; elementType == GgufValueType::Bool && k < body.size(); ++k)
            if (body[k] > 1) return fail(ErrorCode::Malformed, f, bodyPos + k, "bool element ", k, " is not 0 or 1");
        if (out) out->m_raw = body;
        return {};
    }
    const uint64_t minBytes = elementType == GgufValueType::String ? kMinStringBytes : kMinArrayBytes;
    if (count > r.remaining() / minBytes)
        return fail(ErrorCode::Overflow, f, countPos, count, " ", ggufValueTypeName(elementType),
                    " elements can not fit in the ", r.remaining(), " bytes left");
    if (out) out->m_offsets.reserve(count);
    for (uint64_t k = 0; k < count; ++k) {
        if (out) out->m_offsets.push_back(r.offset() - bodyPos);
        if (elementType == GgufValueType::String) GB_TRY(readStringView(r, f));
        else GB_TRY(readArray(r, depth + 1, nullptr, f));
    }
    if (out) out->m_raw = std::span<const uint8_t>(r.data() + bodyPos, r.offset() - bodyPos);
    return {};
}

GgufValue GgufParser::fixedItem(const GgufValue& array, uint64_t index) {
    const size_t size = ggufValueTypeSize(array.arrayType);
    BoundedReader r(array.m_raw.subspan(index * size, size));
    GgufValue v;
    (void)readValue(r, array.arrayType, 0, &v, FieldName("value"));
    return v;
}

Status GgufParser::readTensorInfo(uint64_t index) {
    FieldName f("tensor", index, "name");
    const uint64_t namePos = m_r.offset();
    GB_ASSIGN_OR_RETURN(std::string_view name, readStringView(m_r, f));
    f.label = name;
    f.part = "n_dims";
    const uint64_t nDimsPos = m_r.offset();
    GB_ASSIGN_OR_RETURN(uint32_t nDims, readField<uint32_t>(m_r, f));
    if (nDims < 1 || nDims > kGgufMaxDims)
        return fail(ErrorCode::Malformed, f, nDimsPos, "n_dims ", nDims, " is outside 1..", kGgufMaxDims);
    f.part = "dims";
    const uint64_t dimsPos = m_r.offset();
    std::array<int64_t, 4> ne{1, 1, 1, 1};
    uint64_t elements = 1;
    for (uint32_t d = 0; d < nDims; ++d) {
        const uint64_t pos = m_r.offset();
        GB_ASSIGN_OR_RETURN(ne[d], readField<int64_t>(m_r, f));
        if (ne[d] < 0) return fail(ErrorCode::Malformed, f, pos, "ne[", d, "] is negative (", ne[d], ")");
        const auto product = checkedMul(elements, static_cast<uint64_t>(ne[d]));
        if (!product || *product > uint64_t(std::numeric_limits<int64_t>::max()))
            return fail(ErrorCode::Overflow, f, pos, "element count overflows int64");
        elements = *product;
    }
    f.part = "type";
    const uint64_t typePos = m_r.offset();
    GB_ASSIGN_OR_RETURN(uint32_t rawType, readField<uint32_t>(m_r, f));
    const auto traits = tensorTypeTraits(rawType);
    if (!traits) return fail(ErrorCode::Unsupported, f, typePos, "unknown tensor type id ", rawType);
    f.part = "dims";
    if (ne[0] % traits->blockSize != 0)
        return fail(ErrorCode::Malformed, f, dimsPos, "ne[0] = ", ne[0], " is not a multiple of the ", traits->name,
                    " block size ", traits->blockSize);
    const auto row = rowBytes(traits->type, static_cast<uint64_t>(ne[0]));
    const auto rows = checkedMul(uint64_t(ne[1]), uint64_t(ne[2]));
    const auto rows3 = rows ? checkedMul(*rows, uint64_t(ne[3])) : std::nullopt;
    const auto bytes = row && rows3 ? checkedMul(*row, *rows3) : std::nullopt;
    if (!bytes) return fail(ErrorCode::Overflow, f, dimsPos, "tensor byte size overflows");
    f.part = "offset";
    const uint64_t offsetPos = m_r.offset();
    GB_ASSIGN_OR_RETURN(uint64_t offset, readField<uint64_t>(m_r, f));
    if (offset % m_alignment != 0)
        return fail(ErrorCode::Malformed, f, offsetPos, "offset ", offset, " is not a multiple of the alignment ",
                    m_alignment);
    if (!m_out) {
        m_records.push_back({namePos, offset, *bytes});
        return {};
    }
    m_out->m_tensorIndex.emplace(std::string(name), m_out->m_tensors.size());
    m_out->m_tensors.push_back(GgufTensorInfo{std::string(name), traits->type, int(nDims), ne, offset, *bytes});
    return {};
}

// The string at `pos`, which the validating pass has already read.
std::string_view GgufParser::stringAt(uint64_t pos) const {
    uint64_t length = 0;
    std::memcpy(&length, m_bytes.data() + pos, sizeof length);
    return {reinterpret_cast<const char*>(m_bytes.data() + pos + 8), length};
}

// Records are sorted during the checks; a tensor's index is the number of
// tensor infos that start before its own.
uint64_t GgufParser::tensorIndex(uint64_t namePos) const {
    return std::count_if(m_records.begin(), m_records.end(),
                         [&](const TensorRecord& t) { return t.namePos < namePos; });
}

Status GgufParser::checkDuplicateKeys() {
    std::vector<uint64_t>& keys = m_keyPositions;
    auto byKey = [this](uint64_t a, uint64_t b) { return std::pair(stringAt(a), a) < std::pair(stringAt(b), b); };
    std::sort(keys.begin(), keys.end(), byKey);
    for (size_t k = 1; k < keys.size(); ++k) {
        if (stringAt(keys[k - 1]) != stringAt(keys[k])) continue;
        const uint64_t index = std::count_if(keys.begin(), keys.end(), [&](uint64_t p) { return p < keys[k]; });
        return fail(ErrorCode::Malformed, FieldName("kv", index, "key", stringAt(keys[k])), keys[k],
                    "duplicate key, first defined at byte ", keys[k - 1]);
    }
    return {};
}

Status GgufParser::checkTensors() {
    for (size_t k = 0; k < m_records.size(); ++k) {
        const TensorRecord& t = m_records[k];
        const FieldName f("tensor", k, "data", stringAt(t.namePos));
        const auto start = checkedAdd(m_dataOffset, t.offset);
        const auto end = start ? checkedAdd(*start, t.bytes) : std::nullopt;
        if (!end) return fail(ErrorCode::Overflow, f, t.namePos, "data offset + size overflows");
        if (*end > m_bytes.size())
            return fail(ErrorCode::Truncated, f, t.namePos, "data [", *start, ", ", *end,
                        ") extends past the end of the input (", m_bytes.size(), " bytes)");
    }
    std::sort(m_records.begin(), m_records.end(), [this](const TensorRecord& a, const TensorRecord& b) {
        return std::pair(stringAt(a.namePos), a.namePos) < std::pair(stringAt(b.namePos), b.namePos);
    });
    for (size_t k = 1; k < m_records.size(); ++k) {
        const uint64_t pos = m_records[k].namePos;
        if (stringAt(m_records[k - 1].namePos) == stringAt(pos))
            return fail(ErrorCode::Malformed, FieldName("tensor", tensorIndex(pos), "name", stringAt(pos)), pos,
                        "duplicate tensor name");
    }
    std::sort(m_records.begin(), m_records.end(), [](const TensorRecord& a, const TensorRecord& b) {
        return std::pair(a.offset, a.namePos) < std::pair(b.offset, b.namePos);
    });
    uint64_t end = 0;     // furthest data end so far (inside the input: checked above)
    uint64_t owner = 0;   // the tensor reaching it
    for (const TensorRecord& t : m_records) {
        if (t.bytes == 0) continue;
        if (t.offset < end)
            return fail(ErrorCode::Malformed,
                        FieldName("tensor", tensorIndex(t.namePos), "offset", stringAt(t.namePos)), t.namePos,
                        "data overlaps tensor '", stringAt(owner), "'");
        end = t.offset + t.bytes;
        owner = t.namePos;
    }
    return {};
}

// --- GgufFile --------------------------------------------------------------

Result<GgufFile> GgufFile::parse(std::span<const uint8_t> bytes) {
    GB_TRY(GgufParser(bytes, nullptr).run());
    GgufFile file;
    file.m_bytes = bytes;
    GB_TRY(GgufParser(bytes, &file).run());
    return file;
}

// --- GgufValue array items (decoded by the parser) -----------------------

std::optional<GgufValue> GgufValue::arrayItem(uint64_t index) const {
    if (!isArray() || index >= m_count) return std::nullopt;
    if (const size_t size = ggufValueTypeSize(arrayType))
        return index < m_raw.size() / size ? std::optional(GgufParser::fixedItem(*this, index)) : std::nullopt;
    if (arrayType == GgufValueType::String) {
        const auto s = arrayString(index);
        return s ? std::optional(ofString(std::string(*s))) : std::nullopt;
    }
    if (index >= m_offsets.size() || m_offsets[index] > m_raw.size()) return std::nullopt;
    BoundedReader r(m_raw.subspan(m_offsets[index]));
    GgufValue v;
    if (!GgufParser::readArray(r, 1, &v, FieldName("value")).ok()) return std::nullopt;
    v.m_storage = m_storage;
    return v;
}

std::optional<std::string_view> GgufValue::arrayString(uint64_t index) const {
    if (!isArray() || arrayType != GgufValueType::String || index >= m_offsets.size()) return std::nullopt;
    const uint64_t pos = m_offsets[index];
    if (pos > m_raw.size() || m_raw.size() - pos < 8) return std::nullopt;
    uint64_t length = 0;
    std::memcpy(&length, m_raw.data() + pos, sizeof length);
    if (length > m_raw.size() - pos - 8) return std::nullopt;
    return std::string_view(reinterpret_cast<const char*>(m_raw.data() + pos + 8), length);
}

std::optional<std::vector<std::string>> GgufValue::toStringArray() const {
    if (!isArray() || arrayType != GgufValueType::String || m_offsets.size() != m_count) return std::nullopt;
    std::vector<std::string> out;
    out.reserve(m_offsets.size());
    for (uint64_t k = 0; k < m_count; ++k) {
        const auto s = arrayString(k);
        if (!s) return std::nullopt;
        out.emplace_back(*s);
    }
    return out;
}

std::optional<std::vector<float>> GgufValue::toFloatArray() const {
    if (!isArray() || (arrayType != GgufValueType::Float32 && arrayType != GgufValueType::Float64)) return std::nullopt;
    if (m_raw.size() / ggufValueTypeSize(arrayType) != m_count) return std::nullopt;
    std::vector<float> out(m_count);
    for (uint64_t k = 0; k < m_count; ++k) out[k] = static_cast<float>(GgufParser::fixedItem(*this, k).f);
    return out;
}

std::optional<std::vector<int64_t>> GgufValue::toIntArray() const {
    if (!isArray() || arrayType == GgufValueType::Float32 || arrayType == GgufValueType::Float64) return std::nullopt;
    const size_t size = ggufValueTypeSize(arrayType);
    if (size == 0 || m_raw.size() / size != m_count) return std::nullopt;
    std::vector<int64_t> out(m_count);
    for (uint64_t k = 0; k < m_count; ++k) {
        const auto x = GgufParser::fixedItem(*this, k).asInt();
        if (!x) return std::nullopt;
        out[k] = *x;
    }
    return out;
}

}  // namespace glassbox::engine
