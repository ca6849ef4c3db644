// JSON DOM, bounded recursive-descent parser (depth capped by JsonLimits) and
// serializer. The parser keeps its first error and unwinds by returning
// false; the JSON path of the value being read is rebuilt only on error.
#include "engine/json.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <functional>
#include <new>

namespace glassbox::engine {
namespace {

constexpr size_t kIndexThreshold = 8;  // objects larger than this get a hash index
constexpr size_t kMaxPathKeyBytes = 200;

// Decode one UTF-8 sequence at p. Returns its length (1..4) and the code
// point, 0 when the bytes are not valid UTF-8, or -1 when a valid prefix is
// cut off by `end`.
int decodeUtf8(const unsigned char* p, const unsigned char* end, uint32_t& cp) {
    const unsigned char c = p[0];
    if (c < 0x80) {
        cp = c;
        return 1;
    }
    int len;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
        cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        cp = c & 0x0F;
        if (c == 0xE0) lo = 0xA0;
        if (c == 0xED) hi = 0x9F;  // no encoded surrogates
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        cp = c & 0x07;
        if (c == 0xF0) lo = 0x90;
        if (c == 0xF4) hi = 0x8F;  // nothing past U+10FFFF
    } else {
        return 0;
    }
    for (int i = 1; i < len; ++i) {
        if (p + i >= end) return -1;
        const unsigned char b = p[i];
        if (b < (i == 1 ? lo : 0x80) || b > (i == 1 ? hi : 0xBF)) return 0;
        cp = (cp << 6) | (b & 0x3F);
    }
    return len;
}

void appendUtf8(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
        out.push_back(char(cp));
    } else if (cp < 0x800) {
        out.push_back(char(0xC0 | (cp >> 6)));
        out.push_back(char(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
        out.push_back(char(0xE0 | (cp >> 12)));
        out.push_back(char(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(char(0x80 | (cp & 0x3F)));
    } else {
        out.push_back(char(0xF0 | (cp >> 18)));
        out.push_back(char(0x80 | ((cp >> 12) & 0x3F)));
        out.push_back(char(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(char(0x80 | (cp & 0x3F)));
    }
}

int hexValue(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

bool isIdentifier(std::string_view key) {
    if (key.empty()) return false;
    for (size_t i = 0; i < key.size(); ++i) {
        const char c = key[i];
        const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
        if (!alpha && !(i > 0 && c >= '0' && c <= '9')) return false;
    }
    return true;
}

const JsonArray kEmptyArray;
const std::vector<JsonMember> kEmptyMembers;

}  // namespace

const char* jsonTypeName(JsonType type) {
    switch (type) {
        case JsonType::Null: return "null";
        case JsonType::Bool: return "bool";
        case JsonType::Number: return "number";
        case JsonType::String: return "string";
        case JsonType::Array: return "array";
        case JsonType::Object: return "object";
    }
    return "unknown";
}

// ---- JsonObject ------------------------------------------------------------

JsonObject::JsonObject() = default;
JsonObject::~JsonObject() = default;
JsonObject::JsonObject(const JsonObject& other) = default;
JsonObject::JsonObject(JsonObject&& other) noexcept = default;
JsonObject& JsonObject::operator=(const JsonObject& other) = default;
JsonObject& JsonObject::operator=(JsonObject&& other) noexcept = default;

size_t JsonObject::size() const { return m_members.size(); }
bool JsonObject::empty() const { return m_members.empty(); }

ptrdiff_t JsonObject::indexOf(std::string_view key) const {
    if (m_slots.empty()) {
        for (size_t i = 0; i < m_members.size(); ++i)
            if (m_members[i].key == key) return ptrdiff_t(i);
        return -1;
    }
    const size_t mask = m_slots.size() - 1;
    const size_t hash = std::hash<std::string_view>{}(key);
    const uint64_t tag = (uint64_t(hash) >> 32) << 32;
    for (size_t s = hash & mask;; s = (s + 1) & mask) {
        const uint64_t slot = m_slots[s];
        if (slot == 0) return -1;
        if ((slot & ~uint64_t(0xFFFFFFFF)) != tag) continue;
        const size_t index = size_t(slot & 0xFFFFFFFF) - 1;
        if (m_members[index].key == key) return ptrdiff_t(index);
    }
}

const JsonValue* JsonObject::find(std::string_view key) const {
    const ptrdiff_t i = indexOf(key);
    return i < 0 ? nullptr : &m_members[size_t(i)].value;
}

JsonValue* JsonObject::find(std::string_view key) {
    const ptrdiff_t i = indexOf(key);
    return i < 0 ? nullptr : &m_members[size_t(i)].value;
}

void JsonObject::indexMember(size_t index) {
    const size_t mask = m_slots.size() - 1;
    const size_t hash = std::hash<std::string_view>{}(m_members[index].key);
    size_t s = hash & mask;
    while (m_slots[s] != 0) s = (s + 1) & mask;
    m_slots[s] = ((uint64_t(hash) >> 32) << 32) | uint64_t(index + 1);
}

void JsonObject::rebuildIndex() {
    size_t capacity = 32;
    while (capacity < m_members.size() * 2) capacity *= 2;
    m_slots.assign(capacity, 0);
    for (size_t i = 0; i < m_members.size(); ++i) indexMember(i);
}

JsonValue& JsonObject::append(std::string key, JsonValue value) {
    m_members.push_back(JsonMember{std::move(key), std::move(value)});
    if (!m_slots.empty()) {
        if (m_members.size() * 2 > m_slots.size())
            rebuildIndex();
        else
            indexMember(m_members.size() - 1);
    } else if (m_members.size() > kIndexThreshold) {
        rebuildIndex();
    }
    return m_members.back().value;
}

JsonValue& JsonObject::set(std::string key, JsonValue value) {
    const ptrdiff_t i = indexOf(key);
    if (i >= 0) {
        m_members[size_t(i)].value = std::move(value);
        return m_members[size_t(i)].value;
    }
    return append(std::move(key), std::move(value));
}

// ---- JsonValue ---------------------------------------------------------------

std::optional<bool> JsonValue::asBool() const {
    if (const bool* b = std::get_if<bool>(&m_v)) return *b;
    return std::nullopt;
}

std::optional<int64_t> JsonValue::asInt() const {
    const JsonNumber* n = number();
    if (!n) return std::nullopt;
    if (n->exactInteger) return n->integer;
    constexpr double kExactLimit = 9007199254740992.0;  // 2^53
    if (std::isfinite(n->value) && std::trunc(n->value) == n->value &&
        std::fabs(n->value) <= kExactLimit)
        return int64_t(n->value);
    return std::nullopt;
}

std::optional<double> JsonValue::asDouble() const {
    if (const JsonNumber* n = number()) return n->value;
    return std::nullopt;
}

std::optional<std::string_view> JsonValue::asString() const {
    if (const std::string* s = std::get_if<std::string>(&m_v)) return std::string_view(*s);
    return std::nullopt;
}

const JsonValue* JsonValue::find(std::string_view key) const {
    const JsonObject* o = object();
    return o ? o->find(key) : nullptr;
}

JsonValue* JsonValue::find(std::string_view key) {
    JsonObject* o = object();
    return o ? o->find(key) : nullptr;
}

const JsonValue* JsonValue::at(size_t i) const {
    const JsonArray* a = array();
    return a && i < a->size() ? &(*a)[i] : nullptr;
}

const JsonArray& JsonValue::items() const {
    const JsonArray* a = array();
    return a ? *a : kEmptyArray;
}

const std::vector<JsonMember>& JsonValue::members() const {
    const JsonObject* o = object();
    return o ? o->members() : kEmptyMembers;
}

size_t JsonValue::size() const {
    if (const JsonArray* a = array()) return a->size();
    if (const JsonObject* o = object()) return o->size();
    return 0;
}

JsonValue& JsonValue::push(JsonValue v) {
    if (isNull()) m_v = JsonArray{};
    if (JsonArray* a = array()) a->push_back(std::move(v));
    return *this;
}

JsonValue& JsonValue::set(std::string key, JsonValue v) {
    if (isNull()) m_v = JsonObject{};
    if (JsonObject* o = object()) o->set(std::move(key), std::move(v));
    return *this;
}

bool JsonValue::operator==(const JsonValue& other) const {
    if (type() != other.type()) return false;
    switch (type()) {
        case JsonType::Null: return true;
        case JsonType::Bool: return *asBool() == *other.asBool();
        case JsonType::Number: {
            const JsonNumber& a = *number();
            const JsonNumber& b = *other.number();
            if (a.exactInteger && b.exactInteger) return a.integer == b.integer;
            return a.value == b.value;
        }
        case JsonType::String: return *asString() == *other.asString();
        case JsonType::Array: return items() == other.items();
        case JsonType::Object: {
            const auto& a = members();
            const auto& b = other.members();
            if (a.size() != b.size()) return false;
            for (size_t i = 0; i < a.size(); ++i)
                if (a[i].key != b[i].key || !(a[i].value == b[i].value)) return false;
            return true;
        }
    }
    return false;
}

// ---- Paths -----------------------------------------------------------------

std::string jsonPathKey(std::string_view base, std::string_view key) {
    std::string path(base.empty() ? "$" : base);
    if (key.size() > kMaxPathKeyBytes) {
        size_t cut = kMaxPathKeyBytes;
        while (cut > 0 && (static_cast<unsigned char>(key[cut]) & 0xC0) == 0x80) --cut;
        std::string shortKey(key.substr(0, cut));
        shortKey += "...";
        path += '[';
        appendJsonString(path, shortKey);
        path += ']';
        return path;
    }
    if (isIdentifier(key)) {
        path += '.';
        path += key;
    } else {
        path += '[';
        appendJsonString(path, key);
        path += ']';
    }
    return path;
}

std::string jsonPathIndex(std::string_view base, size_t index) {
    std::string path(base.empty() ? "$" : base);
    path += '[';
    path += std::to_string(index);
    path += ']';
    return path;
}

// ---- Parser ----------------------------------------------------------------

namespace {

class Parser {
public:
    Parser(std::string_view text, const JsonLimits& limits)
        : m_begin(text.data()), m_p(text.data()), m_end(text.data() + text.size()),
          m_limits(limits) {}

    Result<JsonValue> run() {
        if (uint64_t(m_end - m_begin) > m_limits.maxBytes)
            return makeError(ErrorCode::Overflow,
                             "input of " + std::to_string(m_end - m_begin) +
                                 " bytes exceeds the limit of " +
                                 std::to_string(m_limits.maxBytes),
                             "$", 0);
        if (m_end - m_p >= 3 && std::memcmp(m_p, "\xEF\xBB\xBF", 3) == 0) m_p += 3;
        JsonValue root;
        skipWs();
        if (!parseValue(root, 0)) return std::move(*m_error);
        skipWs();
        if (m_p != m_end) {
            fail(ErrorCode::Malformed, "unexpected characters after the value", m_p);
            return std::move(*m_error);
        }
        return root;
    }

private:
    struct PathSegment {
        const std::string* key;  // nullptr: array index
        size_t index;
    };

    bool fail(ErrorCode code, std::string message, const char* at) {
        if (m_error) return false;
        std::string path = "$";
        for (const PathSegment& s : m_path)
            path = s.key ? jsonPathKey(path, *s.key) : jsonPathIndex(path, s.index);
        m_error = makeError(code, std::move(message), std::move(path), uint64_t(at - m_begin));
        return false;
    }

    bool truncated(const char* what) {
        return fail(ErrorCode::Truncated, std::string("input ends inside ") + what, m_end);
    }

    void skipWs() {
        while (m_p < m_end && (*m_p == ' ' || *m_p == '\n' || *m_p == '\r' || *m_p == '\t')) ++m_p;
    }

    bool parseValue(JsonValue& out, uint32_t depth) {
        if (m_p == m_end) return truncated("a value");
        if (++m_values > m_limits.maxValues)
            return fail(ErrorCode::Overflow,
                        "more than " + std::to_string(m_limits.maxValues) + " values", m_p);
        const uint64_t offset = uint64_t(m_p - m_begin);
        bool ok;
        switch (*m_p) {
            case '{': ok = parseObject(out, depth + 1); break;
            case '[': ok = parseArray(out, depth + 1); break;
            case '"': {
                std::string s;
                ok = parseString(s);
                if (ok) out = JsonValue(std::move(s));
                break;
            }
            case 't': ok = parseLiteral("true", out, JsonValue(true)); break;
            case 'f': ok = parseLiteral("false", out, JsonValue(false)); break;
            case 'n': ok = parseLiteral("null", out, JsonValue()); break;
            default: ok = parseNumber(out); break;
        }
        if (ok) out.setOffset(offset);
        return ok;
    }

    bool enter(uint32_t depth) {
        if (depth > m_limits.maxDepth)
            return fail(ErrorCode::Overflow,
                        "nesting deeper than " + std::to_string(m_limits.maxDepth) + " levels",
                        m_p);
        ++m_p;  // the opening bracket
        skipWs();
        return true;
    }

    bool parseObject(JsonValue& out, uint32_t depth) {
        if (!enter(depth)) return false;
        JsonObject object;
        if (m_p < m_end && *m_p == '}') {
            ++m_p;
            out = JsonValue(std::move(object));
            return true;
        }
        for (;;) {
            if (m_p == m_end) return truncated("an object");
            if (*m_p != '"') return fail(ErrorCode::Malformed, "expected a string key", m_p);
            const char* keyAt = m_p;
            std::string key;
            if (!parseString(key)) return false;
            skipWs();
            if (m_p == m_end) return truncated("an object");
            if (*m_p != ':') return fail(ErrorCode::Malformed, "expected ':' after key", m_p);
            ++m_p;
            skipWs();
            const ptrdiff_t existing = object.indexOf(key);
            if (existing >= 0) {
                if (!parseDuplicate(object, std::move(key), keyAt, depth)) return false;
            } else {
                JsonValue& slot = object.append(std::move(key), JsonValue());
                m_path.push_back({&object.members().back().key, 0});
                if (!parseValue(slot, depth)) return false;
                m_path.pop_back();
            }
            skipWs();
            if (m_p == m_end) return truncated("an object");
            if (*m_p == ',') {
                ++m_p;
                skipWs();
                continue;
            }
            if (*m_p == '}') {
                ++m_p;
                break;
            }
            return fail(ErrorCode::Malformed, "expected ',' or '}' in object", m_p);
        }
        out = JsonValue(std::move(object));
        return true;
    }

    bool parseDuplicate(JsonObject& object, std::string key, const char* keyAt, uint32_t depth) {
        m_path.push_back({&key, 0});
        if (m_limits.rejectDuplicateKeys)
            return fail(ErrorCode::Malformed, "duplicate key \"" + key + "\"", keyAt);
        JsonValue value;
        if (!parseValue(value, depth)) return false;
        m_path.pop_back();
        object.set(std::move(key), std::move(value));
        return true;
    }

    bool parseArray(JsonValue& out, uint32_t depth) {
        if (!enter(depth)) return false;
        JsonArray array;
        if (m_p < m_end && *m_p == ']') {
            ++m_p;
            out = JsonValue(std::move(array));
            return true;
        }
        for (;;) {
            array.emplace_back();
            m_path.push_back({nullptr, array.size() - 1});
            if (!parseValue(array.back(), depth)) return false;
            m_path.pop_back();
            skipWs();
            if (m_p == m_end) return truncated("an array");
            if (*m_p == ',') {
                ++m_p;
                skipWs();
                continue;
            }
            if (*m_p == ']') {
                ++m_p;
                break;
            }
            return fail(ErrorCode::Malformed, "expected ',' or ']' in array", m_p);
        }
        out = JsonValue(std::move(array));
        return true;
    }

    bool parseLiteral(std::string_view word, JsonValue& out, JsonValue value) {
        const size_t left = size_t(m_end - m_p);
        const size_t n = std::min(left, word.size());
        if (std::memcmp(m_p, word.data(), n) != 0)
            return fail(ErrorCode::Malformed, "invalid literal", m_p);
        if (n < word.size()) return truncated("a literal");
        m_p += word.size();
        out = std::move(value);
        return true;
    }

    bool parseHex4(uint32_t& value) {
        if (m_end - m_p < 4) return truncated("a \\u escape");
        value = 0;
        for (int i = 0; i < 4; ++i) {
            const int h = hexValue(m_p[i]);
            if (h < 0) return fail(ErrorCode::Malformed, "invalid hex digit in \\u escape", m_p + i);
            value = (value << 4) | uint32_t(h);
        }
        m_p += 4;
        return true;
    }

    // At a backslash inside a string.
    bool parseEscape(std::string& out) {
        const char* at = m_p;
        if (m_end - m_p < 2) return truncated("a string escape");
        const char c = m_p[1];
        m_p += 2;
        switch (c) {
            case '"': out.push_back('"'); return true;
            case '\\': out.push_back('\\'); return true;
            case '/': out.push_back('/'); return true;
            case 'b': out.push_back('\b'); return true;
            case 'f': out.push_back('\f'); return true;
            case 'n': out.push_back('\n'); return true;
            case 'r': out.push_back('\r'); return true;
            case 't': out.push_back('\t'); return true;
            case 'u': break;
            default: return fail(ErrorCode::Malformed, "invalid escape sequence", at);
        }
        uint32_t cp = 0;
        if (!parseHex4(cp)) return false;
        if (cp >= 0xDC00 && cp <= 0xDFFF)
            return fail(ErrorCode::Malformed, "unpaired low surrogate in \\u escape", at);
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            for (int i = 0; i < 2; ++i) {
                if (m_p + i == m_end) return truncated("a surrogate pair");
                if (m_p[i] != "\\u"[i])
                    return fail(ErrorCode::Malformed, "unpaired high surrogate in \\u escape", at);
            }
            m_p += 2;
            uint32_t low = 0;
            if (!parseHex4(low)) return false;
            if (low < 0xDC00 || low > 0xDFFF)
                return fail(ErrorCode::Malformed, "unpaired high surrogate in \\u escape", at);
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
        }
        appendUtf8(out, cp);
        return true;
    }

    // At the opening quote.
    bool parseString(std::string& out) {
        ++m_p;
        for (;;) {
            const char* run = m_p;
            while (m_p < m_end) {
                const unsigned char c = static_cast<unsigned char>(*m_p);
                if (c == '"' || c == '\\' || c < 0x20 || c >= 0x80) break;
                ++m_p;
            }
            out.append(run, size_t(m_p - run));
            if (m_p == m_end) return truncated("a string");
            const unsigned char c = static_cast<unsigned char>(*m_p);
            if (c == '"') {
                ++m_p;
                return true;
            }
            if (c == '\\') {
                if (!parseEscape(out)) return false;
            } else if (c < 0x20) {
                return fail(ErrorCode::Malformed, "unescaped control character in string", m_p);
            } else {
                uint32_t cp = 0;
                const int len = decodeUtf8(reinterpret_cast<const unsigned char*>(m_p),
                                           reinterpret_cast<const unsigned char*>(m_end), cp);
                if (len < 0) return truncated("a string");
                if (len == 0) return fail(ErrorCode::Malformed, "invalid UTF-8 in string", m_p);
                out.append(m_p, size_t(len));
                m_p += len;
            }
        }
    }

    void skipDigits() {
        while (m_p < m_end && *m_p >= '0' && *m_p <= '9') ++m_p;
    }

    bool expectDigit(const char* what) {
        if (m_p == m_end) return truncated("a number");
        if (*m_p < '0' || *m_p > '9') return fail(ErrorCode::Malformed, what, m_p);
        return true;
    }

    bool parseNumber(JsonValue& out) {
        const char* start = m_p;
        if (*m_p == '-') ++m_p;
        if (!expectDigit(m_p == start ? "unexpected character" : "expected a digit after '-'"))
            return false;
        const char* intStart = m_p;
        if (*m_p == '0') ++m_p; else skipDigits();
        const bool intIsZero = (m_p - intStart == 1 && *intStart == '0');
        const ptrdiff_t intDigits = m_p - intStart;
        bool integral = true;
        ptrdiff_t leadingFractionZeros = 0;
        if (m_p < m_end && *m_p == '.') {
            ++m_p;
            if (!expectDigit("expected a digit after '.'")) return false;
            const char* fracStart = m_p;
            while (m_p < m_end && *m_p == '0') ++m_p;
            leadingFractionZeros = m_p - fracStart;
            skipDigits();
            integral = false;
        }
        if (m_p < m_end && (*m_p == 'e' || *m_p == 'E')) {
            ++m_p;
            if (m_p < m_end && (*m_p == '+' || *m_p == '-')) ++m_p;
            if (!expectDigit("expected a digit in exponent")) return false;
            skipDigits();
            integral = false;
        }
        JsonNumber number;
        if (integral) {
            const auto r = std::from_chars(start, m_p, number.integer);
            number.exactInteger = (r.ec == std::errc() && r.ptr == m_p);
        }
        const auto r = std::from_chars(start, m_p, number.value);
        if (r.ec == std::errc::result_out_of_range) {
            // Decide between overflow and underflow from the decimal magnitude.
            int64_t exponent = 0;
            for (const char* e = start; e < m_p; ++e) {
                if (*e != 'e' && *e != 'E') continue;
                const auto er = std::from_chars(e + (e[1] == '+' ? 2 : 1), m_p, exponent);
                if (er.ec == std::errc::result_out_of_range) exponent = e[1] == '-' ? -1000000 : 1000000;
                break;
            }
            const int64_t magnitude = (intIsZero ? -leadingFractionZeros : intDigits) + exponent;
            if (magnitude > 0)
                return fail(ErrorCode::Malformed, "number out of the range of a double", start);
            number.value = (*start == '-') ? -0.0 : 0.0;
        } else if (r.ec != std::errc() || r.ptr != m_p) {
            return fail(ErrorCode::Malformed, "invalid number", start);
        }
        out = JsonValue(number);
        return true;
    }

    const char* m_begin;
    const char* m_p;
    const char* m_end;
    const JsonLimits& m_limits;
    std::vector<PathSegment> m_path;
    std::optional<Error> m_error;
    uint64_t m_values = 0;
};

}  // namespace

Result<JsonValue> parseJson(std::string_view text, const JsonLimits& limits) {
    try {
        Parser parser(text, limits);
        return parser.run();
    } catch (const std::bad_alloc&) {
        return makeError(ErrorCode::OutOfMemory, "out of memory while parsing JSON");
    }
}

// ---- Serializer --------------------------------------------------------------

void appendJsonString(std::string& out, std::string_view s, bool escapeNonAscii) {
    static constexpr char kHex[] = "0123456789abcdef";
    auto appendU = [&out](uint32_t unit) {
        out += "\\u";
        for (int shift = 12; shift >= 0; shift -= 4) out.push_back(kHex[(unit >> shift) & 0xF]);
    };
    out.push_back('"');
    const auto* p = reinterpret_cast<const unsigned char*>(s.data());
    const auto* end = p + s.size();
    while (p < end) {
        const unsigned char c = *p;
        if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
            const unsigned char* run = p;
            while (p < end && *p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\') ++p;
            out.append(reinterpret_cast<const char*>(run), size_t(p - run));
            continue;
        }
        switch (c) {
            case '"': out += "\\\""; ++p; continue;
            case '\\': out += "\\\\"; ++p; continue;
            case '\b': out += "\\b"; ++p; continue;
            case '\f': out += "\\f"; ++p; continue;
            case '\n': out += "\\n"; ++p; continue;
            case '\r': out += "\\r"; ++p; continue;
            case '\t': out += "\\t"; ++p; continue;
            default: break;
        }
        if (c < 0x20) {
            appendU(c);
            ++p;
            continue;
        }
        uint32_t cp;
        int len = decodeUtf8(p, end, cp);
        if (len <= 0) {  // invalid byte: replacement character
            cp = 0xFFFD;
            len = 1;
        }
        if (!escapeNonAscii) {
            appendUtf8(out, cp);
        } else if (cp < 0x10000) {
            appendU(cp);
        } else {
            appendU(0xD800 + ((cp - 0x10000) >> 10));
            appendU(0xDC00 + ((cp - 0x10000) & 0x3FF));
        }
        p += len;
    }
    out.push_back('"');
}

namespace {

void appendNumber(std::string& out, const JsonNumber& n) {
    char buf[64];
    std::to_chars_result r;
    if (n.exactInteger) {
        r = std::to_chars(buf, buf + sizeof buf, n.integer);
    } else if (!std::isfinite(n.value)) {
        out += "null";
        return;
    } else {
        r = std::to_chars(buf, buf + sizeof buf, n.value);
        // Keep doubles doubles: "100.0", "-0.0" read back as non-integers.
        if (std::find_if(buf, r.ptr, [](char c) { return c == '.' || c == 'e'; }) == r.ptr) {
            *r.ptr++ = '.';
            *r.ptr++ = '0';
        }
    }
    out.append(buf, size_t(r.ptr - buf));
}

void newline(std::string& out, const JsonDumpOptions& options, int level) {
    if (options.indent <= 0) return;
    out.push_back('\n');
    out.append(size_t(options.indent) * size_t(level), ' ');
}

void dumpValue(std::string& out, const JsonValue& v, const JsonDumpOptions& options, int level) {
    switch (v.type()) {
        case JsonType::Null: out += "null"; return;
        case JsonType::Bool: out += *v.asBool() ? "true" : "false"; return;
        case JsonType::Number: appendNumber(out, *v.number()); return;
        case JsonType::String: appendJsonString(out, *v.asString(), options.escapeNonAscii); return;
        case JsonType::Array: {
            out.push_back('[');
            const JsonArray& items = v.items();
            for (size_t i = 0; i < items.size(); ++i) {
                if (i) out.push_back(',');
                newline(out, options, level + 1);
                dumpValue(out, items[i], options, level + 1);
            }
            if (!items.empty()) newline(out, options, level);
            out.push_back(']');
            return;
        }
        case JsonType::Object: {
            out.push_back('{');
            const auto& members = v.members();
            for (size_t i = 0; i < members.size(); ++i) {
                if (i) out.push_back(',');
                newline(out, options, level + 1);
                appendJsonString(out, members[i].key, options.escapeNonAscii);
                out += options.indent > 0 ? ": " : ":";
                dumpValue(out, members[i].value, options, level + 1);
            }
            if (!members.empty()) newline(out, options, level);
            out.push_back('}');
            return;
        }
    }
}

}  // namespace

std::string dumpJson(const JsonValue& value, const JsonDumpOptions& options) {
    std::string out;
    dumpValue(out, value, options, 0);
    return out;
}

}  // namespace glassbox::engine
