// AVX-512 float vector kernels (see vec_ops.h): 16 lanes, masked tails;
// exp, softmax, SwiGLU, the RMSNorm reduction and the attention products in
// ggml's arithmetic (the portable statement is vec_ops_ggml.h).
#include "kernels/cpu/simd_config.h"

#if GLASSBOX_KERNELS_X86

#include <immintrin.h>

#include <limits>

#include "kernels/cpu/vec_ops_ggml.h"
#include "kernels/cpu/vec_ops_impl.h"

#if defined(__GNUC__) && !defined(__clang__)
// GCC 12's AVX-512 intrinsic headers trip these on their "undefined" vectors.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#define GLASSBOX_SIMD_INLINE GLASSBOX_FORCE_INLINE

namespace glassbox::kernels::detail::avx512 {
namespace {

GLASSBOX_SIMD_INLINE __mmask16 tailMask(int64_t left) {
    return left >= 16 ? __mmask16(0xffff) : __mmask16((1u << left) - 1);
}

// ggml_v_expf (AVX-512): exp by a degree-5 polynomial and vscalefps;
// |n| > 192 gives 0 or infinity. Lane for lane the same as ggml::expf.
GLASSBOX_SIMD_INLINE __m512 ggmlExp16(__m512 x) {
    const __m512 r = _mm512_set1_ps(0x1.8p23f);
    const __m512 z = _mm512_fmadd_ps(x, _mm512_set1_ps(0x1.715476p+0f), r);
    const __m512 n = _mm512_sub_ps(z, r);
    const __m512 b = _mm512_fnmadd_ps(n, _mm512_set1_ps(0x1.7f7d1cp-20f),
                                      _mm512_fnmadd_ps(n, _mm512_set1_ps(0x1.62e4p-1f), x));
    const __mmask16 d = _mm512_cmp_ps_mask(_mm512_abs_ps(n), _mm512_set1_ps(192), _CMP_GT_OQ);
    const __m512 u = _mm512_mul_ps(b, b);
    const __m512 j = _mm512_fmadd_ps(
        _mm512_fmadd_ps(_mm512_fmadd_ps(_mm512_set1_ps(0x1.0e4020p-7f), b, _mm512_set1_ps(0x1.573e2ep-5f)), u,
                        _mm512_fmadd_ps(_mm512_set1_ps(0x1.555e66p-3f), b, _mm512_set1_ps(0x1.fffdb6p-2f))),
        u, _mm512_fmadd_ps(_mm512_set1_ps(0x1.ffffecp-1f), b, _mm512_set1_ps(1.0F)));
    const __m512 res = _mm512_scalef_ps(j, n);
    if (_mm512_kortestz(d, d)) return res;
    const __m512 alt = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(n, _mm512_setzero_ps(), _CMP_LE_OQ),
                                            _mm512_set1_ps(std::numeric_limits<float>::infinity()),
                                            _mm512_setzero_ps());
    return _mm512_mask_blend_ps(d, res, alt);
}

// Float squares added in double, in order (as ggml's rms_norm).
double sumSquares(const float* x, int64_t n) {
    alignas(64) float sq[16];
    double s = 0;
    for (int64_t i = 0; i < n; i += 16) {
        const __m512 a = _mm512_maskz_loadu_ps(tailMask(n - i), x + i);
        _mm512_store_ps(sq, _mm512_mul_ps(a, a));
        const int c = n - i < 16 ? int(n - i) : 16;
        for (int l = 0; l < c; ++l) s += double(sq[l]);
    }
    return s;
}

void scaleMul(const float* x, float s, const float* w, int64_t n, float* out) {
    const __m512 vs = _mm512_set1_ps(s);
    for (int64_t i = 0; i < n; i += 16) {
        const __mmask16 m = tailMask(n - i);
        __m512 v = _mm512_mul_ps(_mm512_maskz_loadu_ps(m, x + i), vs);
        if (w) v = _mm512_mul_ps(v, _mm512_maskz_loadu_ps(m, w + i));
        _mm512_mask_storeu_ps(out + i, m, v);
    }
}

float maxValue(const float* x, int64_t n) {
    const __m512 lowest = _mm512_set1_ps(-std::numeric_limits<float>::infinity());
    __m512 m = lowest;
    for (int64_t i = 0; i < n; i += 16) m = _mm512_max_ps(m, _mm512_mask_loadu_ps(lowest, tailMask(n - i), x + i));
    return _mm512_reduce_max_ps(m);
}

// ggml_vec_soft_max_f32: chunks of 16 from the start (masked lanes -inf, so
// 0), each chunk's _mm512_reduce_add_ps added in double.
double expShiftSum(float* x, float shift, int64_t n) {
    const __m512 vs = _mm512_set1_ps(shift);
    const __m512 minusInf = _mm512_set1_ps(-std::numeric_limits<float>::infinity());
    double total = 0;
    for (int64_t i = 0; i < n; i += 16) {
        const __mmask16 m = tailMask(n - i);
        const __m512 e = ggmlExp16(_mm512_sub_ps(_mm512_mask_loadu_ps(minusInf, m, x + i), vs));
        _mm512_mask_storeu_ps(x + i, m, e);
        total += double(_mm512_reduce_add_ps(e));
    }
    return total;
}

// ggml_vec_swiglu_f32: silu(g) = g / (1 + exp(0 - g)), times up.
void swiglu(const float* gate, const float* up, int64_t n, float* out) {
    const __m512 one = _mm512_set1_ps(1.0f);
    for (int64_t i = 0; i < n; i += 16) {
        const __mmask16 m = tailMask(n - i);
        const __m512 g = _mm512_maskz_loadu_ps(m, gate + i);
        const __m512 silu = _mm512_div_ps(g, _mm512_add_ps(one, ggmlExp16(_mm512_sub_ps(_mm512_setzero_ps(), g))));
        _mm512_mask_storeu_ps(out + i, m, _mm512_mul_ps(silu, _mm512_maskz_loadu_ps(m, up + i)));
    }
}

void add(const float* a, const float* b, int64_t n, float* out) {
    for (int64_t i = 0; i < n; i += 16) {
        const __mmask16 m = tailMask(n - i);
        _mm512_mask_storeu_ps(out + i, m, _mm512_add_ps(_mm512_maskz_loadu_ps(m, a + i), _mm512_maskz_loadu_ps(m, b + i)));
    }
}

void scale(float* x, float s, int64_t n) {
    const __m512 vs = _mm512_set1_ps(s);
    for (int64_t i = 0; i < n; i += 16) {
        const __mmask16 m = tailMask(n - i);
        _mm512_mask_storeu_ps(x + i, m, _mm512_mul_ps(_mm512_maskz_loadu_ps(m, x + i), vs));
    }
}

float dot(const float* a, const float* b, int64_t n) {
    __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), s0);
        s1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16), s1);
    }
    for (; i < n; i += 16) {
        const __mmask16 m = tailMask(n - i);
        s0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, a + i), _mm512_maskz_loadu_ps(m, b + i), s0);
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
}

void axpy(float a, const float* x, float* y, int64_t n) {
    const __m512 va = _mm512_set1_ps(a);
    for (int64_t i = 0; i < n; i += 16) {
        const __mmask16 m = tailMask(n - i);
        _mm512_mask_storeu_ps(y + i, m, _mm512_fmadd_ps(va, _mm512_maskz_loadu_ps(m, x + i), _mm512_maskz_loadu_ps(m, y + i)));
    }
}

GLASSBOX_SIMD_INLINE __m512 loadHalf(const uint16_t* p, __mmask16 m) {
    return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, p));
}

float dotF16(const uint16_t* a, const float* b, int64_t n) {
    __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        s0 = _mm512_fmadd_ps(loadHalf(a + i, 0xffff), _mm512_loadu_ps(b + i), s0);
        s1 = _mm512_fmadd_ps(loadHalf(a + i + 16, 0xffff), _mm512_loadu_ps(b + i + 16), s1);
    }
    for (; i < n; i += 16) {
        const __mmask16 m = tailMask(n - i);
        s0 = _mm512_fmadd_ps(loadHalf(a + i, m), _mm512_maskz_loadu_ps(m, b + i), s0);
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
}

void axpyF16(float a, const uint16_t* x, float* y, int64_t n) {
    const __m512 va = _mm512_set1_ps(a);
    for (int64_t i = 0; i < n; i += 16) {
        const __mmask16 m = tailMask(n - i);
        _mm512_mask_storeu_ps(y + i, m, _mm512_fmadd_ps(va, loadHalf(x + i, m), _mm512_maskz_loadu_ps(m, y + i)));
    }
}

void dotF16Rows(const uint16_t* rows, int64_t stride, const float* x, int64_t n, int64_t nRows, float* out) {
    for (int64_t r = 0; r < nRows; ++r) out[r] = dotF16(rows + r * stride, x, n);
}

// Accumulators for K × 16 outputs stay in registers across all rows.
template <int K>
void weightedSumRegs(const float* w, const uint16_t* rows, int64_t stride, int64_t nRows, float* y) {
    __m512 acc[K];
    for (int k = 0; k < K; ++k) acc[k] = _mm512_loadu_ps(y + 16 * k);
    for (int64_t r = 0; r < nRows; ++r) {
        const __m512 va = _mm512_set1_ps(w[r]);
        const uint16_t* row = rows + r * stride;
        for (int k = 0; k < K; ++k) acc[k] = _mm512_fmadd_ps(va, loadHalf(row + 16 * k, 0xffff), acc[k]);
    }
    for (int k = 0; k < K; ++k) _mm512_storeu_ps(y + 16 * k, acc[k]);
}

void weightedSumF16Rows(const float* w, const uint16_t* rows, int64_t stride, int64_t nRows, int64_t n, float* y) {
    switch (n) {
        case 64: return weightedSumRegs<4>(w, rows, stride, nRows, y);
        case 128: return weightedSumRegs<8>(w, rows, stride, nRows, y);
        default:
            for (int64_t r = 0; r < nRows; ++r) axpyF16(w[r], rows + r * stride, y, n);
    }
}

// ggml's F16 products on AVX-512 (llamafile's tinyBLAS): one 16-lane FMA
// accumulator per output, then _mm512_reduce_add_ps.
void dotF16RowsTree(const uint16_t* rows, int64_t stride, const float* x, int64_t n, int64_t nRows, float* out) {
    for (int64_t r = 0; r < nRows; ++r) {
        const uint16_t* row = rows + r * stride;
        __m512 acc = _mm512_setzero_ps();
        for (int64_t i = 0; i < n; i += 16) acc = _mm512_fmadd_ps(loadHalf(row + i, 0xffff), _mm512_loadu_ps(x + i), acc);
        out[r] = _mm512_reduce_add_ps(acc);
    }
}

// Σ_r w[r] · V[r] with row r in lane r mod 16: sixteen accumulators per 16
// outputs, reduced across registers in _mm512_reduce_add_ps's tree.
void weightedSumF16RowsTree(const float* w, const uint16_t* rows, int64_t stride, int64_t nRows, int64_t n,
                            float* y) {
    for (int64_t d = 0; d < n; d += 16) {
        __m512 acc[16];
        for (int l = 0; l < 16; ++l) acc[l] = _mm512_setzero_ps();
        int64_t r = 0;
        for (; r + 16 <= nRows; r += 16)
            for (int l = 0; l < 16; ++l)
                acc[l] = _mm512_fmadd_ps(loadHalf(rows + (r + l) * stride + d, 0xffff), _mm512_set1_ps(w[r + l]), acc[l]);
        for (int l = 0; r + l < nRows; ++l)
            acc[l] = _mm512_fmadd_ps(loadHalf(rows + (r + l) * stride + d, 0xffff), _mm512_set1_ps(w[r + l]), acc[l]);
        __m512 t3[8], t6[4];
        for (int i = 0; i < 8; ++i) t3[i] = _mm512_add_ps(acc[i + 8], acc[i]);
        for (int i = 0; i < 4; ++i) t6[i] = _mm512_add_ps(t3[i + 4], t3[i]);
        _mm512_storeu_ps(y + d, _mm512_add_ps(_mm512_add_ps(t6[0], t6[2]), _mm512_add_ps(t6[1], t6[3])));
    }
}

// ggml_vec_dot_f16: four accumulators over steps of 64, (0+2) + (1+3), reduce;
// the tail past the last 64 in double.
void dotF16RowsSingle(const uint16_t* rows, int64_t stride, const float* x, int64_t n, int64_t nRows, float* out) {
    const int64_t np = n & ~int64_t(63);
    for (int64_t r = 0; r < nRows; ++r) {
        const uint16_t* row = rows + r * stride;
        __m512 s[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps()};
        for (int64_t i = 0; i < np; i += 64)
            for (int j = 0; j < 4; ++j)
                s[j] = _mm512_fmadd_ps(loadHalf(row + i + 16 * j, 0xffff), _mm512_loadu_ps(x + i + 16 * j), s[j]);
        double sum = double(_mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(s[0], s[2]), _mm512_add_ps(s[1], s[3]))));
        for (int64_t i = np; i < n; ++i) sum += double(_cvtsh_ss(row[i]) * x[i]);
        out[r] = float(sum);
    }
}

// The same order over the rows (row r in accumulator (r / 16) mod 4, lane
// r mod 16), per 16 outputs; the four accumulator sets go through memory.
void weightedSumF16RowsSingle(const float* w, const uint16_t* rows, int64_t stride, int64_t nRows, int64_t n,
                              float* y) {
    for (int64_t d = 0; d < n; d += 16) {
        __m512 part[4][16];
        for (int j = 0; j < 4; ++j) {
            __m512 acc[16];
            for (int l = 0; l < 16; ++l) acc[l] = _mm512_setzero_ps();
            for (int64_t r0 = 16 * j; r0 < nRows; r0 += 64) {
                const int c = nRows - r0 < 16 ? int(nRows - r0) : 16;
                for (int l = 0; l < c; ++l)
                    acc[l] = _mm512_fmadd_ps(loadHalf(rows + (r0 + l) * stride + d, 0xffff), _mm512_set1_ps(w[r0 + l]), acc[l]);
            }
            for (int l = 0; l < 16; ++l) part[j][l] = acc[l];
        }
        __m512 x[16];
        for (int l = 0; l < 16; ++l)
            x[l] = _mm512_add_ps(_mm512_add_ps(part[0][l], part[2][l]), _mm512_add_ps(part[1][l], part[3][l]));
        __m512 t3[8], t6[4];
        for (int i = 0; i < 8; ++i) t3[i] = _mm512_add_ps(x[i + 8], x[i]);
        for (int i = 0; i < 4; ++i) t6[i] = _mm512_add_ps(t3[i + 4], t3[i]);
        _mm512_storeu_ps(y + d, _mm512_add_ps(_mm512_add_ps(t6[0], t6[2]), _mm512_add_ps(t6[1], t6[3])));
    }
}

void toF16(const float* src, uint16_t* dst, int64_t n) {
    for (int64_t i = 0; i < n; i += 16) {
        const __mmask16 m = tailMask(n - i);
        const __m256i h = _mm512_cvtps_ph(_mm512_maskz_loadu_ps(m, src + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        _mm256_mask_storeu_epi16(dst + i, m, h);
    }
}

void fromF16(const uint16_t* src, float* dst, int64_t n) {
    for (int64_t i = 0; i < n; i += 16) {
        const __mmask16 m = tailMask(n - i);
        _mm512_mask_storeu_ps(dst + i, m, loadHalf(src + i, m));
    }
}

constexpr VecOpsTable kTable = {sumSquares, scaleMul, maxValue, expShiftSum, swiglu, add, scale,
                                dot, axpy, dotF16, axpyF16, toF16, fromF16, dotF16Rows, weightedSumF16Rows,
                                dotF16RowsTree, weightedSumF16RowsTree, ggml::rotatePairs,
                                dotF16RowsSingle, weightedSumF16RowsSingle};

}  // namespace

const VecOpsTable* vecOpsTable() { return &kTable; }

}  // namespace glassbox::kernels::detail::avx512

#else  // no x86 intrinsics on this target: the portable kernels are used

#include "kernels/cpu/vec_ops_impl.h"

namespace glassbox::kernels::detail::avx512 {
const VecOpsTable* vecOpsTable() { return nullptr; }
}  // namespace glassbox::kernels::detail::avx512

#endif
