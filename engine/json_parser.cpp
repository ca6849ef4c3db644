// The JSON parser: bounded recursive descent (depth capped by JsonLimits)
// straight into the DOM. It keeps its first error and unwinds by returning
// false; the JSON path of the value being read is rebuilt only on error.
#include "engine/json.h"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <new>

namespace glassbox::engine {
namespace {

using json_internal::appendUtf8;
using json_internal::decodeUtf8;
using json_internal::kEscapedChars;
using json_internal::kEscapeLetters;

int hexValue(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

class Parser {
public:
    Parser(std::string_view text, const JsonLimits& limits)
        : m_begin(text.data()),
          m_p(text.data()),
          m_end(text.data() + text.size()),
          m_limits(limits) {}

    Result<JsonValue> run() {
        if (uint64_t(m_end - m_begin) > m_limits.maxBytes)
            return makeError(ErrorCode::Overflow,
                             "input of " + std::to_string(m_end - m_begin) +
                                 " bytes exceeds the limit of " + std::to_string(m_limits.maxBytes),
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

    // After an item or member: ',' (more follow) or the closing bracket.
    bool next(char close, const char* what, bool& more) {
        skipWs();
        if (m_p == m_end) return truncated(what);
        more = *m_p == ',';
        if (!more && *m_p != close)
            return fail(ErrorCode::Malformed,
                        std::string("expected ',' or '") + close + "' in " + what, m_p);
        ++m_p;
        skipWs();
        return true;
    }

    bool parseObject(JsonValue& out, uint32_t depth) {
        if (!enter(depth)) return false;
        JsonObject object;
        bool more = m_p == m_end || *m_p != '}';
        if (!more) ++m_p;
        while (more)
            if (!parseMember(object, depth) || !next('}', "an object", more)) return false;
        out = JsonValue(std::move(object));
        return true;
    }

    bool parseMember(JsonObject& object, uint32_t depth) {
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
        if (object.indexOf(key) >= 0) {
            m_path.push_back({&key, 0});
            if (m_limits.rejectDuplicateKeys)
                return fail(ErrorCode::Malformed, "duplicate key \"" + key + "\"", keyAt);
            JsonValue value;
            if (!parseValue(value, depth)) return false;
            m_path.pop_back();
            object.set(std::move(key), std::move(value));  // the last value wins
            return true;
        }
        JsonValue& slot = object.append(std::move(key), JsonValue());
        m_path.push_back({&object.members().back().key, 0});
        if (!parseValue(slot, depth)) return false;
        m_path.pop_back();
        return true;
    }

    bool parseArray(JsonValue& out, uint32_t depth) {
        if (!enter(depth)) return false;
        JsonArray array;
        bool more = m_p == m_end || *m_p != ']';
        if (!more) ++m_p;
        while (more) {
            array.emplace_back();
            m_path.push_back({nullptr, array.size() - 1});
            if (!parseValue(array.back(), depth)) return false;
            m_path.pop_back();
            if (!next(']', "an array", more)) return false;
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
            if (h < 0)
                return fail(ErrorCode::Malformed, "invalid hex digit in \\u escape", m_p + i);
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
        if (c != 'u') {
            const size_t i = kEscapeLetters.find(c);
            if (i == std::string_view::npos)
                return fail(ErrorCode::Malformed, "invalid escape sequence", at);
            out.push_back(kEscapedChars[i]);
            return true;
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
        if (*m_p == '0')
            ++m_p;
        else
            skipDigits();
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
            constexpr int64_t kMaxExp = 1'000'000;
            int64_t exponent = 0;
            for (const char* e = start; e < m_p; ++e) {
                if (*e != 'e' && *e != 'E') continue;
                const auto er = std::from_chars(e + (e[1] == '+' ? 2 : 1), m_p, exponent);
                if (er.ec == std::errc::result_out_of_range)
                    exponent = e[1] == '-' ? -kMaxExp : kMaxExp;
                exponent = std::clamp(exponent, -kMaxExp, kMaxExp);
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

}  // namespace glassbox::engine
