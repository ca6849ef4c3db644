// Tests for matmul(), matmulRows() and quantizeActivations(): every SIMD
// level against the portable kernels (same quantized activations, so only
// the float summation order differs; for ggml's 32-value formats and F16
// every level must give the portable kernels' bits exactly), against a float product with the
// dequantized weights, row-panel tails, multi-threaded splits over rows and
// over activation rows, long rows (chunked panels) and scratch reuse.
#include <QtTest>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "engine/tensor_types.h"
#include "kernels/cpu/matmul.h"
#include "kernels/cpu/quant_kernels.h"
#include "support/simd_levels.h"

using namespace glassbox;
using engine::TensorType;

using glassbox::testing::normalData;
using glassbox::testing::restoreWidestSimdLevel;
using glassbox::testing::simdLevels;

namespace {

struct Weights {
    TensorType type;
    int64_t rows = 0, k = 0;
    std::vector<uint8_t> bytes;
    std::vector<float> dequantized;  // rows x k

    engine::TensorView view() const {
        engine::TensorView v;
        v.type = type;
        v.nDims = 2;
        v.ne = {k, rows, 1, 1};
        v.data = bytes.data();
        v.bytes = bytes.size();
        return v;
    }
};

Weights makeWeights(TensorType t, int64_t rows, int64_t k, uint32_t seed) {
    Weights w;
    w.type = t;
    w.rows = rows;
    w.k = k;
    const uint64_t rb = *engine::rowBytes(t, uint64_t(k));
    w.bytes.resize(rb * uint64_t(rows));
    w.dequantized.resize(size_t(rows * k));
    std::vector<float> f = normalData(size_t(rows * k), seed);
    for (int64_t r = 0; r < rows; ++r) {
        // vary the row scale so per-row scales matter
        for (int64_t j = 0; j < k; ++j) f[size_t(r * k + j)] *= 0.25f + float(r % 5);
        if (!kernels::quantizeRow(t, &f[size_t(r * k)], &w.bytes[r * rb], k)) qFatal("quantizeRow failed");
        kernels::dequantizeRow(t, &w.bytes[r * rb], &w.dequantized[size_t(r * k)], k);
    }
    return w;
}

std::vector<float> run(const Weights& w, const std::vector<float>& x, int64_t m, int threads) {
    kernels::ThreadPool pool(threads);
    std::vector<uint8_t> scratch;
    std::vector<float> y(size_t(m * w.rows), -1.0f);
    kernels::matmul(w.view(), x.data(), m, y.data(), pool, scratch);
    return y;
}

// Σ|w·x| per output, the natural scale of its rounding error.
std::vector<double> magnitudes(const Weights& w, const std::vector<float>& x, int64_t m, std::vector<double>* exact) {
    std::vector<double> mag(size_t(m * w.rows));
    if (exact) exact->assign(size_t(m * w.rows), 0.0);
    for (int64_t r = 0; r < m; ++r)
        for (int64_t i = 0; i < w.rows; ++i) {
            double s = 0, e = 0;
            for (int64_t j = 0; j < w.k; ++j) {
                const double p = double(w.dequantized[size_t(i * w.k + j)]) * double(x[size_t(r * w.k + j)]);
                s += std::fabs(p);
                e += p;
            }
            mag[size_t(r * w.rows + i)] = s;
            if (exact) (*exact)[size_t(r * w.rows + i)] = e;
        }
    return mag;
}

const TensorType kTypes[] = {TensorType::Q4_0, TensorType::Q4_1, TensorType::Q5_0, TensorType::Q5_1,
                             TensorType::Q8_0, TensorType::Q4_K, TensorType::Q5_K, TensorType::Q6_K,
                             TensorType::F32,  TensorType::F16,  TensorType::BF16};

// The formats whose products follow ggml's order at the portable and AVX-512 levels.
bool isGgmlFormat(TensorType t) {
    return t == TensorType::Q4_0 || t == TensorType::Q4_1 || t == TensorType::Q5_0 || t == TensorType::Q5_1 ||
           t == TensorType::Q8_0;
}

}  // namespace

class TestMatmul : public QObject {
    Q_OBJECT

private slots:
    void cleanup() {
        kernels::forceScalarKernels(false);
        restoreWidestSimdLevel();
    }

    void simdMatchesScalar_data() {
        QTest::addColumn<int>("type");
        QTest::addColumn<int>("rows");
        QTest::addColumn<int>("k");
        QTest::addColumn<int>("m");
        QTest::addColumn<int>("threads");
        for (TensorType t : kTypes) {
            const int k = engine::traitsOf(t).blockSize == 256 ? 512 : 160;
            const std::string n(engine::tensorTypeName(t));
            QTest::newRow((n + " gemv").c_str()) << int(t) << 40 << k << 1 << 1;
            QTest::newRow((n + " tail rows").c_str()) << int(t) << 17 << k << 3 << 2;
            QTest::newRow((n + " one row").c_str()) << int(t) << 1 << k << 2 << 1;
            QTest::newRow((n + " m=4").c_str()) << int(t) << 33 << k << 4 << 3;
            QTest::newRow((n + " prefill").c_str()) << int(t) << 48 << k << 11 << 2;
            QTest::newRow((n + " split m").c_str()) << int(t) << 16 << 1024 << 21 << 2;
        }
        QTest::newRow("F32 odd k") << int(TensorType::F32) << 9 << 37 << 5 << 2;
        QTest::newRow("F16 odd k") << int(TensorType::F16) << 9 << 37 << 5 << 1;
        QTest::newRow("BF16 odd k") << int(TensorType::BF16) << 9 << 37 << 1 << 1;
        QTest::newRow("Q4_1 long rows") << int(TensorType::Q4_1) << 20 << 8192 << 6 << 2;
        QTest::newRow("Q6_K long rows") << int(TensorType::Q6_K) << 20 << 4096 << 6 << 1;
        QTest::newRow("Q8_0 long rows") << int(TensorType::Q8_0) << 17 << 4096 << 2 << 1;
    }

    void simdMatchesScalar() {
        QFETCH(int, type);
        QFETCH(int, rows);
        QFETCH(int, k);
        QFETCH(int, m);
        QFETCH(int, threads);
        const Weights w = makeWeights(TensorType(type), rows, k, 5u + uint32_t(type));
        const std::vector<float> x = normalData(size_t(m * k), 77);
        std::vector<double> exact;
        const std::vector<double> mag = magnitudes(w, x, m, &exact);

        kernels::forceScalarKernels(true);
        const std::vector<float> ref = run(w, x, m, threads);
        kernels::forceScalarKernels(false);
        // The portable kernel against the float product: only activation rounding.
        for (size_t i = 0; i < ref.size(); ++i)
            QVERIFY2(std::fabs(ref[i] - exact[i]) <= 5e-3 * mag[i] + 1e-5,
                     qPrintable(QString("output %1: %2 vs exact %3").arg(i).arg(double(ref[i])).arg(exact[i])));

        for (const std::string& level : simdLevels(false)) {
            QVERIFY(kernels::limitSimdLevel(level.c_str()));
            const std::vector<float> y = run(w, x, m, threads);
            if (isGgmlFormat(TensorType(type)) || (TensorType(type) == TensorType::F16 && k % 16 == 0)) {
                // ggml's summation order at both levels: the same bits, not merely close ones
                for (size_t i = 0; i < y.size(); ++i)
                    QVERIFY2(y[i] == ref[i], qPrintable(QString("%1 output %2: %3 vs scalar %4").arg(level.c_str())
                                                            .arg(i).arg(double(y[i]), 0, 'g', 9).arg(double(ref[i]), 0, 'g', 9)));
                continue;
            }
            for (size_t i = 0; i < y.size(); ++i)
                QVERIFY2(std::fabs(y[i] - ref[i]) <= 2e-6 * mag[i] + 1e-6,
                         qPrintable(QString("%1 output %2: %3 vs scalar %4")
                                        .arg(level.c_str())
                                        .arg(i)
                                        .arg(double(y[i]))
                                        .arg(double(ref[i]))));
        }
    }

    void activationQuantizationIsLevelIndependent() {
        const std::vector<float> x = normalData(7 * 512, 3);
        for (TensorType t : kTypes) {
            kernels::forceScalarKernels(true);
            std::vector<uint8_t> ref;
            const uint64_t stride = kernels::quantizeActivations(t, x.data(), 7, 512, ref);
            kernels::forceScalarKernels(false);
            QVERIFY(stride >= 512);
            for (const std::string& level : simdLevels(false)) {
                QVERIFY(kernels::limitSimdLevel(level.c_str()));
                std::vector<uint8_t> q;
                QCOMPARE(kernels::quantizeActivations(t, x.data(), 7, 512, q), stride);
                QVERIFY2(std::equal(ref.begin(), ref.begin() + std::ptrdiff_t(7 * stride), q.begin()),
                         qPrintable(QString("%1 at %2").arg(QString::fromStdString(std::string(engine::tensorTypeName(t))))
                                        .arg(level.c_str())));
            }
            restoreWidestSimdLevel();
        }
    }

    void matmulRowsSharesQuantizedActivations() {
        const Weights wq = makeWeights(TensorType::Q4_1, 48, 256, 1);
        const Weights wk = makeWeights(TensorType::Q4_1, 16, 256, 2);
        const int64_t m = 5;
        const std::vector<float> x = normalData(size_t(m * 256), 9);
        std::vector<uint8_t> xq;
        kernels::quantizeActivations(TensorType::Q4_1, x.data(), m, 256, xq);
        // q and k side by side in one output row of 64
        std::vector<float> y(size_t(m * 64));
        kernels::matmulRows(wq.view(), xq.data(), m, y.data(), 64, 0, 16);
        kernels::matmulRows(wq.view(), xq.data(), m, y.data() + 16, 64, 16, 48);
        kernels::matmulRows(wk.view(), xq.data(), m, y.data() + 48, 64, 0, 16);
        const std::vector<float> yq = run(wq, x, m, 1), yk = run(wk, x, m, 1);
        for (int64_t r = 0; r < m; ++r) {
            for (int i = 0; i < 48; ++i) QCOMPARE(y[size_t(r * 64 + i)], yq[size_t(r * 48 + i)]);
            for (int i = 0; i < 16; ++i) QCOMPARE(y[size_t(r * 64 + 48 + i)], yk[size_t(r * 16 + i)]);
        }
    }

    void scratchIsReused() {
        const Weights w = makeWeights(TensorType::Q8_0, 32, 256, 4);
        const std::vector<float> x = normalData(size_t(64 * 256), 5);
        kernels::ThreadPool pool(2);
        std::vector<uint8_t> scratch;
        std::vector<float> y(size_t(64 * 32));
        kernels::matmul(w.view(), x.data(), 64, y.data(), pool, scratch);
        const uint8_t* data = scratch.data();
        const size_t capacity = scratch.capacity();
        QVERIFY(capacity > 0);
        for (int64_t m : {64, 1, 3, 40}) kernels::matmul(w.view(), x.data(), m, y.data(), pool, scratch);
        QCOMPARE(scratch.data(), data);
        QCOMPARE(scratch.capacity(), capacity);
    }

    void emptyInputsAreNoOps() {
        const Weights w = makeWeights(TensorType::Q4_0, 16, 64, 6);
        kernels::ThreadPool pool(2);
        std::vector<uint8_t> scratch;
        float y = 42.0f;
        kernels::matmul(w.view(), nullptr, 0, &y, pool, scratch);
        QCOMPARE(y, 42.0f);
    }
};

QTEST_GUILESS_MAIN(TestMatmul)
#include "tst_matmul.moc"
