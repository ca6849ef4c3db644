// The CPU forward pass against an independent double-precision
// recomputation on synthetic models (RoPE orderings, GQA, biases, weight
// types), plus KV-cache consistency, micro-batching, threading and errors.
#include <QtTest>

#include <cmath>
#include <filesystem>

#include "engine/model.h"
#include "engine/session.h"
#include "kernels/cpu/quant_kernels.h"
#include "support/synthetic_model.h"
#include "support/test_paths.h"

using namespace glassbox;
using engine::TensorType;
using engine::TensorView;

namespace {

using Matrix = std::vector<double>;  // row-major [rows][cols]

Matrix dequantize(const TensorView& t) {
    const int64_t cols = t.ne[0], rows = t.ne[1];
    std::vector<float> row(static_cast<size_t>(cols));
    Matrix m(size_t(rows * cols));
    for (int64_t r = 0; r < rows; ++r) {
        kernels::dequantizeRow(t.type, t.data + uint64_t(r) * t.rowStride(), row.data(), cols);
        for (int64_t c = 0; c < cols; ++c) m[size_t(r * cols + c)] = row[size_t(c)];
    }
    return m;
}

std::vector<double> matVec(const Matrix& w, const std::vector<double>& x, int64_t rows) {
    const size_t cols = x.size();
    std::vector<double> y(size_t(rows), 0.0);
    for (int64_t r = 0; r < rows; ++r)
        for (size_t c = 0; c < cols; ++c) y[size_t(r)] += w[size_t(r) * cols + c] * x[c];
    return y;
}

std::vector<double> rmsNorm(const std::vector<double>& x, const TensorView& w, double eps) {
    double ss = 0;
    for (double v : x) ss += v * v;
    const double scale = 1.0 / std::sqrt(ss / double(x.size()) + eps);
    const float* wf = reinterpret_cast<const float*>(w.data);
    std::vector<double> y(x.size());
    for (size_t i = 0; i < x.size(); ++i) y[i] = x[i] * scale * wf[i];
    return y;
}

void addBias(std::vector<double>& v, const std::optional<TensorView>& b) {
    if (!b) return;
    const float* bf = reinterpret_cast<const float*>(b->data);
    for (size_t i = 0; i < v.size(); ++i) v[i] += bf[i];
}

void rope(std::vector<double>& v, int nHeads, const engine::ModelConfig& c, int pos) {
    const int half = c.ropeDims / 2;
    for (int h = 0; h < nHeads; ++h) {
        double* x = &v[size_t(h * c.headDim)];
        for (int p = 0; p < half; ++p) {
            const double theta = pos * std::pow(double(c.ropeTheta), -2.0 * p / c.ropeDims) * c.ropeFreqScale;
            const int a = c.ropeType == engine::RopeType::Normal ? 2 * p : p;
            const int b = c.ropeType == engine::RopeType::Normal ? 2 * p + 1 : p + half;
            const double x0 = x[a], x1 = x[b];
            x[a] = x0 * std::cos(theta) - x1 * std::sin(theta);
            x[b] = x0 * std::sin(theta) + x1 * std::cos(theta);
        }
    }
}

// Logits for every position, recomputed from scratch in double precision.
std::vector<std::vector<double>> referenceForward(const engine::Model& m, const std::vector<int32_t>& tokens) {
    const auto& c = m.config();
    const int n = int(tokens.size());
    Matrix emb = dequantize(m.tokenEmbedding());
    std::vector<std::vector<double>> x(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i)
        x[size_t(i)].assign(emb.begin() + size_t(tokens[size_t(i)]) * c.nEmbd, emb.begin() + size_t(tokens[size_t(i)] + 1) * c.nEmbd);
    for (const auto& l : m.layers()) {
        Matrix wq = dequantize(l.wq), wk = dequantize(l.wk), wv = dequantize(l.wv), wo = dequantize(l.wo);
        Matrix wg = dequantize(l.wGate), wu = dequantize(l.wUp), wd = dequantize(l.wDown);
        std::vector<std::vector<double>> q(static_cast<size_t>(n)), k(static_cast<size_t>(n)), v(static_cast<size_t>(n));
        for (int i = 0; i < n; ++i) {
            auto h = rmsNorm(x[size_t(i)], l.attnNorm, c.rmsEps);
            q[size_t(i)] = matVec(wq, h, c.qDim()); addBias(q[size_t(i)], l.bq);
            k[size_t(i)] = matVec(wk, h, c.kvDim()); addBias(k[size_t(i)], l.bk);
            v[size_t(i)] = matVec(wv, h, c.kvDim()); addBias(v[size_t(i)], l.bv);
            rope(q[size_t(i)], c.nHead, c, i);
            rope(k[size_t(i)], c.nHeadKv, c, i);
        }
        for (int i = 0; i < n; ++i) {
            std::vector<double> attn(size_t(c.qDim()), 0.0);
            for (int h = 0; h < c.nHead; ++h) {
                const int kvh = h / c.gqaGroup();
                std::vector<double> s(static_cast<size_t>(i + 1));
                double mx = -1e300, sum = 0;
                for (int j = 0; j <= i; ++j) {
                    double d = 0;
                    for (int e = 0; e < c.headDim; ++e)
                        d += q[size_t(i)][size_t(h * c.headDim + e)] * k[size_t(j)][size_t(kvh * c.headDim + e)];
                    s[size_t(j)] = d / std::sqrt(double(c.headDim));
                    mx = std::max(mx, s[size_t(j)]);
                }
                for (auto& e : s) { e = std::exp(e - mx); sum += e; }
                for (int j = 0; j <= i; ++j)
                    for (int e = 0; e < c.headDim; ++e)
                        attn[size_t(h * c.headDim + e)] += s[size_t(j)] / sum * v[size_t(j)][size_t(kvh * c.headDim + e)];
            }
            auto o = matVec(wo, attn, c.nEmbd);
            for (int e = 0; e < c.nEmbd; ++e) x[size_t(i)][size_t(e)] += o[size_t(e)];
            auto h = rmsNorm(x[size_t(i)], l.ffnNorm, c.rmsEps);
            auto g = matVec(wg, h, c.nFf), u = matVec(wu, h, c.nFf);
            for (int e = 0; e < c.nFf; ++e) g[size_t(e)] = g[size_t(e)] / (1.0 + std::exp(-g[size_t(e)])) * u[size_t(e)];
            auto d = matVec(wd, g, c.nEmbd);
            for (int e = 0; e < c.nEmbd; ++e) x[size_t(i)][size_t(e)] += d[size_t(e)];
        }
    }
    Matrix out = dequantize(m.output());
    std::vector<std::vector<double>> logits;
    for (int i = 0; i < n; ++i) logits.push_back(matVec(out, rmsNorm(x[size_t(i)], m.outputNorm(), c.rmsEps), c.nVocab));
    return logits;
}

// max |a - b| / max |b| over all positions.
double relativeError(const std::vector<float>& got, const std::vector<std::vector<double>>& want) {
    double maxDiff = 0, maxRef = 0;
    const size_t nv = want[0].size();
    for (size_t i = 0; i < want.size(); ++i)
        for (size_t j = 0; j < nv; ++j) {
            maxDiff = std::max(maxDiff, std::abs(double(got[i * nv + j]) - want[i][j]));
            maxRef = std::max(maxRef, std::abs(want[i][j]));
        }
    return maxDiff / maxRef;
}

const std::vector<int32_t> kTokens = {257, 72, 101, 108, 108, 111, 44, 256, 119, 111, 114, 108, 100, 33, 10, 65, 66};

}  // namespace

class TestForwardPass : public QObject {
    Q_OBJECT

    std::string m_dir;

    std::shared_ptr<const engine::Model> makeModel(const testing::SyntheticModelSpec& spec, const char* name) {
        const std::string path = m_dir + "/" + name + ".gguf";
        auto st = testing::writeSyntheticModel(path, spec);
        if (!st) qFatal("%s", st.error().toString().c_str());
        auto m = engine::Model::load(path);
        if (!m) qFatal("%s", m.error().toString().c_str());
        return *m;
    }

    std::vector<float> runAll(std::shared_ptr<const engine::Model> m, engine::BackendOptions o) {
        auto s = engine::Session::create(m, o);
        if (!s) qFatal("%s", s.error().toString().c_str());
        auto logits = (*s)->evaluateAll(kTokens);
        if (!logits) qFatal("%s", logits.error().toString().c_str());
        return *logits;
    }

private slots:
    void initTestCase() { m_dir = testing::makeTempDir("glassbox-forward"); }
    void cleanupTestCase() { std::filesystem::remove_all(m_dir); }

    void matchesReference_data() {
        QTest::addColumn<QString>("arch");
        QTest::addColumn<int>("type");
        QTest::addColumn<int>("heads");
        QTest::addColumn<int>("kvHeads");
        QTest::addColumn<double>("tolerance");
        QTest::addColumn<int>("embd");
        QTest::newRow("llama-f32-gqa") << "llama" << int(TensorType::F32) << 4 << 2 << 1e-4 << 64;
        QTest::newRow("llama-f32-mha") << "llama" << int(TensorType::F32) << 4 << 4 << 1e-4 << 64;
        QTest::newRow("llama-f32-mqa") << "llama" << int(TensorType::F32) << 4 << 1 << 1e-4 << 64;
        QTest::newRow("qwen2-f32-neox-bias") << "qwen2" << int(TensorType::F32) << 4 << 2 << 1e-4 << 64;
        QTest::newRow("llama-f16") << "llama" << int(TensorType::F16) << 4 << 2 << 2e-3 << 64;
        QTest::newRow("llama-q8_0") << "llama" << int(TensorType::Q8_0) << 4 << 2 << 3e-2 << 64;
        QTest::newRow("llama-q4_1") << "llama" << int(TensorType::Q4_1) << 4 << 2 << 3e-2 << 64;
        QTest::newRow("llama-q4_0") << "llama" << int(TensorType::Q4_0) << 4 << 2 << 3e-2 << 64;
        QTest::newRow("llama-q5_1") << "llama" << int(TensorType::Q5_1) << 4 << 2 << 3e-2 << 64;
        QTest::newRow("llama-q5_0") << "llama" << int(TensorType::Q5_0) << 4 << 2 << 3e-2 << 64;
        QTest::newRow("llama-bf16") << "llama" << int(TensorType::BF16) << 4 << 2 << 1e-2 << 64;
        QTest::newRow("llama-q4_k") << "llama" << int(TensorType::Q4_K) << 8 << 2 << 3e-2 << 256;
        QTest::newRow("llama-q5_k") << "llama" << int(TensorType::Q5_K) << 8 << 2 << 3e-2 << 256;
        QTest::newRow("llama-q6_k") << "llama" << int(TensorType::Q6_K) << 8 << 2 << 3e-2 << 256;
    }

    void matchesReference() {
        QFETCH(QString, arch);
        QFETCH(int, type);
        QFETCH(int, heads);
        QFETCH(int, kvHeads);
        QFETCH(double, tolerance);
        QFETCH(int, embd);
        testing::SyntheticModelSpec spec;
        spec.nEmbd = embd;
        spec.nFf = 2 * embd;
        spec.architecture = arch.toStdString();
        spec.weightType = TensorType(type);
        spec.nHead = heads;
        spec.nHeadKv = kvHeads;
        auto model = makeModel(spec, QTest::currentDataTag());
        engine::BackendOptions o;
        o.kvType = engine::KvCacheType::F32;
        o.threads = 2;
        const auto got = runAll(model, o);
        const double err = relativeError(got, referenceForward(*model, kTokens));
        qInfo("relative error %.3g (tolerance %.3g)", err, tolerance);
        QVERIFY(err < tolerance);
    }

    void incrementalDecodeEqualsBatch() {
        auto model = makeModel({}, "incremental");
        engine::BackendOptions o;
        o.kvType = engine::KvCacheType::F32;
        const auto all = runAll(model, o);
        auto s = engine::Session::create(model, o);
        QVERIFY(s.ok());
        const size_t nv = size_t(model->config().nVocab);
        for (size_t i = 0; i < kTokens.size(); ++i) {
            QVERIFY((*s)->evaluate(std::span<const int32_t>(&kTokens[i], 1)).ok());
            auto last = (*s)->lastLogits();
            for (size_t j = 0; j < nv; ++j) QVERIFY(std::abs(last[j] - all[i * nv + j]) < 1e-4f);
        }
    }

    void microBatchesAndThreadsDoNotChangeResults() {
        auto model = makeModel({}, "batches");
        engine::BackendOptions a, b;
        a.microBatch = 256; a.threads = 1;
        b.microBatch = 3; b.threads = 2;
        QCOMPARE(runAll(model, a), runAll(model, b));
    }

    void contextFullAndBadTokensAreErrors() {
        auto model = makeModel({}, "errors");
        engine::BackendOptions o;
        o.contextSize = 8;
        auto s = engine::Session::create(model, o);
        QVERIFY(s.ok());
        auto st = (*s)->evaluate(kTokens);
        QVERIFY(!st.ok());
        QCOMPARE(int(st.error().code), int(engine::ErrorCode::ContextFull));
        QCOMPARE((*s)->position(), 0);
        const std::vector<int32_t> bad = {1, 100000};
        st = (*s)->evaluate(bad);
        QCOMPARE(int(st.error().code), int(engine::ErrorCode::InvalidArgument));
    }

    void stopRequestCancelsBetweenMicroBatches() {
        auto model = makeModel({}, "cancel");
        engine::BackendOptions o;
        o.microBatch = 4;
        auto s = engine::Session::create(model, o);
        QVERIFY(s.ok());
        std::stop_source src;
        src.request_stop();
        auto st = (*s)->evaluate(kTokens, src.get_token());
        QCOMPARE(int(st.error().code), int(engine::ErrorCode::Cancelled));
        QCOMPARE((*s)->position(), 0);
        QVERIFY((*s)->evaluate(kTokens).ok());
        QCOMPARE((*s)->position(), int(kTokens.size()));
    }

    void unsupportedArchitectureIsRefusedByName() {
        testing::SyntheticModelSpec spec;
        spec.architecture = "gpt2";
        const std::string path = m_dir + "/gpt2.gguf";
        QVERIFY(testing::writeSyntheticModel(path, spec).ok());
        auto m = engine::Model::load(path);
        QVERIFY(!m.ok());
        QCOMPARE(int(m.error().code), int(engine::ErrorCode::Unsupported));
        QVERIFY(m.error().message.find("gpt2") != std::string::npos);
    }
};

QTEST_GUILESS_MAIN(TestForwardPass)
#include "tst_forward_pass.moc"
