// Internal table of the vec_ops kernels, one per instruction-set level
// (vec_ops.cpp holds the portable one and dispatches).
#pragma once

#include <cstdint>

namespace glassbox::kernels::detail {

struct VecOpsTable {
    // Σ x² (float squares added in double, in order), the rmsNorm reduction.
    double (*sumSquares)(const float* x, int64_t n);
    // out[i] = x[i] * s * (w ? w[i] : 1)
    void (*scaleMul)(const float* x, float s, const float* w, int64_t n, float* out);
    float (*maxValue)(const float* x, int64_t n);
    // x[i] = exp(x[i] - shift); returns Σ in double.
    double (*expShiftSum)(float* x, float shift, int64_t n);
    void (*swiglu)(const float* gate, const float* up, int64_t n, float* out);
    void (*add)(const float* a, const float* b, int64_t n, float* out);
    void (*scale)(float* x, float s, int64_t n);
    float (*dot)(const float* a, const float* b, int64_t n);
    void (*axpy)(float a, const float* x, float* y, int64_t n);
    float (*dotF16)(const uint16_t* a, const float* b, int64_t n);
    void (*axpyF16)(float a, const uint16_t* x, float* y, int64_t n);
    void (*toF16)(const float* src, uint16_t* dst, int64_t n);
    void (*fromF16)(const uint16_t* src, float* dst, int64_t n);
    // out[r] = dotF16(rows + r * stride, x, n) for r < nRows.
    void (*dotF16Rows)(const uint16_t* rows, int64_t stride, const float* x, int64_t n, int64_t nRows, float* out);
    // y[i] += Σ_r w[r] * half(rows[r * stride + i]), rows in order (the same
    // FMA sequence as nRows axpyF16 calls).
    void (*weightedSumF16Rows)(const float* w, const uint16_t* rows, int64_t stride, int64_t nRows, int64_t n, float* y);
    // ggml's 16-lane orders (see vec_ops.h and vec_ops_ggml.h).
    void (*dotF16RowsTree)(const uint16_t* rows, int64_t stride, const float* x, int64_t n, int64_t nRows, float* out);
    void (*weightedSumF16RowsTree)(const float* w, const uint16_t* rows, int64_t stride, int64_t nRows, int64_t n,
                                   float* y);
    void (*rotatePairs)(float* a, float* b, int64_t step, const float* cs, const float* sn, int64_t n);
    void (*dotF16RowsSingle)(const uint16_t* rows, int64_t stride, const float* x, int64_t n, int64_t nRows, float* out);
    void (*weightedSumF16RowsSingle)(const float* w, const uint16_t* rows, int64_t stride, int64_t nRows, int64_t n,
                                     float* y);
};

namespace avx2 {
const VecOpsTable* vecOpsTable();
}
namespace avx512 {
const VecOpsTable* vecOpsTable();
}

}  // namespace glassbox::kernels::detail
