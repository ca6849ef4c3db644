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

#include <cmath>
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

// ---- ggml's 32-value formats in ggml's order ---------------------------------
//
// As ggml_vec_dot_*_q8_0 / q8_1 on AVX2 (see matmul_avx512.cpp): per output an
// 8-lane accumulator, lane t the sum of values 4t..4t+3 of a block, one FMA per
// block by d_w·d_a; hsum8, then the min term summed block by block. Each weight
// block is decoded once and met by every activation row.

GLASSBOX_AVX2_INLINE float half(const uint8_t* p) {
    uint16_t h;
    std::memcpy(&h, p, 2);
    return _cvtsh_ss(h);
}

// Values 0..15 of 16 packed nibble pairs, low nibbles first (ggml's order).
GLASSBOX_AVX2_INLINE __m256i nibbles32(const uint8_t* qs) {
    const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qs));
    return _mm256_and_si256(_mm256_set1_epi8(0x0f), _mm256_inserti128_si256(_mm256_castsi128_si256(x), _mm_srli_epi16(x, 4), 1));
}

// 16 where bit j of the 32-bit word at qh is set, for byte j.
GLASSBOX_AVX2_INLINE __m256i highBits32(const uint8_t* qh) {
    uint32_t x32;
    std::memcpy(&x32, qh, 4);
    const __m256i shuf = _mm256_set_epi64x(0x0303030303030303, 0x0202020202020202, 0x0101010101010101, 0);
    const __m256i bytes = _mm256_or_si256(_mm256_shuffle_epi8(_mm256_set1_epi32(int(x32)), shuf),
                                          _mm256_set1_epi64x(0x7fbfdfeff7fbfdfe));
    return _mm256_and_si256(_mm256_cmpeq_epi8(bytes, _mm256_set1_epi64x(-1)), _mm256_set1_epi8(0x10));
}

// Block b of a weight row as signed bytes (u - zeroPoint, or u for the min
// formats), with its scale and min.
GLASSBOX_AVX2_INLINE __m256i decodeGgmlBlock(TensorType t, const uint8_t* row, int64_t b, float& d, float& m) {
    switch (t) {
    case TensorType::Q8_0: {
        const uint8_t* p = row + b * 34;
        d = half(p);
        return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 2));
    }
    case TensorType::Q4_0: {
        const uint8_t* p = row + b * 18;
        d = half(p);
        return _mm256_sub_epi8(nibbles32(p + 2), _mm256_set1_epi8(8));
    }
    case TensorType::Q4_1: {
        const uint8_t* p = row + b * 20;
        d = half(p);
        m = half(p + 2);
        return nibbles32(p + 4);
    }
    case TensorType::Q5_0: {
        const uint8_t* p = row + b * 22;
        d = half(p);
        return _mm256_sub_epi8(_mm256_or_si256(nibbles32(p + 6), highBits32(p + 2)), _mm256_set1_epi8(16));
    }
    default: {  // Q5_1
        const uint8_t* p = row + b * 24;
        d = half(p);
        m = half(p + 2);
        return _mm256_or_si256(nibbles32(p + 8), highBits32(p + 4));
    }
    }
}

// Weight row `row` against activation rows [r0, r0 + R), accumulators in registers.
template <int R>
void ggmlRowTile(const GemmArgs& a, bool minTerm, const uint8_t* row, int64_t i, int64_t r0) {
    const __m256i ones = _mm256_set1_epi16(1);
    const int64_t nBlocks = a.k / 32, auxOff = a.k + 4 * (a.k / 32);
    __m256 acc[R];
    float mins[R];
    for (int r = 0; r < R; ++r) {
        acc[r] = _mm256_setzero_ps();
        mins[r] = 0.0f;
    }
    for (int64_t b = 0; b < nBlocks; ++b) {
        float dw = 0, mw = 0;
        const __m256i ws = decodeGgmlBlock(a.type, row, b, dw, mw);
        const __m256i ax = _mm256_sign_epi8(ws, ws);
        for (int r = 0; r < R; ++r) {
            const uint8_t* xr = a.x + uint64_t(r0 + r) * a.xStride;
            const __m256i qy = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xr + 32 * b));
            const __m256i dot = _mm256_madd_epi16(ones, _mm256_maddubs_epi16(ax, _mm256_sign_epi8(qy, ws)));
            float da;
            std::memcpy(&da, xr + a.k + 4 * b, 4);
            acc[r] = _mm256_fmadd_ps(_mm256_set1_ps(dw * da), _mm256_cvtepi32_ps(dot), acc[r]);
            if (minTerm) {
                float sa;
                std::memcpy(&sa, xr + auxOff + 4 * b, 4);
                mins[r] = std::fma(mw, sa, mins[r]);
            }
        }
    }
    for (int r = 0; r < R; ++r) {
        const float sum = hsum8(acc[r]);
        a.y[(r0 + r) * a.ldy + i] = minTerm ? sum + mins[r] : sum;
    }
}

void ggmlGemm(const GemmArgs& a) {
    const bool minTerm = actFormat(a.type).minTerm;
    for (int64_t i = 0; i < a.nRows; ++i) {
        const uint8_t* row = a.w + uint64_t(i) * a.wStride;
        int64_t r0 = 0;
        for (; r0 + 4 <= a.m; r0 += 4) ggmlRowTile<4>(a, minTerm, row, i, r0);
        switch (a.m - r0) {
        case 3: ggmlRowTile<3>(a, minTerm, row, i, r0); break;
        case 2: ggmlRowTile<2>(a, minTerm, row, i, r0); break;
        case 1: ggmlRowTile<1>(a, minTerm, row, i, r0); break;
        default: break;
        }
    }
}

// ---- activation quantization ---------------------------------------------

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
        const BlockScale bs = blockScale(_mm_cvtss_f32(h), f.ggmlBlocks);
        const float d = bs.d;
        __m256i q[4];
        for (int i = 0; i < 4; ++i) q[i] = _mm256_cvtps_epi32(_mm256_mul_ps(v[i], _mm256_set1_ps(bs.mul)));
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
            const float v0 = blockSumTerm(bs, s0 + s1, f.ggmlBlocks);
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
    if (actFormat(a.type).ggmlBlocks) {
        ggmlGemm(a);
        return true;
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
