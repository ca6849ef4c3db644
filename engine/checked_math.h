// Checked integer arithmetic for parsers: every declared size coming from
// an untrusted file goes through these before it is used.
#pragma once

#include <cstdint>
#include <optional>

namespace glassbox::engine {

// a * b, or nullopt on overflow.
inline std::optional<uint64_t> checkedMul(uint64_t a, uint64_t b) {
    uint64_t r;
    if (__builtin_mul_overflow(a, b, &r)) return std::nullopt;
    return r;
}

// a + b, or nullopt on overflow.
inline std::optional<uint64_t> checkedAdd(uint64_t a, uint64_t b) {
    uint64_t r;
    if (__builtin_add_overflow(a, b, &r)) return std::nullopt;
    return r;
}

// Round value up to a multiple of alignment (a power of two, > 0), or nullopt
// on overflow or a bad alignment.
inline std::optional<uint64_t> alignUp(uint64_t value, uint64_t alignment) {
    if (alignment == 0 || (alignment & (alignment - 1)) != 0) return std::nullopt;
    auto sum = checkedAdd(value, alignment - 1);
    if (!sum) return std::nullopt;
    return *sum & ~(alignment - 1);
}

}  // namespace glassbox::engine
