// AVX-512 dot products on quantized blocks: the shared x86 kernels (see
// vec_dot_x86_impl.h) with vpdpbusd (AVX-512 VNNI on 256-bit vectors) for
// the integer products, and 512-bit float dot products.
#include "kernels/cpu/simd_config.h"

#if GLASSBOX_KERNELS_X86

#include <immintrin.h>

#include <cstring>

#include "kernels/cpu/quant_impl.h"

#if defined(__GNUC__) && !defined(__clang__)
// GCC 12's AVX-512 intrinsic headers trip these on their "undefined" vectors.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#define GLASSBOX_SIMD_INLINE GLASSBOX_FORCE_INLINE

namespace glassbox::kernels::detail::avx512 {
namespace {

GLASSBOX_SIMD_INLINE __m256i dotU8S8(__m256i acc, __m256i u, __m256i s) { return _mm256_dpbusd_epi32(acc, u, s); }

}  // namespace

#include "kernels/cpu/vec_dot_x86_impl.h"

namespace {

float dotF32x16(const void* vw, const void* va, int64_t n) {
    const auto* w = static_cast<const float*>(vw);
    const auto* a = static_cast<const float*>(va);
    __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        s0 = _mm512_fmadd_ps(_mm512_loadu_ps(w + i), _mm512_loadu_ps(a + i), s0);
        s1 = _mm512_fmadd_ps(_mm512_loadu_ps(w + i + 16), _mm512_loadu_ps(a + i + 16), s1);
    }
    for (; i < n; i += 16) {
        const auto mask = __mmask16(n - i >= 16 ? 0xffff : (1u << (n - i)) - 1);
        s0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(mask, w + i), _mm512_maskz_loadu_ps(mask, a + i), s0);
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
}

template <bool kBf16>
GLASSBOX_SIMD_INLINE __m512 load16Half(const uint16_t* p, __mmask16 mask) {
    const __m256i h = _mm256_maskz_loadu_epi16(mask, p);
    if (kBf16) return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
    return _mm512_cvtph_ps(h);
}

template <bool kBf16>
float dotHalfx16(const void* vw, const void* va, int64_t n) {
    const auto* w = static_cast<const uint16_t*>(vw);
    const auto* a = static_cast<const float*>(va);
    __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        s0 = _mm512_fmadd_ps(load16Half<kBf16>(w + i, 0xffff), _mm512_loadu_ps(a + i), s0);
        s1 = _mm512_fmadd_ps(load16Half<kBf16>(w + i + 16, 0xffff), _mm512_loadu_ps(a + i + 16), s1);
    }
    for (; i < n; i += 16) {
        const auto mask = __mmask16(n - i >= 16 ? 0xffff : (1u << (n - i)) - 1);
        s0 = _mm512_fmadd_ps(load16Half<kBf16>(w + i, mask), _mm512_maskz_loadu_ps(mask, a + i), s0);
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
}

}  // namespace

VecDotFn vecDotFor(TensorType weightType) {
    switch (weightType) {
    case TensorType::F32: return dotF32x16;
    case TensorType::F16: return dotHalfx16<false>;
    case TensorType::BF16: return dotHalfx16<true>;
    default: return x86VecDotFor(weightType);
    }
}

DequantizeFn dequantizeFor(TensorType) { return nullptr; }

}  // namespace glassbox::kernels::detail::avx512

#else  // no x86 intrinsics on this target: the portable kernels are used

#include "kernels/cpu/quant_impl.h"

namespace glassbox::kernels::detail::avx512 {
VecDotFn vecDotFor(TensorType) { return nullptr; }
DequantizeFn dequantizeFor(TensorType) { return nullptr; }
}  // namespace glassbox::kernels::detail::avx512

#endif
