// x86 dot products on quantized blocks (weight row · activation row in
// vecDotType), shared by vec_dot_avx2.cpp and vec_dot_avx512.cpp: included
// once by each, inside its own namespace, after it defines
//   dotU8S8(acc, u, s): acc (8 x int32) += sums of 4 products u8 * s8
// (vpmaddubsw + vpmaddwd on AVX2, vpdpbusd with AVX-512 VNNI). Unsigned
// operands stay below 128 wherever vpmaddubsw could saturate. Block sums are
// exact integers; scales are applied in float per block.
// Requires <immintrin.h>, <cstring> and engine/tensor_types.h.

namespace {

using namespace engine;

GLASSBOX_SIMD_INLINE float hsum8(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

GLASSBOX_SIMD_INLINE int hsum8i(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_unpackhi_epi64(s, s));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 1));
    return _mm_cvtsi128_si32(s);
}

GLASSBOX_SIMD_INLINE float half(uint16_t h) { return _cvtsh_ss(h); }

// 16 packed bytes -> 32 values: low nibbles (elements 0..15), then high ones.
GLASSBOX_SIMD_INLINE __m256i nibbles32(const uint8_t* p) {
    const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    const __m256i v = _mm256_set_m128i(_mm_srli_epi16(x, 4), x);
    return _mm256_and_si256(v, _mm256_set1_epi8(0x0f));
}

// 0xff in byte j where bit j of the 32-bit word at p is set.
GLASSBOX_SIMD_INLINE __m256i bitsToBytes32(const uint8_t* p) {
    uint32_t bits;
    std::memcpy(&bits, p, 4);
    const __m256i spread = _mm256_shuffle_epi8(
        _mm256_set1_epi32(int(bits)),
        _mm256_set_epi64x(0x0303030303030303, 0x0202020202020202, 0x0101010101010101, 0));
    const __m256i probe = _mm256_or_si256(spread, _mm256_set1_epi64x(0x7fbfdfeff7fbfdfe));
    return _mm256_cmpeq_epi8(probe, _mm256_set1_epi8(-1));
}

GLASSBOX_SIMD_INLINE __m256i loadBytes32(const void* p) {
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
}

// signed * signed through the unsigned form: |a| * (b with a's sign).
GLASSBOX_SIMD_INLINE __m256i dotS8S8(__m256i acc, __m256i a, __m256i b) {
    return dotU8S8(acc, _mm256_sign_epi8(a, a), _mm256_sign_epi8(b, a));
}

float dotQ4_0(const void* vw, const void* va, int64_t n) {
    const auto* w = static_cast<const BlockQ4_0*>(vw);
    const auto* a = static_cast<const BlockQ8_0*>(va);
    __m256 acc = _mm256_setzero_ps();
    for (int64_t b = 0; b < n / 32; ++b) {
        const __m256i q = _mm256_sub_epi8(nibbles32(w[b].qs), _mm256_set1_epi8(8));
        const __m256i s = dotS8S8(_mm256_setzero_si256(), q, loadBytes32(a[b].qs));
        acc = _mm256_fmadd_ps(_mm256_set1_ps(half(w[b].d) * half(a[b].d)), _mm256_cvtepi32_ps(s), acc);
    }
    return hsum8(acc);
}

float dotQ4_1(const void* vw, const void* va, int64_t n) {
    const auto* w = static_cast<const BlockQ4_1*>(vw);
    const auto* a = static_cast<const BlockQ8_1*>(va);
    __m256 acc = _mm256_setzero_ps();
    float mins = 0;
    for (int64_t b = 0; b < n / 32; ++b) {
        const __m256i s = dotU8S8(_mm256_setzero_si256(), nibbles32(w[b].qs), loadBytes32(a[b].qs));
        acc = _mm256_fmadd_ps(_mm256_set1_ps(half(w[b].d) * half(a[b].d)), _mm256_cvtepi32_ps(s), acc);
        mins += half(w[b].m) * half(a[b].s);
    }
    return hsum8(acc) + mins;
}

float dotQ5_0(const void* vw, const void* va, int64_t n) {
    const auto* w = static_cast<const BlockQ5_0*>(vw);
    const auto* a = static_cast<const BlockQ8_0*>(va);
    __m256 acc = _mm256_setzero_ps();
    for (int64_t b = 0; b < n / 32; ++b) {
        // value - 16: keep the nibble where the high bit is set, else nibble | 0xf0
        const __m256i hi = _mm256_andnot_si256(bitsToBytes32(w[b].qh), _mm256_set1_epi8(char(0xf0)));
        const __m256i q = _mm256_or_si256(nibbles32(w[b].qs), hi);
        const __m256i s = dotS8S8(_mm256_setzero_si256(), q, loadBytes32(a[b].qs));
        acc = _mm256_fmadd_ps(_mm256_set1_ps(half(w[b].d) * half(a[b].d)), _mm256_cvtepi32_ps(s), acc);
    }
    return hsum8(acc);
}

float dotQ5_1(const void* vw, const void* va, int64_t n) {
    const auto* w = static_cast<const BlockQ5_1*>(vw);
    const auto* a = static_cast<const BlockQ8_1*>(va);
    __m256 acc = _mm256_setzero_ps();
    float mins = 0;
    for (int64_t b = 0; b < n / 32; ++b) {
        const __m256i hi = _mm256_and_si256(bitsToBytes32(w[b].qh), _mm256_set1_epi8(0x10));
        const __m256i q = _mm256_or_si256(nibbles32(w[b].qs), hi);
        const __m256i s = dotU8S8(_mm256_setzero_si256(), q, loadBytes32(a[b].qs));
        acc = _mm256_fmadd_ps(_mm256_set1_ps(half(w[b].d) * half(a[b].d)), _mm256_cvtepi32_ps(s), acc);
        mins += half(w[b].m) * half(a[b].s);
    }
    return hsum8(acc) + mins;
}

float dotQ8_0(const void* vw, const void* va, int64_t n) {
    const auto* w = static_cast<const BlockQ8_0*>(vw);
    const auto* a = static_cast<const BlockQ8_0*>(va);
    __m256 acc = _mm256_setzero_ps();
    for (int64_t b = 0; b < n / 32; ++b) {
        const __m256i s = dotS8S8(_mm256_setzero_si256(), loadBytes32(w[b].qs), loadBytes32(a[b].qs));
        acc = _mm256_fmadd_ps(_mm256_set1_ps(half(w[b].d) * half(a[b].d)), _mm256_cvtepi32_ps(s), acc);
    }
    return hsum8(acc);
}

// Scales and mins of the eight sub-blocks of a Q4_K / Q5_K super-block.
GLASSBOX_SIMD_INLINE void kScalesMins(const uint8_t* q, int32_t* sc, int32_t* m) {
    for (int j = 0; j < 8; ++j) {
        if (j < 4) {
            sc[j] = q[j] & 63;
            m[j] = q[j + 4] & 63;
        } else {
            sc[j] = (q[j + 4] & 0xf) | ((q[j - 4] >> 6) << 4);
            m[j] = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
        }
    }
}

// Σ_j m_j * (bsums[2j] + bsums[2j+1]) for the K-quant min term.
GLASSBOX_SIMD_INLINE int kMinSum(const int32_t* m, const int16_t* bsums) {
    int s = 0;
    for (int j = 0; j < 8; ++j) s += m[j] * (bsums[2 * j] + bsums[2 * j + 1]);
    return s;
}

template <bool kFiveBit>
float dotQ45K(const void* vw, const void* va, int64_t n) {
    const auto* a = static_cast<const BlockQ8_K*>(va);
    const auto* base = static_cast<const uint8_t*>(vw);
    const int64_t blockBytes = kFiveBit ? sizeof(BlockQ5_K) : sizeof(BlockQ4_K);
    const __m256i m4 = _mm256_set1_epi8(0x0f);
    __m256 acc = _mm256_setzero_ps();
    float minAcc = 0;
    for (int64_t b = 0; b < n / kQK_K; ++b) {
        const uint8_t* blk = base + b * blockBytes;
        uint16_t dh, dminh;
        std::memcpy(&dh, blk, 2);
        std::memcpy(&dminh, blk + 2, 2);
        int32_t sc[8], mn[8];
        kScalesMins(blk + 4, sc, mn);
        const uint8_t* qh = blk + 16;
        const uint8_t* qs = blk + (kFiveBit ? 48 : 16);
        const __m256i hbits = kFiveBit ? loadBytes32(qh) : _mm256_setzero_si256();
        __m256i sumi = _mm256_setzero_si256();
        for (int p = 0; p < 4; ++p) {
            const __m256i raw = loadBytes32(qs + 32 * p);
            __m256i lo = _mm256_and_si256(raw, m4);
            __m256i hi = _mm256_and_si256(_mm256_srli_epi16(raw, 4), m4);
            if (kFiveBit) {
                const __m256i one = _mm256_set1_epi8(1);
                lo = _mm256_or_si256(lo, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hbits, 2 * p), one), 4));
                hi = _mm256_or_si256(hi, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hbits, 2 * p + 1), one), 4));
            }
            const __m256i dLo = dotU8S8(_mm256_setzero_si256(), lo, loadBytes32(a[b].qs + 64 * p));
            const __m256i dHi = dotU8S8(_mm256_setzero_si256(), hi, loadBytes32(a[b].qs + 64 * p + 32));
            sumi = _mm256_add_epi32(sumi, _mm256_mullo_epi32(dLo, _mm256_set1_epi32(sc[2 * p])));
            sumi = _mm256_add_epi32(sumi, _mm256_mullo_epi32(dHi, _mm256_set1_epi32(sc[2 * p + 1])));
        }
        const float d = half(dh) * a[b].d;
        acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(sumi), acc);
        minAcc += half(dminh) * a[b].d * float(kMinSum(mn, a[b].bsums));
    }
    return hsum8(acc) - minAcc;
}

float dotQ6K(const void* vw, const void* va, int64_t n) {
    const auto* w = static_cast<const BlockQ6_K*>(vw);
    const auto* a = static_cast<const BlockQ8_K*>(va);
    const __m256i m4 = _mm256_set1_epi8(0x0f), m2 = _mm256_set1_epi8(3);
    __m256 acc = _mm256_setzero_ps();
    for (int64_t b = 0; b < n / kQK_K; ++b) {
        __m256i sumi = _mm256_setzero_si256();
        for (int half128 = 0; half128 < 2; ++half128) {
            const uint8_t* ql = w[b].ql + 64 * half128;
            const __m256i qh = loadBytes32(w[b].qh + 32 * half128);
            const __m256i l0 = loadBytes32(ql), l1 = loadBytes32(ql + 32);
            const __m256i q[4] = {
                _mm256_or_si256(_mm256_and_si256(l0, m4), _mm256_slli_epi16(_mm256_and_si256(qh, m2), 4)),
                _mm256_or_si256(_mm256_and_si256(l1, m4), _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2), m2), 4)),
                _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), m4), _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 4), m2), 4)),
                _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), m4), _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 6), m2), 4)),
            };
            for (int s = 0; s < 4; ++s) {
                const int8_t* y = a[b].qs + 128 * half128 + 32 * s;
                const int sub = 8 * half128 + 2 * s;
                // (q - 32) * y = q * y - 32 * y, per 16-value sub-block with its own scale
                const __m256i dq = dotU8S8(_mm256_setzero_si256(), q[s], loadBytes32(y));
                const __m256i d32 = dotU8S8(_mm256_setzero_si256(), _mm256_set1_epi8(32), loadBytes32(y));
                const __m256i scales = _mm256_set_m128i(_mm_set1_epi32(w[b].scales[sub + 1]), _mm_set1_epi32(w[b].scales[sub]));
                sumi = _mm256_add_epi32(sumi, _mm256_mullo_epi32(_mm256_sub_epi32(dq, d32), scales));
            }
        }
        acc = _mm256_fmadd_ps(_mm256_set1_ps(half(w[b].d) * a[b].d), _mm256_cvtepi32_ps(sumi), acc);
    }
    return hsum8(acc);
}

float dotF32(const void* vw, const void* va, int64_t n) {
    const auto* w = static_cast<const float*>(vw);
    const auto* a = static_cast<const float*>(va);
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        s0 = _mm256_fmadd_ps(_mm256_loadu_ps(w + i), _mm256_loadu_ps(a + i), s0);
        s1 = _mm256_fmadd_ps(_mm256_loadu_ps(w + i + 8), _mm256_loadu_ps(a + i + 8), s1);
    }
    float s = hsum8(_mm256_add_ps(s0, s1));
    for (; i < n; ++i) s += w[i] * a[i];
    return s;
}

template <bool kBf16>
GLASSBOX_SIMD_INLINE __m256 load8Half(const uint16_t* p) {
    const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    if (kBf16) return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
    return _mm256_cvtph_ps(h);
}

template <bool kBf16>
float dotHalf(const void* vw, const void* va, int64_t n) {
    const auto* w = static_cast<const uint16_t*>(vw);
    const auto* a = static_cast<const float*>(va);
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        s0 = _mm256_fmadd_ps(load8Half<kBf16>(w + i), _mm256_loadu_ps(a + i), s0);
        s1 = _mm256_fmadd_ps(load8Half<kBf16>(w + i + 8), _mm256_loadu_ps(a + i + 8), s1);
    }
    float s = hsum8(_mm256_add_ps(s0, s1));
    for (; i < n; ++i) s += (kBf16 ? bf16ToFloat(w[i]) : half(w[i])) * a[i];
    return s;
}

VecDotFn x86VecDotFor(TensorType t) {
    switch (t) {
    case TensorType::F32: return dotF32;
    case TensorType::F16: return dotHalf<false>;
    case TensorType::BF16: return dotHalf<true>;
    case TensorType::Q4_0: return dotQ4_0;
    case TensorType::Q4_1: return dotQ4_1;
    case TensorType::Q5_0: return dotQ5_0;
    case TensorType::Q5_1: return dotQ5_1;
    case TensorType::Q8_0: return dotQ8_0;
    case TensorType::Q4_K: return dotQ45K<false>;
    case TensorType::Q5_K: return dotQ45K<true>;
    case TensorType::Q6_K: return dotQ6K;
    default: return nullptr;
    }
}

}  // namespace
