// matmul(): quantizes the activations once (in parallel), then splits the
// weight rows over the pool in 16-row panels — or the activation rows, when
// there are too few panels to keep every thread busy — and runs the widest
// kernel level available (see matmul_impl.h for the data format).
#include "kernels/cpu/matmul.h"

#include <algorithm>
#include <cstring>

#include "kernels/cpu/matmul_impl.h"
#include "kernels/cpu/quant_impl.h"
#include "kernels/cpu/quant_kernels.h"
#include "kernels/cpu/vec_ops.h"

namespace glassbox::kernels {
namespace {

using detail::GemmArgs;
using engine::TensorType;
using detail::SimdLevel;

constexpr int64_t kPanelRows = 16;
// Quantized activations up to this size are made per thread on the stack.
constexpr uint64_t kLocalActivationBytes = 16 * 1024;

// F16 weights in ggml's orders, on activations already rounded to F16: its
// F16 matrix product (one 16-lane accumulator per output) for products of
// several rows, ggml_vec_dot_f16 for a single row. The tiled AVX-512 kernel
// computes the former order itself, so it keeps those products.
bool ggmlF16Gemm(const GemmArgs& a) {
    if (a.type != TensorType::F16 || a.k % 16 != 0) return false;
    if (!a.singleStep && detail::activeSimdLevel() == SimdLevel::Avx512) return false;
    const auto* w = reinterpret_cast<const uint16_t*>(a.w);
    const auto stride = int64_t(a.wStride / 2);
    for (int64_t r = 0; r < a.m; ++r) {
        const auto* x = reinterpret_cast<const float*>(a.x + uint64_t(r) * a.xStride);
        if (a.singleStep) dotF16RowsSingle(w, stride, x, a.k, a.nRows, a.y + r * a.ldy);
        else dotF16RowsTree(w, stride, x, a.k, a.nRows, a.y + r * a.ldy);
    }
    return true;
}

void runGemm(const GemmArgs& a) {
    if (a.nRows <= 0 || a.m <= 0) return;
    if (ggmlF16Gemm(a)) return;
    switch (detail::activeSimdLevel()) {
    case SimdLevel::Avx512:
        if (detail::avx512::gemm(a)) return;
        [[fallthrough]];
    case SimdLevel::Avx2Vnni:
    case SimdLevel::Avx2:
        if (detail::avx2::gemm(a, detail::activeSimdLevel() != SimdLevel::Avx2)) return;
        [[fallthrough]];
    case SimdLevel::Scalar: detail::scalar::gemm(a);
    }
}

void quantizeRows(TensorType type, const float* x, int64_t m, int64_t k, uint8_t* out, uint64_t stride,
                  F16Activations f16) {
    if (!detail::actFormat(type).quantized) {
        for (int64_t r = 0; r < m; ++r) {
            auto* row = reinterpret_cast<float*>(out + uint64_t(r) * stride);
            std::memcpy(row, x + r * k, size_t(k) * 4);
            if (type == TensorType::F16 && f16 == F16Activations::Rounded) roundThroughF16(row, k);
        }
        return;
    }
    switch (detail::activeSimdLevel()) {
    case SimdLevel::Avx512:
        if (detail::avx512::quantizeActRows(type, x, m, k, out, stride)) return;
        [[fallthrough]];
    case SimdLevel::Avx2Vnni:
    case SimdLevel::Avx2:
        if (detail::avx2::quantizeActRows(type, x, m, k, out, stride)) return;
        [[fallthrough]];
    case SimdLevel::Scalar: detail::scalar::quantizeActRows(type, x, m, k, out, stride);
    }
}

// Contiguous share [begin, end) of `count` items for thread t of n.
void share(int64_t count, int t, int n, int64_t& begin, int64_t& end) {
    begin = count * t / n;
    end = count * (t + 1) / n;
}

GemmArgs baseArgs(const engine::TensorView& w, const uint8_t* x, uint64_t xStride, int64_t m, float* y,
                  int64_t ldy) {
    GemmArgs a;
    a.type = w.type;
    a.k = w.ne[0];
    a.wStride = engine::rowBytes(w.type, uint64_t(a.k)).value_or(0);
    a.w = w.data;
    a.nRows = w.ne[1];
    a.x = x;
    a.xStride = xStride;
    a.m = m;
    a.y = y;
    a.ldy = ldy;
    a.singleStep = m == 1;
    return a;
}

// A weight type the kernels know, with whole blocks per row.
bool validShape(const engine::TensorView& w) {
    if (!isSupportedWeightType(w.type) || w.ne[0] <= 0) return false;
    return w.ne[0] % int64_t(engine::traitsOf(w.type).blockSize) == 0;
}

}  // namespace

uint64_t quantizeActivations(engine::TensorType weightType, const float* x, int64_t m, int64_t k,
                             std::vector<uint8_t>& out, F16Activations f16) {
    const uint64_t stride = detail::actRowBytes(weightType, k);
    const size_t need = size_t(stride * uint64_t(m));
    if (out.size() < need) out.resize(need);
    if (m > 0) quantizeRows(weightType, x, m, k, out.data(), stride, f16);
    return stride;
}

void matmulRows(const engine::TensorView& w, const void* xQuantized, int64_t m, float* y, int64_t ldy,
                int64_t rowBegin, int64_t rowEnd) {
    if (m <= 0 || rowEnd <= rowBegin || !validShape(w)) return;
    const uint64_t stride = detail::actRowBytes(w.type, w.ne[0]);
    GemmArgs a = baseArgs(w, static_cast<const uint8_t*>(xQuantized), stride, m, y, ldy);
    a.w += uint64_t(rowBegin) * a.wStride;
    a.nRows = rowEnd - rowBegin;
    runGemm(a);
}

void matmul(const engine::TensorView& w, const float* x, int64_t m, float* y, ThreadPool& pool,
            std::vector<uint8_t>& scratch, F16Activations f16) {
    const int64_t k = w.ne[0];
    const int64_t rows = w.ne[1];
    if (m <= 0 || rows <= 0 || !validShape(w)) return;
    const detail::ActFormat fmt = detail::actFormat(w.type);
    // quantized activations, or for F16 weights a copy rounded to F16
    const bool prepared = fmt.quantized || (w.type == TensorType::F16 && f16 == F16Activations::Rounded);
    const int nt = pool.size();

    const uint8_t* xq = reinterpret_cast<const uint8_t*>(x);
    uint64_t xStride = uint64_t(k) * 4;
    const uint64_t qStride = detail::actRowBytes(w.type, k);
    if (prepared && nt > 1 && qStride * uint64_t(m) <= kLocalActivationBytes) {
        // Decode-sized input: every thread quantizes it for itself, in
        // parallel, instead of one thread doing it before the others start.
        const int64_t panels = (rows + kPanelRows - 1) / kPanelRows;
        pool.runIndependent([&](int t, int n) {
            int64_t b, e;
            share(panels, t, n, b, e);
            b = std::min(rows, b * kPanelRows);
            e = std::min(rows, e * kPanelRows);
            if (e <= b) return;
            alignas(64) uint8_t local[kLocalActivationBytes];
            quantizeRows(w.type, x, m, k, local, qStride, f16);
            GemmArgs a = baseArgs(w, local, qStride, m, y, rows);
            a.w += uint64_t(b) * a.wStride;
            a.y += b;
            a.nRows = e - b;
            runGemm(a);
        });
        return;
    }
    if (prepared) {
        xStride = qStride;
        const size_t need = size_t(xStride * uint64_t(m));
        if (scratch.size() < need) scratch.resize(need);
        uint8_t* out = scratch.data();
        if (m >= 2 * nt && nt > 1) {
            pool.runIndependent([&](int t, int n) {
                int64_t b, e;
                share(m, t, n, b, e);
                if (e > b) quantizeRows(w.type, x + b * k, e - b, k, out + uint64_t(b) * xStride, xStride, f16);
            });
        } else {
            quantizeRows(w.type, x, m, k, out, xStride, f16);
        }
        xq = out;
    }

    const GemmArgs all = baseArgs(w, xq, xStride, m, y, rows);
    if (nt == 1) {
        runGemm(all);
        return;
    }
    const int64_t panels = (rows + kPanelRows - 1) / kPanelRows;
    const bool splitRows = panels >= 2 * nt || m < 2 * nt;
    pool.runIndependent([&](int t, int n) {
        GemmArgs a = all;
        int64_t b, e;
        if (splitRows) {
            share(panels, t, n, b, e);
            b = std::min(rows, b * kPanelRows);
            e = std::min(rows, e * kPanelRows);
            a.w += uint64_t(b) * a.wStride;
            a.y += b;
            a.nRows = e - b;
        } else {
            share(m, t, n, b, e);
            a.x += uint64_t(b) * a.xStride;
            a.y += b * a.ldy;
            a.m = e - b;
        }
        runGemm(a);
    });
}

}  // namespace glassbox::kernels
