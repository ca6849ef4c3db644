// AVX2 + FMA + F16C float vector kernels (see vec_ops.h). exp() is a
// Cody-Waite range reduction plus a degree-5 minimax polynomial (about 2 ulp).
#include "kernels/cpu/simd_config.h"

#if GLASSBOX_KERNELS_X86

#include <immintrin.h>

#include <cmath>
#include <limits>

#include "kernels/cpu/vec_ops_impl.h"

#define GLASSBOX_SIMD_INLINE GLASSBOX_FORCE_INLINE

namespace glassbox::kernels::detail::avx2 {
namespace {

GLASSBOX_SIMD_INLINE __m256 maskLoad(const float* p, int64_t left) {
    const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i mask = _mm256_cmpgt_epi32(_mm256_set1_epi32(int(left)), idx);
    return _mm256_maskload_ps(p, mask);
}

GLASSBOX_SIMD_INLINE void maskStore(float* p, int64_t left, __m256 v) {
    const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    _mm256_maskstore_ps(p, _mm256_cmpgt_epi32(_mm256_set1_epi32(int(left)), idx), v);
}

GLASSBOX_SIMD_INLINE float hsum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

GLASSBOX_SIMD_INLINE double hsumDouble(__m256 v) {
    const __m256d lo = _mm256_cvtps_pd(_mm256_castps256_ps128(v)), hi = _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1));
    const __m256d s = _mm256_add_pd(lo, hi);
    const __m128d t = _mm_add_pd(_mm256_castpd256_pd128(s), _mm256_extractf128_pd(s, 1));
    return _mm_cvtsd_f64(_mm_add_sd(t, _mm_unpackhi_pd(t, t)));
}

GLASSBOX_SIMD_INLINE __m256 exp8(__m256 x) {
    const __m256 tooSmall = _mm256_cmp_ps(x, _mm256_set1_ps(-87.33654f), _CMP_LT_OQ);
    x = _mm256_min_ps(x, _mm256_set1_ps(88.72283f));
    x = _mm256_max_ps(x, _mm256_set1_ps(-87.33654f));
    const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                                     _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
    __m256 p = _mm256_set1_ps(1.9875691500e-4f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
    const __m256 y = _mm256_add_ps(_mm256_fmadd_ps(p, _mm256_mul_ps(r, r), r), _mm256_set1_ps(1.0f));
    // 2^n as 2^h * 2^(n-h): n reaches 128 near the top of the range
    const __m256i ni = _mm256_cvtps_epi32(n);
    const __m256i h = _mm256_srai_epi32(ni, 1);
    const __m256i bias = _mm256_set1_epi32(127);
    const __m256 p1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(h, bias), 23));
    const __m256 p2 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(_mm256_sub_epi32(ni, h), bias), 23));
    return _mm256_andnot_ps(tooSmall, _mm256_mul_ps(_mm256_mul_ps(y, p1), p2));
}

double sumSquares(const float* x, int64_t n) {
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const __m256 a = _mm256_loadu_ps(x + i), b = _mm256_loadu_ps(x + i + 8);
        s0 = _mm256_fmadd_ps(a, a, s0);
        s1 = _mm256_fmadd_ps(b, b, s1);
    }
    for (; i < n; i += 8) {
        const __m256 a = maskLoad(x + i, n - i);
        s0 = _mm256_fmadd_ps(a, a, s0);
    }
    return hsumDouble(_mm256_add_ps(s0, s1));
}

void scaleMul(const float* x, float s, const float* w, int64_t n, float* out) {
    const __m256 vs = _mm256_set1_ps(s);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 v = _mm256_mul_ps(_mm256_loadu_ps(x + i), vs);
        if (w) v = _mm256_mul_ps(v, _mm256_loadu_ps(w + i));
        _mm256_storeu_ps(out + i, v);
    }
    for (; i < n; ++i) out[i] = w ? (x[i] * s) * w[i] : x[i] * s;
}

float maxValue(const float* x, int64_t n) {
    __m256 m = _mm256_set1_ps(-std::numeric_limits<float>::infinity());
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) m = _mm256_max_ps(m, _mm256_loadu_ps(x + i));
    __m128 h = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
    h = _mm_max_ps(h, _mm_movehl_ps(h, h));
    h = _mm_max_ss(h, _mm_movehdup_ps(h));
    float r = _mm_cvtss_f32(h);
    for (; i < n; ++i) r = x[i] > r ? x[i] : r;
    return r;
}

double expShiftSum(float* x, float shift, int64_t n) {
    const __m256 vs = _mm256_set1_ps(shift);
    __m256 sum = _mm256_setzero_ps();
    double total = 0;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 e = exp8(_mm256_sub_ps(_mm256_loadu_ps(x + i), vs));
        _mm256_storeu_ps(x + i, e);
        sum = _mm256_add_ps(sum, e);
        if ((i & 1023) == 1016) {  // keep the float partial sums short
            total += hsumDouble(sum);
            sum = _mm256_setzero_ps();
        }
    }
    if (i < n) {
        const __m256 e = exp8(_mm256_sub_ps(maskLoad(x + i, n - i), vs));
        maskStore(x + i, n - i, e);
        const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
        sum = _mm256_add_ps(sum, _mm256_and_ps(e, _mm256_castsi256_ps(_mm256_cmpgt_epi32(_mm256_set1_epi32(int(n - i)), idx))));
    }
    return total + hsumDouble(sum);
}

void swiglu(const float* gate, const float* up, int64_t n, float* out) {
    const __m256 one = _mm256_set1_ps(1.0f);
    int64_t i = 0;
    for (; i < n; i += 8) {
        const int64_t left = n - i;
        const __m256 g = left >= 8 ? _mm256_loadu_ps(gate + i) : maskLoad(gate + i, left);
        const __m256 u = left >= 8 ? _mm256_loadu_ps(up + i) : maskLoad(up + i, left);
        const __m256 silu = _mm256_div_ps(g, _mm256_add_ps(one, exp8(_mm256_sub_ps(_mm256_setzero_ps(), g))));
        const __m256 v = _mm256_mul_ps(silu, u);
        if (left >= 8) _mm256_storeu_ps(out + i, v);
        else maskStore(out + i, left, v);
    }
}

void add(const float* a, const float* b, int64_t n, float* out) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(out + i, _mm256_add_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i)));
    for (; i < n; ++i) out[i] = a[i] + b[i];
}

void scale(float* x, float s, int64_t n) {
    const __m256 vs = _mm256_set1_ps(s);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(x + i, _mm256_mul_ps(_mm256_loadu_ps(x + i), vs));
    for (; i < n; ++i) x[i] *= s;
}

float dot(const float* a, const float* b, int64_t n) {
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
        s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), s1);
    }
    if (i + 8 <= n) {
        s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
        i += 8;
    }
    float s = hsum(_mm256_add_ps(s0, s1));
    for (; i < n; ++i) s += a[i] * b[i];
    return s;
}

void axpy(float a, const float* x, float* y, int64_t n) {
    const __m256 va = _mm256_set1_ps(a);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm256_fmadd_ps(va, _mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
    for (; i < n; ++i) y[i] += a * x[i];
}

float dotF16(const uint16_t* a, const float* b, int64_t n) {
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        s0 = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(a + i))), _mm256_loadu_ps(b + i), s0);
        s1 = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(a + i + 8))), _mm256_loadu_ps(b + i + 8), s1);
    }
    float s = hsum(_mm256_add_ps(s0, s1));
    for (; i < n; ++i) s += _cvtsh_ss(a[i]) * b[i];
    return s;
}

void axpyF16(float a, const uint16_t* x, float* y, int64_t n) {
    const __m256 va = _mm256_set1_ps(a);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 xv = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x + i)));
        _mm256_storeu_ps(y + i, _mm256_fmadd_ps(va, xv, _mm256_loadu_ps(y + i)));
    }
    for (; i < n; ++i) y[i] += a * _cvtsh_ss(x[i]);
}

void dotF16Rows(const uint16_t* rows, int64_t stride, const float* x, int64_t n, int64_t nRows, float* out) {
    for (int64_t r = 0; r < nRows; ++r) out[r] = dotF16(rows + r * stride, x, n);
}

// Accumulators for K × 8 outputs stay in registers across all rows.
template <int K>
void weightedSumRegs(const float* w, const uint16_t* rows, int64_t stride, int64_t nRows, float* y) {
    __m256 acc[K];
    for (int k = 0; k < K; ++k) acc[k] = _mm256_loadu_ps(y + 8 * k);
    for (int64_t r = 0; r < nRows; ++r) {
        const __m256 va = _mm256_set1_ps(w[r]);
        const uint16_t* row = rows + r * stride;
        for (int k = 0; k < K; ++k)
            acc[k] = _mm256_fmadd_ps(
                va, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(row + 8 * k))), acc[k]);
    }
    for (int k = 0; k < K; ++k) _mm256_storeu_ps(y + 8 * k, acc[k]);
}

void weightedSumF16Rows(const float* w, const uint16_t* rows, int64_t stride, int64_t nRows, int64_t n, float* y) {
    if (n == 64) return weightedSumRegs<8>(w, rows, stride, nRows, y);
    for (int64_t r = 0; r < nRows; ++r) axpyF16(w[r], rows + r * stride, y, n);
}

void toF16(const float* src, uint16_t* dst, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i),
                         _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
    for (; i < n; ++i) dst[i] = _cvtss_sh(src[i], _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
}

void fromF16(const uint16_t* src, float* dst, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i))));
    for (; i < n; ++i) dst[i] = _cvtsh_ss(src[i]);
}

constexpr VecOpsTable kTable = {sumSquares, scaleMul, maxValue, expShiftSum, swiglu,  add,    scale,
                                dot,        axpy,     dotF16,   axpyF16,     toF16, fromF16, dotF16Rows, weightedSumF16Rows};

}  // namespace

const VecOpsTable* vecOpsTable() { return &kTable; }

}  // namespace glassbox::kernels::detail::avx2

#else  // no x86 intrinsics on this target: the portable kernels are used

#include "kernels/cpu/vec_ops_impl.h"

namespace glassbox::kernels::detail::avx2 {
const VecOpsTable* vecOpsTable() { return nullptr; }
}  // namespace glassbox::kernels::detail::avx2

#endif
