// AVX2 + FMA + F16C float vector kernels (see vec_ops.h). The kernels that
// follow ggml's arithmetic do the AVX-512 kernels' 16-lane operations on two
// 8-lane halves, so every level gives the same bits (vec_ops_ggml.h states
// them portably; the RMSNorm reduction and RoPE come from there).
#include "kernels/cpu/simd_config.h"

#if GLASSBOX_KERNELS_X86

#include <immintrin.h>

#include <cmath>
#include <limits>

#include "kernels/cpu/vec_ops_ggml.h"
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

// ---- ggml's arithmetic, 16 lanes as two 8-lane halves ---------------------
// Lane for lane the operations of the AVX-512 kernels (vec_ops_avx512.cpp)
// and of vec_ops_ggml.h; vscalefps becomes an exact scaling in double.

GLASSBOX_SIMD_INLINE __m256 loadHalf8(const uint16_t* p) {
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}

GLASSBOX_SIMD_INLINE __m256 maskLoadFill(const float* p, int64_t left, float fill) {
    const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i mask = _mm256_cmpgt_epi32(_mm256_set1_epi32(int(left < 8 ? left : 8)), idx);
    return _mm256_blendv_ps(_mm256_set1_ps(fill), _mm256_maskload_ps(p, mask), _mm256_castsi256_ps(mask));
}

// j · 2^n for integral n (|n| <= 192 where it matters), rounded once to float.
GLASSBOX_SIMD_INLINE __m256 scaleByPow2(__m256 j, __m256 n) {
    const __m256i ni = _mm256_cvtps_epi32(n);
    const __m256i bias = _mm256_set1_epi64x(1023);
    const __m256d plo = _mm256_castsi256_pd(_mm256_slli_epi64(_mm256_add_epi64(_mm256_cvtepi32_epi64(_mm256_castsi256_si128(ni)), bias), 52));
    const __m256d phi = _mm256_castsi256_pd(_mm256_slli_epi64(_mm256_add_epi64(_mm256_cvtepi32_epi64(_mm256_extracti128_si256(ni, 1)), bias), 52));
    const __m128 lo = _mm256_cvtpd_ps(_mm256_mul_pd(_mm256_cvtps_pd(_mm256_castps256_ps128(j)), plo));
    const __m128 hi = _mm256_cvtpd_ps(_mm256_mul_pd(_mm256_cvtps_pd(_mm256_extractf128_ps(j, 1)), phi));
    return _mm256_set_m128(hi, lo);
}

// ggml_v_expf (AVX-512 form), 8 lanes.
GLASSBOX_SIMD_INLINE __m256 ggmlExp8(__m256 x) {
    const __m256 r = _mm256_set1_ps(0x1.8p23f);
    const __m256 z = _mm256_fmadd_ps(x, _mm256_set1_ps(0x1.715476p+0f), r);
    const __m256 n = _mm256_sub_ps(z, r);
    const __m256 b = _mm256_fnmadd_ps(n, _mm256_set1_ps(0x1.7f7d1cp-20f),
                                      _mm256_fnmadd_ps(n, _mm256_set1_ps(0x1.62e4p-1f), x));
    const __m256 absN = _mm256_andnot_ps(_mm256_set1_ps(-0.0f), n);
    const __m256 big = _mm256_cmp_ps(absN, _mm256_set1_ps(192), _CMP_GT_OQ);
    const __m256 u = _mm256_mul_ps(b, b);
    const __m256 j = _mm256_fmadd_ps(
        _mm256_fmadd_ps(_mm256_fmadd_ps(_mm256_set1_ps(0x1.0e4020p-7f), b, _mm256_set1_ps(0x1.573e2ep-5f)), u,
                        _mm256_fmadd_ps(_mm256_set1_ps(0x1.555e66p-3f), b, _mm256_set1_ps(0x1.fffdb6p-2f))),
        u, _mm256_fmadd_ps(_mm256_set1_ps(0x1.ffffecp-1f), b, _mm256_set1_ps(1.0F)));
    const __m256 res = scaleByPow2(j, n);
    if (_mm256_movemask_ps(big) == 0) return res;
    const __m256 alt = _mm256_blendv_ps(_mm256_setzero_ps(), _mm256_set1_ps(std::numeric_limits<float>::infinity()),
                                        _mm256_cmp_ps(n, _mm256_setzero_ps(), _CMP_GT_OQ));
    return _mm256_blendv_ps(res, alt, big);
}

// _mm512_reduce_add_ps's tree over the 16 lanes (lo = lanes 0..7, hi = 8..15).
GLASSBOX_SIMD_INLINE float reduce16(__m256 lo, __m256 hi) {
    const __m256 t3 = _mm256_add_ps(hi, lo);
    const __m128 t6 = _mm_add_ps(_mm256_extractf128_ps(t3, 1), _mm256_castps256_ps128(t3));
    const __m128 u = _mm_add_ps(t6, _mm_movehl_ps(t6, t6));
    return _mm_cvtss_f32(_mm_add_ss(u, _mm_movehdup_ps(u)));
}

double expShiftSum(float* x, float shift, int64_t n) {
    const __m256 vs = _mm256_set1_ps(shift);
    const float minusInf = -std::numeric_limits<float>::infinity();
    double total = 0;
    for (int64_t i = 0; i < n; i += 16) {
        const __m256 lo = ggmlExp8(_mm256_sub_ps(maskLoadFill(x + i, n - i, minusInf), vs));
        const __m256 hi = n - i > 8 ? ggmlExp8(_mm256_sub_ps(maskLoadFill(x + i + 8, n - i - 8, minusInf), vs))
                                    : _mm256_setzero_ps();
        maskStore(x + i, n - i, lo);
        if (n - i > 8) maskStore(x + i + 8, n - i - 8, hi);
        total += double(reduce16(lo, hi));
    }
    return total;
}

void swiglu(const float* gate, const float* up, int64_t n, float* out) {
    const __m256 one = _mm256_set1_ps(1.0f);
    for (int64_t i = 0; i < n; i += 8) {
        const __m256 g = maskLoadFill(gate + i, n - i, 0.0f);
        const __m256 silu = _mm256_div_ps(g, _mm256_add_ps(one, ggmlExp8(_mm256_sub_ps(_mm256_setzero_ps(), g))));
        maskStore(out + i, n - i, _mm256_mul_ps(silu, maskLoadFill(up + i, n - i, 0.0f)));
    }
}

void dotF16RowsTree(const uint16_t* rows, int64_t stride, const float* x, int64_t n, int64_t nRows, float* out) {
    for (int64_t r = 0; r < nRows; ++r) {
        const uint16_t* row = rows + r * stride;
        __m256 lo = _mm256_setzero_ps(), hi = _mm256_setzero_ps();
        for (int64_t i = 0; i < n; i += 16) {
            lo = _mm256_fmadd_ps(loadHalf8(row + i), _mm256_loadu_ps(x + i), lo);
            hi = _mm256_fmadd_ps(loadHalf8(row + i + 8), _mm256_loadu_ps(x + i + 8), hi);
        }
        out[r] = reduce16(lo, hi);
    }
}

// The 16 per-lane accumulators of 8 outputs, reduced across registers.
GLASSBOX_SIMD_INLINE __m256 reduceAcross16(const __m256* acc) {
    __m256 t3[8], t6[4];
    for (int i = 0; i < 8; ++i) t3[i] = _mm256_add_ps(acc[i + 8], acc[i]);
    for (int i = 0; i < 4; ++i) t6[i] = _mm256_add_ps(t3[i + 4], t3[i]);
    return _mm256_add_ps(_mm256_add_ps(t6[0], t6[2]), _mm256_add_ps(t6[1], t6[3]));
}

void weightedSumF16RowsTree(const float* w, const uint16_t* rows, int64_t stride, int64_t nRows, int64_t n,
                            float* y) {
    for (int64_t d = 0; d < n; d += 8) {
        __m256 acc[16];
        for (int l = 0; l < 16; ++l) acc[l] = _mm256_setzero_ps();
        for (int64_t r = 0; r < nRows; ++r)
            acc[r & 15] = _mm256_fmadd_ps(loadHalf8(rows + r * stride + d), _mm256_set1_ps(w[r]), acc[r & 15]);
        _mm256_storeu_ps(y + d, reduceAcross16(acc));
    }
}

void dotF16RowsSingle(const uint16_t* rows, int64_t stride, const float* x, int64_t n, int64_t nRows, float* out) {
    const int64_t np = n & ~int64_t(63);
    for (int64_t r = 0; r < nRows; ++r) {
        const uint16_t* row = rows + r * stride;
        __m256 s[4][2];
        for (auto& a : s) a[0] = a[1] = _mm256_setzero_ps();
        for (int64_t i = 0; i < np; i += 64)
            for (int j = 0; j < 4; ++j)
                for (int h = 0; h < 2; ++h)
                    s[j][h] = _mm256_fmadd_ps(loadHalf8(row + i + 16 * j + 8 * h), _mm256_loadu_ps(x + i + 16 * j + 8 * h), s[j][h]);
        __m256 v[2];
        for (int h = 0; h < 2; ++h) v[h] = _mm256_add_ps(_mm256_add_ps(s[0][h], s[2][h]), _mm256_add_ps(s[1][h], s[3][h]));
        double sum = double(reduce16(v[0], v[1]));
        for (int64_t i = np; i < n; ++i) sum += double(_cvtsh_ss(row[i]) * x[i]);
        out[r] = float(sum);
    }
}

void weightedSumF16RowsSingle(const float* w, const uint16_t* rows, int64_t stride, int64_t nRows, int64_t n,
                              float* y) {
    for (int64_t d = 0; d < n; d += 8) {
        __m256 part[4][16];
        for (auto& p : part)
            for (auto& v : p) v = _mm256_setzero_ps();
        for (int64_t r = 0; r < nRows; ++r) {
            __m256& a = part[(r >> 4) & 3][r & 15];
            a = _mm256_fmadd_ps(loadHalf8(rows + r * stride + d), _mm256_set1_ps(w[r]), a);
        }
        __m256 x[16];
        for (int l = 0; l < 16; ++l)
            x[l] = _mm256_add_ps(_mm256_add_ps(part[0][l], part[2][l]), _mm256_add_ps(part[1][l], part[3][l]));
        _mm256_storeu_ps(y + d, reduceAcross16(x));
    }
}

constexpr VecOpsTable kTable = {ggml::sumSquares, scaleMul, maxValue, expShiftSum, swiglu, add, scale,
                                dot, axpy, dotF16, axpyF16, toF16, fromF16, dotF16Rows, weightedSumF16Rows,
                                dotF16RowsTree, weightedSumF16RowsTree, ggml::rotatePairs,
                                dotF16RowsSingle, weightedSumF16RowsSingle};

}  // namespace

const VecOpsTable* vecOpsTable() { return &kTable; }

}  // namespace glassbox::kernels::detail::avx2

#else  // no x86 intrinsics on this target: the portable kernels are used

#include "kernels/cpu/vec_ops_impl.h"

namespace glassbox::kernels::detail::avx2 {
const VecOpsTable* vecOpsTable() { return nullptr; }
}  // namespace glassbox::kernels::detail::avx2

#endif
