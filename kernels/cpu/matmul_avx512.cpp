// AVX-512 (F/BW/VL/DQ + VNNI) matmul kernels. Weights are processed in
// panels of 16 rows: each block is decoded once into group records (see
// matmul_decode_avx512.h) and multiplied with up to 8 activation rows at a
// time by vpdpbusd against broadcast activation bytes, so one instruction
// does 64 multiply-adds and no horizontal sums are needed. For one to four
// activation rows (decode) blocks are decoded and consumed on the fly while
// the next panel is prefetched; for more (prefill) a panel's blocks are
// decoded into an L1-sized buffer and reused for every activation row.
#if defined(__clang__)
#pragma clang fp contract(off)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif
#if defined(__GNUC__) && !defined(__clang__)
// GCC 12's AVX-512 intrinsic headers trip these on their "undefined" vectors.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include "kernels/cpu/simd_config.h"

#if GLASSBOX_KERNELS_X86

#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "kernels/cpu/matmul_decode_avx512.h"
#include "kernels/cpu/matmul_impl.h"

namespace glassbox::kernels::detail::avx512 {
namespace {

constexpr int kPanel = 16;
constexpr int kMaxRows = 8;            // activation rows per register tile
constexpr int64_t kBufferBytes = 40 * 1024;  // decoded panel chunk (fits L1)

template <class T>
T loadAs(const uint8_t* p) {
    T v;
    std::memcpy(&v, p, sizeof(T));
    return v;
}

RowSet makeRowSet(const uint8_t* w, uint64_t stride, int n) {
    RowSet rs;
    alignas(64) int32_t idx[16];
    for (int r = 0; r < kPanel; ++r) {
        const int rr = r < n ? r : n - 1;
        rs.row[r] = w + uint64_t(rr) * stride;
        idx[r] = int32_t(uint64_t(rr) * stride);
    }
    rs.gatherIdx = _mm512_load_si512(idx);
    return rs;
}

struct ActView {
    const uint8_t* base;
    uint64_t stride;
    int64_t dOff;    // byte offset of the float scales in a row
    int64_t auxOff;  // byte offset of the per-group sums in a row
};

// acc[r] += contribution of groups [g0, g0 + n) of the panel for activation row r0 + r.
template <int G, bool kMin, int R>
GLASSBOX_AVX512_INLINE void accumulate(const GroupRec<G>* recs, int64_t n, int64_t g0, const ActView& av,
                                       int64_t r0, __m512 (&acc)[R]) {
    const uint8_t* xr[R];
    for (int r = 0; r < R; ++r) xr[r] = av.base + uint64_t(r0 + r) * av.stride;
    for (int64_t g = 0; g < n; ++g) {
        const GroupRec<G>& rc = recs[g];
        const int64_t gg = g0 + g;
        // C independent vpdpbusd chains per activation row (latency 5 each)
        constexpr int C = R >= 4 ? 1 : (R == 1 ? 4 : 2);
        __m512i ia[R][C];
        for (int r = 0; r < R; ++r)
            for (int c = 0; c < C; ++c) ia[r][c] = _mm512_setzero_si512();
        for (int t = 0; t < G / 4; ++t) {
            const __m512i w = _mm512_load_si512(&rc.w[t]);
            for (int r = 0; r < R; ++r)
                ia[r][t % C] = _mm512_dpbusd_epi32(ia[r][t % C], w, _mm512_set1_epi32(loadAs<int32_t>(xr[r] + gg * G + 4 * t)));
        }
        for (int r = 0; r < R; ++r) {
            __m512i v = ia[r][0];
            for (int c = 1; c < C; ++c) v = _mm512_add_epi32(v, ia[r][c]);
            if (!kMin) v = _mm512_sub_epi32(v, _mm512_set1_epi32(loadAs<int32_t>(xr[r] + av.auxOff + 4 * gg)));
            const __m512 da = _mm512_set1_ps(loadAs<float>(xr[r] + av.dOff + 4 * ((gg * G) / 32)));
            acc[r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(v), _mm512_mul_ps(rc.scale, da), acc[r]);
            if (kMin) acc[r] = _mm512_fmadd_ps(rc.min, _mm512_set1_ps(loadAs<float>(xr[r] + av.auxOff + 4 * gg)), acc[r]);
        }
    }
}

template <int R>
GLASSBOX_AVX512_INLINE void storeRows(__m512 (&acc)[R], float* y, int64_t ldy, __mmask16 mask, bool add) {
    for (int r = 0; r < R; ++r) {
        float* p = y + r * ldy;
        __m512 v = acc[r];
        if (add) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(mask, p));
        _mm512_mask_storeu_ps(p, mask, v);
    }
}

// Block b's share of the next panel's cache lines (linesPerBlock of them).
GLASSBOX_AVX512_INLINE void prefetchShare(const uint8_t* prefetch, int64_t prefetchBytes, int64_t linesPerBlock,
                                          int64_t b) {
    for (int64_t i = 0; i < linesPerBlock; ++i) {
        const int64_t off = (b * linesPerBlock + i) * 64;
        if (off < prefetchBytes) _mm_prefetch(reinterpret_cast<const char*>(prefetch + off), _MM_HINT_T0);
    }
}

// Decode-as-you-go product of one panel with R (<= 4) activation rows.
// [prefetch, prefetch + prefetchBytes) (the next panel) is prefetched
// meanwhile, spread over the blocks: the panel's 16 interleaved row streams
// are too short for the hardware prefetchers to pick up.
template <class Dec, int R>
void streamPanel(const RowSet& rs, int64_t nBlocks, const ActView& av, float* y, int64_t ldy, __mmask16 mask,
                 const uint8_t* prefetch, int64_t prefetchBytes) {
    GroupRec<Dec::kG> rec[Dec::kGroups];
    __m512 acc[R];
    for (int r = 0; r < R; ++r) acc[r] = _mm512_setzero_ps();
    const int64_t linesPerBlock = (prefetchBytes / 64 + nBlocks - 1) / nBlocks;
    for (int64_t b = 0; b < nBlocks; ++b) {
        prefetchShare(prefetch, prefetchBytes, linesPerBlock, b);
        Dec::decode(rs, b, rec);
        accumulate<Dec::kG, Dec::kMin, R>(rec, Dec::kGroups, b * Dec::kGroups, av, 0, acc);
    }
    storeRows<R>(acc, y, ldy, mask, false);
}

template <class Dec, int R>
void panelRows(const GroupRec<Dec::kG>* buf, int64_t nGroups, int64_t g0, const ActView& av, int64_t r0,
               float* y, int64_t ldy, __mmask16 mask, bool add) {
    __m512 acc[R];
    for (int r = 0; r < R; ++r) acc[r] = _mm512_setzero_ps();
    accumulate<Dec::kG, Dec::kMin, R>(buf, nGroups, g0, av, r0, acc);
    storeRows<R>(acc, y + r0 * ldy, ldy, mask, add);
}

// Product of one panel with many activation rows: decode a chunk of blocks
// once, then sweep all activation rows over it.
template <class Dec>
void bufferedPanel(const RowSet& rs, int64_t nBlocks, const ActView& av, int64_t m, float* y, int64_t ldy,
                   __mmask16 mask) {
    using Rec = GroupRec<Dec::kG>;
    constexpr int64_t kMaxBlocks = kBufferBytes / int64_t(sizeof(Rec) * Dec::kGroups);
    Rec buf[kMaxBlocks * Dec::kGroups];
    const int64_t nChunks = (nBlocks + kMaxBlocks - 1) / kMaxBlocks;
    const int64_t chunk = (nBlocks + nChunks - 1) / nChunks;
    for (int64_t b0 = 0; b0 < nBlocks; b0 += chunk) {
        const int64_t b1 = b0 + chunk < nBlocks ? b0 + chunk : nBlocks;
        for (int64_t b = b0; b < b1; ++b) Dec::decode(rs, b, buf + (b - b0) * Dec::kGroups);
        const int64_t nGroups = (b1 - b0) * Dec::kGroups, g0 = b0 * Dec::kGroups;
        const bool add = b0 > 0;
        int64_t r0 = 0;
        for (; r0 + kMaxRows <= m; r0 += kMaxRows)
            panelRows<Dec, kMaxRows>(buf, nGroups, g0, av, r0, y, ldy, mask, add);
        switch (m - r0) {
        case 7: panelRows<Dec, 7>(buf, nGroups, g0, av, r0, y, ldy, mask, add); break;
        case 6: panelRows<Dec, 6>(buf, nGroups, g0, av, r0, y, ldy, mask, add); break;
        case 5: panelRows<Dec, 5>(buf, nGroups, g0, av, r0, y, ldy, mask, add); break;
        case 4: panelRows<Dec, 4>(buf, nGroups, g0, av, r0, y, ldy, mask, add); break;
        case 3: panelRows<Dec, 3>(buf, nGroups, g0, av, r0, y, ldy, mask, add); break;
        case 2: panelRows<Dec, 2>(buf, nGroups, g0, av, r0, y, ldy, mask, add); break;
        case 1: panelRows<Dec, 1>(buf, nGroups, g0, av, r0, y, ldy, mask, add); break;
        default: break;
        }
    }
}

template <class Dec>
void runQuant(const GemmArgs& a) {
    const int64_t nBlocks = a.k / Dec::kBlockElems;
    const ActView av{a.x, a.xStride, a.k, a.k + 4 * (a.k / 32)};
    for (int64_t p = 0; p < a.nRows; p += kPanel) {
        const int n = int(a.nRows - p < kPanel ? a.nRows - p : kPanel);
        const RowSet rs = makeRowSet(a.w + uint64_t(p) * a.wStride, a.wStride, n);
        const auto mask = __mmask16((1u << n) - 1);
        float* y = a.y + p;
        const int64_t next = p + kPanel < a.nRows ? p + kPanel : a.nRows;
        const int64_t nextRows = a.nRows - next < kPanel ? a.nRows - next : kPanel;
        const uint8_t* pf = a.w + uint64_t(next) * a.wStride;
        const int64_t pfBytes = nextRows * int64_t(a.wStride);
        switch (a.m) {
        case 1: streamPanel<Dec, 1>(rs, nBlocks, av, y, a.ldy, mask, pf, pfBytes); break;
        case 2: streamPanel<Dec, 2>(rs, nBlocks, av, y, a.ldy, mask, pf, pfBytes); break;
        case 3: streamPanel<Dec, 3>(rs, nBlocks, av, y, a.ldy, mask, pf, pfBytes); break;
        case 4: streamPanel<Dec, 4>(rs, nBlocks, av, y, a.ldy, mask, pf, pfBytes); break;
        default: bufferedPanel<Dec>(rs, nBlocks, av, a.m, y, a.ldy, mask); break;
        }
    }
}

// ---- ggml's 32-value formats in ggml's summation order ----------------------
//
// Q4_0, Q4_1, Q5_0, Q5_1 and Q8_0 are summed as ggml sums them on x86
// (ggml_vec_dot_q4_1_q8_1, ggml_vec_dot_q8_0_q8_0 and llamafile's
// tinyBLAS_Q0_AVX alike), so the results are bit for bit llama.cpp's: every
// output keeps eight partial sums, one per four-value slice t of a block
// (values 4t..4t+3), each advanced once per block by an FMA with the product
// of the two F16 scales; at the end they are added as hsum_float_8 adds them,
// ((p0+p4) + (p2+p6)) + ((p1+p5) + (p3+p7)), and the min term Σ m·(d·Σq),
// summed block by block, is added last. Lanes hold 16 weight rows, so the
// eight partial sums of a row are eight registers.

template <class Dec> constexpr int kZeroShift = 0;  // log2 of the zero point (Q4_0 8, Q5_0 16, Q8_0 128)
template <> constexpr int kZeroShift<DecQ4_0> = 3;
template <> constexpr int kZeroShift<DecQ5_0> = 4;
template <> constexpr int kZeroShift<DecQ8_0> = 7;

template <int R>
struct GgmlAcc {
    __m512 part[R][8];
    __m512 min[R];
};

template <class Dec, int R>
GLASSBOX_AVX512_INLINE void ggmlBlock(const GroupRec<32>& rc, int64_t b, const ActView& av, int64_t r0,
                                      GgmlAcc<R>& acc) {
    const __m512i zero = _mm512_setzero_si512();
    for (int r = 0; r < R; ++r) {
        const uint8_t* xr = av.base + uint64_t(r0 + r) * av.stride;
        const __m512 scale = _mm512_mul_ps(rc.scale, _mm512_set1_ps(loadAs<float>(xr + av.dOff + 4 * b)));
        __m512i starts = zero;  // u = w + zeroPoint: slice t starts from -zeroPoint·Σq (lane t)
        if constexpr (!Dec::kMin) {
            const __m256i sums = _mm256_dpbusd_epi32(_mm256_setzero_si256(), _mm256_set1_epi8(1),
                                                     _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xr + 32 * b)));
            starts = _mm512_castsi256_si512(
                _mm256_sub_epi32(_mm256_setzero_si256(), _mm256_slli_epi32(sums, kZeroShift<Dec>)));
        }
        for (int t = 0; t < 8; ++t) {
            const __m512i xt = _mm512_set1_epi32(loadAs<int32_t>(xr + 32 * b + 4 * t));
            __m512i start = zero;
            if constexpr (!Dec::kMin) start = _mm512_permutexvar_epi32(_mm512_set1_epi32(t), starts);
            const __m512i dot = _mm512_dpbusd_epi32(start, rc.w[t], xt);
            acc.part[r][t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot), scale, acc.part[r][t]);
        }
        if constexpr (Dec::kMin)
            acc.min[r] = _mm512_fmadd_ps(rc.min, _mm512_set1_ps(loadAs<float>(xr + av.auxOff + 4 * b)), acc.min[r]);
    }
}

template <class Dec, int R>
GLASSBOX_AVX512_INLINE void ggmlStore(GgmlAcc<R>& acc, float* y, int64_t ldy, __mmask16 mask) {
    for (int r = 0; r < R; ++r) {
        const __m512* p = acc.part[r];
        const __m512 s02 = _mm512_add_ps(_mm512_add_ps(p[4], p[0]), _mm512_add_ps(p[6], p[2]));
        const __m512 s13 = _mm512_add_ps(_mm512_add_ps(p[5], p[1]), _mm512_add_ps(p[7], p[3]));
        __m512 v = _mm512_add_ps(s02, s13);
        if constexpr (Dec::kMin) v = _mm512_add_ps(v, acc.min[r]);
        _mm512_mask_storeu_ps(y + r * ldy, mask, v);
    }
}

template <int R>
GLASSBOX_AVX512_INLINE void ggmlZero(GgmlAcc<R>& acc) {
    for (int r = 0; r < R; ++r) {
        acc.min[r] = _mm512_setzero_ps();
        for (int t = 0; t < 8; ++t) acc.part[r][t] = _mm512_setzero_ps();
    }
}

// One or two activation rows: blocks decoded and used on the fly, the next
// panel prefetched meanwhile (as streamPanel).
template <class Dec, int R>
void ggmlStreamPanel(const RowSet& rs, int64_t nBlocks, const ActView& av, float* y, int64_t ldy,
                     __mmask16 mask, const uint8_t* prefetch, int64_t prefetchBytes) {
    GgmlAcc<R> acc;
    ggmlZero(acc);
    GroupRec<32> rec;
    const int64_t linesPerBlock = (prefetchBytes / 64 + nBlocks - 1) / nBlocks;
    for (int64_t b = 0; b < nBlocks; ++b) {
        prefetchShare(prefetch, prefetchBytes, linesPerBlock, b);
        Dec::decode(rs, b, &rec);
        ggmlBlock<Dec, R>(rec, b, av, 0, acc);
    }
    ggmlStore<Dec, R>(acc, y, ldy, mask);
}

// Activation rows [r0, r0 + R) against one panel, blocks decoded on the fly.
template <class Dec, int R>
void ggmlStreamTile(const RowSet& rs, int64_t nBlocks, const ActView& av, int64_t r0, float* y, int64_t ldy,
                    __mmask16 mask) {
    GgmlAcc<R> acc;
    ggmlZero(acc);
    GroupRec<32> rec;
    for (int64_t b = 0; b < nBlocks; ++b) {
        Dec::decode(rs, b, &rec);
        ggmlBlock<Dec, R>(rec, b, av, r0, acc);
    }
    ggmlStore<Dec, R>(acc, y + r0 * ldy, ldy, mask);
}

// More activation rows: the whole panel is decoded once onto the stack (no
// split of the sum over k, which would change its order) and swept two rows
// at a time; a panel too long for that is decoded again for every four rows.
constexpr int64_t kGgmlPanelBlocks = 96;  // 96 × 640 bytes

template <class Dec>
void ggmlBufferedPanel(const RowSet& rs, int64_t nBlocks, const ActView& av, int64_t m, float* y, int64_t ldy,
                       __mmask16 mask) {
    int64_t r0 = 0;
    if (nBlocks > kGgmlPanelBlocks) {
        for (; r0 + 4 <= m; r0 += 4) ggmlStreamTile<Dec, 4>(rs, nBlocks, av, r0, y, ldy, mask);
        for (; r0 < m; ++r0) ggmlStreamTile<Dec, 1>(rs, nBlocks, av, r0, y, ldy, mask);
        return;
    }
    GroupRec<32> buf[kGgmlPanelBlocks];
    for (int64_t b = 0; b < nBlocks; ++b) Dec::decode(rs, b, &buf[b]);
    for (; r0 + 2 <= m; r0 += 2) {
        GgmlAcc<2> acc;
        ggmlZero(acc);
        for (int64_t b = 0; b < nBlocks; ++b) ggmlBlock<Dec, 2>(buf[b], b, av, r0, acc);
        ggmlStore<Dec, 2>(acc, y + r0 * ldy, ldy, mask);
    }
    if (r0 < m) {
        GgmlAcc<1> acc;
        ggmlZero(acc);
        for (int64_t b = 0; b < nBlocks; ++b) ggmlBlock<Dec, 1>(buf[b], b, av, r0, acc);
        ggmlStore<Dec, 1>(acc, y + r0 * ldy, ldy, mask);
    }
}

template <class Dec>
void runGgml(const GemmArgs& a) {
    const int64_t nBlocks = a.k / 32;
    const ActView av{a.x, a.xStride, a.k, a.k + 4 * (a.k / 32)};
    for (int64_t p = 0; p < a.nRows; p += kPanel) {
        const int n = int(a.nRows - p < kPanel ? a.nRows - p : kPanel);
        const RowSet rs = makeRowSet(a.w + uint64_t(p) * a.wStride, a.wStride, n);
        const auto mask = __mmask16((1u << n) - 1);
        float* y = a.y + p;
        const int64_t next = p + kPanel < a.nRows ? p + kPanel : a.nRows;
        const int64_t nextRows = a.nRows - next < kPanel ? a.nRows - next : kPanel;
        const uint8_t* pf = a.w + uint64_t(next) * a.wStride;
        const int64_t pfBytes = nextRows * int64_t(a.wStride);
        if (a.m == 1) ggmlStreamPanel<Dec, 1>(rs, nBlocks, av, y, a.ldy, mask, pf, pfBytes);
        else if (a.m == 2) ggmlStreamPanel<Dec, 2>(rs, nBlocks, av, y, a.ldy, mask, pf, pfBytes);
        else ggmlBufferedPanel<Dec>(rs, nBlocks, av, a.m, y, a.ldy, mask);
    }
}

// ---- float weights ---------------------------------------------------------

template <TensorType T>
GLASSBOX_AVX512_INLINE __m512 loadWeights(const uint8_t* row, int64_t i, __mmask16 mask) {
    if constexpr (T == TensorType::F32) {
        return _mm512_maskz_loadu_ps(mask, reinterpret_cast<const float*>(row) + i);
    } else {
        const __m256i h = _mm256_maskz_loadu_epi16(mask, reinterpret_cast<const uint16_t*>(row) + i);
        if constexpr (T == TensorType::F16) return _mm512_cvtph_ps(h);
        return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
    }
}

// y for weight rows [i0, i0 + NW) x activation rows [r0, r0 + R).
template <TensorType T, int NW, int R>
void floatTile(const GemmArgs& a, int64_t i0, int64_t r0) {
    __m512 acc[NW][R];
    for (int i = 0; i < NW; ++i)
        for (int r = 0; r < R; ++r) acc[i][r] = _mm512_setzero_ps();
    for (int64_t k = 0; k < a.k; k += 16) {
        const auto mask = __mmask16(a.k - k >= 16 ? 0xffff : (1u << (a.k - k)) - 1);
        __m512 x[R];
        for (int r = 0; r < R; ++r)
            x[r] = _mm512_maskz_loadu_ps(mask, reinterpret_cast<const float*>(a.x + uint64_t(r0 + r) * a.xStride) + k);
        for (int i = 0; i < NW; ++i) {
            const __m512 w = loadWeights<T>(a.w + uint64_t(i0 + i) * a.wStride, k, mask);
            for (int r = 0; r < R; ++r) acc[i][r] = _mm512_fmadd_ps(w, x[r], acc[i][r]);
        }
    }
    for (int i = 0; i < NW; ++i)
        for (int r = 0; r < R; ++r) a.y[(r0 + r) * a.ldy + i0 + i] = _mm512_reduce_add_ps(acc[i][r]);
}

template <TensorType T, int NW>
void floatRows(const GemmArgs& a, int64_t i0) {
    int64_t r0 = 0;
    for (; r0 + 4 <= a.m; r0 += 4) floatTile<T, NW, 4>(a, i0, r0);
    for (; r0 < a.m; ++r0) floatTile<T, NW, 1>(a, i0, r0);
}

template <TensorType T>
void runFloat(const GemmArgs& a) {
    int64_t i0 = 0;
    for (; i0 + 4 <= a.nRows; i0 += 4) floatRows<T, 4>(a, i0);
    for (; i0 < a.nRows; ++i0) floatRows<T, 1>(a, i0);
}

// ---- activation quantization ---------------------------------------------

// One activation row, block by block as ggml's quantize_row_q8_0 does it
// (the absolute maxima of up to 16 blocks are taken first).
void quantizeRow(const float* x, int64_t k, uint8_t* out, const ActFormat& f) {
    auto* dOut = reinterpret_cast<float*>(out + k);
    uint8_t* aux = out + k + 4 * (k / 32);
    const int64_t nBlocks = k / 32;
    for (int64_t b0 = 0; b0 < nBlocks; b0 += 16) {
        const int nb = int(nBlocks - b0 < 16 ? nBlocks - b0 : 16);
        alignas(64) float amax[16] = {};
        for (int i = 0; i < nb; ++i) {
            const float* p = x + 32 * (b0 + i);
            amax[i] = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(_mm512_loadu_ps(p)), _mm512_abs_ps(_mm512_loadu_ps(p + 16))));
        }
        for (int i = 0; i < nb; ++i) {
            const int64_t b = b0 + i;
            const BlockScale bs = blockScale(amax[i], f.ggmlBlocks);
            dOut[b] = bs.d;
            const __m512 vmul = _mm512_set1_ps(bs.mul);
            const __m512i q0 = _mm512_cvtps_epi32(_mm512_mul_ps(_mm512_loadu_ps(x + 32 * b), vmul));
            const __m512i q1 = _mm512_cvtps_epi32(_mm512_mul_ps(_mm512_loadu_ps(x + 32 * b + 16), vmul));
            _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 32 * b), _mm512_cvtepi32_epi8(q0));
            _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 32 * b + 16), _mm512_cvtepi32_epi8(q1));
            if (f.group == 16) {
                const int32_t v[2] = {f.zeroPoint * _mm512_reduce_add_epi32(q0), f.zeroPoint * _mm512_reduce_add_epi32(q1)};
                std::memcpy(aux + 8 * b, v, 8);
            } else {
                const int32_t sum = _mm512_reduce_add_epi32(_mm512_add_epi32(q0, q1));
                if (f.minTerm) {
                    const float v = blockSumTerm(bs, sum, f.ggmlBlocks);
                    std::memcpy(aux + 4 * b, &v, 4);
                } else {
                    const int32_t v = f.zeroPoint * sum;
                    std::memcpy(aux + 4 * b, &v, 4);
                }
            }
        }
    }
}

}  // namespace

bool quantizeActRows(TensorType weightType, const float* x, int64_t m, int64_t k, uint8_t* out,
                     uint64_t stride) {
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

bool gemm(const GemmArgs& a) {
    if (a.wStride * (kPanel - 1) > uint64_t(INT32_MAX)) return false;  // gather offsets are 32-bit
    switch (a.type) {
    case TensorType::Q4_0: runGgml<DecQ4_0>(a); return true;
    case TensorType::Q4_1: runGgml<DecQ4_1>(a); return true;
    case TensorType::Q5_0: runGgml<DecQ5_0>(a); return true;
    case TensorType::Q5_1: runGgml<DecQ5_1>(a); return true;
    case TensorType::Q8_0: runGgml<DecQ8_0>(a); return true;
    case TensorType::Q4_K: runQuant<DecQ4K>(a); return true;
    case TensorType::Q5_K: runQuant<DecQ5K>(a); return true;
    case TensorType::Q6_K: runQuant<DecQ6K>(a); return true;
    case TensorType::F32: runFloat<TensorType::F32>(a); return true;
    case TensorType::F16: runFloat<TensorType::F16>(a); return true;
    case TensorType::BF16: runFloat<TensorType::BF16>(a); return true;
    default: return false;
    }
}

}  // namespace glassbox::kernels::detail::avx512

#else  // no x86 intrinsics on this target: the portable kernels are used

#include "kernels/cpu/matmul_impl.h"

namespace glassbox::kernels::detail::avx512 {
bool quantizeActRows(TensorType, const float*, int64_t, int64_t, uint8_t*, uint64_t) { return false; }
bool gemm(const GemmArgs&) { return false; }
}  // namespace glassbox::kernels::detail::avx512

#endif
