// AVX2 matmul kernels: the A8 activation quantizer, float-weight products,
// and the quantized kernels of matmul_avx2_kernels.h compiled twice — with
// vpmaddubsw, and with AVX-VNNI's vpdpbusd for CPUs that have it.
#if defined(__clang__)
#pragma clang fp contract(off)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

#include "kernels/cpu/simd_config.h"

#if GLASSBOX_KERNELS_X86

#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "kernels/cpu/cpu_features.h"
#include "kernels/cpu/matmul_impl.h"

#define GLASSBOX_AVX2_INLINE GLASSBOX_FORCE_INLINE

namespace glassbox::kernels::detail::avx2 {

namespace maddubs {
constexpr bool kVnni = false;
GLASSBOX_AVX2_INLINE __m256i dotU8S8(__m256i acc, __m256i u, __m256i s) {
    return _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1)));
}
#include "kernels/cpu/matmul_avx2_kernels.h"
}  // namespace maddubs

#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avxvnni"))), apply_to = function)
#elif defined(__GNUC__)
#pragma GCC push_options
#pragma GCC target("avxvnni")
#endif
namespace vnni {
constexpr bool kVnni = true;
GLASSBOX_AVX2_INLINE __m256i dotU8S8(__m256i acc, __m256i u, __m256i s) { return _mm256_dpbusd_avx_epi32(acc, u, s); }
#include "kernels/cpu/matmul_avx2_kernels.h"
}  // namespace vnni
#if defined(__clang__)
#pragma clang attribute pop
#elif defined(__GNUC__)
#pragma GCC pop_options
#endif

namespace {

// ---- float weights ---------------------------------------------------------

template <TensorType T>
GLASSBOX_AVX2_INLINE __m256 loadWeights8(const uint8_t* row, int64_t i) {
    if constexpr (T == TensorType::F32) {
        return _mm256_loadu_ps(reinterpret_cast<const float*>(row) + i);
    } else {
        const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(row + 2 * i));
        if constexpr (T == TensorType::F16) return _mm256_cvtph_ps(h);
        return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
    }
}

template <TensorType T>
float weightAt(const uint8_t* row, int64_t i) {
    if constexpr (T == TensorType::F32) {
        float f;
        std::memcpy(&f, row + 4 * i, 4);
        return f;
    } else {
        uint16_t h;
        std::memcpy(&h, row + 2 * i, 2);
        if constexpr (T == TensorType::F16) return _cvtsh_ss(h);
        const uint32_t bits = uint32_t(h) << 16;
        float f;
        std::memcpy(&f, &bits, 4);
        return f;
    }
}

GLASSBOX_AVX2_INLINE float hsum8(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

// y for weight rows [i0, i0 + NW) x activation rows [r0, r0 + R).
template <TensorType T, int NW, int R>
void floatTile8(const GemmArgs& a, int64_t i0, int64_t r0) {
    __m256 acc[NW][R];
    for (int i = 0; i < NW; ++i)
        for (int r = 0; r < R; ++r) acc[i][r] = _mm256_setzero_ps();
    const int64_t k8 = a.k & ~int64_t(7);
    for (int64_t k = 0; k < k8; k += 8) {
        __m256 x[R];
        for (int r = 0; r < R; ++r) x[r] = _mm256_loadu_ps(reinterpret_cast<const float*>(a.x + uint64_t(r0 + r) * a.xStride) + k);
        for (int i = 0; i < NW; ++i) {
            const __m256 w = loadWeights8<T>(a.w + uint64_t(i0 + i) * a.wStride, k);
            for (int r = 0; r < R; ++r) acc[i][r] = _mm256_fmadd_ps(w, x[r], acc[i][r]);
        }
    }
    for (int i = 0; i < NW; ++i)
        for (int r = 0; r < R; ++r) {
            const uint8_t* row = a.w + uint64_t(i0 + i) * a.wStride;
            const auto* x = reinterpret_cast<const float*>(a.x + uint64_t(r0 + r) * a.xStride);
            float s = hsum8(acc[i][r]);
            for (int64_t k = k8; k < a.k; ++k) s += weightAt<T>(row, k) * x[k];
            a.y[(r0 + r) * a.ldy + i0 + i] = s;
        }
}

template <TensorType T, int NW>
void floatRows8(const GemmArgs& a, int64_t i0) {
    int64_t r0 = 0;
    for (; r0 + 4 <= a.m; r0 += 4) floatTile8<T, NW, 4>(a, i0, r0);
    for (; r0 < a.m; ++r0) floatTile8<T, NW, 1>(a, i0, r0);
}

template <TensorType T>
void runFloat8(const GemmArgs& a) {
    int64_t i0 = 0;
    for (; i0 + 3 <= a.nRows; i0 += 3) floatRows8<T, 3>(a, i0);
    for (; i0 < a.nRows; ++i0) floatRows8<T, 1>(a, i0);
}

// ---- activation quantization ---------------------------------------------

// Round half away from zero (as roundf), exactly; returns int32 lanes.
GLASSBOX_AVX2_INLINE __m256i roundAway(__m256 v) {
    const __m256 t = _mm256_round_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
    const __m256 absMask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
    const __m256 frac = _mm256_and_ps(_mm256_sub_ps(v, t), absMask);
    const __m256 up = _mm256_cmp_ps(frac, _mm256_set1_ps(0.5f), _CMP_GE_OQ);
    const __m256 one = _mm256_or_ps(_mm256_andnot_ps(absMask, v), _mm256_set1_ps(1.0f));
    return _mm256_cvttps_epi32(_mm256_add_ps(t, _mm256_and_ps(up, one)));
}

GLASSBOX_AVX2_INLINE int32_t hsum8i(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_unpackhi_epi64(s, s));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 1));
    return _mm_cvtsi128_si32(s);
}

void quantizeRow(const float* x, int64_t k, uint8_t* out, const ActFormat& f) {
    auto* dOut = reinterpret_cast<float*>(out + k);
    uint8_t* aux = out + k + 4 * (k / 32);
    const __m256 absMask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
    for (int64_t b = 0; b < k / 32; ++b) {
        __m256 v[4];
        __m256 amax = _mm256_setzero_ps();
        for (int i = 0; i < 4; ++i) {
            v[i] = _mm256_loadu_ps(x + 32 * b + 8 * i);
            amax = _mm256_max_ps(amax, _mm256_and_ps(v[i], absMask));
        }
        __m128 h = _mm_max_ps(_mm256_castps256_ps128(amax), _mm256_extractf128_ps(amax, 1));
        h = _mm_max_ps(h, _mm_movehl_ps(h, h));
        h = _mm_max_ss(h, _mm_movehdup_ps(h));
        const float d = _mm_cvtss_f32(h) / 127;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        __m256i q[4];
        for (int i = 0; i < 4; ++i) q[i] = roundAway(_mm256_mul_ps(v[i], _mm256_set1_ps(id)));
        const __m256i p = _mm256_packs_epi16(_mm256_packs_epi32(q[0], q[1]), _mm256_packs_epi32(q[2], q[3]));
        const __m256i bytes = _mm256_permutevar8x32_epi32(p, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + 32 * b), bytes);
        dOut[b] = d;
        const int32_t s0 = hsum8i(_mm256_add_epi32(q[0], q[1])), s1 = hsum8i(_mm256_add_epi32(q[2], q[3]));
        if (f.group == 16) {
            const int32_t v0 = f.zeroPoint * s0, v1 = f.zeroPoint * s1;
            std::memcpy(aux + 8 * b, &v0, 4);
            std::memcpy(aux + 8 * b + 4, &v1, 4);
        } else if (f.minTerm) {
            const float v0 = d * float(s0 + s1);
            std::memcpy(aux + 4 * b, &v0, 4);
        } else {
            const int32_t v0 = f.zeroPoint * (s0 + s1);
            std::memcpy(aux + 4 * b, &v0, 4);
        }
    }
}

}  // namespace

bool quantizeActRows(TensorType weightType, const float* x, int64_t m, int64_t k, uint8_t* out, uint64_t stride) {
    const ActFormat f = actFormat(weightType);
    if (!f.quantized || (f.group == 16 && f.minTerm)) return false;
    const uint64_t used = uint64_t(k) + 4 * uint64_t(k / 32) + 4 * uint64_t(k / f.group);
    for (int64_t r = 0; r < m; ++r) {
        uint8_t* row = out + uint64_t(r) * stride;
        quantizeRow(x + r * k, k, row, f);
        if (stride > used) std::memset(row + used, 0, stride - used);
    }
    return true;
}

bool gemm(const GemmArgs& a, bool useVnni) {
    switch (a.type) {
    case TensorType::F32: runFloat8<TensorType::F32>(a); return true;
    case TensorType::F16: runFloat8<TensorType::F16>(a); return true;
    case TensorType::BF16: runFloat8<TensorType::BF16>(a); return true;
    default: break;
    }
    if (useVnni && cpuFeatures().avxVnni) return vnni::gemmQuant(a);
    return maddubs::gemmQuant(a);
}

}  // namespace glassbox::kernels::detail::avx2

#else  // no x86 intrinsics on this target: the portable kernels are used

#include "kernels/cpu/matmul_impl.h"

namespace glassbox::kernels::detail::avx2 {
bool quantizeActRows(TensorType, const float*, int64_t, int64_t, uint8_t*, uint64_t) { return false; }
bool gemm(const GemmArgs&, bool) { return false; }
}  // namespace glassbox::kernels::detail::avx2

#endif
