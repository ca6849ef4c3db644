// vec_ops: the portable kernels and the dispatch to the SIMD tables.
#include "kernels/cpu/vec_ops.h"

#include <cmath>
#include <limits>

#include "engine/tensor_types.h"
#include "kernels/cpu/quant_impl.h"
#include "kernels/cpu/vec_ops_ggml.h"
#include "kernels/cpu/vec_ops_impl.h"

namespace glassbox::kernels {
namespace {

using detail::VecOpsTable;

void scaleMul(const float* x, float s, const float* w, int64_t n, float* out) {
    for (int64_t i = 0; i < n; ++i) out[i] = w ? (x[i] * s) * w[i] : x[i] * s;
}

float maxValue(const float* x, int64_t n) {
    float m = -std::numeric_limits<float>::infinity();
    for (int64_t i = 0; i < n; ++i) m = x[i] > m ? x[i] : m;
    return m;
}

void addScalar(const float* a, const float* b, int64_t n, float* out) {
    for (int64_t i = 0; i < n; ++i) out[i] = a[i] + b[i];
}

void scaleScalar(float* x, float s, int64_t n) {
    for (int64_t i = 0; i < n; ++i) x[i] *= s;
}

float dotScalar(const float* a, const float* b, int64_t n) {
    float s[4] = {0, 0, 0, 0};
    int64_t i = 0;
    for (; i + 4 <= n; i += 4)
        for (int j = 0; j < 4; ++j) s[j] += a[i + j] * b[i + j];
    for (; i < n; ++i) s[0] += a[i] * b[i];
    return (s[0] + s[1]) + (s[2] + s[3]);
}

void axpyScalar(float a, const float* x, float* y, int64_t n) {
    for (int64_t i = 0; i < n; ++i) y[i] += a * x[i];
}

float dotF16Scalar(const uint16_t* a, const float* b, int64_t n) {
    float s = 0;
    for (int64_t i = 0; i < n; ++i) s += engine::fp16ToFloat(a[i]) * b[i];
    return s;
}

void axpyF16Scalar(float a, const uint16_t* x, float* y, int64_t n) {
    for (int64_t i = 0; i < n; ++i) y[i] += a * engine::fp16ToFloat(x[i]);
}

void toF16Scalar(const float* src, uint16_t* dst, int64_t n) {
    for (int64_t i = 0; i < n; ++i) dst[i] = engine::floatToFp16(src[i]);
}

void fromF16Scalar(const uint16_t* src, float* dst, int64_t n) {
    for (int64_t i = 0; i < n; ++i) dst[i] = engine::fp16ToFloat(src[i]);
}

void dotF16RowsScalar(const uint16_t* rows, int64_t stride, const float* x, int64_t n, int64_t nRows, float* out) {
    for (int64_t r = 0; r < nRows; ++r) out[r] = dotF16Scalar(rows + r * stride, x, n);
}

void weightedSumF16RowsScalar(const float* w, const uint16_t* rows, int64_t stride, int64_t nRows, int64_t n,
                              float* y) {
    for (int64_t r = 0; r < nRows; ++r) axpyF16Scalar(w[r], rows + r * stride, y, n);
}

constexpr VecOpsTable kScalarTable = {
    detail::ggml::sumSquares, scaleMul,          maxValue,         detail::ggml::expShiftSum,
    detail::ggml::swiglu,     addScalar,         scaleScalar,      dotScalar,
    axpyScalar,               dotF16Scalar,      axpyF16Scalar,    toF16Scalar,
    fromF16Scalar,            dotF16RowsScalar,  weightedSumF16RowsScalar,
    detail::ggml::dotF16RowsTree, detail::ggml::weightedSumF16RowsTree, detail::ggml::rotatePairs,
    detail::ggml::dotF16RowsSingle, detail::ggml::weightedSumF16RowsSingle};

const VecOpsTable& table() {
    switch (detail::activeSimdLevel()) {
    case detail::SimdLevel::Avx512: return *detail::avx512::vecOpsTable();
    case detail::SimdLevel::Avx2Vnni:
    case detail::SimdLevel::Avx2: return *detail::avx2::vecOpsTable();
    default: return kScalarTable;
    }
}

}  // namespace

void rmsNorm(const float* x, const float* weight, int64_t n, float eps, float* out) {
    if (n <= 0) return;
    const VecOpsTable& t = table();
    const float mean = float(t.sumSquares(x, n) / double(n));
    t.scaleMul(x, 1.0f / std::sqrt(mean + eps), weight, n, out);
}

float softmax(float* x, int64_t n) {
    if (n <= 0) return 0.0f;
    const VecOpsTable& t = table();
    const float max = t.maxValue(x, n);
    if (max == -std::numeric_limits<float>::infinity()) {  // everything masked
        for (int64_t i = 0; i < n; ++i) x[i] = 0.0f;
        return 0.0f;
    }
    const double sum = t.expShiftSum(x, max, n);
    t.scale(x, float(1.0 / sum), n);
    return float(sum);
}

void swiglu(const float* gate, const float* up, int64_t n, float* out) { table().swiglu(gate, up, n, out); }
void add(const float* a, const float* b, int64_t n, float* out) { table().add(a, b, n, out); }
void scale(float* x, float s, int64_t n) { table().scale(x, s, n); }
float dot(const float* a, const float* b, int64_t n) { return table().dot(a, b, n); }
void axpy(float a, const float* x, float* y, int64_t n) { table().axpy(a, x, y, n); }
float dotF16(const uint16_t* a, const float* b, int64_t n) { return table().dotF16(a, b, n); }
void axpyF16(float a, const uint16_t* x, float* y, int64_t n) { table().axpyF16(a, x, y, n); }

void dotF16Rows(const uint16_t* rows, int64_t stride, const float* x, int64_t n, int64_t nRows, float* out) {
    table().dotF16Rows(rows, stride, x, n, nRows, out);
}
void weightedSumF16Rows(const float* w, const uint16_t* rows, int64_t stride, int64_t nRows, int64_t n, float* y) {
    table().weightedSumF16Rows(w, rows, stride, nRows, n, y);
}

void dotF16RowsTree(const uint16_t* rows, int64_t stride, const float* x, int64_t n, int64_t nRows, float* out) {
    table().dotF16RowsTree(rows, stride, x, n, nRows, out);
}
void weightedSumF16RowsTree(const float* w, const uint16_t* rows, int64_t stride, int64_t nRows, int64_t n,
                            float* y) {
    table().weightedSumF16RowsTree(w, rows, stride, nRows, n, y);
}
void rotatePairs(float* a, float* b, int64_t step, const float* cs, const float* sn, int64_t n) {
    table().rotatePairs(a, b, step, cs, sn, n);
}

void dotF16RowsSingle(const uint16_t* rows, int64_t stride, const float* x, int64_t n, int64_t nRows, float* out) {
    table().dotF16RowsSingle(rows, stride, x, n, nRows, out);
}
void weightedSumF16RowsSingle(const float* w, const uint16_t* rows, int64_t stride, int64_t nRows, int64_t n,
                              float* y) {
    table().weightedSumF16RowsSingle(w, rows, stride, nRows, n, y);
}

void expInPlace(float* x, int64_t n) {
    if (n > 0) table().expShiftSum(x, 0.0f, n);
}

void toF16(const float* src, uint16_t* dst, int64_t n) { table().toF16(src, dst, n); }
void fromF16(const uint16_t* src, float* dst, int64_t n) { table().fromF16(src, dst, n); }

void roundThroughF16(float* x, int64_t n) {
    const VecOpsTable& t = table();
    uint16_t h[256];
    for (int64_t i = 0; i < n; i += 256) {
        const int64_t c = n - i < 256 ? n - i : 256;
        t.toF16(x + i, h, c);
        t.fromF16(h, x + i, c);
    }
}

}  // namespace glassbox::kernels
