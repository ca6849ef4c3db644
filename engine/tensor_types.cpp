// Tensor type table and exact half / bfloat16 conversions.
#include "engine/tensor_types.h"

#include <cctype>
#include <cstring>

#include "engine/checked_math.h"

namespace glassbox::engine {
namespace {

constexpr TensorTypeTraits kTraits[] = {
    {TensorType::F32, "F32", 1, 4, false},
    {TensorType::F16, "F16", 1, 2, false},
    {TensorType::Q4_0, "Q4_0", kQK4_0, sizeof(BlockQ4_0), true},
    {TensorType::Q4_1, "Q4_1", kQK4_1, sizeof(BlockQ4_1), true},
    {TensorType::Q5_0, "Q5_0", kQK5_0, sizeof(BlockQ5_0), true},
    {TensorType::Q5_1, "Q5_1", kQK5_1, sizeof(BlockQ5_1), true},
    {TensorType::Q8_0, "Q8_0", kQK8_0, sizeof(BlockQ8_0), true},
    {TensorType::Q8_1, "Q8_1", kQK8_1, sizeof(BlockQ8_1), true},
    {TensorType::Q2_K, "Q2_K", kQK_K, 84, true},
    {TensorType::Q3_K, "Q3_K", kQK_K, 110, true},
    {TensorType::Q4_K, "Q4_K", kQK_K, sizeof(BlockQ4_K), true},
    {TensorType::Q5_K, "Q5_K", kQK_K, sizeof(BlockQ5_K), true},
    {TensorType::Q6_K, "Q6_K", kQK_K, sizeof(BlockQ6_K), true},
    {TensorType::Q8_K, "Q8_K", kQK_K, sizeof(BlockQ8_K), true},
    {TensorType::BF16, "BF16", 1, 2, false},
};

}  // namespace

std::optional<TensorTypeTraits> tensorTypeTraits(uint32_t rawId) {
    for (const auto& t : kTraits)
        if (static_cast<uint32_t>(t.type) == rawId) return t;
    return std::nullopt;
}

const TensorTypeTraits& traitsOf(TensorType type) {
    for (const auto& t : kTraits)
        if (t.type == type) return t;
    return kTraits[0];
}

std::string_view tensorTypeName(TensorType type) { return traitsOf(type).name; }

std::optional<TensorType> tensorTypeFromName(std::string_view name) {
    for (const auto& t : kTraits) {
        std::string_view n = t.name;
        if (n.size() != name.size()) continue;
        bool same = true;
        for (size_t i = 0; i < n.size(); ++i)
            if (std::toupper(static_cast<unsigned char>(name[i])) != n[i]) same = false;
        if (same) return t.type;
    }
    return std::nullopt;
}

std::optional<uint64_t> rowBytes(TensorType type, uint64_t n) {
    const auto& t = traitsOf(type);
    if (n % t.blockSize != 0) return std::nullopt;
    return checkedMul(n / t.blockSize, t.typeSize);
}

float fp16ToFloat(fp16_t h) {
    const uint32_t sign = uint32_t(h & 0x8000) << 16;
    uint32_t exp = (h >> 10) & 0x1f;
    uint32_t mant = h & 0x3ff;
    uint32_t bits;
    if (exp == 0) {
        if (mant == 0) {
            bits = sign;
        } else {  // subnormal: normalise
            exp = 127 - 15 + 1;
            while ((mant & 0x400) == 0) { mant <<= 1; --exp; }
            mant &= 0x3ff;
            bits = sign | (exp << 23) | (mant << 13);
        }
    } else if (exp == 0x1f) {
        bits = sign | 0x7f800000u | (mant << 13);
    } else {
        bits = sign | ((exp + 127 - 15) << 23) | (mant << 13);
    }
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
}

fp16_t floatToFp16(float f) {
    uint32_t x;
    std::memcpy(&x, &f, 4);
    const uint32_t sign = (x >> 16) & 0x8000;
    const uint32_t absx = x & 0x7fffffff;
    if (absx > 0x7f800000) return fp16_t(sign | 0x7e00);   // NaN
    if (absx >= 0x47800000) {                                 // overflow or inf
        if (absx == 0x7f800000 || absx >= 0x477ff000) return fp16_t(sign | 0x7c00);
    }
    if (absx < 0x38800000) {  // subnormal half or zero
        if (absx < 0x33000000) return fp16_t(sign);
        const uint32_t e = absx >> 23;
        uint32_t m = (absx & 0x7fffff) | 0x800000;
        // value = m * 2^(e-150); the half subnormal unit is 2^-24
        const uint32_t rshift = 126 - e;
        const uint32_t q = m >> rshift;
        const uint32_t rem = m & ((1u << rshift) - 1);
        const uint32_t half = 1u << (rshift - 1);
        uint32_t r = q;
        if (rem > half || (rem == half && (q & 1))) ++r;
        return fp16_t(sign | r);
    }
    uint32_t r = ((absx >> 13) - (112u << 10));
    const uint32_t rem = absx & 0x1fff;
    if (rem > 0x1000 || (rem == 0x1000 && (r & 1))) ++r;
    return fp16_t(sign | r);
}

float bf16ToFloat(uint16_t h) {
    const uint32_t bits = uint32_t(h) << 16;
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
}

uint16_t floatToBf16(float f) {
    uint32_t x;
    std::memcpy(&x, &f, 4);
    if ((x & 0x7fffffff) > 0x7f800000) return uint16_t((x >> 16) | 64);
    return uint16_t((x + (0x7fff + ((x >> 16) & 1))) >> 16);
}

}  // namespace glassbox::engine
