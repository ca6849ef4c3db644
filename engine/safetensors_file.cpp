// safetensors header parsing and validation (after the reference's
// read_metadata + validate), and the sharded-checkpoint index.
#include "engine/safetensors_file.h"

#include <algorithm>
#include <cstring>
#include <new>
#include <numeric>
#include <set>

#include "engine/bounded_reader.h"
#include "engine/checked_math.h"
#include "engine/json.h"
#include "engine/mapped_file.h"

namespace glassbox::engine {
namespace {

struct DtypeInfo {
    SafetensorsDtype dtype;
    const char* name;
    uint32_t bits;
};

constexpr DtypeInfo kDtypes[] = {
    {SafetensorsDtype::Bool, "BOOL", 8},       {SafetensorsDtype::U8, "U8", 8},
    {SafetensorsDtype::I8, "I8", 8},           {SafetensorsDtype::F8_E5M2, "F8_E5M2", 8},
    {SafetensorsDtype::F8_E4M3, "F8_E4M3", 8}, {SafetensorsDtype::F8_E8M0, "F8_E8M0", 8},
    {SafetensorsDtype::I16, "I16", 16},        {SafetensorsDtype::U16, "U16", 16},
    {SafetensorsDtype::F16, "F16", 16},        {SafetensorsDtype::BF16, "BF16", 16},
    {SafetensorsDtype::I32, "I32", 32},        {SafetensorsDtype::U32, "U32", 32},
    {SafetensorsDtype::F32, "F32", 32},        {SafetensorsDtype::F64, "F64", 64},
    {SafetensorsDtype::I64, "I64", 64},        {SafetensorsDtype::U64, "U64", 64},
    {SafetensorsDtype::C64, "C64", 64},        {SafetensorsDtype::F4, "F4", 4},
    {SafetensorsDtype::F6_E2M3, "F6_E2M3", 6}, {SafetensorsDtype::F6_E3M2, "F6_E3M2", 6},
};

constexpr uint32_t kHeaderMaxDepth = 8;  // a valid header nests 3 deep
// ~10 values per tensor: room for 200k tensors, at most ~128 MiB of DOM.
constexpr uint64_t kHeaderMaxValues = uint64_t(2) << 20;
constexpr uint64_t kMaxViewDim = uint64_t(1) << 40;

const DtypeInfo& infoOf(SafetensorsDtype dtype) {
    for (const auto& d : kDtypes)
        if (d.dtype == dtype) return d;
    return kDtypes[0];
}

// Offsets of header values are relative to the header; errors speak of the file.
uint64_t fileOffset(const JsonValue& v) {
    return v.offset() == kNoOffset ? kNoOffset : v.offset() + 8;
}

Error fieldError(ErrorCode code, std::string message, std::string field, const JsonValue& at) {
    return makeError(code, std::move(message), std::move(field), fileOffset(at));
}

// A required non-negative integer (a dimension or an offset).
Result<uint64_t> readIndex(const JsonValue& v, const std::string& field, const char* what) {
    if (!v.isNumber())
        return fieldError(ErrorCode::Malformed,
                          std::string(what) + " must be a number, not " + jsonTypeName(v.type()),
                          field, v);
    const auto i = v.asInt();
    if (!i)
        return fieldError(ErrorCode::Malformed, std::string(what) + " must be an integer", field,
                          v);
    if (*i < 0)
        return fieldError(ErrorCode::Malformed, std::string(what) + " is negative", field, v);
    return uint64_t(*i);
}

const JsonValue* requireMember(const JsonValue& entry, std::string_view key,
                               const std::string& path, Error& error) {
    const JsonValue* v = entry.find(key);
    if (!v)
        error = fieldError(ErrorCode::Malformed, "tensor entry has no \"" + std::string(key) + "\"",
                           jsonPathKey(path, key), entry);
    return v;
}

Status readShape(const JsonValue& entry, const std::string& path, SafetensorsTensor& t) {
    Error error;
    const JsonValue* shape = requireMember(entry, "shape", path, error);
    if (!shape) return error;
    const std::string field = jsonPathKey(path, "shape");
    if (!shape->isArray())
        return fieldError(ErrorCode::Malformed, "shape must be an array", field, *shape);
    if (shape->size() > kSafetensorsMaxDims)
        return fieldError(ErrorCode::Malformed,
                          "shape has " + std::to_string(shape->size()) + " dimensions; at most " +
                              std::to_string(kSafetensorsMaxDims) + " are allowed",
                          field, *shape);
    uint64_t elements = 1;
    for (size_t i = 0; i < shape->size(); ++i) {
        const JsonValue& dim = shape->items()[i];
        GB_ASSIGN_OR_RETURN(uint64_t d, readIndex(dim, jsonPathIndex(field, i), "dimension"));
        const auto product = checkedMul(elements, d);
        if (!product)
            return fieldError(ErrorCode::Overflow, "shape element count overflows 64 bits",
                              jsonPathIndex(field, i), dim);
        elements = *product;
        t.shape.push_back(d);
    }
    t.elements = elements;
    return {};
}

Status readOffsets(const JsonValue& entry, const std::string& path, SafetensorsTensor& t) {
    Error error;
    const JsonValue* offsets = requireMember(entry, "data_offsets", path, error);
    if (!offsets) return error;
    const std::string field = jsonPathKey(path, "data_offsets");
    if (!offsets->isArray() || offsets->size() != 2)
        return fieldError(ErrorCode::Malformed, "data_offsets must be an array [begin, end]", field,
                          *offsets);
    GB_ASSIGN_OR_RETURN(t.begin, readIndex(offsets->items()[0], jsonPathIndex(field, 0), "offset"));
    GB_ASSIGN_OR_RETURN(t.end, readIndex(offsets->items()[1], jsonPathIndex(field, 1), "offset"));
    if (t.end < t.begin)
        return fieldError(ErrorCode::Malformed, "data_offsets end is before begin", field,
                          *offsets);
    return {};
}

// One tensor entry; `dataSize` is the size of the data buffer.
Result<SafetensorsTensor> readTensor(const JsonMember& member, uint64_t dataSize) {
    const std::string path = jsonPathKey("$", member.key);
    const JsonValue& entry = member.value;
    if (!entry.isObject())
        return fieldError(ErrorCode::Malformed, "tensor entry must be an object", path, entry);
    SafetensorsTensor t;
    t.name = member.key;

    Error error;
    const JsonValue* dtype = requireMember(entry, "dtype", path, error);
    if (!dtype) return error;
    const auto dtypeName = dtype->asString();
    if (!dtypeName)
        return fieldError(ErrorCode::Malformed, "dtype must be a string",
                          jsonPathKey(path, "dtype"), *dtype);
    const auto parsed = safetensorsDtypeFromName(*dtypeName);
    if (!parsed)
        return fieldError(ErrorCode::Unsupported,
                          "unknown dtype \"" + std::string(*dtypeName) + "\"",
                          jsonPathKey(path, "dtype"), *dtype);
    t.dtype = *parsed;

    GB_TRY(readShape(entry, path, t));
    GB_TRY(readOffsets(entry, path, t));
    const JsonValue& offsets = *entry.find("data_offsets");
    const std::string field = jsonPathKey(path, "data_offsets");
    const auto bytes = safetensorsDataBytes(t.dtype, t.elements);
    if (!bytes) {
        const bool overflow = !checkedMul(t.elements, safetensorsDtypeBits(t.dtype));
        return fieldError(overflow ? ErrorCode::Overflow : ErrorCode::Malformed,
                          overflow ? "tensor byte size overflows 64 bits"
                                   : "packed elements do not fill whole bytes",
                          jsonPathKey(path, "shape"), *entry.find("shape"));
    }
    if (t.end - t.begin != *bytes)
        return fieldError(ErrorCode::Malformed,
                          "data_offsets span " + std::to_string(t.end - t.begin) +
                              " bytes but dtype and shape need " + std::to_string(*bytes),
                          field, offsets);
    if (t.end > dataSize)
        return fieldError(ErrorCode::Truncated,
                          "tensor data ends at " + std::to_string(t.end) +
                              " but the data buffer has " + std::to_string(dataSize) + " bytes",
                          field, offsets);
    return t;
}

Status readMetadata(const JsonValue& value, std::vector<std::pair<std::string, std::string>>& out) {
    const std::string path = "$.__metadata__";
    if (value.isNull()) return {};
    if (!value.isObject())
        return fieldError(ErrorCode::Malformed, "__metadata__ must be an object", path, value);
    for (const JsonMember& m : value.members()) {
        const auto s = m.value.asString();
        if (!s)
            return fieldError(
                ErrorCode::Malformed,
                std::string("metadata values must be strings, not ") + jsonTypeName(m.value.type()),
                jsonPathKey(path, m.key), m.value);
        out.emplace_back(m.key, std::string(*s));
    }
    return {};
}

// The tensors must tile [0, dataSize) exactly.
Status checkCoverage(const std::vector<SafetensorsTensor>& tensors, uint64_t dataSize,
                     uint64_t dataOffset) {
    std::vector<size_t> order(tensors.size());
    std::iota(order.begin(), order.end(), size_t(0));
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
        if (tensors[a].begin != tensors[b].begin) return tensors[a].begin < tensors[b].begin;
        return tensors[a].end < tensors[b].end;
    });
    uint64_t expected = 0;
    for (size_t i : order) {
        const SafetensorsTensor& t = tensors[i];
        const std::string field = jsonPathKey(jsonPathKey("$", t.name), "data_offsets");
        if (t.begin > expected)
            return makeError(ErrorCode::Malformed,
                             "gap of " + std::to_string(t.begin - expected) +
                                 " bytes before this tensor's data (offsets must be contiguous)",
                             field, dataOffset + expected);
        if (t.begin < expected)
            return makeError(ErrorCode::Malformed, "tensor data overlaps the previous tensor",
                             field, dataOffset + t.begin);
        expected = t.end;
    }
    if (expected != dataSize)
        return makeError(ErrorCode::Malformed,
                         std::to_string(dataSize - expected) +
                             " bytes at the end of the file belong to no tensor",
                         "data", dataOffset + expected);
    return {};
}

}  // namespace

const char* safetensorsDtypeName(SafetensorsDtype dtype) { return infoOf(dtype).name; }

std::optional<SafetensorsDtype> safetensorsDtypeFromName(std::string_view name) {
    for (const auto& d : kDtypes)
        if (name == d.name) return d.dtype;
    return std::nullopt;
}

uint32_t safetensorsDtypeBits(SafetensorsDtype dtype) { return infoOf(dtype).bits; }

std::optional<TensorType> safetensorsComputeType(SafetensorsDtype dtype) {
    switch (dtype) {
        case SafetensorsDtype::F32: return TensorType::F32;
        case SafetensorsDtype::F16: return TensorType::F16;
        case SafetensorsDtype::BF16: return TensorType::BF16;
        default: return std::nullopt;
    }
}

std::optional<SafetensorsDtype> safetensorsDtypeOf(TensorType type) {
    switch (type) {
        case TensorType::F32: return SafetensorsDtype::F32;
        case TensorType::F16: return SafetensorsDtype::F16;
        case TensorType::BF16: return SafetensorsDtype::BF16;
        default: return std::nullopt;
    }
}

std::optional<uint64_t> safetensorsDataBytes(SafetensorsDtype dtype, uint64_t elements) {
    const auto bits = checkedMul(elements, safetensorsDtypeBits(dtype));
    if (!bits || *bits % 8 != 0) return std::nullopt;
    return *bits / 8;
}

Result<SafetensorsFile> SafetensorsFile::parse(std::span<const uint8_t> bytes) {
    try {
        return parseUnchecked(bytes);
    } catch (const std::bad_alloc&) {
        return makeError(ErrorCode::OutOfMemory, "out of memory while reading the header", "header",
                         8);
    }
}

Result<SafetensorsFile> SafetensorsFile::parseUnchecked(std::span<const uint8_t> bytes) {
    BoundedReader reader(bytes);
    GB_ASSIGN_OR_RETURN(const uint64_t headerSize, reader.read<uint64_t>("header_length"));
    if (headerSize > kSafetensorsMaxHeaderBytes)
        return makeError(ErrorCode::Overflow,
                         "header length " + std::to_string(headerSize) + " exceeds the limit of " +
                             std::to_string(kSafetensorsMaxHeaderBytes),
                         "header_length", 0);
    if (headerSize == 0)
        return makeError(ErrorCode::Malformed, "header length is zero", "header_length", 0);
    if (headerSize > reader.remaining())
        return makeError(ErrorCode::Truncated,
                         "header length " + std::to_string(headerSize) + " exceeds the " +
                             std::to_string(reader.remaining()) + " bytes after it",
                         "header_length", 0);
    GB_ASSIGN_OR_RETURN(const auto header, reader.take(headerSize, "header"));

    JsonLimits limits;
    limits.maxBytes = kSafetensorsMaxHeaderBytes;
    limits.maxDepth = kHeaderMaxDepth;
    limits.maxValues = kHeaderMaxValues;
    auto json = parseJson(
        std::string_view(reinterpret_cast<const char*>(header.data()), header.size()), limits);
    if (!json.ok()) {
        Error e = json.error();
        e.message = "header: " + e.message;
        if (e.offset != kNoOffset) e.offset += 8;
        return e;
    }
    const JsonValue& root = json.value();
    if (!root.isObject())
        return fieldError(
            ErrorCode::Malformed,
            std::string("header must be a JSON object, not ") + jsonTypeName(root.type()), "$",
            root);

    SafetensorsFile file;
    file.m_headerSize = headerSize;
    const uint64_t dataSize = reader.remaining();
    const auto data = bytes.subspan(reader.offset());
    for (const JsonMember& member : root.members()) {
        if (member.key == "__metadata__") {
            GB_TRY(readMetadata(member.value, file.m_metadata));
            continue;
        }
        GB_ASSIGN_OR_RETURN(SafetensorsTensor t, readTensor(member, dataSize));
        t.data = data.subspan(t.begin, t.end - t.begin);
        file.m_tensorIndex.emplace(t.name, file.m_tensors.size());
        file.m_tensors.push_back(std::move(t));
    }
    GB_TRY(checkCoverage(file.m_tensors, dataSize, file.dataOffset()));
    return file;
}

std::optional<std::string_view> SafetensorsFile::metadataValue(std::string_view key) const {
    for (const auto& [k, v] : m_metadata)
        if (k == key) return std::string_view(v);
    return std::nullopt;
}

const SafetensorsTensor* SafetensorsFile::findTensor(std::string_view name) const {
    const auto it = m_tensorIndex.find(name);
    return it == m_tensorIndex.end() ? nullptr : &m_tensors[it->second];
}

Result<TensorView> SafetensorsFile::view(const SafetensorsTensor& tensor) {
    const std::string field = jsonPathKey(jsonPathKey("$", tensor.name), "dtype");
    const auto type = safetensorsComputeType(tensor.dtype);
    if (!type)
        return makeError(ErrorCode::Unsupported,
                         std::string("dtype ") + safetensorsDtypeName(tensor.dtype) +
                             " is not supported for compute (F32, F16, BF16 are)",
                         field);
    size_t first = 0;  // drop leading dimensions of 1 beyond the fourth
    while (tensor.shape.size() - first > 4 && tensor.shape[first] == 1) ++first;
    const size_t nDims = tensor.shape.size() - first;
    if (nDims > 4)
        return makeError(
            ErrorCode::Unsupported,
            "tensor has " + std::to_string(nDims) + " dimensions; at most 4 are supported",
            jsonPathKey(jsonPathKey("$", tensor.name), "shape"));
    TensorView v;
    v.name = tensor.name;
    v.type = *type;
    v.nDims = int(nDims);
    for (size_t i = 0; i < nDims; ++i) {
        const uint64_t d = tensor.shape[tensor.shape.size() - 1 - i];
        if (d > kMaxViewDim)
            return makeError(ErrorCode::Unsupported, "dimension too large for a tensor view",
                             jsonPathKey(jsonPathKey("$", tensor.name), "shape"));
        v.ne[i] = int64_t(d);
    }
    v.data = tensor.data.data();
    v.bytes = tensor.data.size();
    return v;
}

bool isSafeShardName(std::string_view name) {
    if (name.empty() || name == "." || name == "..") return false;
    for (const char c : name) {
        const auto u = static_cast<unsigned char>(c);
        if (c == '/' || c == '\\' || c == ':' || u < 0x20 || u == 0x7F) return false;
    }
    return true;
}

Result<SafetensorsIndex> parseSafetensorsIndex(std::string_view json) {
    GB_ASSIGN_OR_RETURN(const JsonValue root, parseJson(json));
    if (!root.isObject())
        return makeError(ErrorCode::Malformed, "index must be a JSON object", "$", root.offset());
    SafetensorsIndex index;
    if (const JsonValue* meta = root.find("metadata"); meta && meta->isObject()) {
        if (const JsonValue* total = meta->find("total_size"); total && !total->isNull()) {
            const auto size = total->asInt();
            if (!size || *size < 0)
                return makeError(ErrorCode::Malformed, "total_size must be a non-negative integer",
                                 "$.metadata.total_size", total->offset());
            index.totalSize = uint64_t(*size);
        }
    }
    const JsonValue* map = root.find("weight_map");
    if (!map || !map->isObject())
        return makeError(ErrorCode::Malformed, "index has no weight_map object", "$.weight_map",
                         map ? map->offset() : root.offset());
    std::set<std::string, std::less<>> seen;
    for (const JsonMember& m : map->members()) {
        const std::string field = jsonPathKey("$.weight_map", m.key);
        const auto shard = m.value.asString();
        if (!shard)
            return makeError(ErrorCode::Malformed, "shard file name must be a string", field,
                             m.value.offset());
        if (!isSafeShardName(*shard))
            return makeError(ErrorCode::Malformed,
                             "shard file name \"" + std::string(*shard) +
                                 "\" is not a plain file name in the checkpoint folder",
                             field, m.value.offset());
        if (seen.emplace(*shard).second) index.shards.emplace_back(*shard);
        index.weightMap.emplace_back(m.key, std::string(*shard));
    }
    return index;
}

Result<SafetensorsIndex> readSafetensorsIndexFile(const std::string& path) {
    constexpr uint64_t kMaxIndexBytes = uint64_t(64) << 20;
    GB_ASSIGN_OR_RETURN(const MappedFile file, MappedFile::open(path));
    if (file.size() > kMaxIndexBytes)
        return makeError(ErrorCode::Overflow, "index file '" + path + "' is larger than 64 MiB");
    const auto bytes = file.bytes();
    return parseSafetensorsIndex(
        std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

}  // namespace glassbox::engine
