// Float vector helpers for the forward pass (normalisation, activations,
// attention inner loops), vectorised with the same run-time dispatch as the
// quant kernels. Unless stated otherwise `out` may alias an input, and n may
// be any length (no alignment or multiple-of requirements).
#pragma once

#include <cstdint>

namespace glassbox::kernels {

// out[i] = (x[i] * (1 / sqrt(mean(x²) + eps))) * weight[i], the squares
// summed in double in order, as llama.cpp. weight may be null (1).
void rmsNorm(const float* x, const float* weight, int64_t n, float eps, float* out);

// x = softmax(x) in place; -inf entries (masked positions) become 0. Returns
// the sum of exp(x - max) before normalisation (0 for n == 0). exp is
// ggml's polynomial (ggml_v_expf), the sum taken as ggml_vec_soft_max_f32
// takes it (float sums of 16, added in double), and x is scaled by
// float(1 / sum): with a row length padded to 16 these are llama.cpp's bits.
float softmax(float* x, int64_t n);

// out[i] = silu(gate[i]) * up[i], silu(g) = g / (1 + exp(-g)), exp as in softmax.
void swiglu(const float* gate, const float* up, int64_t n, float* out);

// out[i] = a[i] + b[i].
void add(const float* a, const float* b, int64_t n, float* out);

// x[i] *= s.
void scale(float* x, float s, int64_t n);

// Σ a[i] * b[i].
float dot(const float* a, const float* b, int64_t n);

// y[i] += a * x[i].
void axpy(float a, const float* x, float* y, int64_t n);

// Σ half(a[i]) * b[i] for an IEEE half row (F16 KV cache).
float dotF16(const uint16_t* a, const float* b, int64_t n);

// y[i] += a * half(x[i]).
void axpyF16(float a, const uint16_t* x, float* y, int64_t n);

// out[r] = dotF16(rows + r * stride, x, n) for every r < nRows (attention scores).
void dotF16Rows(const uint16_t* rows, int64_t stride, const float* x, int64_t n, int64_t nRows, float* out);

// y[i] += Σ_r w[r] * half(rows[r * stride + i]) over r in order: exactly the
// result of nRows axpyF16 calls, with y kept in registers (attention × V).
void weightedSumF16Rows(const float* w, const uint16_t* rows, int64_t stride, int64_t nRows, int64_t n, float* y);

// The attention products in the order of ggml's F16 matrix products on
// AVX-512 (16 lanes, FMA, then the reduce tree of _mm512_reduce_add_ps);
// n must be a multiple of 16.
// out[r] = Σ_i half(rows[r * stride + i]) * x[i], lane i mod 16.
void dotF16RowsTree(const uint16_t* rows, int64_t stride, const float* x, int64_t n, int64_t nRows, float* out);
// y[i] = Σ_r w[r] * half(rows[r * stride + i]), lane r mod 16 (y is overwritten).
void weightedSumF16RowsTree(const float* w, const uint16_t* rows, int64_t stride, int64_t nRows, int64_t n, float* y);

// The same two products in the order of ggml's single-token path
// (ggml_vec_dot_f16 on AVX-512: four 16-lane accumulators over steps of 64,
// added (0 + 2) + (1 + 3), then reduced; a tail past the last 64 added in
// double), which llama.cpp takes when a step holds one token.
void dotF16RowsSingle(const uint16_t* rows, int64_t stride, const float* x, int64_t n, int64_t nRows, float* out);
// n must be a multiple of 16; rows past nRows count as zero weights.
void weightedSumF16RowsSingle(const float* w, const uint16_t* rows, int64_t stride, int64_t nRows, int64_t n, float* y);

// RoPE: (a, b) = (a·cos - b·sin, a·sin + b·cos) for the pairs a[i·step],
// b[i·step], i < n, rounded as ggml's FMA-contracted rotate_pairs rounds.
void rotatePairs(float* a, float* b, int64_t step, const float* cs, const float* sn, int64_t n);

// x[i] = exp(x[i]) (as in softmax, within 2 ulp); large negative inputs and
// -inf give 0.
void expInPlace(float* x, int64_t n);

// IEEE half conversions of whole rows (round to nearest even, as
// engine::floatToFp16; NaNs stay NaNs).
void toF16(const float* src, uint16_t* dst, int64_t n);
void fromF16(const uint16_t* src, float* dst, int64_t n);
// x[i] = float(half(x[i])): the rounding an F16 cache or F16 operand applies.
void roundThroughF16(float* x, int64_t n);

}  // namespace glassbox::kernels
