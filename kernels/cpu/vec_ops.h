// Float vector helpers for the forward pass (normalisation, activations,
// attention inner loops), vectorised with the same run-time dispatch as the
// quant kernels. Unless stated otherwise `out` may alias an input, and n may
// be any length (no alignment or multiple-of requirements).
#pragma once

#include <cstdint>

namespace glassbox::kernels {

// out[i] = x[i] / sqrt(mean(x²) + eps) * weight[i] (the mean accumulated in
// double after a float vector pass, as llama.cpp). weight may be null (1).
void rmsNorm(const float* x, const float* weight, int64_t n, float eps, float* out);

// x = softmax(x) in place; -inf entries (masked positions) become 0. Returns
// the sum of exp(x - max) before normalisation (0 for n == 0).
float softmax(float* x, int64_t n);

// out[i] = silu(gate[i]) * up[i], silu(g) = g / (1 + exp(-g)).
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

// x[i] = exp(x[i]), accurate to about 2 ulp; large negative inputs and -inf
// give 0.
void expInPlace(float* x, int64_t n);

// IEEE half conversions of whole rows (round to nearest even, as
// engine::floatToFp16; NaNs stay NaNs).
void toF16(const float* src, uint16_t* dst, int64_t n);
void fromF16(const uint16_t* src, float* dst, int64_t n);
// x[i] = float(half(x[i])): the rounding an F16 cache or F16 operand applies.
void roundThroughF16(float* x, int64_t n);

}  // namespace glassbox::kernels
