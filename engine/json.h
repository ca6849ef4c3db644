// A bounded RFC 8259 JSON parser to a small DOM, and a serializer.
//
// Used for safetensors headers, config.json, tokenizer.json and project
// files, so it is built for untrusted input: the input size and nesting depth
// are capped (the parser recurses at most `maxDepth` levels), every error is
// a value naming the JSON path ("$.model.vocab", "$.merges[3]") and the byte
// offset, and nothing throws or aborts.
//
// Semantics:
// - Input must be UTF-8; invalid UTF-8 (overlong forms, encoded surrogates,
//   code points past U+10FFFF) is an error. A leading UTF-8 BOM is skipped.
// - \u escapes are decoded to UTF-8; surrogate pairs are joined. An unpaired
//   surrogate escape is an error (never replaced by U+FFFD). "\u0000" is kept.
// - Numbers are stored as a double; integer literals that fit an int64 are
//   also kept exactly. Literals too large for a double are errors; literals
//   too small underflow to zero.
// - Objects keep their key order. Duplicate keys are errors unless the
//   limits say otherwise (then the last value wins, at the first position).
//   Objects with many members get a hash index, so find() stays O(1).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

#include "engine/result.h"

namespace glassbox::engine {

class JsonValue;
struct JsonMember;

enum class JsonType : uint8_t { Null, Bool, Number, String, Array, Object };

const char* jsonTypeName(JsonType type);

// A number: always a double, plus the exact integer when there is one.
struct JsonNumber {
    double value = 0.0;
    int64_t integer = 0;
    bool exactInteger = false;  // `integer` holds the exact value
};

using JsonArray = std::vector<JsonValue>;

// Members in input order, with a hash index once there are more than a few.
class JsonObject {
public:
    JsonObject();
    ~JsonObject();
    JsonObject(const JsonObject& other);
    JsonObject(JsonObject&& other) noexcept;
    JsonObject& operator=(const JsonObject& other);
    JsonObject& operator=(JsonObject&& other) noexcept;

    size_t size() const;
    bool empty() const;
    const std::vector<JsonMember>& members() const { return m_members; }

    // The value for `key`, or nullptr.
    const JsonValue* find(std::string_view key) const;
    JsonValue* find(std::string_view key);
    // Index of `key` in members(), or -1.
    ptrdiff_t indexOf(std::string_view key) const;

    // Insert, or replace the value of an existing key in place.
    JsonValue& set(std::string key, JsonValue value);
    // Append without looking for an existing key (the caller knows it is new).
    JsonValue& append(std::string key, JsonValue value);

private:
    void indexMember(size_t index);
    void rebuildIndex();

    std::vector<JsonMember> m_members;
    // Open addressing: (hash tag << 32) | (member index + 1); 0 = empty.
    std::vector<uint64_t> m_slots;
};

class JsonValue {
public:
    JsonValue() = default;  // null
    JsonValue(std::nullptr_t) {}
    JsonValue(bool b) : m_v(b) {}
    JsonValue(double d) : m_v(JsonNumber{d, 0, false}) {}
    template <class T>
        requires(std::is_integral_v<T> && !std::is_same_v<T, bool>)
    JsonValue(T i) : m_v(numberFromInteger(i)) {}
    JsonValue(std::string s) : m_v(std::move(s)) {}
    JsonValue(std::string_view s) : m_v(std::string(s)) {}
    JsonValue(const char* s) : m_v(std::string(s)) {}
    JsonValue(JsonArray a) : m_v(std::move(a)) {}
    JsonValue(JsonObject o) : m_v(std::move(o)) {}
    JsonValue(JsonNumber n) : m_v(n) {}

    static JsonValue makeArray() { return JsonValue(JsonArray{}); }
    static JsonValue makeObject() { return JsonValue(JsonObject{}); }

    JsonType type() const { return static_cast<JsonType>(m_v.index()); }
    bool isNull() const { return type() == JsonType::Null; }
    bool isBool() const { return type() == JsonType::Bool; }
    bool isNumber() const { return type() == JsonType::Number; }
    // A number with an exact int64 value (see asInt()).
    bool isInt() const { return asInt().has_value(); }
    bool isString() const { return type() == JsonType::String; }
    bool isArray() const { return type() == JsonType::Array; }
    bool isObject() const { return type() == JsonType::Object; }

    std::optional<bool> asBool() const;
    // The exact integer: an integer literal that fits an int64, or an
    // integral double of magnitude <= 2^53 ("2.0", "1e3"). nullopt otherwise.
    std::optional<int64_t> asInt() const;
    std::optional<double> asDouble() const;
    // A view of the string (valid while this value lives), or nullopt.
    std::optional<std::string_view> asString() const;
    const JsonNumber* number() const { return std::get_if<JsonNumber>(&m_v); }

    // Object lookup: nullptr when this is not an object or the key is absent.
    const JsonValue* find(std::string_view key) const;
    JsonValue* find(std::string_view key);
    // Array element: nullptr when this is not an array or i is out of range.
    const JsonValue* at(size_t i) const;
    // Array items / object members; empty when of another type.
    const JsonArray& items() const;
    const std::vector<JsonMember>& members() const;
    // Items of an array or members of an object; 0 otherwise.
    size_t size() const;

    const JsonArray* array() const { return std::get_if<JsonArray>(&m_v); }
    JsonArray* array() { return std::get_if<JsonArray>(&m_v); }
    const JsonObject* object() const { return std::get_if<JsonObject>(&m_v); }
    JsonObject* object() { return std::get_if<JsonObject>(&m_v); }

    // Builders: append to an array / set a member of an object. Calling them
    // on a null value first turns it into an empty array / object; on any
    // other type they do nothing and return *this.
    JsonValue& push(JsonValue v);
    JsonValue& set(std::string key, JsonValue v);

    // Byte offset of the value's first character in the parsed input
    // (kNoOffset for values built in code).
    uint64_t offset() const { return m_offset; }
    void setOffset(uint64_t offset) { m_offset = offset; }

    // Structural equality (key order matters; numbers compare by value).
    bool operator==(const JsonValue& other) const;

private:
    template <class T>
    static JsonNumber numberFromInteger(T i) {
        if constexpr (std::is_unsigned_v<T>) {
            if (uint64_t(i) > uint64_t(INT64_MAX)) return JsonNumber{double(i), 0, false};
        }
        return JsonNumber{double(i), int64_t(i), true};
    }

    std::variant<std::nullptr_t, bool, JsonNumber, std::string, JsonArray, JsonObject> m_v;
    uint64_t m_offset = kNoOffset;
};

struct JsonMember {
    std::string key;
    JsonValue value;
};

struct JsonLimits {
    uint64_t maxBytes = uint64_t(256) << 20;  // larger input: Overflow
    // Deeper nesting: Overflow. Each level costs the parser a few hundred
    // bytes of stack, so keep this modest.
    uint32_t maxDepth = 128;
    uint64_t maxValues = uint64_t(16) << 20;  // more values in all: Overflow
    bool rejectDuplicateKeys = true;          // false: the last value wins
};

// Parse one JSON text (surrounding whitespace allowed, nothing else).
// Errors (field = JSON path of the offending value, offset = byte offset):
//   Truncated  the input ends inside a value (or is empty)
//   Malformed  a syntax error, bad escape, unpaired surrogate, invalid UTF-8,
//              control character in a string, number too large, duplicate
//              key, trailing characters
//   Overflow   the input is larger than limits.maxBytes, nesting is deeper
//              than limits.maxDepth, or there are more than limits.maxValues
//              values (each value takes ~64 bytes of DOM: this bounds memory)
//   OutOfMemory the DOM could not be allocated
Result<JsonValue> parseJson(std::string_view text, const JsonLimits& limits = {});

struct JsonDumpOptions {
    int indent = 0;               // 0: compact; n: pretty, n spaces per level
    bool escapeNonAscii = false;  // write non-ASCII as \uXXXX escapes
};

// Serialize to JSON text. Strings are escaped ('"', '\\', control characters;
// invalid UTF-8 is written as U+FFFD so the output is always valid JSON).
// Non-finite doubles have no JSON form and are written as null. Integers are
// exact; other doubles use the shortest text that reads back to the same value,
// with ".0" added to integral ones ("100.0", "-0.0"), so dumping what was
// parsed gives text that parses to the same types and values.
std::string dumpJson(const JsonValue& value, const JsonDumpOptions& options = {});
// Append a quoted, escaped JSON string to `out`.
void appendJsonString(std::string& out, std::string_view s, bool escapeNonAscii = false);

// JSON path helpers, in the style used by error fields: "$.a.b", "$.a[3]",
// and '$["a.b"]' for keys that are not plain identifiers.
std::string jsonPathKey(std::string_view base, std::string_view key);
std::string jsonPathIndex(std::string_view base, size_t index);

// Shared by the parser and the serializer; not part of the API.
namespace json_internal {
// Two-character escapes: "\\n" stands for '\n' and so on.
inline constexpr std::string_view kEscapeLetters = "\"\\/bfnrt";
inline constexpr std::string_view kEscapedChars = "\"\\/\b\f\n\r\t";
// One UTF-8 sequence at p: its length (1..4) and code point, 0 when the
// bytes are not valid UTF-8, or -1 when a valid prefix is cut off by `end`.
int decodeUtf8(const unsigned char* p, const unsigned char* end, uint32_t& codePoint);
void appendUtf8(std::string& out, uint32_t codePoint);
}  // namespace json_internal

}  // namespace glassbox::engine
