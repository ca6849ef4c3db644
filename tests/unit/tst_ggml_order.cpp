// The kernels that follow ggml's arithmetic (llama.cpp's CPU backend), so
// that Glassbox's logits are llama.cpp's bit for bit: at every SIMD level they
// must give exactly the bits of the portable statement in
// kernels/cpu/vec_ops_ggml.h, stay within rounding of a double reference,
// and the A8 activation rows must be ggml's Q8_0 / Q8_1 blocks (F16 scale,
// nearest-even rounding of x · 127 / amax).
#include <QtTest>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "engine/tensor_types.h"
#include "kernels/cpu/matmul.h"
#include "kernels/cpu/quant_kernels.h"
#include "kernels/cpu/vec_ops.h"
#include "kernels/cpu/vec_ops_ggml.h"
#include "support/simd_levels.h"

using namespace glassbox;
namespace ggml = glassbox::kernels::detail::ggml;

using glassbox::testing::normalData;
using glassbox::testing::restoreWidestSimdLevel;
using glassbox::testing::simdLevels;

namespace {

bool sameBits(const std::vector<float>& a, const std::vector<float>& b) {
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

std::vector<uint16_t> halves(const std::vector<float>& x) {
    std::vector<uint16_t> h(x.size());
    for (size_t i = 0; i < x.size(); ++i) h[i] = engine::floatToFp16(x[i]);
    return h;
}

}  // namespace

class TestGgmlOrder : public QObject {
    Q_OBJECT

private slots:
    void cleanup() { restoreWidestSimdLevel(); }

    void expMatchesStatementAndDouble() {
        std::vector<float> x;
        for (float v = -120.0f; v <= 90.0f; v += 0.0173f) x.push_back(v);
        x.push_back(-std::numeric_limits<float>::infinity());
        std::vector<float> want(x.size());
        for (size_t i = 0; i < x.size(); ++i) want[i] = ggml::expf(x[i]);
        for (size_t i = 0; i < x.size(); ++i) {
            const double ref = std::exp(double(x[i]));
            if (x[i] > 88.8f) QVERIFY(std::isinf(want[i]));  // past float's range
            else if (x[i] < 88.3f && ref > 1e-37) QVERIFY2(std::fabs(want[i] - ref) <= 3e-7 * ref, qPrintable(QString::number(double(x[i]))));
        }
        for (const std::string& level : simdLevels(true)) {
            QVERIFY(kernels::limitSimdLevel(level.c_str()));
            std::vector<float> got = x;
            kernels::expInPlace(got.data(), int64_t(got.size()));
            QVERIFY2(sameBits(got, want), level.c_str());
        }
    }

    void softmaxSumsChunksOf16InDouble() {
        for (int n : {1, 15, 16, 17, 60, 256, 1000}) {
            std::vector<float> x = normalData(size_t(n), uint32_t(n), 4.0f);
            for (int i = 3; i < n; i += 7) x[size_t(i)] = -std::numeric_limits<float>::infinity();
            float max = -std::numeric_limits<float>::infinity();
            for (float v : x) max = std::max(max, v);
            std::vector<float> want = x;
            const double sum = ggml::expShiftSum(want.data(), max, n);
            for (float& v : want) v *= float(1.0 / sum);
            for (const std::string& level : simdLevels(true)) {
                QVERIFY(kernels::limitSimdLevel(level.c_str()));
                std::vector<float> got = x;
                kernels::softmax(got.data(), n);
                QVERIFY2(sameBits(got, want), qPrintable(QString("%1 n=%2").arg(level.c_str()).arg(n)));
            }
        }
    }

    void swigluAndRmsNormMatchTheStatement() {
        for (int n : {5, 16, 576, 1536, 1537}) {
            const std::vector<float> g = normalData(size_t(n), 3, 4.0f), u = normalData(size_t(n), 4), w = normalData(size_t(n), 5);
            std::vector<float> wantSwiglu(static_cast<size_t>(n), 0.0f), wantNorm(static_cast<size_t>(n));
            ggml::swiglu(g.data(), u.data(), n, wantSwiglu.data());
            const float scale = 1.0f / std::sqrt(float(ggml::sumSquares(g.data(), n) / double(n)) + 1e-5f);
            for (int i = 0; i < n; ++i) wantNorm[size_t(i)] = (g[size_t(i)] * scale) * w[size_t(i)];
            for (int i = 0; i < n; ++i) {
                const double ref = double(g[size_t(i)]) / (1.0 + std::exp(-double(g[size_t(i)]))) * u[size_t(i)];
                QVERIFY(std::fabs(wantSwiglu[size_t(i)] - ref) <= 1e-6 * (1.0 + std::fabs(ref)));
            }
            for (const std::string& level : simdLevels(true)) {
                QVERIFY(kernels::limitSimdLevel(level.c_str()));
                std::vector<float> got(static_cast<size_t>(n)), norm(static_cast<size_t>(n));
                kernels::swiglu(g.data(), u.data(), n, got.data());
                kernels::rmsNorm(g.data(), w.data(), n, 1e-5f, norm.data());
                QVERIFY2(sameBits(got, wantSwiglu), qPrintable(QString("swiglu %1 n=%2").arg(level.c_str()).arg(n)));
                QVERIFY2(sameBits(norm, wantNorm), qPrintable(QString("rmsNorm %1 n=%2").arg(level.c_str()).arg(n)));
            }
        }
    }

    // Scores and weighted sums in both of ggml's orders (matrix product for
    // steps of several tokens, vector dot for single-token steps).
    void attentionProductsMatchTheStatement() {
        for (int keys : {1, 15, 16, 17, 64, 65, 300}) {
            const int dim = 64, stride = 3 * dim;
            std::vector<float> kv = normalData(size_t(keys * stride), uint32_t(keys), 2.0f);
            const std::vector<uint16_t> rows = halves(kv);
            std::vector<float> q = normalData(size_t(dim), 9), p = normalData(size_t(keys), 10);
            kernels::roundThroughF16(q.data(), dim);
            kernels::roundThroughF16(p.data(), keys);
            std::vector<float> treeScores(static_cast<size_t>(keys)), singleScores(static_cast<size_t>(keys)), treeSum(dim), singleSum(dim);
            ggml::dotF16RowsTree(rows.data(), stride, q.data(), dim, keys, treeScores.data());
            ggml::dotF16RowsSingle(rows.data(), stride, q.data(), dim, keys, singleScores.data());
            ggml::weightedSumF16RowsTree(p.data(), rows.data(), stride, keys, dim, treeSum.data());
            ggml::weightedSumF16RowsSingle(p.data(), rows.data(), stride, keys, dim, singleSum.data());
            for (int j = 0; j < keys; ++j) {
                double ref = 0, mag = 0;
                for (int d = 0; d < dim; ++d) {
                    const double t = double(engine::fp16ToFloat(rows[size_t(j * stride + d)])) * q[size_t(d)];
                    ref += t;
                    mag += std::fabs(t);
                }
                QVERIFY(std::fabs(treeScores[size_t(j)] - ref) <= 1e-6 * mag + 1e-7);
                QVERIFY(std::fabs(singleScores[size_t(j)] - ref) <= 1e-6 * mag + 1e-7);
            }
            for (const std::string& level : simdLevels(true)) {
                QVERIFY(kernels::limitSimdLevel(level.c_str()));
                std::vector<float> a(static_cast<size_t>(keys)), b(static_cast<size_t>(keys)), c(dim), d(dim);
                kernels::dotF16RowsTree(rows.data(), stride, q.data(), dim, keys, a.data());
                kernels::dotF16RowsSingle(rows.data(), stride, q.data(), dim, keys, b.data());
                kernels::weightedSumF16RowsTree(p.data(), rows.data(), stride, keys, dim, c.data());
                kernels::weightedSumF16RowsSingle(p.data(), rows.data(), stride, keys, dim, d.data());
                const QString where = QString("%1 keys=%2").arg(level.c_str()).arg(keys);
                QVERIFY2(sameBits(a, treeScores), qPrintable("scores (tree) " + where));
                QVERIFY2(sameBits(b, singleScores), qPrintable("scores (single) " + where));
                QVERIFY2(sameBits(c, treeSum), qPrintable("values (tree) " + where));
                QVERIFY2(sameBits(d, singleSum), qPrintable("values (single) " + where));
            }
        }
    }

    void ropeRotationIsFmaContracted() {
        const int n = 32;
        const std::vector<float> x = normalData(2 * n, 11, 3.0f), cs = normalData(n, 12), sn = normalData(n, 13);
        for (const std::string& level : simdLevels(true)) {
            QVERIFY(kernels::limitSimdLevel(level.c_str()));
            std::vector<float> v = x;
            kernels::rotatePairs(v.data(), v.data() + 1, 2, cs.data(), sn.data(), n);
            for (int i = 0; i < n; ++i) {
                const float x0 = x[size_t(2 * i)], x1 = x[size_t(2 * i + 1)];
                QCOMPARE(v[size_t(2 * i)], std::fma(x0, cs[size_t(i)], -(x1 * sn[size_t(i)])));
                QCOMPARE(v[size_t(2 * i + 1)], std::fma(x0, sn[size_t(i)], x1 * cs[size_t(i)]));
            }
        }
    }

    // A8 rows of ggml's formats are its Q8_0 / Q8_1 blocks: F16 scale,
    // q = nearest-even(x · 127 / amax), d·Σq rounded to F16 for Q4_1.
    void activationRowsAreGgmlBlocks() {
        const int k = 256;
        std::vector<float> x = normalData(k, 21, 2.0f);
        for (const std::string& level : simdLevels(true)) {
            QVERIFY(kernels::limitSimdLevel(level.c_str()));
            for (engine::TensorType t : {engine::TensorType::Q8_0, engine::TensorType::Q4_1}) {
                std::vector<uint8_t> row;
                kernels::quantizeActivations(t, x.data(), 1, k, row);
                const auto* q = reinterpret_cast<const int8_t*>(row.data());
                const auto* d = reinterpret_cast<const float*>(row.data() + k);
                const auto* sums = reinterpret_cast<const float*>(row.data() + k + 4 * (k / 32));
                for (int b = 0; b < k / 32; ++b) {
                    float amax = 0;
                    for (int j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(x[size_t(32 * b + j)]));
                    const float dRaw = amax / 127.0f;
                    QCOMPARE(d[b], engine::fp16ToFloat(engine::floatToFp16(dRaw)));
                    int sum = 0;
                    for (int j = 0; j < 32; ++j) {
                        QCOMPARE(int(q[32 * b + j]), int(std::nearbyint(x[size_t(32 * b + j)] * (127.0f / amax))));
                        sum += q[32 * b + j];
                    }
                    if (t == engine::TensorType::Q4_1)
                        QCOMPARE(sums[b], engine::fp16ToFloat(engine::floatToFp16(dRaw * float(sum))));
                }
            }
        }
    }
};

QTEST_GUILESS_MAIN(TestGgmlOrder)
#include "tst_ggml_order.moc"
