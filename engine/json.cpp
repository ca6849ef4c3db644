// JSON DOM (objects with a hash index), JSON paths, and the serializer.
// The parser is in json_parser.cpp.
#include "engine/json.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <functional>

namespace glassbox::engine {
namespace {

constexpr size_t kIndexThreshold = 8;  // objects larger than this get a hash index
constexpr size_t kMaxPathKeyBytes = 200;

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

namespace json_internal {

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

}  // namespace json_internal

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
        if (c < 0x20 || c == '"' || c == '\\') {
            const size_t i = json_internal::kEscapedChars.find(char(c));
            if (i != std::string_view::npos) {
                out.push_back('\\');
                out.push_back(json_internal::kEscapeLetters[i]);
            } else {
                appendU(c);
            }
            ++p;
            continue;
        }
        uint32_t cp;
        int len = json_internal::decodeUtf8(p, end, cp);
        if (len <= 0) {  // invalid byte: replacement character
            cp = 0xFFFD;
            len = 1;
        }
        if (!escapeNonAscii) {
            json_internal::appendUtf8(out, cp);
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
