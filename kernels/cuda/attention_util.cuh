// Pieces shared by the two attention paths (attention.cu, attention_probs.cu):
// argument checks and loads of 4 consecutive cache elements as floats.
#pragma once
#include <cstdint>

#include "kernels/cuda/attention.cuh"
#include "kernels/cuda/cuda_util.cuh"

namespace glassbox::kernels::cuda::detail {

inline constexpr int kMaxAttentionHeadDim = 256;

// Sizes the kernels handle (pointers aside). Rows need pos0 >= 0; with
// devPos0, maxKeys must cover at least the rows themselves.
inline bool validAttentionShape(const AttentionArgs& a) {
    if (a.nTokens < 0 || a.nHead <= 0 || a.nHeadKv <= 0 || a.nHead % a.nHeadKv != 0) return false;
    if (a.headDim < 4 || a.headDim > kMaxAttentionHeadDim || a.headDim % 4 != 0) return false;
    if (a.kvRowStride % 4 != 0 || int64_t(a.kvRowStride) < int64_t(a.nHeadKv) * a.headDim) return false;
    return a.nTokens <= 65535 && (a.devPos0 ? a.maxKeys >= a.nTokens : a.pos0 >= 0);
}

inline bool validAttention(const AttentionArgs& a) {
    if (!validAttentionShape(a)) return false;
    if (a.nTokens == 0) return true;
    if (!a.q || !a.k || !a.v || !a.out) return false;
    return aligned(a.q, 16) && aligned(a.out, 16) && aligned(a.k, 16) && aligned(a.v, 16);
}

// Elements [4c, 4c + 4) of cache row `pos` (element offset `off` inside it).
template <bool F16>
__device__ __forceinline__ void loadKv4(const void* base, int64_t pos, int stride, int64_t off, float (&f)[4]) {
    const int64_t at = pos * stride + off;
    if constexpr (F16) {
        const uint2 h = __ldg(reinterpret_cast<const uint2*>(static_cast<const uint16_t*>(base) + at));
        f[0] = halfBits(uint16_t(h.x & 0xffffu));
        f[1] = halfBits(uint16_t(h.x >> 16));
        f[2] = halfBits(uint16_t(h.y & 0xffffu));
        f[3] = halfBits(uint16_t(h.y >> 16));
    } else {
        const float4 v = __ldg(reinterpret_cast<const float4*>(static_cast<const float*>(base) + at));
        f[0] = v.x, f[1] = v.y, f[2] = v.z, f[3] = v.w;
    }
}

// One cache element as float.
template <bool F16>
__device__ __forceinline__ float loadKv1(const void* base, int64_t at) {
    if constexpr (F16) return halfBits(uint16_t(ldU16(static_cast<const uint8_t*>(base) + 2 * at)));
    return __ldg(static_cast<const float*>(base) + at);
}

}  // namespace glassbox::kernels::cuda::detail
