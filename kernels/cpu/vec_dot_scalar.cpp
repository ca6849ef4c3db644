// Portable dot products computed directly on quantized blocks: the
// reference the SIMD variants are tested against. Integer sums inside a
// block are exact; the float combination follows ggml's generic code.
#include <cstring>

#include "kernels/cpu/quant_impl.h"

namespace glassbox::kernels::detail::scalar {
namespace {

using namespace engine;

float dotQ4_0(const void* vw, const void* va, int64_t n) {
    const auto* w = static_cast<const BlockQ4_0*>(vw);
    const auto* a = static_cast<const BlockQ8_0*>(va);
    float sum = 0;
    for (int64_t b = 0; b < n / kQK4_0; ++b) {
        int s = 0;
        for (int j = 0; j < 16; ++j)
            s += ((w[b].qs[j] & 0xf) - 8) * a[b].qs[j] + ((w[b].qs[j] >> 4) - 8) * a[b].qs[j + 16];
        sum += float(s) * (halfToFloat(w[b].d) * halfToFloat(a[b].d));
    }
    return sum;
}

float dotQ4_1(const void* vw, const void* va, int64_t n) {
    const auto* w = static_cast<const BlockQ4_1*>(vw);
    const auto* a = static_cast<const BlockQ8_1*>(va);
    float sum = 0;
    for (int64_t b = 0; b < n / kQK4_1; ++b) {
        int s = 0;
        for (int j = 0; j < 16; ++j) s += (w[b].qs[j] & 0xf) * a[b].qs[j] + (w[b].qs[j] >> 4) * a[b].qs[j + 16];
        sum += float(s) * (halfToFloat(w[b].d) * halfToFloat(a[b].d)) + halfToFloat(w[b].m) * halfToFloat(a[b].s);
    }
    return sum;
}

float dotQ5_0(const void* vw, const void* va, int64_t n) {
    const auto* w = static_cast<const BlockQ5_0*>(vw);
    const auto* a = static_cast<const BlockQ8_0*>(va);
    float sum = 0;
    for (int64_t b = 0; b < n / kQK5_0; ++b) {
        uint32_t qh;
        std::memcpy(&qh, w[b].qh, 4);
        int s = 0;
        for (int j = 0; j < 16; ++j) {
            const int lo = ((w[b].qs[j] & 0xf) | int(((qh >> j) << 4) & 0x10)) - 16;
            const int hi = ((w[b].qs[j] >> 4) | int((qh >> (j + 12)) & 0x10)) - 16;
            s += lo * a[b].qs[j] + hi * a[b].qs[j + 16];
        }
        sum += float(s) * (halfToFloat(w[b].d) * halfToFloat(a[b].d));
    }
    return sum;
}

float dotQ5_1(const void* vw, const void* va, int64_t n) {
    const auto* w = static_cast<const BlockQ5_1*>(vw);
    const auto* a = static_cast<const BlockQ8_1*>(va);
    float sum = 0;
    for (int64_t b = 0; b < n / kQK5_1; ++b) {
        uint32_t qh;
        std::memcpy(&qh, w[b].qh, 4);
        int s = 0;
        for (int j = 0; j < 16; ++j) {
            const int lo = (w[b].qs[j] & 0xf) | int(((qh >> j) << 4) & 0x10);
            const int hi = (w[b].qs[j] >> 4) | int((qh >> (j + 12)) & 0x10);
            s += lo * a[b].qs[j] + hi * a[b].qs[j + 16];
        }
        sum += float(s) * (halfToFloat(w[b].d) * halfToFloat(a[b].d)) + halfToFloat(w[b].m) * halfToFloat(a[b].s);
    }
    return sum;
}

float dotQ8_0(const void* vw, const void* va, int64_t n) {
    const auto* w = static_cast<const BlockQ8_0*>(vw);
    const auto* a = static_cast<const BlockQ8_0*>(va);
    float sum = 0;
    for (int64_t b = 0; b < n / kQK8_0; ++b) {
        int s = 0;
        for (int j = 0; j < kQK8_0; ++j) s += w[b].qs[j] * a[b].qs[j];
        sum += float(s) * (halfToFloat(w[b].d) * halfToFloat(a[b].d));
    }
    return sum;
}

void scaleMin(int j, const uint8_t* q, int& d, int& m) {
    if (j < 4) {
        d = q[j] & 63;
        m = q[j + 4] & 63;
    } else {
        d = (q[j + 4] & 0xf) | ((q[j - 4] >> 6) << 4);
        m = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
    }
}

float dotQ4K(const void* vw, const void* va, int64_t n) {
    const auto* w = static_cast<const BlockQ4_K*>(vw);
    const auto* a = static_cast<const BlockQ8_K*>(va);
    float sum = 0;
    for (int64_t b = 0; b < n / kQK_K; ++b) {
        int sumQ = 0, sumM = 0;
        for (int j = 0; j < 8; ++j) {
            int sc, m;
            scaleMin(j, w[b].scales, sc, m);
            const uint8_t* q = w[b].qs + 32 * (j / 2);
            const int shift = (j & 1) * 4;
            const int8_t* y = a[b].qs + 32 * j;
            int s = 0;
            for (int l = 0; l < 32; ++l) s += ((q[l] >> shift) & 0xf) * y[l];
            sumQ += sc * s;
            sumM += m * (a[b].bsums[2 * j] + a[b].bsums[2 * j + 1]);
        }
        sum += halfToFloat(w[b].d) * a[b].d * float(sumQ) - halfToFloat(w[b].dmin) * a[b].d * float(sumM);
    }
    return sum;
}

float dotQ5K(const void* vw, const void* va, int64_t n) {
    const auto* w = static_cast<const BlockQ5_K*>(vw);
    const auto* a = static_cast<const BlockQ8_K*>(va);
    float sum = 0;
    for (int64_t b = 0; b < n / kQK_K; ++b) {
        int sumQ = 0, sumM = 0;
        for (int j = 0; j < 8; ++j) {
            int sc, m;
            scaleMin(j, w[b].scales, sc, m);
            const uint8_t* q = w[b].qs + 32 * (j / 2);
            const int shift = (j & 1) * 4;
            const int8_t* y = a[b].qs + 32 * j;
            int s = 0;
            for (int l = 0; l < 32; ++l) s += (((q[l] >> shift) & 0xf) | (((w[b].qh[l] >> j) & 1) << 4)) * y[l];
            sumQ += sc * s;
            sumM += m * (a[b].bsums[2 * j] + a[b].bsums[2 * j + 1]);
        }
        sum += halfToFloat(w[b].d) * a[b].d * float(sumQ) - halfToFloat(w[b].dmin) * a[b].d * float(sumM);
    }
    return sum;
}

float dotQ6K(const void* vw, const void* va, int64_t n) {
    const auto* w = static_cast<const BlockQ6_K*>(vw);
    const auto* a = static_cast<const BlockQ8_K*>(va);
    float sum = 0;
    for (int64_t b = 0; b < n / kQK_K; ++b) {
        int8_t q[kQK_K];
        const uint8_t* ql = w[b].ql;
        const uint8_t* qh = w[b].qh;
        for (int n0 = 0; n0 < kQK_K; n0 += 128, ql += 64, qh += 32) {
            for (int l = 0; l < 32; ++l) {
                q[n0 + l] = int8_t(((ql[l] & 0xf) | ((qh[l] & 3) << 4)) - 32);
                q[n0 + l + 32] = int8_t(((ql[l + 32] & 0xf) | (((qh[l] >> 2) & 3) << 4)) - 32);
                q[n0 + l + 64] = int8_t(((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32);
                q[n0 + l + 96] = int8_t(((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32);
            }
        }
        int sumQ = 0;
        for (int j = 0; j < 16; ++j) {
            int s = 0;
            for (int l = 0; l < 16; ++l) s += q[16 * j + l] * a[b].qs[16 * j + l];
            sumQ += w[b].scales[j] * s;
        }
        sum += halfToFloat(w[b].d) * a[b].d * float(sumQ);
    }
    return sum;
}

float dotF32(const void* vw, const void* va, int64_t n) {
    const auto* w = static_cast<const float*>(vw);
    const auto* a = static_cast<const float*>(va);
    float s[4] = {0, 0, 0, 0};
    int64_t i = 0;
    for (; i + 4 <= n; i += 4)
        for (int j = 0; j < 4; ++j) s[j] += w[i + j] * a[i + j];
    for (; i < n; ++i) s[0] += w[i] * a[i];
    return (s[0] + s[1]) + (s[2] + s[3]);
}

float dotF16(const void* vw, const void* va, int64_t n) {
    const auto* w = static_cast<const uint16_t*>(vw);
    const auto* a = static_cast<const float*>(va);
    float s[4] = {0, 0, 0, 0};
    int64_t i = 0;
    for (; i + 4 <= n; i += 4)
        for (int j = 0; j < 4; ++j) s[j] += halfToFloat(w[i + j]) * a[i + j];
    for (; i < n; ++i) s[0] += halfToFloat(w[i]) * a[i];
    return (s[0] + s[1]) + (s[2] + s[3]);
}

float dotBF16(const void* vw, const void* va, int64_t n) {
    const auto* w = static_cast<const uint16_t*>(vw);
    const auto* a = static_cast<const float*>(va);
    float s[4] = {0, 0, 0, 0};
    int64_t i = 0;
    for (; i + 4 <= n; i += 4)
        for (int j = 0; j < 4; ++j) s[j] += bf16ToFloat(w[i + j]) * a[i + j];
    for (; i < n; ++i) s[0] += bf16ToFloat(w[i]) * a[i];
    return (s[0] + s[1]) + (s[2] + s[3]);
}

}  // namespace

VecDotFn vecDotFor(TensorType weightType) {
    switch (weightType) {
    case TensorType::F32: return dotF32;
    case TensorType::F16: return dotF16;
    case TensorType::BF16: return dotBF16;
    case TensorType::Q4_0: return dotQ4_0;
    case TensorType::Q4_1: return dotQ4_1;
    case TensorType::Q5_0: return dotQ5_0;
    case TensorType::Q5_1: return dotQ5_1;
    case TensorType::Q8_0: return dotQ8_0;
    case TensorType::Q4_K: return dotQ4K;
    case TensorType::Q5_K: return dotQ5K;
    case TensorType::Q6_K: return dotQ6K;
    default: return nullptr;
    }
}

}  // namespace glassbox::kernels::detail::scalar
