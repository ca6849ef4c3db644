// Portable matmul kernels: the A8 activation quantizer and a straightforward
// row-by-row product that decodes each weight group to (u, scale, min) — the
// same decomposition the SIMD kernels use, so it is their reference.
#if defined(__clang__)
#pragma clang fp contract(off)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

#include <cmath>
#include <cstring>

#include "kernels/cpu/matmul_impl.h"
#include "kernels/cpu/quant_impl.h"

namespace glassbox::kernels::detail {

using namespace engine;

ActFormat actFormat(TensorType t) {
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

BlockScale blockScale(float amax, bool ggmlBlocks) {
    BlockScale s;
    s.dRaw = amax / 127.0f;
    s.d = ggmlBlocks ? scalar::halfToFloat(scalar::floatToHalf(s.dRaw)) : s.dRaw;
    s.mul = amax != 0.0f ? 127.0f / amax : 0.0f;
    return s;
}

float blockSumTerm(const BlockScale& s, int32_t sumQ, bool ggmlBlocks) {
    const float v = s.dRaw * float(sumQ);
    return ggmlBlocks ? scalar::halfToFloat(scalar::floatToHalf(v)) : v;
}

uint64_t actRowBytes(TensorType t, int64_t k) {
    const ActFormat f = actFormat(t);
    if (!f.quantized) return uint64_t(k) * 4;
    const uint64_t bytes = uint64_t(k) + 4 * uint64_t(k / 32) + 4 * uint64_t(k / f.group);
    return (bytes + 63) & ~uint64_t(63);
}

namespace scalar {
namespace {

struct GroupValues {
    uint8_t u[32];
    float scale = 0;
    float min = 0;
};

void nibbles(const uint8_t* qs, uint8_t* u) {
    for (int j = 0; j < 16; ++j) {
        u[j] = qs[j] & 0xf;
        u[j + 16] = qs[j] >> 4;
    }
}

void addHighBits(const uint8_t* qhBytes, uint8_t* u) {
    uint32_t qh;
    std::memcpy(&qh, qhBytes, 4);
    for (int j = 0; j < 32; ++j) u[j] = uint8_t(u[j] | (((qh >> j) & 1) << 4));
}

void kScaleMin(int j, const uint8_t* q, int& d, int& m) {
    if (j < 4) {
        d = q[j] & 63;
        m = q[j + 4] & 63;
    } else {
        d = (q[j + 4] & 0xf) | ((q[j - 4] >> 6) << 4);
        m = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
    }
}

void decodeKGroup(const uint8_t* sb, int j, bool fiveBit, GroupValues& g) {
    const uint8_t* scales = sb + 4;
    const uint8_t* qh = sb + 16;
    const uint8_t* qs = sb + (fiveBit ? 48 : 16) + 32 * (j / 2);
    for (int l = 0; l < 32; ++l) {
        int v = (qs[l] >> (4 * (j & 1))) & 0xf;
        if (fiveBit) v |= ((qh[l] >> j) & 1) << 4;
        g.u[l] = uint8_t(v);
    }
    int sc, m;
    kScaleMin(j, scales, sc, m);
    uint16_t d, dmin;
    std::memcpy(&d, sb, 2);
    std::memcpy(&dmin, sb + 2, 2);
    g.scale = halfToFloat(d) * float(sc);
    g.min = -(halfToFloat(dmin) * float(m));
}

void decodeQ6KGroup(const uint8_t* sb, int j, GroupValues& g) {
    const uint8_t* ql = sb;
    const uint8_t* qh = sb + 128;
    const auto* sc = reinterpret_cast<const int8_t*>(sb + 192);
    for (int i = 0; i < 16; ++i) {
        const int v = 16 * j + i;
        const int n = v / 128, s = (v % 128) / 32, l = v % 32;
        const uint8_t lo = ql[64 * n + 32 * (s & 1) + l];
        const int q = ((lo >> (4 * (s >> 1))) & 0xf) | (((qh[32 * n + l] >> (2 * s)) & 3) << 4);
        g.u[i] = uint8_t(q);
    }
    uint16_t d;
    std::memcpy(&d, sb + 208, 2);
    g.scale = halfToFloat(d) * float(sc[j]);
}

void decodeGroup(TensorType t, const uint8_t* row, int64_t g, GroupValues& out) {
    uint16_t d, m;
    switch (t) {
    case TensorType::Q4_0: {
        const uint8_t* b = row + g * 18;
        std::memcpy(&d, b, 2);
        nibbles(b + 2, out.u);
        out.scale = halfToFloat(d);
        break;
    }
    case TensorType::Q4_1: {
        const uint8_t* b = row + g * 20;
        std::memcpy(&d, b, 2);
        std::memcpy(&m, b + 2, 2);
        nibbles(b + 4, out.u);
        out.scale = halfToFloat(d);
        out.min = halfToFloat(m);
        break;
    }
    case TensorType::Q5_0: {
        const uint8_t* b = row + g * 22;
        std::memcpy(&d, b, 2);
        nibbles(b + 6, out.u);
        addHighBits(b + 2, out.u);
        out.scale = halfToFloat(d);
        break;
    }
    case TensorType::Q5_1: {
        const uint8_t* b = row + g * 24;
        std::memcpy(&d, b, 2);
        std::memcpy(&m, b + 2, 2);
        nibbles(b + 8, out.u);
        addHighBits(b + 4, out.u);
        out.scale = halfToFloat(d);
        out.min = halfToFloat(m);
        break;
    }
    case TensorType::Q8_0: {
        const uint8_t* b = row + g * 34;
        std::memcpy(&d, b, 2);
        for (int j = 0; j < 32; ++j) out.u[j] = uint8_t(b[2 + j] ^ 0x80);
        out.scale = halfToFloat(d);
        break;
    }
    case TensorType::Q4_K: decodeKGroup(row + (g / 8) * 144, int(g % 8), false, out); break;
    case TensorType::Q5_K: decodeKGroup(row + (g / 8) * 176, int(g % 8), true, out); break;
    case TensorType::Q6_K: decodeQ6KGroup(row + (g / 16) * 210, int(g % 16), out); break;
    default: break;
    }
}

float quantRowDot(const GemmArgs& a, const ActFormat& f, const uint8_t* wRow, const uint8_t* xRow) {
    const int G = f.group;
    const auto* q = reinterpret_cast<const int8_t*>(xRow);
    const auto* d = reinterpret_cast<const float*>(xRow + a.k);
    const uint8_t* aux = xRow + a.k + 4 * (a.k / 32);
    float sum = 0;
    GroupValues gv;
    for (int64_t g = 0; g < a.k / G; ++g) {
        decodeGroup(a.type, wRow, g, gv);
        int dot = 0;
        for (int j = 0; j < G; ++j) dot += int(gv.u[j]) * q[g * G + j];
        const float da = d[(g * G) / 32];
        if (f.minTerm) {
            float dsum;
            std::memcpy(&dsum, aux + 4 * g, 4);
            sum += float(dot) * (gv.scale * da) + gv.min * dsum;
        } else {
            int32_t corr;
            std::memcpy(&corr, aux + 4 * g, 4);
            sum += float(dot - corr) * (gv.scale * da);
        }
    }
    return sum;
}

// ggml's order for its 32-value formats (see matmul_avx512.cpp): eight
// partial sums per output, one per four-value slice of a block, each
// advanced by one FMA per block; added as hsum_float_8 adds them, then the
// min term summed block by block.
float ggmlRowDot(const GemmArgs& a, const ActFormat& f, const uint8_t* wRow, const uint8_t* xRow) {
    const auto* q = reinterpret_cast<const int8_t*>(xRow);
    const auto* d = reinterpret_cast<const float*>(xRow + a.k);
    const uint8_t* aux = xRow + a.k + 4 * (a.k / 32);
    float part[8] = {}, minSum = 0;
    GroupValues gv;
    for (int64_t b = 0; b < a.k / 32; ++b) {
        decodeGroup(a.type, wRow, b, gv);
        const float scale = gv.scale * d[b];
        for (int t = 0; t < 8; ++t) {
            int32_t dot = 0;
            for (int j = 4 * t; j < 4 * t + 4; ++j) dot += (int32_t(gv.u[j]) - (f.minTerm ? 0 : f.zeroPoint)) * q[32 * b + j];
            part[t] = std::fma(float(dot), scale, part[t]);
        }
        if (f.minTerm) {
            float dsum;
            std::memcpy(&dsum, aux + 4 * b, 4);
            minSum = std::fma(gv.min, dsum, minSum);
        }
    }
    const float sum = ((part[4] + part[0]) + (part[6] + part[2])) + ((part[5] + part[1]) + (part[7] + part[3]));
    return f.minTerm ? sum + minSum : sum;
}

}  // namespace

void quantizeActRows(TensorType weightType, const float* x, int64_t m, int64_t k, uint8_t* out,
                     uint64_t stride) {
    const ActFormat f = actFormat(weightType);
    for (int64_t r = 0; r < m; ++r, x += k) {
        uint8_t* row = out + r * stride;
        auto* q = reinterpret_cast<int8_t*>(row);
        auto* dOut = reinterpret_cast<float*>(row + k);
        uint8_t* aux = row + k + 4 * (k / 32);
        for (int64_t b = 0; b < k / 32; ++b) {
            float amax = 0;
            for (int j = 0; j < 32; ++j) {
                const float v = std::fabs(x[b * 32 + j]);
                amax = amax > v ? amax : v;
            }
            const BlockScale bs = blockScale(amax, f.ggmlBlocks);
            dOut[b] = bs.d;
            for (int j = 0; j < 32; ++j) q[b * 32 + j] = int8_t(std::nearbyint(x[b * 32 + j] * bs.mul));
            for (int g = 0; g < 32 / f.group; ++g) {
                int32_t sum = 0;
                for (int j = 0; j < f.group; ++j) sum += q[b * 32 + g * f.group + j];
                const int64_t at = (b * 32) / f.group + g;
                if (f.minTerm) {
                    const float v = blockSumTerm(bs, sum, f.ggmlBlocks);
                    std::memcpy(aux + 4 * at, &v, 4);
                } else {
                    const int32_t v = f.zeroPoint * sum;
                    std::memcpy(aux + 4 * at, &v, 4);
                }
            }
        }
        const uint64_t used = uint64_t(k) + 4 * uint64_t(k / 32) + 4 * uint64_t(k / f.group);
        if (stride > used) std::memset(row + used, 0, stride - used);
    }
}

void gemm(const GemmArgs& a) {
    const ActFormat f = actFormat(a.type);
    if (!f.quantized) {
        const VecDotFn dot = vecDotFor(a.type);
        for (int64_t r = 0; r < a.m; ++r)
            for (int64_t i = 0; i < a.nRows; ++i)
                a.y[r * a.ldy + i] = dot(a.w + i * a.wStride, a.x + r * a.xStride, a.k);
        return;
    }
    for (int64_t r = 0; r < a.m; ++r)
        for (int64_t i = 0; i < a.nRows; ++i)
            a.y[r * a.ldy + i] = f.ggmlBlocks ? ggmlRowDot(a, f, a.w + i * a.wStride, a.x + r * a.xStride)
                                              : quantRowDot(a, f, a.w + i * a.wStride, a.x + r * a.xStride);
}

}  // namespace scalar
}  // namespace glassbox::kernels::detail
