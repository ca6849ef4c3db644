// GGUF (v2, v3) model files: a bounded parser over a mapped byte span, and
// typed access to metadata and tensor infos. Nothing declared by the file
// (counts, string lengths, array sizes, dimensions, offsets, alignment) is
// used before it is checked against the bytes actually left in the input.
//
// Parsing runs in two passes. The first validates the whole structure and
// allocates nothing larger than the input (only compact index vectors for
// the duplicate and overlap checks); the second, run only on a well-formed
// file, builds the tables. Array payloads are not expanded: a GgufValue keeps
// the encoded elements as a view and decodes them on demand.
#pragma once

#include <array>
#include <concepts>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "engine/result.h"
#include "engine/tensor_types.h"

namespace glassbox::engine {

enum class GgufValueType : uint32_t {
    Uint8 = 0, Int8 = 1, Uint16 = 2, Int16 = 3, Uint32 = 4, Int32 = 5, Float32 = 6,
    Bool = 7, String = 8, Array = 9, Uint64 = 10, Int64 = 11, Float64 = 12,
};

const char* ggufValueTypeName(GgufValueType type);
// Encoded size of one element of a fixed-size type; 0 for String and Array.
size_t ggufValueTypeSize(GgufValueType type);

// The C++ scalar types that map one to one onto GGUF value types.
template <class T> struct GgufTypeOf;
template <> struct GgufTypeOf<uint8_t> { static constexpr auto value = GgufValueType::Uint8; };
template <> struct GgufTypeOf<int8_t> { static constexpr auto value = GgufValueType::Int8; };
template <> struct GgufTypeOf<uint16_t> { static constexpr auto value = GgufValueType::Uint16; };
template <> struct GgufTypeOf<int16_t> { static constexpr auto value = GgufValueType::Int16; };
template <> struct GgufTypeOf<uint32_t> { static constexpr auto value = GgufValueType::Uint32; };
template <> struct GgufTypeOf<int32_t> { static constexpr auto value = GgufValueType::Int32; };
template <> struct GgufTypeOf<float> { static constexpr auto value = GgufValueType::Float32; };
template <> struct GgufTypeOf<bool> { static constexpr auto value = GgufValueType::Bool; };
template <> struct GgufTypeOf<uint64_t> { static constexpr auto value = GgufValueType::Uint64; };
template <> struct GgufTypeOf<int64_t> { static constexpr auto value = GgufValueType::Int64; };
template <> struct GgufTypeOf<double> { static constexpr auto value = GgufValueType::Float64; };

template <class T>
concept GgufScalar = requires { GgufTypeOf<T>::value; };

// One metadata value. Scalars live in the matching member (u for unsigned
// integers and bool, i for signed integers, f for floats, s for strings).
// Arrays keep their element type, their element count and the encoded
// elements (GGUF little-endian layout), which either point into the parsed
// input or into storage shared by copies of this value.
struct GgufValue {
    GgufValueType type = GgufValueType::Uint8;
    uint64_t u = 0;        // unsigned integers and bool
    int64_t i = 0;         // signed integers
    double f = 0.0;        // floats
    std::string s;         // strings
    GgufValueType arrayType = GgufValueType::Uint8;  // element type of an array

    std::optional<int64_t> asInt() const;      // any integer or bool type that fits int64
    std::optional<double> asFloat() const;     // any numeric type
    // Scalars as text, strings quoted, arrays as "[a, b, ...] (n items)".
    std::string toDisplayString(size_t maxItems = 8) const;

    bool isArray() const { return type == GgufValueType::Array; }
    uint64_t arraySize() const { return m_count; }
    // The encoded elements of an array (empty for scalars).
    std::span<const uint8_t> arrayBytes() const { return m_raw; }
    // Element `index` decoded as a value; nullopt when out of range or not an array.
    std::optional<GgufValue> arrayItem(uint64_t index) const;
    // Element `index` of a string array, without copying.
    std::optional<std::string_view> arrayString(uint64_t index) const;
    // Whole arrays decoded: strings; Float32/Float64 as float; any integer or
    // bool type as int64 (nullopt if a uint64 element exceeds INT64_MAX).
    std::optional<std::vector<std::string>> toStringArray() const;
    std::optional<std::vector<float>> toFloatArray() const;
    std::optional<std::vector<int64_t>> toIntArray() const;

    // Builders for values that do not come from a file.
    template <GgufScalar T> static GgufValue of(T value);
    static GgufValue ofString(std::string value);
    template <GgufScalar T> static GgufValue ofArray(std::span<const T> items);
    static GgufValue ofStrings(std::span<const std::string> items);
    // An array whose elements are arrays. Errors: InvalidArgument when an item is not an array.
    static Result<GgufValue> ofArrays(std::span<const GgufValue> items);

private:
    static GgufValue makeFixedArray(GgufValueType elementType, uint64_t count,
                                    const void* data, size_t bytes);
    friend class GgufParser;

    uint64_t m_count = 0;              // array elements
    std::span<const uint8_t> m_raw;    // encoded array elements
    std::vector<uint64_t> m_offsets;   // start of each element in m_raw (String and Array elements only)
    std::shared_ptr<const std::vector<uint8_t>> m_storage;  // owner of m_raw for built values
};

struct GgufTensorInfo {
    std::string name;
    TensorType type = TensorType::F32;
    int nDims = 0;
    std::array<int64_t, 4> ne{1, 1, 1, 1};
    uint64_t offset = 0;  // relative to the start of the data section
    uint64_t bytes = 0;
};

inline constexpr uint32_t kGgufDefaultAlignment = 32;
inline constexpr uint32_t kGgufMaxAlignment = 1u << 20;
inline constexpr uint32_t kGgufMagic = 0x46554747;  // "GGUF" read little-endian
inline constexpr int kGgufMaxDims = 4;
inline constexpr int kGgufMaxArrayDepth = 4;  // arrays nested at most this deep

class GgufFile {
public:
    // Parse header, metadata and tensor infos of a GGUF file held in `bytes`
    // (which must outlive the GgufFile and every GgufValue taken from it).
    // Every error names the field ("header.kv_count", "kv[5].value (key 'x')",
    // "tensor[3].dims ('name')", "tensor[3].data ('name')") and the byte offset:
    //  Truncated   - the input ends inside a declared structure (a header
    //                field, string, array body, tensor info or tensor data);
    //  Overflow    - a count can not fit in the bytes left, or a size or
    //                offset computation overflows 64 bits;
    //  Malformed   - bad magic, unknown value type, bool not 0/1, arrays
    //                nested deeper than kGgufMaxArrayDepth, bad alignment
    //                value or type, n_dims outside 1..4, negative dimension,
    //                ne[0] not a multiple of the block size, misaligned or
    //                overlapping tensors, duplicate keys or tensor names;
    //  Unsupported - version other than 2 or 3 (or big-endian), unknown
    //                tensor type, alignment above kGgufMaxAlignment.
    static Result<GgufFile> parse(std::span<const uint8_t> bytes);

    uint32_t version() const { return m_version; }
    uint32_t alignment() const { return m_alignment; }
    // Start of the data section (may lie past the input for a file without tensors).
    uint64_t dataOffset() const { return m_dataOffset; }

    const std::vector<std::pair<std::string, GgufValue>>& metadata() const { return m_metadata; }
    const std::vector<GgufTensorInfo>& tensors() const { return m_tensors; }

    const GgufValue* find(std::string_view key) const;
    std::optional<std::string> getString(std::string_view key) const;
    std::optional<int64_t> getInt(std::string_view key) const;
    std::optional<double> getFloat(std::string_view key) const;
    std::optional<bool> getBool(std::string_view key) const;
    // Typed arrays; nullopt when absent or of another element type.
    std::optional<std::vector<std::string>> getStringArray(std::string_view key) const;
    std::optional<std::vector<float>> getFloatArray(std::string_view key) const;
    std::optional<std::vector<int64_t>> getIntArray(std::string_view key) const;

    const GgufTensorInfo* findTensor(std::string_view name) const;
    // A view of a tensor's bytes inside the input span (data is null when the
    // info does not lie inside this file, or the tensor is empty).
    TensorView view(const GgufTensorInfo& info) const;

private:
    friend class GgufParser;

    std::span<const uint8_t> m_bytes;
    uint32_t m_version = 0;
    uint32_t m_alignment = kGgufDefaultAlignment;
    uint64_t m_dataOffset = 0;
    std::vector<std::pair<std::string, GgufValue>> m_metadata;
    std::map<std::string, size_t, std::less<>> m_metadataIndex;
    std::vector<GgufTensorInfo> m_tensors;
    std::map<std::string, size_t, std::less<>> m_tensorIndex;
};

template <GgufScalar T>
GgufValue GgufValue::of(T value) {
    GgufValue v;
    v.type = GgufTypeOf<T>::value;
    if constexpr (std::is_floating_point_v<T>) v.f = value;
    else if constexpr (std::is_same_v<T, bool>) v.u = value ? 1 : 0;
    else if constexpr (std::is_signed_v<T>) v.i = value;
    else v.u = value;
    return v;
}

template <GgufScalar T>
GgufValue GgufValue::ofArray(std::span<const T> items) {
    static_assert(sizeof(T) == 1 || !std::is_same_v<T, bool>, "bool must be one byte");
    return makeFixedArray(GgufTypeOf<T>::value, items.size(), items.data(), items.size_bytes());
}

}  // namespace glassbox::engine
