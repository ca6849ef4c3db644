// Portable reference (de)quantization for the plain float types and the
// 32-element block formats (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q8_1). The
// arithmetic follows ggml's reference code operation for operation (same
// divisions, same rounding, no fused multiply-add) so results are bit-exact
// with ggml and the gguf package.
#if defined(__clang__)
#pragma clang fp contract(off)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

#include <cfloat>
#include <cmath>
#include <cstring>

#include "kernels/cpu/quant_impl.h"

namespace glassbox::kernels::detail::scalar {
namespace {

using namespace engine;

struct HalfTable {
    float values[65536];
    HalfTable() {
        for (uint32_t i = 0; i < 65536; ++i) values[i] = fp16ToFloat(fp16_t(i));
    }
};

const HalfTable& halfTable() {
    static const HalfTable table;
    return table;
}

// ---- plain floats --------------------------------------------------------

void dequantizeF32(const void* src, float* dst, int64_t n) { std::memcpy(dst, src, size_t(n) * 4); }

void quantizeF32(const float* src, void* dst, int64_t n) { std::memcpy(dst, src, size_t(n) * 4); }

void dequantizeF16(const void* src, float* dst, int64_t n) {
    const auto* h = static_cast<const uint16_t*>(src);
    const float* t = halfTable().values;
    for (int64_t i = 0; i < n; ++i) dst[i] = t[h[i]];
}

void quantizeF16(const float* src, void* dst, int64_t n) {
    auto* h = static_cast<uint16_t*>(dst);
    for (int64_t i = 0; i < n; ++i) h[i] = floatToFp16(src[i]);
}

void dequantizeBF16(const void* src, float* dst, int64_t n) {
    const auto* h = static_cast<const uint16_t*>(src);
    for (int64_t i = 0; i < n; ++i) dst[i] = bf16ToFloat(h[i]);
}

void quantizeBF16(const float* src, void* dst, int64_t n) {
    auto* h = static_cast<uint16_t*>(dst);
    for (int64_t i = 0; i < n; ++i) h[i] = floatToBf16(src[i]);
}

// ---- 32-element blocks: dequantization -----------------------------------

void dequantizeQ4_0(const void* src, float* dst, int64_t n) {
    const auto* b = static_cast<const BlockQ4_0*>(src);
    for (int64_t i = 0; i < n / kQK4_0; ++i, dst += kQK4_0) {
        const float d = halfToFloat(b[i].d);
        for (int j = 0; j < kQK4_0 / 2; ++j) {
            dst[j] = float((b[i].qs[j] & 0x0f) - 8) * d;
            dst[j + kQK4_0 / 2] = float((b[i].qs[j] >> 4) - 8) * d;
        }
    }
}

void dequantizeQ4_1(const void* src, float* dst, int64_t n) {
    const auto* b = static_cast<const BlockQ4_1*>(src);
    for (int64_t i = 0; i < n / kQK4_1; ++i, dst += kQK4_1) {
        const float d = halfToFloat(b[i].d);
        const float m = halfToFloat(b[i].m);
        for (int j = 0; j < kQK4_1 / 2; ++j) {
            dst[j] = float(b[i].qs[j] & 0x0f) * d + m;
            dst[j + kQK4_1 / 2] = float(b[i].qs[j] >> 4) * d + m;
        }
    }
}

void dequantizeQ5_0(const void* src, float* dst, int64_t n) {
    const auto* b = static_cast<const BlockQ5_0*>(src);
    for (int64_t i = 0; i < n / kQK5_0; ++i, dst += kQK5_0) {
        const float d = halfToFloat(b[i].d);
        uint32_t qh;
        std::memcpy(&qh, b[i].qh, 4);
        for (int j = 0; j < kQK5_0 / 2; ++j) {
            const int h0 = int((qh >> j) << 4) & 0x10;
            const int h1 = int(qh >> (j + 12)) & 0x10;
            dst[j] = float(((b[i].qs[j] & 0x0f) | h0) - 16) * d;
            dst[j + kQK5_0 / 2] = float(((b[i].qs[j] >> 4) | h1) - 16) * d;
        }
    }
}

void dequantizeQ5_1(const void* src, float* dst, int64_t n) {
    const auto* b = static_cast<const BlockQ5_1*>(src);
    for (int64_t i = 0; i < n / kQK5_1; ++i, dst += kQK5_1) {
        const float d = halfToFloat(b[i].d);
        const float m = halfToFloat(b[i].m);
        uint32_t qh;
        std::memcpy(&qh, b[i].qh, 4);
        for (int j = 0; j < kQK5_1 / 2; ++j) {
            const int h0 = int((qh >> j) << 4) & 0x10;
            const int h1 = int(qh >> (j + 12)) & 0x10;
            dst[j] = float((b[i].qs[j] & 0x0f) | h0) * d + m;
            dst[j + kQK5_1 / 2] = float((b[i].qs[j] >> 4) | h1) * d + m;
        }
    }
}

void dequantizeQ8_0(const void* src, float* dst, int64_t n) {
    const auto* b = static_cast<const BlockQ8_0*>(src);
    for (int64_t i = 0; i < n / kQK8_0; ++i, dst += kQK8_0) {
        const float d = halfToFloat(b[i].d);
        for (int j = 0; j < kQK8_0; ++j) dst[j] = float(b[i].qs[j]) * d;
    }
}

void dequantizeQ8_1(const void* src, float* dst, int64_t n) {
    const auto* b = static_cast<const BlockQ8_1*>(src);
    for (int64_t i = 0; i < n / kQK8_1; ++i, dst += kQK8_1) {
        const float d = halfToFloat(b[i].d);
        for (int j = 0; j < kQK8_1; ++j) dst[j] = float(b[i].qs[j]) * d;
    }
}

// ---- 32-element blocks: reference quantizers ------------------------------

// Value with the largest magnitude (first one on ties), as ggml picks it.
float signedAbsMax(const float* x, int n) {
    float amax = 0.0f, max = 0.0f;
    for (int j = 0; j < n; ++j) {
        if (amax < std::fabs(x[j])) {
            amax = std::fabs(x[j]);
            max = x[j];
        }
    }
    return max;
}

void minMax(const float* x, int n, float& min, float& max) {
    min = FLT_MAX;
    max = -FLT_MAX;
    for (int j = 0; j < n; ++j) {
        if (x[j] < min) min = x[j];
        if (x[j] > max) max = x[j];
    }
}

// float -> int8 the way a C cast compiles on x86 (truncate, keep the low byte).
int8_t truncToInt8(float v) { return int8_t(int32_t(v)); }

void quantizeQ4_0(const float* x, void* dst, int64_t n) {
    auto* y = static_cast<BlockQ4_0*>(dst);
    for (int64_t i = 0; i < n / kQK4_0; ++i, x += kQK4_0) {
        const float d = signedAbsMax(x, kQK4_0) / -8;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        y[i].d = floatToHalf(d);
        for (int j = 0; j < kQK4_0 / 2; ++j) {
            const int a = truncToInt8(x[j] * id + 8.5f);
            const int b = truncToInt8(x[j + kQK4_0 / 2] * id + 8.5f);
            y[i].qs[j] = uint8_t(uint8_t(a < 15 ? a : 15) | (uint8_t(b < 15 ? b : 15) << 4));
        }
    }
}

void quantizeQ4_1(const float* x, void* dst, int64_t n) {
    auto* y = static_cast<BlockQ4_1*>(dst);
    for (int64_t i = 0; i < n / kQK4_1; ++i, x += kQK4_1) {
        float min, max;
        minMax(x, kQK4_1, min, max);
        const float d = (max - min) / 15;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        y[i].d = floatToHalf(d);
        y[i].m = floatToHalf(min);
        for (int j = 0; j < kQK4_1 / 2; ++j) {
            const int a = truncToInt8((x[j] - min) * id + 0.5f);
            const int b = truncToInt8((x[j + kQK4_1 / 2] - min) * id + 0.5f);
            y[i].qs[j] = uint8_t(uint8_t(a < 15 ? a : 15) | (uint8_t(b < 15 ? b : 15) << 4));
        }
    }
}

void quantizeQ5_0(const float* x, void* dst, int64_t n) {
    auto* y = static_cast<BlockQ5_0*>(dst);
    for (int64_t i = 0; i < n / kQK5_0; ++i, x += kQK5_0) {
        const float d = signedAbsMax(x, kQK5_0) / -16;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        y[i].d = floatToHalf(d);
        uint32_t qh = 0;
        for (int j = 0; j < kQK5_0 / 2; ++j) {
            const int a0 = truncToInt8(x[j] * id + 16.5f);
            const int b0 = truncToInt8(x[j + kQK5_0 / 2] * id + 16.5f);
            const uint8_t a = uint8_t(a0 < 31 ? a0 : 31), b = uint8_t(b0 < 31 ? b0 : 31);
            y[i].qs[j] = uint8_t((a & 0x0f) | ((b & 0x0f) << 4));
            qh |= uint32_t((a & 0x10u) >> 4) << j;
            qh |= uint32_t((b & 0x10u) >> 4) << (j + kQK5_0 / 2);
        }
        std::memcpy(y[i].qh, &qh, 4);
    }
}

void quantizeQ5_1(const float* x, void* dst, int64_t n) {
    auto* y = static_cast<BlockQ5_1*>(dst);
    for (int64_t i = 0; i < n / kQK5_1; ++i, x += kQK5_1) {
        float min, max;
        minMax(x, kQK5_1, min, max);
        const float d = (max - min) / 31;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        y[i].d = floatToHalf(d);
        y[i].m = floatToHalf(min);
        uint32_t qh = 0;
        for (int j = 0; j < kQK5_1 / 2; ++j) {
            const auto a = uint8_t(truncToInt8((x[j] - min) * id + 0.5f));
            const auto b = uint8_t(truncToInt8((x[j + kQK5_1 / 2] - min) * id + 0.5f));
            y[i].qs[j] = uint8_t((a & 0x0f) | ((b & 0x0f) << 4));
            qh |= uint32_t((a & 0x10u) >> 4) << j;
            qh |= uint32_t((b & 0x10u) >> 4) << (j + kQK5_1 / 2);
        }
        std::memcpy(y[i].qh, &qh, 4);
    }
}

float absMax(const float* x, int n) {
    float amax = 0.0f;
    for (int j = 0; j < n; ++j) {
        const float a = std::fabs(x[j]);
        amax = amax > a ? amax : a;
    }
    return amax;
}

void quantizeQ8_0(const float* x, void* dst, int64_t n) {
    auto* y = static_cast<BlockQ8_0*>(dst);
    for (int64_t i = 0; i < n / kQK8_0; ++i, x += kQK8_0) {
        const float d = absMax(x, kQK8_0) / 127;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        y[i].d = floatToHalf(d);
        for (int j = 0; j < kQK8_0; ++j) y[i].qs[j] = int8_t(std::round(x[j] * id));
    }
}

void quantizeQ8_1(const float* x, void* dst, int64_t n) {
    auto* y = static_cast<BlockQ8_1*>(dst);
    for (int64_t i = 0; i < n / kQK8_1; ++i, x += kQK8_1) {
        const float d = absMax(x, kQK8_1) / 127;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        y[i].d = floatToHalf(d);
        int sum = 0;
        for (int j = 0; j < kQK8_1; ++j) {
            y[i].qs[j] = int8_t(std::round(x[j] * id));
            sum += y[i].qs[j];
        }
        y[i].s = floatToHalf(float(sum) * d);
    }
}

}  // namespace

float halfToFloat(uint16_t h) { return halfTable().values[h]; }

uint16_t floatToHalf(float f) { return engine::floatToFp16(f); }

DequantizeFn dequantizeFor(TensorType type) {
    switch (type) {
    case TensorType::F32: return dequantizeF32;
    case TensorType::F16: return dequantizeF16;
    case TensorType::BF16: return dequantizeBF16;
    case TensorType::Q4_0: return dequantizeQ4_0;
    case TensorType::Q4_1: return dequantizeQ4_1;
    case TensorType::Q5_0: return dequantizeQ5_0;
    case TensorType::Q5_1: return dequantizeQ5_1;
    case TensorType::Q8_0: return dequantizeQ8_0;
    case TensorType::Q8_1: return dequantizeQ8_1;
    case TensorType::Q4_K: return dequantizeQ4K;
    case TensorType::Q5_K: return dequantizeQ5K;
    case TensorType::Q6_K: return dequantizeQ6K;
    case TensorType::Q8_K: return dequantizeQ8K;
    default: return nullptr;
    }
}

QuantizeFn quantizeFor(TensorType type) {
    switch (type) {
    case TensorType::F32: return quantizeF32;
    case TensorType::F16: return quantizeF16;
    case TensorType::BF16: return quantizeBF16;
    case TensorType::Q4_0: return quantizeQ4_0;
    case TensorType::Q4_1: return quantizeQ4_1;
    case TensorType::Q5_0: return quantizeQ5_0;
    case TensorType::Q5_1: return quantizeQ5_1;
    case TensorType::Q8_0: return quantizeQ8_0;
    case TensorType::Q8_1: return quantizeQ8_1;
    case TensorType::Q4_K: return quantizeQ4K;
    case TensorType::Q5_K: return quantizeQ5K;
    case TensorType::Q6_K: return quantizeQ6K;
    case TensorType::Q8_K: return quantizeQ8K;
    default: return nullptr;
    }
}

}  // namespace glassbox::kernels::detail::scalar
