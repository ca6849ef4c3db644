// Device-side knowledge of the tensor types: block geometry, the layout of
// the CPU matmul's 8-bit activation rows ("A8", kernels/cpu/matmul_impl.h),
// and decoding of every ggml block format to floats, bit-exact with
// kernels/cpu/quant_ref*.cpp (the same operations in the same order, with
// explicit round-to-nearest intrinsics so nothing is fused).
#pragma once
#include <cstdint>

#include "engine/tensor_types.h"
#include "kernels/cuda/cuda_util.cuh"

namespace glassbox::kernels::cuda::detail {

using engine::TensorType;

// Elements per block (1 for plain floats), 0 for types the kernels lack.
__host__ __device__ constexpr int blockElems(TensorType t) {
    switch (t) {
    case TensorType::F32:
    case TensorType::F16:
    case TensorType::BF16: return 1;
    case TensorType::Q4_0:
    case TensorType::Q4_1:
    case TensorType::Q5_0:
    case TensorType::Q5_1:
    case TensorType::Q8_0: return 32;
    case TensorType::Q4_K:
    case TensorType::Q5_K:
    case TensorType::Q6_K: return 256;
    default: return 0;
    }
}

__host__ __device__ constexpr int blockBytes(TensorType t) {
    switch (t) {
    case TensorType::F32: return 4;
    case TensorType::F16:
    case TensorType::BF16: return 2;
    case TensorType::Q4_0: return 18;
    case TensorType::Q4_1: return 20;
    case TensorType::Q5_0: return 22;
    case TensorType::Q5_1: return 24;
    case TensorType::Q8_0: return 34;
    case TensorType::Q4_K: return 144;
    case TensorType::Q5_K: return 176;
    case TensorType::Q6_K: return 210;
    default: return 0;
    }
}

__host__ __device__ constexpr bool isFloatType(TensorType t) {
    return t == TensorType::F32 || t == TensorType::F16 || t == TensorType::BF16;
}

// Bytes of one row of `cols` elements (cols a multiple of the block size).
__host__ __device__ constexpr uint64_t typeRowBytes(TensorType t, int64_t cols) {
    return blockElems(t) ? uint64_t(cols / blockElems(t)) * uint64_t(blockBytes(t)) : 0;
}

// A8 activation rows, as kernels::detail::actFormat / actRowBytes:
// int8 q[k], float d[k / 32], aux[k / group] (float d·Σq when minTerm, else
// int32 zeroPoint·Σq), zero padding to a multiple of 64 bytes. ggmlBlocks:
// d and d·Σq are rounded to F16 (ggml's Q8_0 / Q8_1 blocks).
struct ActLayout {
    int group;
    bool minTerm;
    int zeroPoint;
    bool quantized;
    bool ggmlBlocks = false;
};

__host__ __device__ constexpr ActLayout actLayout(TensorType t) {
    switch (t) {
    case TensorType::Q4_0: return {32, false, 8, true, true};
    case TensorType::Q5_0: return {32, false, 16, true, true};
    case TensorType::Q8_0: return {32, false, 128, true, true};
    case TensorType::Q6_K: return {16, false, 32, true};
    case TensorType::Q4_1:
    case TensorType::Q5_1: return {32, true, 0, true, true};
    case TensorType::Q4_K:
    case TensorType::Q5_K: return {32, true, 0, true};
    default: return {32, false, 0, false};
    }
}

__host__ __device__ constexpr uint64_t actUsedBytes(TensorType t, int64_t k) {
    return uint64_t(k) + 4 * uint64_t(k / 32) + 4 * uint64_t(k / actLayout(t).group);
}

__host__ __device__ constexpr uint64_t actRowBytes(TensorType t, int64_t k) {
    if (!actLayout(t).quantized) return uint64_t(k) * 4;
    return (actUsedBytes(t, k) + 63) & ~uint64_t(63);
}

// ---- bit-exact decoding ------------------------------------------------------

// The 6-bit scale and min of sub-block j of a Q4_K / Q5_K super-block.
__device__ __forceinline__ void kScaleMin(int j, const uint8_t* q, int& d, int& m) {
    if (j < 4) {
        d = int(ldU8(q + j)) & 63;
        m = int(ldU8(q + j + 4)) & 63;
    } else {
        d = (int(ldU8(q + j + 4)) & 0xf) | ((int(ldU8(q + j - 4)) >> 6) << 4);
        m = (int(ldU8(q + j + 4)) >> 4) | ((int(ldU8(q + j)) >> 6) << 4);
    }
}

// One plain-float element i of a row.
template <TensorType T>
__device__ __forceinline__ float decodeFloat(const uint8_t* row, int64_t i) {
    if constexpr (T == TensorType::F32) return __ldg(reinterpret_cast<const float*>(row) + i);
    if constexpr (T == TensorType::F16) return halfBits(ldU16(row + 2 * i));
    if constexpr (T == TensorType::BF16) return bf16Bits(uint16_t(ldU16(row + 2 * i)));
    return 0.0f;
}

// Elements [8c, 8c + 8) of a row of a 32-element block type.
template <TensorType T>
__device__ __forceinline__ void decode8Small(const uint8_t* row, int64_t c, float (&out)[8]) {
    constexpr int kBytes = blockBytes(T);
    const uint8_t* b = row + (c >> 2) * kBytes;
    const int j0 = int(c & 3) * 8;
    const float d = halfBits(uint16_t(ldU16(b)));
    if constexpr (T == TensorType::Q8_0) {
#pragma unroll
        for (int e = 0; e < 8; ++e) out[e] = __fmul_rn(float(int8_t(ldU8(b + 2 + j0 + e))), d);
        return;
    }
    constexpr bool hasMin = T == TensorType::Q4_1 || T == TensorType::Q5_1;
    constexpr bool five = T == TensorType::Q5_0 || T == TensorType::Q5_1;
    const float m = hasMin ? halfBits(uint16_t(ldU16(b + 2))) : 0.0f;
    const uint8_t* qs = b + (hasMin ? 4 : 2) + (five ? 4 : 0);
    uint32_t qh = 0;
    if constexpr (five) {
        const uint8_t* h = b + (hasMin ? 4 : 2);
        qh = ldU8(h) | (ldU8(h + 1) << 8) | (ldU8(h + 2) << 16) | (ldU8(h + 3) << 24);
    }
#pragma unroll
    for (int e = 0; e < 8; ++e) {
        const int j = j0 + e;
        int q;
        if (j < 16) {
            q = int(ldU8(qs + j)) & 0xf;
            if (five) q |= int((qh >> j) << 4) & 0x10;
        } else {
            q = int(ldU8(qs + j - 16)) >> 4;
            if (five) q |= int(qh >> (j - 16 + 12)) & 0x10;
        }
        if constexpr (hasMin) {
            out[e] = __fadd_rn(__fmul_rn(float(q), d), m);
        } else {
            out[e] = __fmul_rn(float(q - (five ? 16 : 8)), d);
        }
    }
}

// Elements [8c, 8c + 8) of a Q4_K / Q5_K row.
template <TensorType T>
__device__ __forceinline__ void decode8K45(const uint8_t* row, int64_t c, float (&out)[8]) {
    constexpr bool five = T == TensorType::Q5_K;
    const uint8_t* b = row + (c >> 5) * blockBytes(T);
    const int v0 = int(c & 31) * 8;  // first value inside the super-block
    const int p = v0 >> 6, hi = (v0 >> 5) & 1, l0 = v0 & 31;
    int sc, mn;
    kScaleMin(2 * p + hi, b + 4, sc, mn);
    const float d1 = __fmul_rn(halfBits(uint16_t(ldU16(b))), float(sc));
    const float m1 = __fmul_rn(halfBits(uint16_t(ldU16(b + 2))), float(mn));
    const uint8_t* qs = b + (five ? 48 : 16) + 32 * p;
#pragma unroll
    for (int e = 0; e < 8; ++e) {
        const int l = l0 + e;
        int q = int(ldU8(qs + l));
        q = hi ? (q >> 4) : (q & 0xf);
        if (five && (ldU8(b + 16 + l) & (1u << (2 * p + hi)))) q += 16;
        out[e] = __fsub_rn(__fmul_rn(d1, float(q)), m1);
    }
}

// Elements [8c, 8c + 8) of a Q6_K row.
__device__ __forceinline__ void decode8Q6K(const uint8_t* row, int64_t c, float (&out)[8]) {
    const uint8_t* b = row + (c >> 5) * 210;
    const int v0 = int(c & 31) * 8;
    const int n = v0 >> 7, k = (v0 >> 5) & 3, l0 = v0 & 31;
    const float d = halfBits(uint16_t(ldU16(b + 208)));
    const float ds = __fmul_rn(d, float(int8_t(ldU8(b + 192 + 8 * n + (l0 >> 4) + 2 * k))));
    const uint8_t* ql = b + 64 * n + 32 * (k & 1);
    const uint8_t* qh = b + 128 + 32 * n;
#pragma unroll
    for (int e = 0; e < 8; ++e) {
        const int l = l0 + e;
        const int lo = (int(ldU8(ql + l)) >> (4 * (k >> 1))) & 0xf;
        const int q = lo | (((int(ldU8(qh + l)) >> (2 * k)) & 3) << 4);
        out[e] = __fmul_rn(ds, float(q - 32));
    }
}

// Elements [8c, 8c + 8) of a row of any quantized type.
template <TensorType T>
__device__ __forceinline__ void decode8(const uint8_t* row, int64_t c, float (&out)[8]) {
    if constexpr (T == TensorType::Q4_K || T == TensorType::Q5_K) {
        decode8K45<T>(row, c, out);
    } else if constexpr (T == TensorType::Q6_K) {
        decode8Q6K(row, c, out);
    } else {
        decode8Small<T>(row, c, out);
    }
}

}  // namespace glassbox::kernels::cuda::detail
