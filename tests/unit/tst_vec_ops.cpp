// Tests for the float vector helpers (vec_ops.h) at every SIMD level against
// double-precision references: lengths around the vector widths, aliasing,
// masked (-inf) softmax entries, exp accuracy and range ends.
#include <QtTest>

#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "engine/tensor_types.h"
#include "kernels/cpu/quant_kernels.h"
#include "kernels/cpu/vec_ops.h"
#include "support/simd_levels.h"

using namespace glassbox;

using glassbox::testing::normalData;
using glassbox::testing::restoreWidestSimdLevel;
using glassbox::testing::simdLevels;

namespace {

const int kLengths[] = {1, 7, 8, 15, 16, 17, 31, 33, 64, 576, 1000, 5000};

bool close(double a, double b, double tol) { return std::fabs(a - b) <= tol * (1.0 + std::fabs(b)); }

}  // namespace

class TestVecOps : public QObject {
    Q_OBJECT

private slots:
    void cleanup() { restoreWidestSimdLevel(); }

    void rmsNormMatchesReference() {
        for (const std::string& level : simdLevels(true)) {
            QVERIFY(kernels::limitSimdLevel(level.c_str()));
            for (int n : kLengths) {
                const std::vector<float> x = normalData(size_t(n), 1, 3.0f), w = normalData(size_t(n), 2);
                std::vector<float> out(static_cast<size_t>(n));
                kernels::rmsNorm(x.data(), w.data(), n, 1e-5f, out.data());
                double ss = 0;
                for (float v : x) ss += double(v) * v;
                const double inv = 1.0 / std::sqrt(ss / n + 1e-5);
                for (int i = 0; i < n; ++i) QVERIFY(close(out[size_t(i)], x[size_t(i)] * inv * w[size_t(i)], 1e-5));
                std::vector<float> inPlace = x;  // out aliasing x, no weight
                kernels::rmsNorm(inPlace.data(), nullptr, n, 1e-5f, inPlace.data());
                for (int i = 0; i < n; ++i) QVERIFY(close(inPlace[size_t(i)], x[size_t(i)] * inv, 1e-5));
            }
        }
    }

    void softmaxMatchesReference() {
        for (const std::string& level : simdLevels(true)) {
            QVERIFY(kernels::limitSimdLevel(level.c_str()));
            for (int n : kLengths) {
                std::vector<float> x = normalData(size_t(n), 3, 4.0f);
                for (int i = 2; i < n; i += 3) x[size_t(i)] = -std::numeric_limits<float>::infinity();
                const std::vector<float> in = x;
                kernels::softmax(x.data(), n);
                double max = -1e300, sum = 0;
                for (float v : in) max = std::max(max, double(v));
                for (float v : in) sum += std::exp(double(v) - max);
                double total = 0;
                for (int i = 0; i < n; ++i) {
                    QVERIFY(close(x[size_t(i)], std::exp(double(in[size_t(i)]) - max) / sum, 1e-5));
                    if (std::isinf(in[size_t(i)])) QCOMPARE(x[size_t(i)], 0.0f);
                    total += x[size_t(i)];
                }
                QVERIFY(close(total, 1.0, 1e-5));
            }
            std::vector<float> masked(5, -std::numeric_limits<float>::infinity());
            QCOMPARE(kernels::softmax(masked.data(), 5), 0.0f);
            for (float v : masked) QCOMPARE(v, 0.0f);
        }
    }

    void expIsAccurate() {
        std::vector<float> x;
        for (float v = -100.0f; v <= 88.5f; v += 0.0137f) x.push_back(v);
        x.push_back(-std::numeric_limits<float>::infinity());
        for (const std::string& level : simdLevels(true)) {
            QVERIFY(kernels::limitSimdLevel(level.c_str()));
            std::vector<float> e = x;
            kernels::expInPlace(e.data(), int64_t(e.size()));
            for (size_t i = 0; i < x.size(); ++i) {
                const double ref = std::exp(double(x[i]));
                if (ref < 1.2e-38) QVERIFY(e[i] >= 0.0f && e[i] <= 1.2e-38f);
                else QVERIFY2(close(e[i], ref, 4e-7), qPrintable(QString("%1: exp(%2) = %3").arg(level.c_str()).arg(double(x[i])).arg(double(e[i]))));
            }
        }
    }

    void elementwiseOps() {
        for (const std::string& level : simdLevels(true)) {
            QVERIFY(kernels::limitSimdLevel(level.c_str()));
            for (int n : kLengths) {
                const std::vector<float> a = normalData(size_t(n), 4, 5.0f), b = normalData(size_t(n), 5);
                std::vector<float> out(static_cast<size_t>(n));
                kernels::swiglu(a.data(), b.data(), n, out.data());
                for (int i = 0; i < n; ++i) {
                    const double g = a[size_t(i)];
                    QVERIFY(close(out[size_t(i)], g / (1.0 + std::exp(-g)) * b[size_t(i)], 2e-6));
                }
                kernels::add(a.data(), b.data(), n, out.data());
                for (int i = 0; i < n; ++i) QCOMPARE(out[size_t(i)], a[size_t(i)] + b[size_t(i)]);
                std::vector<float> s = a;
                kernels::scale(s.data(), 0.37f, n);
                for (int i = 0; i < n; ++i) QCOMPARE(s[size_t(i)], a[size_t(i)] * 0.37f);
                std::vector<float> y = b;
                kernels::axpy(-1.5f, a.data(), y.data(), n);
                for (int i = 0; i < n; ++i) QVERIFY(close(y[size_t(i)], b[size_t(i)] - 1.5 * a[size_t(i)], 1e-6));
            }
        }
    }

    void halfConversions() {
        std::vector<float> x = normalData(1000, 8, 100.0f);
        x.push_back(65520.0f);  // rounds to infinity
        x.push_back(-1e-8f);    // subnormal half
        x.push_back(std::numeric_limits<float>::infinity());
        x.push_back(0x1.002p0f);  // tie: 1 + 2^-11 -> even
        const int n = int(x.size());
        for (const std::string& level : simdLevels(true)) {
            QVERIFY(kernels::limitSimdLevel(level.c_str()));
            std::vector<uint16_t> h(static_cast<size_t>(n));
            kernels::toF16(x.data(), h.data(), n);
            for (int i = 0; i < n; ++i) QCOMPARE(h[size_t(i)], engine::floatToFp16(x[size_t(i)]));
            std::vector<float> back(static_cast<size_t>(n));
            kernels::fromF16(h.data(), back.data(), n);
            std::vector<float> rounded = x;
            kernels::roundThroughF16(rounded.data(), n);
            for (int i = 0; i < n; ++i) {
                QCOMPARE(back[size_t(i)], engine::fp16ToFloat(h[size_t(i)]));
                QCOMPARE(rounded[size_t(i)], back[size_t(i)]);
            }
        }
    }

    void dotProducts() {
        for (const std::string& level : simdLevels(true)) {
            QVERIFY(kernels::limitSimdLevel(level.c_str()));
            for (int n : kLengths) {
                const std::vector<float> a = normalData(size_t(n), 6), b = normalData(size_t(n), 7);
                std::vector<uint16_t> h(static_cast<size_t>(n));
                for (int i = 0; i < n; ++i) h[size_t(i)] = engine::floatToFp16(a[size_t(i)]);
                double ref = 0, refHalf = 0, mag = 0;
                for (int i = 0; i < n; ++i) {
                    ref += double(a[size_t(i)]) * b[size_t(i)];
                    refHalf += double(engine::fp16ToFloat(h[size_t(i)])) * b[size_t(i)];
                    mag += std::fabs(double(a[size_t(i)]) * b[size_t(i)]);
                }
                QVERIFY(std::fabs(kernels::dot(a.data(), b.data(), n) - ref) <= 1e-6 * mag);
                QVERIFY(std::fabs(kernels::dotF16(h.data(), b.data(), n) - refHalf) <= 1e-6 * mag);
                std::vector<float> y = b;
                kernels::axpyF16(0.5f, h.data(), y.data(), n);
                for (int i = 0; i < n; ++i)
                    QVERIFY(close(y[size_t(i)], b[size_t(i)] + 0.5 * engine::fp16ToFloat(h[size_t(i)]), 1e-6));
            }
        }
    }

    // The row-batched forms give exactly the per-row calls' results.
    void rowBatchesEqualPerRowCalls() {
        for (const std::string& level : simdLevels(true)) {
            QVERIFY(kernels::limitSimdLevel(level.c_str()));
            for (int n : {8, 33, 64, 128}) {
                const int rows = 37, stride = n * 3;
                const std::vector<float> src = normalData(size_t(rows * stride), 8), x = normalData(size_t(n), 9),
                                         w = normalData(size_t(rows), 10);
                std::vector<uint16_t> h(src.size());
                kernels::toF16(src.data(), h.data(), int64_t(src.size()));
                std::vector<float> dots(static_cast<size_t>(rows));
                kernels::dotF16Rows(h.data(), stride, x.data(), n, rows, dots.data());
                std::vector<float> y1 = x, y2 = x;
                kernels::weightedSumF16Rows(w.data(), h.data(), stride, rows, n, y1.data());
                for (int r = 0; r < rows; ++r) {
                    QCOMPARE(dots[size_t(r)], kernels::dotF16(h.data() + r * stride, x.data(), n));
                    kernels::axpyF16(w[size_t(r)], h.data() + r * stride, y2.data(), n);
                }
                QVERIFY2(y1 == y2, qPrintable(QString::fromStdString(level) + " n=" + QString::number(n)));
            }
        }
    }
};

QTEST_GUILESS_MAIN(TestVecOps)
#include "tst_vec_ops.moc"
