// AVX-512 float vector kernels (see vec_ops.h): 16 lanes, masked tails,
// exp() as in vec_ops_avx2.cpp with vscalefps for the power of two.
#include "kernels/cpu/simd_config.h"

#if GLASSBOX_KERNELS_X86

#include <immintrin.h>

#include <limits>

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

GLASSBOX_SIMD_INLINE double hsumDouble(__m512 v) {
    const __m512d lo = _mm512_cvtps_pd(_mm512_castps512_ps256(v));
    const __m512d hi = _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)));
    return _mm512_reduce_add_pd(_mm512_add_pd(lo, hi));
}

GLASSBOX_SIMD_INLINE __m512 exp16(__m512 x) {
    const __mmask16 keep = _mm512_cmp_ps_mask(x, _mm512_set1_ps(-87.33654f), _CMP_GE_OQ);
    x = _mm512_min_ps(x, _mm512_set1_ps(88.72283f));
    const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                          _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
    __m512 p = _mm512_set1_ps(1.9875691500e-4f);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
    const __m512 y = _mm512_add_ps(_mm512_fmadd_ps(p, _mm512_mul_ps(r, r), r), _mm512_set1_ps(1.0f));
    return _mm512_maskz_scalef_ps(keep, y, n);
}

double sumSquares(const float* x, int64_t n) {
    __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        const __m512 a = _mm512_loadu_ps(x + i), b = _mm512_loadu_ps(x + i + 16);
        s0 = _mm512_fmadd_ps(a, a, s0);
        s1 = _mm512_fmadd_ps(b, b, s1);
    }
    for (; i < n; i += 16) {
        const __m512 a = _mm512_maskz_loadu_ps(tailMask(n - i), x + i);
        s0 = _mm512_fmadd_ps(a, a, s0);
    }
    return hsumDouble(_mm512_add_ps(s0, s1));
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

double expShiftSum(float* x, float shift, int64_t n) {
    const __m512 vs = _mm512_set1_ps(shift);
    __m512 sum = _mm512_setzero_ps();
    double total = 0;
    for (int64_t i = 0; i < n; i += 16) {
        const __mmask16 m = tailMask(n - i);
        const __m512 e = exp16(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, x + i), vs));
        _mm512_mask_storeu_ps(x + i, m, e);
        sum = _mm512_add_ps(sum, _mm512_maskz_mov_ps(m, e));
        if ((i & 2047) == 2032) {  // keep the float partial sums short
            total += hsumDouble(sum);
            sum = _mm512_setzero_ps();
        }
    }
    return total + hsumDouble(sum);
}

void swiglu(const float* gate, const float* up, int64_t n, float* out) {
    const __m512 one = _mm512_set1_ps(1.0f);
    for (int64_t i = 0; i < n; i += 16) {
        const __mmask16 m = tailMask(n - i);
        const __m512 g = _mm512_maskz_loadu_ps(m, gate + i);
        const __m512 silu = _mm512_div_ps(g, _mm512_add_ps(one, exp16(_mm512_sub_ps(_mm512_setzero_ps(), g))));
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

constexpr VecOpsTable kTable = {sumSquares, scaleMul, maxValue, expShiftSum, swiglu,  add,    scale,
                                dot,        axpy,     dotF16,   axpyF16,     toF16, fromF16, dotF16Rows, weightedSumF16Rows};

}  // namespace

const VecOpsTable* vecOpsTable() { return &kTable; }

}  // namespace glassbox::kernels::detail::avx512

#else  // no x86 intrinsics on this target: the portable kernels are used

#include "kernels/cpu/vec_ops_impl.h"

namespace glassbox::kernels::detail::avx512 {
const VecOpsTable* vecOpsTable() { return nullptr; }
}  // namespace glassbox::kernels::detail::avx512

#endif
