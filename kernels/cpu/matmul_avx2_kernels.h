// AVX2 matmul kernels, the 8-row counterpart of matmul_avx512.cpp (see the
// design notes there and matmul_impl.h). Included twice by matmul_avx2.cpp,
// each time inside its own namespace after it defines
//   kVnni          true when dotU8S8 is vpdpbusd (AVX-VNNI)
//   dotU8S8(acc, u, s)  acc (8 x int32) += sums of 4 products u8 * s8
// Without VNNI the products go through vpmaddubsw, which saturates past
// 32767: unsigned weights stay below 64 there, and Q8_0 weights are kept
// signed and multiplied with the sign trick instead of a zero point.

namespace {

constexpr int kPanel8 = 8;
constexpr int kMaxRows8 = 4;
constexpr int64_t kBufferBytes8 = 24 * 1024;

template <int G>
struct alignas(32) GroupRec8 {
    __m256i w[G / 4];
    __m256 scale;
    __m256 min;
};

struct RowSet8 {
    const uint8_t* row[8];
    __m256i gatherIdx;
};

template <class T>
GLASSBOX_AVX2_INLINE T loadAs(const uint8_t* p) {
    T v;
    std::memcpy(&v, p, sizeof(T));
    return v;
}

RowSet8 makeRowSet8(const uint8_t* w, uint64_t stride, int n) {
    RowSet8 rs;
    alignas(32) int32_t idx[8];
    for (int r = 0; r < kPanel8; ++r) {
        const int rr = r < n ? r : n - 1;
        rs.row[r] = w + uint64_t(rr) * stride;
        idx[r] = int32_t(uint64_t(rr) * stride);
    }
    rs.gatherIdx = _mm256_load_si256(reinterpret_cast<const __m256i*>(idx));
    return rs;
}

GLASSBOX_AVX2_INLINE __m128i load16(const uint8_t* p) { return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p)); }

// 16 bytes at `off` of each of the 8 rows, transposed: g[t] lane r = bytes 4t..4t+3 of row r.
GLASSBOX_AVX2_INLINE void load8x16T(const RowSet8& rs, int64_t off, __m256i g[4]) {
    __m256i a[4];
    for (int j = 0; j < 4; ++j) a[j] = _mm256_set_m128i(load16(rs.row[j + 4] + off), load16(rs.row[j] + off));
    const __m256i t0 = _mm256_unpacklo_epi32(a[0], a[1]), t1 = _mm256_unpackhi_epi32(a[0], a[1]);
    const __m256i t2 = _mm256_unpacklo_epi32(a[2], a[3]), t3 = _mm256_unpackhi_epi32(a[2], a[3]);
    g[0] = _mm256_unpacklo_epi64(t0, t2);
    g[1] = _mm256_unpackhi_epi64(t0, t2);
    g[2] = _mm256_unpacklo_epi64(t1, t3);
    g[3] = _mm256_unpackhi_epi64(t1, t3);
}

GLASSBOX_AVX2_INLINE __m256i gather8(const RowSet8& rs, int64_t off) {
    return _mm256_i32gather_epi32(reinterpret_cast<const int*>(rs.row[0] + off), rs.gatherIdx, 1);
}

// The low 16 bits of each 32-bit lane as halves -> floats.
GLASSBOX_AVX2_INLINE __m256 halfLo8(__m256i v) {
    const __m256i packed = _mm256_packus_epi32(_mm256_and_si256(v, _mm256_set1_epi32(0xffff)), _mm256_setzero_si256());
    return _mm256_cvtph_ps(_mm256_castsi256_si128(_mm256_permute4x64_epi64(packed, 0x08)));
}

GLASSBOX_AVX2_INLINE __m256 halfHi8(__m256i v) { return halfLo8(_mm256_srli_epi32(v, 16)); }

GLASSBOX_AVX2_INLINE void splitNibbles8(const __m256i g[4], __m256i* w) {
    const __m256i m4 = _mm256_set1_epi8(0x0f);
    for (int t = 0; t < 4; ++t) {
        w[t] = _mm256_and_si256(g[t], m4);
        w[t + 4] = _mm256_and_si256(_mm256_srli_epi16(g[t], 4), m4);
    }
}

// Adds bit j of each row's 32-bit qh word as 16 to value j (Q5_0 / Q5_1).
GLASSBOX_AVX2_INLINE void addHighBits8(__m256i qh, __m256i* w) {
    const __m256i sixteen = _mm256_set1_epi8(0x10);
    const __m256i bitsLo = _mm256_set1_epi32(0x08040201), bitsHi = _mm256_set1_epi32(int(0x80402010u));
    for (int k = 0; k < 4; ++k) {
        const int rep = k * 0x01010101;
        const __m256i ctrl = _mm256_setr_epi32(rep, 0x04040404 + rep, 0x08080808 + rep, 0x0c0c0c0c + rep, rep,
                                               0x04040404 + rep, 0x08080808 + rep, 0x0c0c0c0c + rep);
        const __m256i b = _mm256_shuffle_epi8(qh, ctrl);
        const __m256i lo = _mm256_cmpeq_epi8(_mm256_and_si256(b, bitsLo), bitsLo);
        const __m256i hi = _mm256_cmpeq_epi8(_mm256_and_si256(b, bitsHi), bitsHi);
        w[2 * k] = _mm256_or_si256(w[2 * k], _mm256_and_si256(lo, sixteen));
        w[2 * k + 1] = _mm256_or_si256(w[2 * k + 1], _mm256_and_si256(hi, sixteen));
    }
}

struct Dec8Q4_0 {
    static constexpr int kG = 32, kGroups = 1, kBlockBytes = 18, kBlockElems = 32;
    static constexpr bool kMin = false, kSigned = false;
    static GLASSBOX_AVX2_INLINE void decode(const RowSet8& rs, int64_t b, GroupRec8<32>* out) {
        const int64_t off = b * kBlockBytes;
        __m256i g[4];
        load8x16T(rs, off + 2, g);
        splitNibbles8(g, out->w);
        out->scale = halfLo8(gather8(rs, off));
    }
};

struct Dec8Q4_1 {
    static constexpr int kG = 32, kGroups = 1, kBlockBytes = 20, kBlockElems = 32;
    static constexpr bool kMin = true, kSigned = false;
    static GLASSBOX_AVX2_INLINE void decode(const RowSet8& rs, int64_t b, GroupRec8<32>* out) {
        const int64_t off = b * kBlockBytes;
        __m256i g[4];
        load8x16T(rs, off + 4, g);
        splitNibbles8(g, out->w);
        const __m256i h = gather8(rs, off);
        out->scale = halfLo8(h);
        out->min = halfHi8(h);
    }
};

struct Dec8Q5_0 {
    static constexpr int kG = 32, kGroups = 1, kBlockBytes = 22, kBlockElems = 32;
    static constexpr bool kMin = false, kSigned = false;
    static GLASSBOX_AVX2_INLINE void decode(const RowSet8& rs, int64_t b, GroupRec8<32>* out) {
        const int64_t off = b * kBlockBytes;
        __m256i g[4];
        load8x16T(rs, off + 6, g);
        splitNibbles8(g, out->w);
        addHighBits8(gather8(rs, off + 2), out->w);
        out->scale = halfLo8(gather8(rs, off));
    }
};

struct Dec8Q5_1 {
    static constexpr int kG = 32, kGroups = 1, kBlockBytes = 24, kBlockElems = 32;
    static constexpr bool kMin = true, kSigned = false;
    static GLASSBOX_AVX2_INLINE void decode(const RowSet8& rs, int64_t b, GroupRec8<32>* out) {
        const int64_t off = b * kBlockBytes;
        __m256i g[4];
        load8x16T(rs, off + 8, g);
        splitNibbles8(g, out->w);
        addHighBits8(gather8(rs, off + 4), out->w);
        const __m256i h = gather8(rs, off);
        out->scale = halfLo8(h);
        out->min = halfHi8(h);
    }
};

// With VNNI: u = q + 128 and the activation's zero-point sum; without: signed q.
struct Dec8Q8_0 {
    static constexpr int kG = 32, kGroups = 1, kBlockBytes = 34, kBlockElems = 32;
    static constexpr bool kMin = false, kSigned = !kVnni;
    static GLASSBOX_AVX2_INLINE void decode(const RowSet8& rs, int64_t b, GroupRec8<32>* out) {
        const int64_t off = b * kBlockBytes;
        const __m256i flip = _mm256_set1_epi8(kVnni ? char(0x80) : 0);
        __m256i g[4];
        load8x16T(rs, off + 2, g);
        for (int t = 0; t < 4; ++t) out->w[t] = _mm256_xor_si256(g[t], flip);
        load8x16T(rs, off + 18, g);
        for (int t = 0; t < 4; ++t) out->w[t + 4] = _mm256_xor_si256(g[t], flip);
        out->scale = halfLo8(gather8(rs, off));
    }
};

GLASSBOX_AVX2_INLINE void kScales8(const RowSet8& rs, int64_t off, GroupRec8<32>* out) {
    const __m256i h = gather8(rs, off);
    const __m256 d = halfLo8(h), dmin = halfHi8(h);
    const __m256i s0 = gather8(rs, off + 4), s1 = gather8(rs, off + 8), s2 = gather8(rs, off + 12);
    const __m256i m6 = _mm256_set1_epi32(63), m4 = _mm256_set1_epi32(15), m2 = _mm256_set1_epi32(3);
    for (int j = 0; j < 8; ++j) {
        __m256i sc, mn;
        if (j < 4) {
            sc = _mm256_and_si256(_mm256_srli_epi32(s0, 8 * j), m6);
            mn = _mm256_and_si256(_mm256_srli_epi32(s1, 8 * j), m6);
        } else {
            const int jj = 8 * (j - 4);
            sc = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi32(s2, jj), m4),
                                 _mm256_slli_epi32(_mm256_and_si256(_mm256_srli_epi32(s0, jj + 6), m2), 4));
            mn = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi32(s2, jj + 4), m4),
                                 _mm256_slli_epi32(_mm256_and_si256(_mm256_srli_epi32(s1, jj + 6), m2), 4));
        }
        out[j].scale = _mm256_mul_ps(d, _mm256_cvtepi32_ps(sc));
        out[j].min = _mm256_sub_ps(_mm256_setzero_ps(), _mm256_mul_ps(dmin, _mm256_cvtepi32_ps(mn)));
    }
}

template <bool kFiveBit>
struct Dec8Q45K {
    static constexpr int kG = 32, kGroups = 8, kBlockBytes = kFiveBit ? 176 : 144, kBlockElems = 256;
    static constexpr bool kMin = true, kSigned = false;
    static GLASSBOX_AVX2_INLINE void decode(const RowSet8& rs, int64_t b, GroupRec8<32>* out) {
        const int64_t off = b * kBlockBytes;
        const __m256i m4 = _mm256_set1_epi8(0x0f), bit4 = _mm256_set1_epi8(0x10);
        const int64_t qsOff = off + (kFiveBit ? 48 : 16);
        for (int p = 0; p < 4; ++p) {
            __m256i g[4];
            for (int half = 0; half < 2; ++half) {
                load8x16T(rs, qsOff + 32 * p + 16 * half, g);
                for (int t = 0; t < 4; ++t) {
                    out[2 * p].w[t + 4 * half] = _mm256_and_si256(g[t], m4);
                    out[2 * p + 1].w[t + 4 * half] = _mm256_and_si256(_mm256_srli_epi16(g[t], 4), m4);
                }
            }
        }
        if (kFiveBit) {
            __m256i qh[8];
            load8x16T(rs, off + 16, qh);
            load8x16T(rs, off + 32, qh + 4);
            for (int j = 0; j < 8; ++j)
                for (int t = 0; t < 8; ++t) {
                    const __m256i h = j <= 4 ? _mm256_slli_epi16(qh[t], 4 - j) : _mm256_srli_epi16(qh[t], j - 4);
                    out[j].w[t] = _mm256_or_si256(out[j].w[t], _mm256_and_si256(h, bit4));
                }
        }
        kScales8(rs, off, out);
    }
};

struct Dec8Q6K {
    static constexpr int kG = 16, kGroups = 16, kBlockBytes = 210, kBlockElems = 256;
    static constexpr bool kMin = false, kSigned = false;
    static GLASSBOX_AVX2_INLINE void decode(const RowSet8& rs, int64_t b, GroupRec8<16>* out) {
        const int64_t off = b * kBlockBytes;
        const __m256i m4 = _mm256_set1_epi8(0x0f), bits45 = _mm256_set1_epi8(0x30);
        for (int n = 0; n < 2; ++n)
            for (int h = 0; h < 2; ++h) {
                __m256i ql0[4], ql1[4], qh[4];
                load8x16T(rs, off + 64 * n + 16 * h, ql0);
                load8x16T(rs, off + 64 * n + 32 + 16 * h, ql1);
                load8x16T(rs, off + 128 + 32 * n + 16 * h, qh);
                for (int s = 0; s < 4; ++s)
                    for (int t = 0; t < 4; ++t) {
                        const __m256i src = (s & 1) ? ql1[t] : ql0[t];
                        const __m256i lo = _mm256_and_si256(s >= 2 ? _mm256_srli_epi16(src, 4) : src, m4);
                        const __m256i hi = s == 3 ? _mm256_srli_epi16(qh[t], 2) : _mm256_slli_epi16(qh[t], 4 - 2 * s);
                        out[8 * n + 2 * s + h].w[t] = _mm256_or_si256(lo, _mm256_and_si256(hi, bits45));
                    }
            }
        const __m256 d = halfHi8(gather8(rs, off + 206));
        for (int q = 0; q < 4; ++q) {
            const __m256i s = gather8(rs, off + 192 + 4 * q);
            for (int i = 0; i < 4; ++i) {
                const __m256i sc = _mm256_srai_epi32(_mm256_slli_epi32(s, 24 - 8 * i), 24);
                out[4 * q + i].scale = _mm256_mul_ps(d, _mm256_cvtepi32_ps(sc));
            }
        }
    }
};

struct ActView8 {
    const uint8_t* base;
    uint64_t stride;
    int64_t dOff, auxOff;
};

template <int G, bool kMin, bool kSigned, int R>
GLASSBOX_AVX2_INLINE void accumulate8(const GroupRec8<G>* recs, int64_t n, int64_t g0, const ActView8& av, int64_t r0,
                                      __m256 (&acc)[R]) {
    const uint8_t* xr[R];
    for (int r = 0; r < R; ++r) xr[r] = av.base + uint64_t(r0 + r) * av.stride;
    for (int64_t g = 0; g < n; ++g) {
        const GroupRec8<G>& rc = recs[g];
        const int64_t gg = g0 + g;
        // C independent accumulation chains per activation row (vpdpbusd has latency 5)
        constexpr int C = R >= 4 ? 1 : (R == 1 ? 4 : 2);
        __m256i ia[R][C];
        for (int r = 0; r < R; ++r)
            for (int c = 0; c < C; ++c) ia[r][c] = _mm256_setzero_si256();
        for (int t = 0; t < G / 4; ++t) {
            const __m256i w = _mm256_load_si256(&rc.w[t]);
            const __m256i wu = kSigned ? _mm256_sign_epi8(w, w) : w;
            for (int r = 0; r < R; ++r) {
                __m256i x = _mm256_set1_epi32(loadAs<int32_t>(xr[r] + gg * G + 4 * t));
                if (kSigned) x = _mm256_sign_epi8(x, w);
                ia[r][t % C] = dotU8S8(ia[r][t % C], wu, x);
            }
        }
        for (int r = 0; r < R; ++r) {
            __m256i v = ia[r][0];
            for (int c = 1; c < C; ++c) v = _mm256_add_epi32(v, ia[r][c]);
            if (!kMin && !kSigned) v = _mm256_sub_epi32(v, _mm256_set1_epi32(loadAs<int32_t>(xr[r] + av.auxOff + 4 * gg)));
            const __m256 da = _mm256_set1_ps(loadAs<float>(xr[r] + av.dOff + 4 * ((gg * G) / 32)));
            acc[r] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(v), _mm256_mul_ps(rc.scale, da), acc[r]);
            if (kMin) acc[r] = _mm256_fmadd_ps(rc.min, _mm256_set1_ps(loadAs<float>(xr[r] + av.auxOff + 4 * gg)), acc[r]);
        }
    }
}

template <int R>
GLASSBOX_AVX2_INLINE void storeRows8(__m256 (&acc)[R], float* y, int64_t ldy, int n, bool add) {
    for (int r = 0; r < R; ++r) {
        float* p = y + r * ldy;
        if (n == kPanel8) {
            _mm256_storeu_ps(p, add ? _mm256_add_ps(acc[r], _mm256_loadu_ps(p)) : acc[r]);
        } else {
            alignas(32) float tmp[8];
            _mm256_store_ps(tmp, acc[r]);
            for (int i = 0; i < n; ++i) p[i] = add ? p[i] + tmp[i] : tmp[i];
        }
    }
}

// Decode-as-you-go product of one panel with R activation rows, prefetching
// the next panel [prefetch, prefetch + prefetchBytes) meanwhile.
template <class Dec, int R>
void streamPanel8(const RowSet8& rs, int64_t nBlocks, const ActView8& av, float* y, int64_t ldy, int n,
                  const uint8_t* prefetch, int64_t prefetchBytes) {
    GroupRec8<Dec::kG> rec[Dec::kGroups];
    __m256 acc[R];
    for (int r = 0; r < R; ++r) acc[r] = _mm256_setzero_ps();
    const int64_t linesPerBlock = (prefetchBytes / 64 + nBlocks - 1) / nBlocks;
    for (int64_t b = 0; b < nBlocks; ++b) {
        for (int64_t i = 0; i < linesPerBlock; ++i) {
            const int64_t off = (b * linesPerBlock + i) * 64;
            if (off < prefetchBytes) _mm_prefetch(reinterpret_cast<const char*>(prefetch + off), _MM_HINT_T0);
        }
        Dec::decode(rs, b, rec);
        accumulate8<Dec::kG, Dec::kMin, Dec::kSigned, R>(rec, Dec::kGroups, b * Dec::kGroups, av, 0, acc);
    }
    storeRows8<R>(acc, y, ldy, n, false);
}

template <class Dec, int R>
void panelRows8(const GroupRec8<Dec::kG>* buf, int64_t nGroups, int64_t g0, const ActView8& av, int64_t r0, float* y,
                int64_t ldy, int n, bool add) {
    __m256 acc[R];
    for (int r = 0; r < R; ++r) acc[r] = _mm256_setzero_ps();
    accumulate8<Dec::kG, Dec::kMin, Dec::kSigned, R>(buf, nGroups, g0, av, r0, acc);
    storeRows8<R>(acc, y + r0 * ldy, ldy, n, add);
}

template <class Dec>
void bufferedPanel8(const RowSet8& rs, int64_t nBlocks, const ActView8& av, int64_t m, float* y, int64_t ldy, int n) {
    using Rec = GroupRec8<Dec::kG>;
    constexpr int64_t kMaxBlocks = kBufferBytes8 / int64_t(sizeof(Rec) * Dec::kGroups);
    Rec buf[kMaxBlocks * Dec::kGroups];
    const int64_t nChunks = (nBlocks + kMaxBlocks - 1) / kMaxBlocks;
    const int64_t chunk = (nBlocks + nChunks - 1) / nChunks;
    for (int64_t b0 = 0; b0 < nBlocks; b0 += chunk) {
        const int64_t b1 = b0 + chunk < nBlocks ? b0 + chunk : nBlocks;
        for (int64_t b = b0; b < b1; ++b) Dec::decode(rs, b, buf + (b - b0) * Dec::kGroups);
        const int64_t nGroups = (b1 - b0) * Dec::kGroups, g0 = b0 * Dec::kGroups;
        const bool add = b0 > 0;
        int64_t r0 = 0;
        for (; r0 + kMaxRows8 <= m; r0 += kMaxRows8) panelRows8<Dec, kMaxRows8>(buf, nGroups, g0, av, r0, y, ldy, n, add);
        switch (m - r0) {
        case 3: panelRows8<Dec, 3>(buf, nGroups, g0, av, r0, y, ldy, n, add); break;
        case 2: panelRows8<Dec, 2>(buf, nGroups, g0, av, r0, y, ldy, n, add); break;
        case 1: panelRows8<Dec, 1>(buf, nGroups, g0, av, r0, y, ldy, n, add); break;
        default: break;
        }
    }
}

template <class Dec>
void runQuant8(const GemmArgs& a) {
    const int64_t nBlocks = a.k / Dec::kBlockElems;
    const ActView8 av{a.x, a.xStride, a.k, a.k + 4 * (a.k / 32)};
    for (int64_t p = 0; p < a.nRows; p += kPanel8) {
        const int n = int(a.nRows - p < kPanel8 ? a.nRows - p : kPanel8);
        const RowSet8 rs = makeRowSet8(a.w + uint64_t(p) * a.wStride, a.wStride, n);
        float* y = a.y + p;
        const int64_t next = p + kPanel8 < a.nRows ? p + kPanel8 : a.nRows;
        const uint8_t* pf = a.w + uint64_t(next) * a.wStride;
        const int64_t pfBytes = (a.nRows - next < kPanel8 ? a.nRows - next : kPanel8) * int64_t(a.wStride);
        switch (a.m) {
        case 1: streamPanel8<Dec, 1>(rs, nBlocks, av, y, a.ldy, n, pf, pfBytes); break;
        case 2: streamPanel8<Dec, 2>(rs, nBlocks, av, y, a.ldy, n, pf, pfBytes); break;
        case 3: streamPanel8<Dec, 3>(rs, nBlocks, av, y, a.ldy, n, pf, pfBytes); break;
        case 4: streamPanel8<Dec, 4>(rs, nBlocks, av, y, a.ldy, n, pf, pfBytes); break;
        default: bufferedPanel8<Dec>(rs, nBlocks, av, a.m, y, a.ldy, n); break;
        }
    }
}

bool gemmQuant(const GemmArgs& a) {
    if (a.wStride * (kPanel8 - 1) > uint64_t(INT32_MAX)) return false;  // gather offsets are 32-bit
    switch (a.type) {
    case TensorType::Q4_0: runQuant8<Dec8Q4_0>(a); return true;
    case TensorType::Q4_1: runQuant8<Dec8Q4_1>(a); return true;
    case TensorType::Q5_0: runQuant8<Dec8Q5_0>(a); return true;
    case TensorType::Q5_1: runQuant8<Dec8Q5_1>(a); return true;
    case TensorType::Q8_0: runQuant8<Dec8Q8_0>(a); return true;
    case TensorType::Q4_K: runQuant8<Dec8Q45K<false>>(a); return true;
    case TensorType::Q5_K: runQuant8<Dec8Q45K<true>>(a); return true;
    case TensorType::Q6_K: runQuant8<Dec8Q6K>(a); return true;
    default: return false;
    }
}

}  // namespace
