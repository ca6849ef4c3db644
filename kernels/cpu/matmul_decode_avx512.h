// AVX-512 weight decoders for the matmul kernels (included by
// matmul_avx512.cpp only). Each decoder turns one block of 16 weight rows
// into "group records": for every group of G values, G/4 vectors whose
// 32-bit lane r holds four consecutive unsigned values of row r (ready for
// vpdpbusd against a broadcast of four activation bytes), plus the group's
// per-row scale and min as floats. See matmul_impl.h for the algebra.
#pragma once

#include <immintrin.h>

#include <cstdint>

#include "kernels/cpu/simd_config.h"

#define GLASSBOX_AVX512_INLINE GLASSBOX_FORCE_INLINE

namespace glassbox::kernels::detail::avx512 {
namespace {

template <int G>
struct alignas(64) GroupRec {
    __m512i w[G / 4];
    __m512 scale;
    __m512 min;
};

// Sixteen weight rows (the last valid row repeated past the end).
struct RowSet {
    const uint8_t* row[16];
    __m512i gatherIdx;  // byte offset of each row from row[0]
};

GLASSBOX_AVX512_INLINE __m512i loadBytes16(const uint8_t* p) {
    return _mm512_castsi128_si512(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}

// 16 bytes at `off` of each row, transposed: g[t] lane r = bytes 4t..4t+3 of row r.
GLASSBOX_AVX512_INLINE void load16x16T(const RowSet& rs, int64_t off, __m512i g[4]) {
    __m512i a[4];
    // masked broadcast loads put row j + 4L into 128-bit lane L without a shuffle
    for (int j = 0; j < 4; ++j) {
        __m512i v = loadBytes16(rs.row[j] + off);
        v = _mm512_mask_broadcast_i32x4(v, 0x00f0, _mm_loadu_si128(reinterpret_cast<const __m128i*>(rs.row[j + 4] + off)));
        v = _mm512_mask_broadcast_i32x4(v, 0x0f00, _mm_loadu_si128(reinterpret_cast<const __m128i*>(rs.row[j + 8] + off)));
        v = _mm512_mask_broadcast_i32x4(v, 0xf000, _mm_loadu_si128(reinterpret_cast<const __m128i*>(rs.row[j + 12] + off)));
        a[j] = v;
    }
    const __m512i t0 = _mm512_unpacklo_epi32(a[0], a[1]), t1 = _mm512_unpackhi_epi32(a[0], a[1]);
    const __m512i t2 = _mm512_unpacklo_epi32(a[2], a[3]), t3 = _mm512_unpackhi_epi32(a[2], a[3]);
    g[0] = _mm512_unpacklo_epi64(t0, t2);
    g[1] = _mm512_unpackhi_epi64(t0, t2);
    g[2] = _mm512_unpacklo_epi64(t1, t3);
    g[3] = _mm512_unpackhi_epi64(t1, t3);
}

// The 32-bit word at `off` of each row.
GLASSBOX_AVX512_INLINE __m512i gather16(const RowSet& rs, int64_t off) {
    return _mm512_i32gather_epi32(rs.gatherIdx, rs.row[0] + off, 1);
}

// The low / high halves of each 32-bit lane, as floats (one word permute
// gathers the low halves into the lower 256 bits and the high ones above).
GLASSBOX_AVX512_INLINE __m512i splitHalves(__m512i v) {
    const __m512i idx = _mm512_set_epi16(31, 29, 27, 25, 23, 21, 19, 17, 15, 13, 11, 9, 7, 5, 3, 1,
                                         30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
    return _mm512_permutexvar_epi16(idx, v);
}
GLASSBOX_AVX512_INLINE __m512 halfLo(__m512i v) { return _mm512_cvtph_ps(_mm512_castsi512_si256(splitHalves(v))); }
GLASSBOX_AVX512_INLINE __m512 halfHi(__m512i v) { return _mm512_cvtph_ps(_mm512_extracti64x4_epi64(splitHalves(v), 1)); }

// Low / high nibbles of 16 packed bytes per row -> values 0..15 and 16..31.
GLASSBOX_AVX512_INLINE void splitNibbles(const __m512i g[4], __m512i* w) {
    const __m512i m4 = _mm512_set1_epi8(0x0f);
    for (int t = 0; t < 4; ++t) {
        w[t] = _mm512_and_si512(g[t], m4);
        w[t + 4] = _mm512_and_si512(_mm512_srli_epi16(g[t], 4), m4);
    }
}

// Adds bit j of each row's 32-bit qh word as 16 to value j (Q5_0 / Q5_1).
GLASSBOX_AVX512_INLINE void addHighBits(__m512i qh, __m512i* w) {
    const __m512i sixteen = _mm512_set1_epi8(0x10);
    const __m512i bitsLo = _mm512_set1_epi32(0x08040201);
    const __m512i bitsHi = _mm512_set1_epi32(int(0x80402010u));
    for (int k = 0; k < 4; ++k) {
        // byte k of each 32-bit lane, repeated over the lane's four bytes
        const int rep = k * 0x01010101;
        const __m512i ctrl = _mm512_set4_epi32(0x0c0c0c0c + rep, 0x08080808 + rep, 0x04040404 + rep, rep);
        const __m512i b = _mm512_shuffle_epi8(qh, ctrl);
        const __mmask64 lo = _mm512_test_epi8_mask(b, bitsLo);
        const __mmask64 hi = _mm512_test_epi8_mask(b, bitsHi);
        w[2 * k] = _mm512_mask_add_epi8(w[2 * k], lo, w[2 * k], sixteen);
        w[2 * k + 1] = _mm512_mask_add_epi8(w[2 * k + 1], hi, w[2 * k + 1], sixteen);
    }
}

struct DecQ4_0 {
    static constexpr int kG = 32, kGroups = 1, kBlockBytes = 18, kBlockElems = 32;
    static constexpr bool kMin = false;
    static GLASSBOX_AVX512_INLINE void decode(const RowSet& rs, int64_t b, GroupRec<32>* out) {
        const int64_t off = b * kBlockBytes;
        __m512i g[4];
        load16x16T(rs, off + 2, g);
        splitNibbles(g, out->w);
        out->scale = halfLo(gather16(rs, off));
    }
};

struct DecQ4_1 {
    static constexpr int kG = 32, kGroups = 1, kBlockBytes = 20, kBlockElems = 32;
    static constexpr bool kMin = true;
    static GLASSBOX_AVX512_INLINE void decode(const RowSet& rs, int64_t b, GroupRec<32>* out) {
        const int64_t off = b * kBlockBytes;
        __m512i g[4];
        load16x16T(rs, off + 4, g);
        splitNibbles(g, out->w);
        const __m512i h = gather16(rs, off);
        out->scale = halfLo(h);
        out->min = halfHi(h);
    }
};

struct DecQ5_0 {
    static constexpr int kG = 32, kGroups = 1, kBlockBytes = 22, kBlockElems = 32;
    static constexpr bool kMin = false;
    static GLASSBOX_AVX512_INLINE void decode(const RowSet& rs, int64_t b, GroupRec<32>* out) {
        const int64_t off = b * kBlockBytes;
        __m512i g[4];
        load16x16T(rs, off + 6, g);
        splitNibbles(g, out->w);
        addHighBits(gather16(rs, off + 2), out->w);
        out->scale = halfLo(gather16(rs, off));
    }
};

struct DecQ5_1 {
    static constexpr int kG = 32, kGroups = 1, kBlockBytes = 24, kBlockElems = 32;
    static constexpr bool kMin = true;
    static GLASSBOX_AVX512_INLINE void decode(const RowSet& rs, int64_t b, GroupRec<32>* out) {
        const int64_t off = b * kBlockBytes;
        __m512i g[4];
        load16x16T(rs, off + 8, g);
        splitNibbles(g, out->w);
        addHighBits(gather16(rs, off + 4), out->w);
        const __m512i h = gather16(rs, off);
        out->scale = halfLo(h);
        out->min = halfHi(h);
    }
};

struct DecQ8_0 {
    static constexpr int kG = 32, kGroups = 1, kBlockBytes = 34, kBlockElems = 32;
    static constexpr bool kMin = false;
    static GLASSBOX_AVX512_INLINE void decode(const RowSet& rs, int64_t b, GroupRec<32>* out) {
        const int64_t off = b * kBlockBytes;
        const __m512i flip = _mm512_set1_epi8(char(0x80));
        __m512i g[4];
        load16x16T(rs, off + 2, g);
        for (int t = 0; t < 4; ++t) out->w[t] = _mm512_xor_si512(g[t], flip);
        load16x16T(rs, off + 18, g);
        for (int t = 0; t < 4; ++t) out->w[t + 4] = _mm512_xor_si512(g[t], flip);
        out->scale = halfLo(gather16(rs, off));
    }
};

// 6-bit scale / min of sub-block j from the three 32-bit words of K-quant scales.
GLASSBOX_AVX512_INLINE void kScaleMin(int j, __m512i s0, __m512i s1, __m512i s2, __m512i& sc, __m512i& mn) {
    const __m512i m6 = _mm512_set1_epi32(63), m4 = _mm512_set1_epi32(15), m2 = _mm512_set1_epi32(3);
    if (j < 4) {
        sc = _mm512_and_si512(_mm512_srli_epi32(s0, unsigned(8 * j)), m6);
        mn = _mm512_and_si512(_mm512_srli_epi32(s1, unsigned(8 * j)), m6);
    } else {
        const unsigned jj = unsigned(8 * (j - 4));
        const __m512i hiS = _mm512_slli_epi32(_mm512_and_si512(_mm512_srli_epi32(s0, jj + 6), m2), 4);
        const __m512i hiM = _mm512_slli_epi32(_mm512_and_si512(_mm512_srli_epi32(s1, jj + 6), m2), 4);
        sc = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi32(s2, jj), m4), hiS);
        mn = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi32(s2, jj + 4), m4), hiM);
    }
}

GLASSBOX_AVX512_INLINE void kScales(const RowSet& rs, int64_t off, GroupRec<32>* out) {
    const __m512i h = gather16(rs, off);
    const __m512 d = halfLo(h), dmin = halfHi(h);
    const __m512i s0 = gather16(rs, off + 4), s1 = gather16(rs, off + 8), s2 = gather16(rs, off + 12);
    const __m512 zero = _mm512_setzero_ps();
    for (int j = 0; j < 8; ++j) {
        __m512i sc, mn;
        kScaleMin(j, s0, s1, s2, sc, mn);
        out[j].scale = _mm512_mul_ps(d, _mm512_cvtepi32_ps(sc));
        out[j].min = _mm512_sub_ps(zero, _mm512_mul_ps(dmin, _mm512_cvtepi32_ps(mn)));
    }
}

struct DecQ4K {
    static constexpr int kG = 32, kGroups = 8, kBlockBytes = 144, kBlockElems = 256;
    static constexpr bool kMin = true;
    static GLASSBOX_AVX512_INLINE void decode(const RowSet& rs, int64_t b, GroupRec<32>* out) {
        const int64_t off = b * kBlockBytes;
        const __m512i m4 = _mm512_set1_epi8(0x0f);
        for (int p = 0; p < 4; ++p) {
            __m512i g[4];
            for (int half = 0; half < 2; ++half) {
                load16x16T(rs, off + 16 + 32 * p + 16 * half, g);
                for (int t = 0; t < 4; ++t) {
                    out[2 * p].w[t + 4 * half] = _mm512_and_si512(g[t], m4);
                    out[2 * p + 1].w[t + 4 * half] = _mm512_and_si512(_mm512_srli_epi16(g[t], 4), m4);
                }
            }
        }
        kScales(rs, off, out);
    }
};

struct DecQ5K {
    static constexpr int kG = 32, kGroups = 8, kBlockBytes = 176, kBlockElems = 256;
    static constexpr bool kMin = true;
    static GLASSBOX_AVX512_INLINE void decode(const RowSet& rs, int64_t b, GroupRec<32>* out) {
        const int64_t off = b * kBlockBytes;
        const __m512i m4 = _mm512_set1_epi8(0x0f), bit4 = _mm512_set1_epi8(0x10);
        __m512i qh[8];
        load16x16T(rs, off + 16, qh);
        load16x16T(rs, off + 32, qh + 4);
        for (int p = 0; p < 4; ++p) {
            __m512i g[4];
            for (int half = 0; half < 2; ++half) {
                load16x16T(rs, off + 48 + 32 * p + 16 * half, g);
                for (int t = 0; t < 4; ++t) {
                    out[2 * p].w[t + 4 * half] = _mm512_and_si512(g[t], m4);
                    out[2 * p + 1].w[t + 4 * half] = _mm512_and_si512(_mm512_srli_epi16(g[t], 4), m4);
                }
            }
        }
        for (int j = 0; j < 8; ++j) {
            for (int t = 0; t < 8; ++t) {
                const __m512i h = j <= 4 ? _mm512_slli_epi16(qh[t], unsigned(4 - j)) : _mm512_srli_epi16(qh[t], unsigned(j - 4));
                out[j].w[t] = _mm512_ternarylogic_epi32(out[j].w[t], h, bit4, 0xf8);  // a | (b & c)
            }
        }
        kScales(rs, off, out);
    }
};

struct DecQ6K {
    static constexpr int kG = 16, kGroups = 16, kBlockBytes = 210, kBlockElems = 256;
    static constexpr bool kMin = false;
    static GLASSBOX_AVX512_INLINE void decode(const RowSet& rs, int64_t b, GroupRec<16>* out) {
        const int64_t off = b * kBlockBytes;
        const __m512i m4 = _mm512_set1_epi8(0x0f), bits45 = _mm512_set1_epi8(0x30);
        for (int n = 0; n < 2; ++n) {
            for (int h = 0; h < 2; ++h) {
                __m512i ql0[4], ql1[4], qh[4];
                load16x16T(rs, off + 64 * n + 16 * h, ql0);
                load16x16T(rs, off + 64 * n + 32 + 16 * h, ql1);
                load16x16T(rs, off + 128 + 32 * n + 16 * h, qh);
                for (int s = 0; s < 4; ++s) {
                    GroupRec<16>& rec = out[8 * n + 2 * s + h];
                    for (int t = 0; t < 4; ++t) {
                        const __m512i src = (s & 1) ? ql1[t] : ql0[t];
                        const __m512i lo = _mm512_and_si512(s >= 2 ? _mm512_srli_epi16(src, 4) : src, m4);
                        const __m512i hi = s == 3 ? _mm512_srli_epi16(qh[t], 2) : _mm512_slli_epi16(qh[t], unsigned(4 - 2 * s));
                        rec.w[t] = _mm512_ternarylogic_epi32(lo, hi, bits45, 0xf8);
                    }
                }
            }
        }
        const __m512 d = halfHi(gather16(rs, off + 206));
        for (int q = 0; q < 4; ++q) {
            const __m512i s = gather16(rs, off + 192 + 4 * q);
            for (int i = 0; i < 4; ++i) {
                const __m512i sc = _mm512_srai_epi32(_mm512_slli_epi32(s, unsigned(24 - 8 * i)), 24);
                out[4 * q + i].scale = _mm512_mul_ps(d, _mm512_cvtepi32_ps(sc));
            }
        }
    }
};

}  // namespace
}  // namespace glassbox::kernels::detail::avx512
