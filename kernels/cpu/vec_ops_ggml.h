// Portable statements of the float kernels that follow ggml's arithmetic
// (llama.cpp's CPU backend on AVX-512), operation for operation and lane for
// lane, so that the AVX-512 kernels of vec_ops_avx512.cpp and these give
// the same bits. The portable and AVX2 tables of vec_ops use them. See
// vec_ops.h for what each computes; std::fma is a single rounding wherever
// it runs (an instruction where the file is compiled with FMA, libm else).
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>

#include "engine/tensor_types.h"

namespace glassbox::kernels::detail::ggml {

// ggml_v_expf: exp(x) by a degree-5 polynomial on the reduced argument and
// a scaling by 2^n; |n| > 192 gives 0 or infinity.
inline float expf(float x) {
    const float r = 0x1.8p23f;
    const float z = std::fma(x, 0x1.715476p+0f, r);
    const float n = z - r;
    const float b = std::fma(-n, 0x1.7f7d1cp-20f, std::fma(-n, 0x1.62e4p-1f, x));
    const float u = b * b;
    const float j = std::fma(std::fma(std::fma(0x1.0e4020p-7f, b, 0x1.573e2ep-5f), u,
                                      std::fma(0x1.555e66p-3f, b, 0x1.fffdb6p-2f)),
                             u, std::fma(0x1.ffffecp-1f, b, 1.0f));
    if (std::fabs(n) > 192.0f) return n <= 0.0f ? 0.0f : std::numeric_limits<float>::infinity();
    return std::ldexp(j, int(n));
}

// _mm512_reduce_add_ps as GCC and Clang expand it: halves added, then
// quarters, then pairs.
inline float reduce16(const float* v) {
    float t3[8], t6[4];
    for (int i = 0; i < 8; ++i) t3[i] = v[i + 8] + v[i];
    for (int i = 0; i < 4; ++i) t6[i] = t3[i + 4] + t3[i];
    return (t6[0] + t6[2]) + (t6[1] + t6[3]);
}

// x[i] = exp(x[i] - shift) over chunks of 16 (a partial last chunk padded
// with zeros); Σ in double of each chunk's float sum (ggml_vec_soft_max_f32).
inline double expShiftSum(float* x, float shift, int64_t n) {
    double total = 0;
    for (int64_t i = 0; i < n; i += 16) {
        float e[16] = {};
        for (int l = 0; l < 16 && i + l < n; ++l) e[l] = x[i + l] = expf(x[i + l] - shift);
        total += double(reduce16(e));
    }
    return total;
}

// ggml_vec_swiglu_f32: (g / (1 + exp(-g))) * up.
inline void swiglu(const float* gate, const float* up, int64_t n, float* out) {
    for (int64_t i = 0; i < n; ++i) out[i] = (gate[i] / (1.0f + expf(0.0f - gate[i]))) * up[i];
}

// ggml_compute_forward_rms_norm_f32's reduction: float squares summed in
// double, in order.
inline double sumSquares(const float* x, int64_t n) {
    double s = 0;
    for (int64_t i = 0; i < n; ++i) s += double(x[i] * x[i]);
    return s;
}

// F16 row · float vector in 16 lanes over n (a multiple of 16), then reduce16.
inline void dotF16RowsTree(const uint16_t* rows, int64_t stride, const float* x, int64_t n, int64_t nRows,
                           float* out) {
    for (int64_t r = 0; r < nRows; ++r) {
        const uint16_t* row = rows + r * stride;
        float acc[16] = {};
        for (int64_t i = 0; i < n; i += 16)
            for (int l = 0; l < 16; ++l) acc[l] = std::fma(engine::fp16ToFloat(row[i + l]), x[i + l], acc[l]);
        out[r] = reduce16(acc);
    }
}

// y[d] = Σ_r w[r] · half(rows[r][d]) with row r in lane r mod 16, then reduce16.
inline void weightedSumF16RowsTree(const float* w, const uint16_t* rows, int64_t stride, int64_t nRows, int64_t n,
                                   float* y) {
    for (int64_t d = 0; d < n; ++d) {
        float acc[16] = {};
        for (int64_t r = 0; r < nRows; ++r)
            acc[r % 16] = std::fma(engine::fp16ToFloat(rows[r * stride + d]), w[r], acc[r % 16]);
        y[d] = reduce16(acc);
    }
}

// ggml_vec_dot_f16 (AVX-512), llama.cpp's order when a step holds one token:
// four 16-lane accumulators over steps of 64, combined (0+2) + (1+3), then
// reduce16; values past the last whole step added in double.
inline float vecDotF16(const uint16_t* a, const float* b, int64_t n) {
    const int64_t np = n & ~int64_t(63);
    float sum[4][16] = {};
    for (int64_t i = 0; i < np; i += 64)
        for (int j = 0; j < 4; ++j)
            for (int l = 0; l < 16; ++l)
                sum[j][l] = std::fma(engine::fp16ToFloat(a[i + 16 * j + l]), b[i + 16 * j + l], sum[j][l]);
    float x[16];
    for (int l = 0; l < 16; ++l) x[l] = (sum[0][l] + sum[2][l]) + (sum[1][l] + sum[3][l]);
    double r = double(reduce16(x));
    for (int64_t i = np; i < n; ++i) r += double(engine::fp16ToFloat(a[i]) * b[i]);
    return float(r);
}

inline void dotF16RowsSingle(const uint16_t* rows, int64_t stride, const float* x, int64_t n, int64_t nRows,
                             float* out) {
    for (int64_t r = 0; r < nRows; ++r) out[r] = vecDotF16(rows + r * stride, x, n);
}

// y[d] = vecDotF16 over the rows (row r in accumulator (r / 16) mod 4, lane
// r mod 16), the rows padded with zero weights to a multiple of 64.
inline void weightedSumF16RowsSingle(const float* w, const uint16_t* rows, int64_t stride, int64_t nRows, int64_t n,
                                     float* y) {
    for (int64_t d = 0; d < n; ++d) {
        float sum[4][16] = {};
        for (int64_t r = 0; r < nRows; ++r)
            sum[(r / 16) % 4][r % 16] = std::fma(engine::fp16ToFloat(rows[r * stride + d]), w[r], sum[(r / 16) % 4][r % 16]);
        float x[16];
        for (int l = 0; l < 16; ++l) x[l] = (sum[0][l] + sum[2][l]) + (sum[1][l] + sum[3][l]);
        y[d] = reduce16(x);
    }
}

// RoPE rotation of the pairs (a[i], b[i]) as ggml's rotate_pairs compiles
// with FMA contraction: a' = fma(a, cos, -(b·sin)), b' = fma(a, sin, b·cos).
inline void rotatePairs(float* a, float* b, int64_t step, const float* cs, const float* sn, int64_t n) {
    for (int64_t i = 0; i < n; ++i) {
        const float x0 = a[i * step], x1 = b[i * step];
        a[i * step] = std::fma(x0, cs[i], -(x1 * sn[i]));
        b[i * step] = std::fma(x0, sn[i], x1 * cs[i]);
    }
}

}  // namespace glassbox::kernels::detail::ggml
