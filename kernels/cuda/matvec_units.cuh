// The per-thread work units of matVec (matvec.cu) for the quantized weight
// types: every unit covers 32 weights of one row and the matching 32 A8
// activations (so a row of `cols` values has cols / 32 units, whatever the
// type), decoded to packed bytes for __dp4a. The integer sums are exact;
// each weight-scale group (or part of one) then adds
//     float(Σ w·q) · (scale · d_a)  [+ min · d_a·float(Σ q)]
// as the CPU's quantRowDot does, so the two differ only in float summation
// order. Zero points (Q4_0 8, Q5_0 16, Q6_K 32) are subtracted as integers.
//
// Unit u of a row:
//   32-element types: block u.
//   Q4_K / Q5_K: super-block u / 8, t = u % 8, pair p = t / 2, half h = t % 2:
//     values 16h .. 16h+15 of sub-blocks 2p (low nibbles) and 2p+1 (high).
//   Q6_K: super-block u / 8, t = u % 8, n = t / 4, h = t % 4: values
//     128n + 32k + 8h .. +7 for k = 0..3 (16-groups 8n + 2k + h/2).
// Alignment: weight rows 16-byte aligned for Q4_K/Q5_K, 8 for Q5_1, 4 for
// Q4_1 and 2 for the rest; A8 rows 16-byte aligned.
#pragma once
#include <cstdint>

#include "kernels/cuda/quant_blocks.cuh"

namespace glassbox::kernels::cuda::detail {

struct ActUnit {
    int q[8];    // 32 int8 activations, 4 per word
    float d[4];  // A8 scales of the groups the unit touches
    int sum[4];  // Σq of the unit's part of each group
};

struct WeightUnit {
    int u[8];     // 32 weight integers (unsigned, or signed for Q8_0), 4 per word
    float sc[4];  // scales
    float mn[2];  // mins (types with a min term)
};

__device__ __forceinline__ int byteSum(int a, int b) { return __dp4a(b, 0x01010101, __dp4a(a, 0x01010101, 0)); }

// Bit k of `bits` (k < 4) to bit 4 of byte k.
__device__ __forceinline__ uint32_t spreadHighBits(uint32_t bits) {
    return ((bits & 1u) << 4) | ((bits & 2u) << 11) | ((bits & 4u) << 18) | ((bits & 8u) << 25);
}

// Byte k of the little-endian words w.
__device__ __forceinline__ int byteOf(const uint32_t* w, int k) { return int((w[k >> 2] >> (8 * (k & 3))) & 0xffu); }

// Scale and min of sub-block j from the 12 packed Q4_K/Q5_K scale bytes.
__device__ __forceinline__ void kScaleMinRegs(const uint32_t* s, int j, int& d, int& m) {
    if (j < 4) {
        d = byteOf(s, j) & 63;
        m = byteOf(s, j + 4) & 63;
    } else {
        d = (byteOf(s, j + 4) & 0xf) | ((byteOf(s, j - 4) >> 6) << 4);
        m = (byteOf(s, j + 4) >> 4) | ((byteOf(s, j) >> 6) << 4);
    }
}

template <TensorType T>
__device__ __forceinline__ void loadAct(const uint8_t* xa, int64_t cols, int u, ActUnit& a) {
    const auto* dA = reinterpret_cast<const float*>(xa + cols);
    if constexpr (T == TensorType::Q4_K || T == TensorType::Q5_K) {
        const int sb = u >> 3, t = u & 7, g0 = t & ~1, h = t & 1;
        const int4 lo = __ldg(reinterpret_cast<const int4*>(xa + 256 * sb + 32 * g0 + 16 * h));
        const int4 hi = __ldg(reinterpret_cast<const int4*>(xa + 256 * sb + 32 * (g0 + 1) + 16 * h));
        a.q[0] = lo.x, a.q[1] = lo.y, a.q[2] = lo.z, a.q[3] = lo.w;
        a.q[4] = hi.x, a.q[5] = hi.y, a.q[6] = hi.z, a.q[7] = hi.w;
        a.d[0] = __ldg(dA + 8 * sb + g0);
        a.d[1] = __ldg(dA + 8 * sb + g0 + 1);
        a.sum[0] = byteSum(a.q[0], a.q[1]) + byteSum(a.q[2], a.q[3]);
        a.sum[1] = byteSum(a.q[4], a.q[5]) + byteSum(a.q[6], a.q[7]);
    } else if constexpr (T == TensorType::Q6_K) {
        const int sb = u >> 3, t = u & 7, n = t >> 2, h = t & 3;
#pragma unroll
        for (int k = 0; k < 4; ++k) {
            const int2 v = __ldg(reinterpret_cast<const int2*>(xa + 256 * sb + 128 * n + 32 * k + 8 * h));
            a.q[2 * k] = v.x;
            a.q[2 * k + 1] = v.y;
            a.d[k] = __ldg(dA + 8 * sb + 4 * n + k);
            a.sum[k] = byteSum(v.x, v.y);
        }
    } else {
        const int4 lo = __ldg(reinterpret_cast<const int4*>(xa + 32 * u));
        const int4 hi = __ldg(reinterpret_cast<const int4*>(xa + 32 * u + 16));
        a.q[0] = lo.x, a.q[1] = lo.y, a.q[2] = lo.z, a.q[3] = lo.w;
        a.q[4] = hi.x, a.q[5] = hi.y, a.q[6] = hi.z, a.q[7] = hi.w;
        a.d[0] = __ldg(dA + u);
        if constexpr (T != TensorType::Q8_0)
            a.sum[0] =
                byteSum(a.q[0], a.q[1]) + byteSum(a.q[2], a.q[3]) + byteSum(a.q[4], a.q[5]) + byteSum(a.q[6], a.q[7]);
    }
}

// Q4_0 / Q4_1 / Q5_0 / Q5_1 nibbles (+ high bits) to 8 words.
__device__ __forceinline__ void smallNibbles(const uint32_t* qs, uint32_t qh, bool five, int* u) {
#pragma unroll
    for (int i = 0; i < 4; ++i) {
        uint32_t lo = qs[i] & 0x0f0f0f0fu, hi = (qs[i] >> 4) & 0x0f0f0f0fu;
        if (five) {
            lo |= spreadHighBits((qh >> (4 * i)) & 0xfu);
            hi |= spreadHighBits((qh >> (16 + 4 * i)) & 0xfu);
        }
        u[i] = int(lo);
        u[i + 4] = int(hi);
    }
}

// Weights of unit u of a row; G = false when `row` is a copy in shared memory.
template <TensorType T, bool G = true>
__device__ __forceinline__ void loadWeights(const uint8_t* row, int u, WeightUnit& w) {
    if constexpr (T == TensorType::Q4_0 || T == TensorType::Q5_0 || T == TensorType::Q8_0) {
        const uint8_t* b = row + int64_t(u) * blockBytes(T);
        w.sc[0] = halfBits(uint16_t(ldU16<G>(b)));
        if constexpr (T == TensorType::Q8_0) {
            loadWords2<8, G>(b + 2, reinterpret_cast<uint32_t(&)[8]>(w.u));
        } else if constexpr (T == TensorType::Q4_0) {
            uint32_t qs[4];
            loadWords2<4, G>(b + 2, qs);
            smallNibbles(qs, 0, false, w.u);
        } else {
            uint32_t v[5];
            loadWords2<5, G>(b + 2, v);
            smallNibbles(v + 1, v[0], true, w.u);
        }
    } else if constexpr (T == TensorType::Q4_1 || T == TensorType::Q5_1) {
        const auto* b = reinterpret_cast<const unsigned int*>(row + int64_t(u) * blockBytes(T));
        const uint32_t dm = ld<G>(b);
        w.sc[0] = halfBits(uint16_t(dm & 0xffffu));
        w.mn[0] = halfBits(uint16_t(dm >> 16));
        constexpr bool five = T == TensorType::Q5_1;
        const uint32_t qh = five ? ld<G>(b + 1) : 0u;
        uint32_t qs[4];
#pragma unroll
        for (int i = 0; i < 4; ++i) qs[i] = ld<G>(b + (five ? 2 : 1) + i);
        smallNibbles(qs, qh, five, w.u);
    } else if constexpr (T == TensorType::Q4_K || T == TensorType::Q5_K) {
        constexpr bool five = T == TensorType::Q5_K;
        const int sb = u >> 3, t = u & 7, p = t >> 1, h = t & 1;
        const uint8_t* b = row + int64_t(sb) * blockBytes(T);
        const uint4 hdr = ld<G>(reinterpret_cast<const uint4*>(b));
        const uint4 q4 = ld<G>(reinterpret_cast<const uint4*>(b + (five ? 48 : 16) + 32 * p + 16 * h));
        const uint32_t qs[4] = {q4.x, q4.y, q4.z, q4.w};
        uint32_t qh[4] = {0, 0, 0, 0};
        if constexpr (five) {
            const uint4 h4 = ld<G>(reinterpret_cast<const uint4*>(b + 16 + 16 * h));
            qh[0] = h4.x, qh[1] = h4.y, qh[2] = h4.z, qh[3] = h4.w;
        }
#pragma unroll
        for (int i = 0; i < 4; ++i) {
            uint32_t lo = qs[i] & 0x0f0f0f0fu, hi = (qs[i] >> 4) & 0x0f0f0f0fu;
            if (five) {
                lo |= ((qh[i] >> (2 * p)) & 0x01010101u) << 4;
                hi |= ((qh[i] >> (2 * p + 1)) & 0x01010101u) << 4;
            }
            w.u[i] = int(lo);
            w.u[i + 4] = int(hi);
        }
        const float d = halfBits(uint16_t(hdr.x & 0xffffu)), dmin = halfBits(uint16_t(hdr.x >> 16));
        const uint32_t scales[3] = {hdr.y, hdr.z, hdr.w};
#pragma unroll
        for (int k = 0; k < 2; ++k) {
            int sc, m;
            kScaleMinRegs(scales, 2 * p + k, sc, m);
            w.sc[k] = d * float(sc);
            w.mn[k] = -(dmin * float(m));
        }
    } else if constexpr (T == TensorType::Q6_K) {
        const int sb = u >> 3, t = u & 7, n = t >> 2, h = t & 3;
        const uint8_t* b = row + int64_t(sb) * 210;
        uint32_t qa[2], qb[2], qh[2], sc[2];
        loadWords2<2, G>(b + 64 * n + 8 * h, qa);
        loadWords2<2, G>(b + 64 * n + 32 + 8 * h, qb);
        loadWords2<2, G>(b + 128 + 32 * n + 8 * h, qh);
        loadWords2<2, G>(b + 192 + 8 * n, sc);
        const float d = halfBits(uint16_t(ldU16<G>(b + 208)));
#pragma unroll
        for (int k = 0; k < 4; ++k) {
            const uint32_t* ql = (k & 1) ? qb : qa;
#pragma unroll
            for (int i = 0; i < 2; ++i) {
                const uint32_t lo = (ql[i] >> (4 * (k >> 1))) & 0x0f0f0f0fu;
                w.u[2 * k + i] = int(lo | (((qh[i] >> (2 * k)) & 0x03030303u) << 4));
            }
            w.sc[k] = d * float(int8_t(byteOf(sc, 2 * k + (h >> 1))));
        }
    }
}

// The unit's contribution to the row's dot product.
template <TensorType T>
__device__ __forceinline__ float unitDot(const WeightUnit& w, const ActUnit& a) {
    if constexpr (T == TensorType::Q4_K || T == TensorType::Q5_K) {
        float s = 0.0f;
#pragma unroll
        for (int k = 0; k < 2; ++k) {
            int dot = 0;
#pragma unroll
            for (int i = 0; i < 4; ++i) dot = __dp4a(w.u[4 * k + i], a.q[4 * k + i], dot);
            s += float(dot) * (w.sc[k] * a.d[k]) + w.mn[k] * (a.d[k] * float(a.sum[k]));
        }
        return s;
    } else if constexpr (T == TensorType::Q6_K) {
        float s = 0.0f;
#pragma unroll
        for (int k = 0; k < 4; ++k) {
            const int dot = __dp4a(w.u[2 * k + 1], a.q[2 * k + 1], __dp4a(w.u[2 * k], a.q[2 * k], 0)) - 32 * a.sum[k];
            s += float(dot) * (w.sc[k] * a.d[k]);
        }
        return s;
    } else {
        int dot = 0;
#pragma unroll
        for (int i = 0; i < 8; ++i) dot = __dp4a(w.u[i], a.q[i], dot);
        if constexpr (T == TensorType::Q4_0) dot -= 8 * a.sum[0];
        if constexpr (T == TensorType::Q5_0) dot -= 16 * a.sum[0];
        float s = float(dot) * (w.sc[0] * a.d[0]);
        if constexpr (T == TensorType::Q4_1 || T == TensorType::Q5_1) s += w.mn[0] * (a.d[0] * float(a.sum[0]));
        return s;
    }
}

}  // namespace glassbox::kernels::cuda::detail
