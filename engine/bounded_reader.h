// The one reader every binary parser uses: reads little-endian values from
// an untrusted byte span, never past its end, and reports failures as
// typed errors naming the field and the byte offset.
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>

#include "engine/result.h"

namespace glassbox::engine {

class BoundedReader {
public:
    explicit BoundedReader(std::span<const uint8_t> bytes) : m_bytes(bytes) {}

    uint64_t offset() const { return m_pos; }
    uint64_t size() const { return m_bytes.size(); }
    uint64_t remaining() const { return m_bytes.size() - m_pos; }
    const uint8_t* data() const { return m_bytes.data(); }

    // Read one trivially-copyable little-endian value.
    template <class T>
    Result<T> read(std::string_view field) {
        static_assert(std::is_trivially_copyable_v<T>);
        if (remaining() < sizeof(T)) return truncated(field, sizeof(T));
        T v;
        std::memcpy(&v, m_bytes.data() + m_pos, sizeof(T));
        m_pos += sizeof(T);
        return v;
    }

    // Bytes [offset, offset+n) as a view, after checking they exist.
    Result<std::span<const uint8_t>> take(uint64_t n, std::string_view field) {
        if (remaining() < n) return truncated(field, n);
        auto s = m_bytes.subspan(m_pos, n);
        m_pos += n;
        return s;
    }

    // A string of n bytes (n checked against the bytes left, never allocated first).
    Result<std::string> readString(uint64_t n, std::string_view field) {
        if (remaining() < n) return truncated(field, n);
        std::string s(reinterpret_cast<const char*>(m_bytes.data() + m_pos), n);
        m_pos += n;
        return s;
    }

    Status skip(uint64_t n, std::string_view field) {
        if (remaining() < n) return truncated(field, n);
        m_pos += n;
        return {};
    }

    Status seek(uint64_t pos, std::string_view field) {
        if (pos > m_bytes.size())
            return makeError(ErrorCode::Truncated, "seek past end of input", std::string(field), pos);
        m_pos = pos;
        return {};
    }

    Error truncated(std::string_view field, uint64_t wanted) const {
        return makeError(ErrorCode::Truncated,
                         "needs " + std::to_string(wanted) + " bytes but only " +
                             std::to_string(remaining()) + " remain",
                         std::string(field), m_pos);
    }

private:
    std::span<const uint8_t> m_bytes;
    uint64_t m_pos = 0;
};

}  // namespace glassbox::engine
