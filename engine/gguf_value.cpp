// GgufFile's lookups (metadata by key, tensors by name, tensor views) and
// GgufValue's scalar conversions and display text, all on data the parser in
// gguf_file.cpp has validated (array items are decoded there, by the parser).
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <limits>

#include "engine/checked_math.h"
#include "engine/gguf_file.h"

namespace glassbox::engine {

namespace {

constexpr size_t kMaxDisplayStringBytes = 200;

std::string quote(std::string_view s) {
    size_t cut = std::min(s.size(), kMaxDisplayStringBytes);
    while (cut > 0 && cut < s.size() && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
    std::string out = "\"";
    for (char c : s.substr(0, cut)) {
        const auto uc = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') { out += '\\'; out += c; }
        else if (c == '\n') out += "\\n";
        else if (c == '\t') out += "\\t";
        else if (c == '\r') out += "\\r";
        else if (uc < 0x20 || uc == 0x7f) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02x", uc);
            out += buf;
        } else out += c;
    }
    out += cut < s.size() ? "\"..." : "\"";
    return out;
}

}  // namespace

const GgufValue* GgufFile::find(std::string_view key) const {
    auto it = m_metadataIndex.find(key);
    return it == m_metadataIndex.end() ? nullptr : &m_metadata[it->second].second;
}

std::optional<std::string> GgufFile::getString(std::string_view key) const {
    const GgufValue* v = find(key);
    return v && v->type == GgufValueType::String ? std::optional(v->s) : std::nullopt;
}

std::optional<bool> GgufFile::getBool(std::string_view key) const {
    const GgufValue* v = find(key);
    return v && v->type == GgufValueType::Bool ? std::optional(v->u != 0) : std::nullopt;
}

std::optional<int64_t> GgufFile::getInt(std::string_view key) const {
    const GgufValue* v = find(key);
    return v ? v->asInt() : std::nullopt;
}

std::optional<double> GgufFile::getFloat(std::string_view key) const {
    const GgufValue* v = find(key);
    return v ? v->asFloat() : std::nullopt;
}

std::optional<std::vector<std::string>> GgufFile::getStringArray(std::string_view key) const {
    const GgufValue* v = find(key);
    return v ? v->toStringArray() : std::nullopt;
}

std::optional<std::vector<float>> GgufFile::getFloatArray(std::string_view key) const {
    const GgufValue* v = find(key);
    return v ? v->toFloatArray() : std::nullopt;
}

std::optional<std::vector<int64_t>> GgufFile::getIntArray(std::string_view key) const {
    const GgufValue* v = find(key);
    return v ? v->toIntArray() : std::nullopt;
}

const GgufTensorInfo* GgufFile::findTensor(std::string_view name) const {
    auto it = m_tensorIndex.find(name);
    return it == m_tensorIndex.end() ? nullptr : &m_tensors[it->second];
}

TensorView GgufFile::view(const GgufTensorInfo& info) const {
    TensorView v{info.name, info.type, info.nDims, info.ne, nullptr, info.bytes};
    const auto start = checkedAdd(m_dataOffset, info.offset);
    const auto end = start ? checkedAdd(*start, info.bytes) : std::nullopt;
    if (end && *end <= m_bytes.size() && info.bytes > 0) v.data = m_bytes.data() + *start;
    return v;
}

// --- GgufValue -------------------------------------------------------------

const char* ggufValueTypeName(GgufValueType type) {
    static constexpr const char* kNames[] = {"uint8", "int8",   "uint16", "int16", "uint32", "int32",  "float32",
                                             "bool",  "string", "array",  "uint64", "int64", "float64"};
    const auto raw = static_cast<uint32_t>(type);
    return raw <= static_cast<uint32_t>(GgufValueType::Float64) ? kNames[raw] : "unknown";
}

size_t ggufValueTypeSize(GgufValueType type) {
    static constexpr size_t kSizes[] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};
    const auto raw = static_cast<uint32_t>(type);
    return raw <= static_cast<uint32_t>(GgufValueType::Float64) ? kSizes[raw] : 0;
}

std::optional<int64_t> GgufValue::asInt() const {
    switch (type) {
    case GgufValueType::Uint8: case GgufValueType::Uint16: case GgufValueType::Uint32:
    case GgufValueType::Uint64: case GgufValueType::Bool:
        if (u > uint64_t(std::numeric_limits<int64_t>::max())) return std::nullopt;
        return static_cast<int64_t>(u);
    case GgufValueType::Int8: case GgufValueType::Int16: case GgufValueType::Int32: case GgufValueType::Int64:
        return i;
    default: return std::nullopt;
    }
}

std::optional<double> GgufValue::asFloat() const {
    if (type == GgufValueType::Float32 || type == GgufValueType::Float64) return f;
    if (type == GgufValueType::Uint64) return static_cast<double>(u);
    const auto v = asInt();
    return v ? std::optional(static_cast<double>(*v)) : std::nullopt;
}

std::string GgufValue::toDisplayString(size_t maxItems) const {
    switch (type) {
    case GgufValueType::Bool: return u ? "true" : "false";
    case GgufValueType::String: return quote(s);
    case GgufValueType::Float32: case GgufValueType::Float64: {
        char buf[40];
        std::snprintf(buf, sizeof buf, "%.9g", f);
        return buf;
    }
    case GgufValueType::Array: break;
    default: return type == GgufValueType::Uint64 ? std::to_string(u) : std::to_string(asInt().value_or(0));
    }
    std::string out = "[";
    const uint64_t shown = std::min<uint64_t>(m_count, maxItems);
    for (uint64_t k = 0; k < shown; ++k) {
        const auto item = arrayItem(k);
        out += std::string(k ? ", " : "") + (item ? item->toDisplayString(maxItems) : std::string("?"));
    }
    if (shown < m_count) return out + (shown ? ", ...] (" : "...] (") + std::to_string(m_count) + " items)";
    return out + "]";
}

}  // namespace glassbox::engine
