// Tests for the quant kernels: quantizers and dequantizers byte-identical
// with ggml's reference (golden hashes of a deterministic input, produced by
// scripts/validate_quants.py --golden), dequantization against independent
// per-element formulas, round-trip error, and every SIMD dot product against
// the portable one at each instruction-set level the CPU has.
#include <QtTest>

#include <cmath>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "engine/tensor_types.h"
#include "kernels/cpu/cpu_features.h"
#include "kernels/cpu/quant_kernels.h"
#include "support/simd_levels.h"

using namespace glassbox;
using engine::TensorType;

using glassbox::testing::normalData;
using glassbox::testing::restoreWidestSimdLevel;
using glassbox::testing::simdLevels;

namespace {

// Same generator as det_input() in scripts/validate_quants.py.
std::vector<float> deterministicInput(int n, uint32_t seed = 12345) {
    std::vector<float> x(static_cast<size_t>(n));
    uint32_t s = seed;
    for (int i = 0; i < n; ++i) {
        s = s * 1664525u + 1013904223u;
        float v = float(s >> 8) * 0x1p-23f - 1.0f;
        const int b = i / 32;
        v = v * std::ldexp(1.0f, (b % 7) - 3);
        if (b % 5 == 4) v = v * v * v;
        if (b % 11 == 10) v = 0.0f;
        if (b % 13 == 12) v = 0.3f;
        x[size_t(i)] = v;
    }
    return x;
}

uint64_t fnv1a(const void* data, size_t n) {
    uint64_t h = 0xcbf29ce484222325ull;
    const auto* p = static_cast<const uint8_t*>(data);
    for (size_t i = 0; i < n; ++i) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

struct Golden {
    const char* type;
    uint64_t quantized;
    uint64_t dequantized;
};

// scripts/validate_quants.py --golden (ggml quantize_row_*_ref / dequantize_row_*).
constexpr Golden kGolden[] = {
    {"F16", 0x48a8666ed73a1f64ull, 0x772b0b91036fff92ull},
    {"BF16", 0x27a62c4237110b81ull, 0x3532182fd94d1c31ull},
    {"Q4_0", 0x77479534e9801dbbull, 0x4f7450ee1162f576ull},
    {"Q4_1", 0xe212bbe528ba20d4ull, 0xdc411edff4060d9aull},
    {"Q5_0", 0x1f70011f3115b05full, 0x4a0d058ad0fc573dull},
    {"Q5_1", 0xd09b3f655121f821ull, 0x76906d5f285f6169ull},
    {"Q8_0", 0x1d88d75999afe415ull, 0x2aad58ff9c299896ull},
    {"Q8_1", 0x83074bb9f2735339ull, 0x2aad58ff9c299896ull},
    {"Q4_K", 0x45a53b061141977bull, 0xa3784972ea84337full},
    {"Q5_K", 0x8a3c25d2cfabd66bull, 0x01810c504f4bfe40ull},
    {"Q6_K", 0xab97e5f10b94c3e3ull, 0x634e4b6eefe1d671ull},
    {"Q8_K", 0xc080458513907b39ull, 0x25320a2f54b0f65eull},
};

const TensorType kWeightTypes[] = {TensorType::F32,  TensorType::F16,  TensorType::BF16, TensorType::Q4_0,
                                   TensorType::Q4_1, TensorType::Q5_0, TensorType::Q5_1, TensorType::Q8_0,
                                   TensorType::Q4_K, TensorType::Q5_K, TensorType::Q6_K};

std::string nameOf(TensorType t) { return std::string(engine::tensorTypeName(t)); }

std::vector<uint8_t> quantized(TensorType t, const std::vector<float>& x) {
    std::vector<uint8_t> q(size_t(*engine::rowBytes(t, x.size())));
    if (!kernels::quantizeRow(t, x.data(), q.data(), int64_t(x.size()))) qFatal("quantizeRow failed");
    return q;
}

std::vector<float> dequantized(TensorType t, const std::vector<uint8_t>& q, int64_t n) {
    std::vector<float> d(static_cast<size_t>(n));
    kernels::dequantizeRow(t, q.data(), d.data(), n);
    return d;
}

// The SIMD levels this CPU offers, widest first, then "scalar".
std::vector<std::string> availableLevels() {
    std::vector<std::string> levels;
    for (const char* l : {"avx512", "avx2-vnni", "avx2"})
        if (kernels::limitSimdLevel(l)) levels.push_back(l);
    levels.push_back("scalar");
    kernels::limitSimdLevel(levels.front().c_str());
    return levels;
}

// ---- independent per-element dequantization (ggml semantics) ----------------

float half(const uint8_t* p) {
    uint16_t h;
    std::memcpy(&h, p, 2);
    return engine::fp16ToFloat(h);
}

void kScaleMin(const uint8_t* s, int j, int& sc, int& m) {
    if (j < 4) {
        sc = s[j] & 63;
        m = s[j + 4] & 63;
    } else {
        sc = (s[j + 4] & 15) | ((s[j - 4] >> 6) << 4);
        m = (s[j + 4] >> 4) | ((s[j] >> 6) << 4);
    }
}

float elementOf(TensorType t, const uint8_t* data, int64_t i) {
    const auto& tr = engine::traitsOf(t);
    const uint8_t* b = data + (i / tr.blockSize) * tr.typeSize;
    const int j = int(i % tr.blockSize);
    const auto nib = [&](const uint8_t* qs) { return j < 16 ? qs[j] & 15 : qs[j - 16] >> 4; };
    const auto bit = [&](const uint8_t* qh) {
        uint32_t h;
        std::memcpy(&h, qh, 4);
        return int((h >> j) & 1);
    };
    switch (t) {
    case TensorType::F16: return half(b);
    case TensorType::BF16: {
        uint16_t h;
        std::memcpy(&h, b, 2);
        return engine::bf16ToFloat(h);
    }
    case TensorType::Q4_0: return float(nib(b + 2) - 8) * half(b);
    case TensorType::Q4_1: return float(nib(b + 4)) * half(b) + half(b + 2);
    case TensorType::Q5_0: return float((nib(b + 6) | (bit(b + 2) << 4)) - 16) * half(b);
    case TensorType::Q5_1: return float(nib(b + 8) | (bit(b + 4) << 4)) * half(b) + half(b + 2);
    case TensorType::Q8_0: return float(int8_t(b[2 + j])) * half(b);
    case TensorType::Q4_K:
    case TensorType::Q5_K: {
        const bool five = t == TensorType::Q5_K;
        const int sub = j / 32;
        const uint8_t byte = b[(five ? 48 : 16) + 32 * (sub / 2) + j % 32];
        int q = (sub & 1) ? byte >> 4 : byte & 15;
        if (five) q |= ((b[16 + j % 32] >> sub) & 1) << 4;
        int sc, m;
        kScaleMin(b + 4, sub, sc, m);
        return (half(b) * float(sc)) * float(q) - half(b + 2) * float(m);
    }
    case TensorType::Q6_K: {
        const int n = j / 128, s = (j % 128) / 32, l = j % 32;
        const uint8_t lo = b[64 * n + 32 * (s & 1) + l];
        const int q = (((s >= 2) ? lo >> 4 : lo & 15) | (((b[128 + 32 * n + l] >> (2 * s)) & 3) << 4)) - 32;
        return half(b + 208) * float(int8_t(b[192 + j / 16])) * float(q);
    }
    case TensorType::Q8_K: {
        float d;
        std::memcpy(&d, b, 4);
        return d * float(int8_t(b[4 + j]));
    }
    default: return 0.0f;
    }
}

// Random blocks: random bytes with finite, moderate fp16 / f32 scales.
std::vector<uint8_t> randomBlocks(TensorType t, int64_t n, uint32_t seed) {
    std::mt19937 rng(seed);
    std::vector<uint8_t> q(size_t(*engine::rowBytes(t, uint64_t(n))));
    for (auto& v : q) v = uint8_t(rng());
    const auto& tr = engine::traitsOf(t);
    std::normal_distribution<float> nd(0.0f, 0.05f);
    const auto putHalf = [&](uint8_t* p) {
        const uint16_t h = engine::floatToFp16(nd(rng));
        std::memcpy(p, &h, 2);
    };
    for (int64_t b = 0; b < n / tr.blockSize; ++b) {
        uint8_t* p = q.data() + b * tr.typeSize;
        switch (t) {
        case TensorType::F16:
        case TensorType::BF16: {
            const float f = nd(rng);
            const uint16_t h = t == TensorType::F16 ? engine::floatToFp16(f) : engine::floatToBf16(f);
            std::memcpy(p, &h, 2);
            break;
        }
        case TensorType::Q4_0:
        case TensorType::Q5_0:
        case TensorType::Q8_0: putHalf(p); break;
        case TensorType::Q4_1:
        case TensorType::Q5_1:
        case TensorType::Q4_K:
        case TensorType::Q5_K:
            putHalf(p);
            putHalf(p + 2);
            break;
        case TensorType::Q6_K: putHalf(p + 208); break;
        case TensorType::Q8_K: {
            const float d = std::fabs(nd(rng));
            std::memcpy(p, &d, 4);
            break;
        }
        default: break;
        }
    }
    return q;
}

bool sameBits(float a, float b) { return std::memcmp(&a, &b, 4) == 0; }

}  // namespace

class TestQuantKernels : public QObject {
    Q_OBJECT

private slots:
    void cleanup() {
        kernels::forceScalarKernels(false);
        restoreWidestSimdLevel();
    }

    void goldenMatchesGgml_data() {
        QTest::addColumn<int>("index");
        for (int i = 0; i < int(std::size(kGolden)); ++i) QTest::newRow(kGolden[i].type) << i;
    }

    void goldenMatchesGgml() {
        QFETCH(int, index);
        const Golden& g = kGolden[index];
        const TensorType t = *engine::tensorTypeFromName(g.type);
        const std::vector<float> x = deterministicInput(2048);
        const std::vector<uint8_t> q = quantized(t, x);
        QCOMPARE(fnv1a(q.data(), q.size()), g.quantized);
        const std::vector<float> d = dequantized(t, q, int64_t(x.size()));
        QCOMPARE(fnv1a(d.data(), d.size() * 4), g.dequantized);
    }

    void dequantizeMatchesFormula_data() {
        QTest::addColumn<int>("type");
        for (TensorType t : {TensorType::F16, TensorType::BF16, TensorType::Q4_0, TensorType::Q4_1, TensorType::Q5_0,
                             TensorType::Q5_1, TensorType::Q8_0, TensorType::Q4_K, TensorType::Q5_K, TensorType::Q6_K,
                             TensorType::Q8_K})
            QTest::newRow(nameOf(t).c_str()) << int(t);
    }

    void dequantizeMatchesFormula() {
        QFETCH(int, type);
        const auto t = TensorType(type);
        const int64_t n = 4096;
        const std::vector<uint8_t> q = randomBlocks(t, n, 7u + uint32_t(type));
        for (const std::string& level : availableLevels()) {
            kernels::forceScalarKernels(level == "scalar");
            const std::vector<float> d = dequantized(t, q, n);
            for (int64_t i = 0; i < n; ++i) {
                if (!sameBits(d[size_t(i)], elementOf(t, q.data(), i)))
                    QFAIL(qPrintable(QString("%1 element %2: %3 vs %4")
                                         .arg(level.c_str())
                                         .arg(i)
                                         .arg(double(d[size_t(i)]))
                                         .arg(double(elementOf(t, q.data(), i)))));
            }
        }
    }

    void halfConversionCoversAllValues() {
        std::vector<uint16_t> all(65536);
        for (uint32_t i = 0; i < 65536; ++i) all[i] = uint16_t(i);
        std::vector<float> d(65536);
        kernels::dequantizeRow(TensorType::F16, all.data(), d.data(), 65536);
        for (uint32_t i = 0; i < 65536; ++i) {
            const float ref = engine::fp16ToFloat(uint16_t(i));
            if (std::isnan(ref)) QVERIFY(std::isnan(d[i]));
            else QVERIFY(sameBits(d[i], ref));
        }
    }

    void roundTripErrorIsBounded_data() {
        QTest::addColumn<int>("type");
        QTest::addColumn<double>("maxRelRms");
        QTest::newRow("F16") << int(TensorType::F16) << 1e-3;
        QTest::newRow("BF16") << int(TensorType::BF16) << 5e-3;
        QTest::newRow("Q8_0") << int(TensorType::Q8_0) << 0.01;
        QTest::newRow("Q8_1") << int(TensorType::Q8_1) << 0.01;
        QTest::newRow("Q8_K") << int(TensorType::Q8_K) << 0.01;
        QTest::newRow("Q6_K") << int(TensorType::Q6_K) << 0.03;
        QTest::newRow("Q5_0") << int(TensorType::Q5_0) << 0.06;
        QTest::newRow("Q5_1") << int(TensorType::Q5_1) << 0.06;
        QTest::newRow("Q5_K") << int(TensorType::Q5_K) << 0.06;
        QTest::newRow("Q4_0") << int(TensorType::Q4_0) << 0.12;
        QTest::newRow("Q4_1") << int(TensorType::Q4_1) << 0.12;
        QTest::newRow("Q4_K") << int(TensorType::Q4_K) << 0.12;
    }

    void roundTripErrorIsBounded() {
        QFETCH(int, type);
        QFETCH(double, maxRelRms);
        const auto t = TensorType(type);
        const std::vector<float> x = normalData(8192, 3);
        const std::vector<float> d = dequantized(t, quantized(t, x), int64_t(x.size()));
        double err = 0, ref = 0;
        for (size_t i = 0; i < x.size(); ++i) {
            err += double(d[i] - x[i]) * double(d[i] - x[i]);
            ref += double(x[i]) * double(x[i]);
        }
        const double rel = std::sqrt(err / ref);
        QVERIFY2(rel < maxRelRms, qPrintable(QString("relative rms error %1").arg(rel)));
    }

    void quantizeRejectsBadArguments() {
        std::vector<float> x(64, 1.0f);
        std::vector<uint8_t> out(1024);
        QVERIFY(!kernels::quantizeRow(TensorType::Q2_K, x.data(), out.data(), 256));
        QVERIFY(!kernels::quantizeRow(TensorType::Q4_0, x.data(), out.data(), 33));
        QVERIFY(kernels::quantizeRow(TensorType::Q4_0, x.data(), out.data(), 64));
    }

    void bf16RoundsToNearestEvenAndQuietsNan() {
        const float in[4] = {1.0f + 0x1p-8f, 1.0f + 0x1p-8f + 0x1p-16f, std::numeric_limits<float>::infinity(),
                             std::numeric_limits<float>::signaling_NaN()};
        uint16_t out[4];
        QVERIFY(kernels::quantizeRow(TensorType::BF16, in, out, 4));
        QCOMPARE(out[0], uint16_t(0x3f80));  // tie -> even
        QCOMPARE(out[1], uint16_t(0x3f81));
        QCOMPARE(out[2], uint16_t(0x7f80));
        QVERIFY((out[3] & 0x7fc0) == 0x7fc0);  // quiet NaN
    }

    void typeTables() {
        for (TensorType t : kWeightTypes) QVERIFY(kernels::isSupportedWeightType(t));
        QVERIFY(!kernels::isSupportedWeightType(TensorType::Q2_K));
        QVERIFY(!kernels::isSupportedWeightType(TensorType::Q8_K));
        QCOMPARE(kernels::vecDotType(TensorType::Q4_0), TensorType::Q8_0);
        QCOMPARE(kernels::vecDotType(TensorType::Q8_0), TensorType::Q8_0);
        QCOMPARE(kernels::vecDotType(TensorType::Q4_1), TensorType::Q8_1);
        QCOMPARE(kernels::vecDotType(TensorType::Q5_1), TensorType::Q8_1);
        QCOMPARE(kernels::vecDotType(TensorType::Q6_K), TensorType::Q8_K);
        QCOMPARE(kernels::vecDotType(TensorType::BF16), TensorType::F32);
    }

    void simdLevelSelection() {
        const std::string widest = kernels::simdLevelName();
        QVERIFY(widest == "avx512" || widest == "avx2-vnni" || widest == "avx2" || widest == "scalar");
        const kernels::CpuFeatures& f = kernels::cpuFeatures();
        if (widest == "avx512") QVERIFY(f.hasAvx512Set() && f.hasAvx2Set());
        if (widest == "avx2-vnni") QVERIFY(f.hasAvx2Set() && f.avxVnni);
        if (f.avx512f) QVERIFY(f.avx);  // AVX-512 implies the OS saves YMM state too
        qInfo("CPU: avx2=%d fma=%d f16c=%d avx-vnni=%d avx512f=%d bw=%d vl=%d dq=%d vnni=%d bf16=%d", f.avx2, f.fma,
              f.f16c, f.avxVnni, f.avx512f, f.avx512bw, f.avx512vl, f.avx512dq, f.avx512vnni, f.avx512bf16);
        QVERIFY(!kernels::limitSimdLevel("sse9"));
        QCOMPARE(kernels::forceScalarKernels(true), false);
        QCOMPARE(std::string(kernels::simdLevelName()), std::string("scalar"));
        QCOMPARE(kernels::forceScalarKernels(false), true);
        QCOMPARE(std::string(kernels::simdLevelName()), widest);
        QVERIFY(kernels::limitSimdLevel("scalar"));
        QCOMPARE(std::string(kernels::simdLevelName()), std::string("scalar"));
    }

    void vecDotSimdMatchesScalar_data() {
        QTest::addColumn<int>("type");
        QTest::addColumn<int>("n");
        for (TensorType t : kWeightTypes) {
            const int block = int(engine::traitsOf(t).blockSize);
            for (int n : {256, 1536, 4096}) QTest::newRow((nameOf(t) + "/" + std::to_string(n)).c_str()) << int(t) << n;
            if (block == 1) QTest::newRow((nameOf(t) + "/odd").c_str()) << int(t) << 103;
        }
    }

    void vecDotSimdMatchesScalar() {
        QFETCH(int, type);
        QFETCH(int, n);
        const auto t = TensorType(type);
        const TensorType at = kernels::vecDotType(t);
        for (int trial = 0; trial < 4; ++trial) {
            const std::vector<float> wf = normalData(size_t(n), 11u + uint32_t(trial), trial == 3 ? 20.0f : 1.0f);
            const std::vector<float> xf = normalData(size_t(n), 97u + uint32_t(trial));
            const std::vector<uint8_t> w = quantized(t, wf), a = quantized(at, xf);
            const std::vector<float> wd = dequantized(t, w, n), ad = dequantized(at, a, n);
            double exact = 0, magnitude = 0;
            for (int i = 0; i < n; ++i) {
                exact += double(wd[size_t(i)]) * double(ad[size_t(i)]);
                magnitude += std::fabs(double(wd[size_t(i)]) * double(ad[size_t(i)]));
            }
            kernels::forceScalarKernels(true);
            const float scalar = kernels::vecDot(t, w.data(), a.data(), n);
            kernels::forceScalarKernels(false);
            // Q8_1 stores d*sum(q) as fp16, which the Q4_1/Q5_1 dots use as is.
            const double formatTol = at == TensorType::Q8_1 ? 2e-3 : 1e-5;
            QVERIFY2(std::fabs(scalar - exact) <= formatTol * magnitude + 1e-6,
                     qPrintable(QString("scalar %1 vs exact %2").arg(double(scalar)).arg(exact)));
            for (const std::string& level : availableLevels()) {
                QVERIFY(kernels::limitSimdLevel(level.c_str()));
                const float simd = kernels::vecDot(t, w.data(), a.data(), n);
                QVERIFY2(std::fabs(simd - scalar) <= 1e-5 * magnitude + 1e-6,
                         qPrintable(QString("%1: %2 vs scalar %3 (sum |terms| %4)")
                                        .arg(level.c_str())
                                        .arg(double(simd))
                                        .arg(double(scalar))
                                        .arg(magnitude)));
            }
            restoreWidestSimdLevel();
        }
    }
};

QTEST_GUILESS_MAIN(TestQuantKernels)
#include "tst_quant_kernels.moc"
