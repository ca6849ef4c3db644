// Small helpers shared by the CUDA kernels: index arithmetic, warp and block
// reductions, half / bfloat16 bit conversions and the launch-status idiom
// (every entry point returns cudaGetLastError() after its launches, and
// cudaErrorInvalidValue for arguments it cannot handle, before launching).
#pragma once
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstdint>

namespace glassbox::kernels::cuda::detail {

inline constexpr unsigned kFullMask = 0xffffffffu;

__host__ __device__ constexpr int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

// Grid size for a grid-stride loop over `items` with `threads` per block.
inline unsigned gridFor(int64_t items, int threads, int64_t cap = 1 << 20) {
    const int64_t blocks = ceilDiv(items, threads);
    return unsigned(blocks < cap ? (blocks > 0 ? blocks : 1) : cap);
}

inline bool aligned(const void* p, uintptr_t bytes) { return (reinterpret_cast<uintptr_t>(p) % bytes) == 0; }

// ---- conversions (IEEE half round-to-nearest-even, as engine::floatToFp16) --

__device__ __forceinline__ float halfBits(uint16_t h) { return __half2float(__ushort_as_half(h)); }
__device__ __forceinline__ uint16_t toHalfBits(float f) { return __half_as_ushort(__float2half_rn(f)); }
__device__ __forceinline__ float bf16Bits(uint16_t h) { return __uint_as_float(uint32_t(h) << 16); }
// float(half(x)): the rounding an F16 operand applies.
__device__ __forceinline__ float roundThroughHalf(float x) { return __half2float(__float2half_rn(x)); }

// ---- warp reductions (all 32 lanes must take part) ------------------------

template <typename T>
__device__ __forceinline__ T warpSum(T v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(kFullMask, v, o);
    return v;
}

__device__ __forceinline__ float warpMax(float v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(kFullMask, v, o));
    return v;
}

// ---- block reductions: every thread gets the result -----------------------
// `scratch` holds at least 32 values; blockDim.x is a multiple of 32; every
// thread of the block must call (the leading barrier makes reuse safe).

template <typename T>
__device__ T blockSum(T v, T* scratch) {
    v = warpSum(v);
    const int lane = int(threadIdx.x) & 31, warp = int(threadIdx.x) >> 5;
    const int nWarps = int(blockDim.x) >> 5;
    __syncthreads();
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    v = lane < nWarps ? scratch[lane] : T(0);
    return warpSum(v);
}

__device__ inline float blockMax(float v, float* scratch) {
    v = warpMax(v);
    const int lane = int(threadIdx.x) & 31, warp = int(threadIdx.x) >> 5;
    const int nWarps = int(blockDim.x) >> 5;
    __syncthreads();
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    v = lane < nWarps ? scratch[lane] : -INFINITY;
    return warpMax(v);
}

// ---- loads: G = true reads global memory through the read-only cache,
// G = false is a plain load (shared memory or anything else) --------------

template <bool G = true, typename T>
__device__ __forceinline__ T ld(const T* p) {
    if constexpr (G) {
        return __ldg(p);
    } else {
        return *p;
    }
}

template <bool G = true>
__device__ __forceinline__ uint32_t ldU8(const uint8_t* p) {
    return ld<G>(p);
}
template <bool G = true>
__device__ __forceinline__ uint32_t ldU16(const uint8_t* p) {
    return ld<G>(reinterpret_cast<const unsigned short*>(p));
}

// The 2-aligned byte range [p, p + 4N) as N little-endian words, read with
// aligned loads only. Nothing past the end of the range is read; at most the
// two bytes before p (in p's own aligned word) are.
template <int N, bool G = true>
__device__ __forceinline__ void loadWords2(const uint8_t* p, uint32_t (&out)[N]) {
    const int off = int(reinterpret_cast<uintptr_t>(p) & 2);
    const auto* base = reinterpret_cast<const unsigned int*>(p - off);
    uint32_t w[N + 1];
#pragma unroll
    for (int i = 0; i < N; ++i) w[i] = ld<G>(base + i);
    w[N] = off ? uint32_t(ld<G>(reinterpret_cast<const unsigned short*>(base + N))) : 0u;
#pragma unroll
    for (int i = 0; i < N; ++i) out[i] = off ? __funnelshift_r(w[i], w[i + 1], 16) : w[i];
}

}  // namespace glassbox::kernels::cuda::detail
