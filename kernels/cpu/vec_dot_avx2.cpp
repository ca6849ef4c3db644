// AVX2 + FMA + F16C dot products on quantized blocks (see vec_dot_x86_impl.h).
// Integer products use vpmaddubsw + vpmaddwd.
#include "kernels/cpu/simd_config.h"

#if GLASSBOX_KERNELS_X86

#include <immintrin.h>

#include <cstring>

#include "kernels/cpu/quant_impl.h"

#define GLASSBOX_SIMD_INLINE GLASSBOX_FORCE_INLINE

namespace glassbox::kernels::detail::avx2 {
namespace {

GLASSBOX_SIMD_INLINE __m256i dotU8S8(__m256i acc, __m256i u, __m256i s) {
    return _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1)));
}

}  // namespace

#include "kernels/cpu/vec_dot_x86_impl.h"

VecDotFn vecDotFor(TensorType weightType) { return x86VecDotFor(weightType); }

DequantizeFn dequantizeFor(TensorType) { return nullptr; }

}  // namespace glassbox::kernels::detail::avx2

#else  // no x86 intrinsics on this target: the portable kernels are used

#include "kernels/cpu/quant_impl.h"

namespace glassbox::kernels::detail::avx2 {
VecDotFn vecDotFor(TensorType) { return nullptr; }
DequantizeFn dequantizeFor(TensorType) { return nullptr; }
}  // namespace glassbox::kernels::detail::avx2

#endif
