// Attention row kernel: portable loops plus an AVX2/F16C path picked at run
// time (the F16 key/value rows are widened eight at a time).
#include "kernels/cpu/attention.h"

#include <algorithm>
#include <cmath>

#include "engine/tensor_types.h"
#include "kernels/cpu/cpu_features.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#define GB_X86 1
#endif

namespace glassbox::kernels {
namespace {

float dotF16Portable(const float* q, const uint16_t* k, int n) {
    float s = 0.0f;
    for (int i = 0; i < n; ++i) s += q[i] * engine::fp16ToFloat(k[i]);
    return s;
}

void axpyF16Portable(float a, const uint16_t* v, float* out, int n) {
    for (int i = 0; i < n; ++i) out[i] += a * engine::fp16ToFloat(v[i]);
}

#if GB_X86
__attribute__((target("avx2,fma,f16c"))) float dotF16Avx2(const float* q, const uint16_t* k, int n) {
    __m256 acc = _mm256_setzero_ps();
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 kv = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(k + i)));
        acc = _mm256_fmadd_ps(_mm256_loadu_ps(q + i), kv, acc);
    }
    __m128 lo = _mm_add_ps(_mm256_castps256_ps128(acc), _mm256_extractf128_ps(acc, 1));
    lo = _mm_hadd_ps(lo, lo);
    lo = _mm_hadd_ps(lo, lo);
    float s = _mm_cvtss_f32(lo);
    for (; i < n; ++i) s += q[i] * engine::fp16ToFloat(k[i]);
    return s;
}

__attribute__((target("avx2,fma,f16c"))) void axpyF16Avx2(float a, const uint16_t* v, float* out, int n) {
    const __m256 av = _mm256_set1_ps(a);
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 vv = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(v + i)));
        _mm256_storeu_ps(out + i, _mm256_fmadd_ps(av, vv, _mm256_loadu_ps(out + i)));
    }
    for (; i < n; ++i) out[i] += a * engine::fp16ToFloat(v[i]);
}

__attribute__((target("avx2,fma,f16c"))) void storeRowF16Avx2(const float* src, uint16_t* dst, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m128i h = _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT);
        _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i), h);
    }
    for (; i < n; ++i) dst[i] = engine::floatToFp16(src[i]);
}

bool haveAvx2() {
    static const bool have = cpuFeatures().hasAvx2Set();
    return have;
}
#endif

float dotF16(const float* q, const uint16_t* k, int n) {
#if GB_X86
    if (haveAvx2()) return dotF16Avx2(q, k, n);
#endif
    return dotF16Portable(q, k, n);
}

void axpyF16(float a, const uint16_t* v, float* out, int n) {
#if GB_X86
    if (haveAvx2()) return axpyF16Avx2(a, v, out, n);
#endif
    axpyF16Portable(a, v, out, n);
}

float dotF32(const float* a, const float* b, int n) {
    float s = 0.0f;
    for (int i = 0; i < n; ++i) s += a[i] * b[i];
    return s;
}

}  // namespace

void storeRowF16(const float* src, uint16_t* dst, int64_t n) {
#if GB_X86
    if (haveAvx2()) return storeRowF16Avx2(src, dst, n);
#endif
    for (int64_t i = 0; i < n; ++i) dst[i] = engine::floatToFp16(src[i]);
}

// With an F16 cache the query and the probabilities are rounded to F16
// before they meet K and V, as ggml's F16 matrix products do; this keeps the
// result numerically aligned with the reference implementation.
void attentionRow(const AttentionRowArgs& a) {
    float maxScore = -INFINITY;
    float qRounded[kMaxAttentionHeadDim];
    const float* q = a.q;
    if (a.kvIsF16) {
        for (int d = 0; d < a.headDim; ++d) qRounded[d] = engine::fp16ToFloat(engine::floatToFp16(a.q[d]));
        q = qRounded;
    }
    for (int j = 0; j < a.nKeys; ++j) {
        float s;
        if (a.kvIsF16) {
            s = dotF16(q, static_cast<const uint16_t*>(a.k) + j * a.kvRowStride, a.headDim);
        } else {
            s = dotF32(a.q, static_cast<const float*>(a.k) + j * a.kvRowStride, a.headDim);
        }
        s *= a.scale;
        a.scores[j] = s;
        maxScore = std::max(maxScore, s);
    }
    double sum = 0.0;
    for (int j = 0; j < a.nKeys; ++j) {
        const float e = std::exp(a.scores[j] - maxScore);
        a.scores[j] = e;
        sum += e;
    }
    const float inv = sum > 0.0 ? float(1.0 / sum) : 0.0f;
    std::fill(a.out, a.out + a.headDim, 0.0f);
    for (int j = 0; j < a.nKeys; ++j) {
        const float p = a.scores[j] * inv;
        a.scores[j] = p;
        if (a.kvIsF16) {
            axpyF16(engine::fp16ToFloat(engine::floatToFp16(p)), static_cast<const uint16_t*>(a.v) + j * a.kvRowStride, a.out, a.headDim);
        } else {
            const float* vr = static_cast<const float*>(a.v) + j * a.kvRowStride;
            for (int d = 0; d < a.headDim; ++d) a.out[d] += p * vr[d];
        }
    }
}

}  // namespace glassbox::kernels
