// Probes on the real default model (SmolLM2-135M-Instruct): captured
// attention against an independent float64 recomputation from the captured
// Q and K, the forward pass's own row summaries against the recomputed rows,
// capture leaving the logits untouched, the logit lens's last point against
// the real logits, and executed shapes against the architecture's metadata.
#include <QtTest>

#include <cmath>

#include "engine/capture.h"
#include "engine/generator.h"
#include "engine/logit_lens.h"
#include "engine/model.h"
#include "engine/session.h"
#include "engine/tokenizer.h"
#include "support/test_paths.h"

using namespace glassbox;
using engine::Capture;
using engine::CaptureOptions;
using engine::OpKind;

namespace {

const char* kPrompts[] = {
    "The quick brown fox jumps over the lazy dog because it wanted to see what was on the other side.",
    "def fibonacci(n):\n    if n < 2:\n        return n\n    return fibonacci(n - 1) + fibonacci(n - 2)\n",
    "<|im_start|>user\nWhat is the capital of France, and why is it famous?<|im_end|>\n<|im_start|>assistant\n",
};

double halfRound(double x) { return engine::fp16ToFloat(engine::floatToFp16(float(x))); }

// p = softmax(q·k / sqrt(d)) in double, q rounded to F16 as the cache's
// product does, k as cached.
std::vector<double> referenceRow(const Capture& c, int layer, int head, int pos) {
    const auto& g = c.geometry();
    const auto q = c.query(layer, pos).subspan(size_t(head) * g.headDim, size_t(g.headDim));
    const int kvHead = g.kvHeadOf(head);
    std::vector<double> s(size_t(pos) + 1);
    double maxS = -1e300;
    for (int j = 0; j <= pos; ++j) {
        const auto k = c.key(layer, j);
        double dot = 0;
        for (int d = 0; d < g.headDim; ++d)
            dot += halfRound(q[size_t(d)]) * double(k[size_t(kvHead * g.headDim + d)]);
        s[size_t(j)] = dot / std::sqrt(double(g.headDim));
        maxS = std::max(maxS, s[size_t(j)]);
    }
    double z = 0;
    for (double& v : s) z += (v = std::exp(v - maxS));
    for (double& v : s) v /= z;
    return s;
}

}  // namespace

class TestCaptureReal : public QObject {
    Q_OBJECT
    std::shared_ptr<const engine::Model> m_model;

    std::unique_ptr<engine::Session> newSession() {
        engine::BackendOptions o;
        o.contextSize = 512;
        o.threads = 2;
        o.microBatch = 16;  // several passes per prompt
        auto s = engine::Session::create(m_model, o);
        if (!s) qFatal("%s", s.error().toString().c_str());
        return std::move(*s);
    }

    std::vector<int32_t> ids(const char* text) { return m_model->tokenizer().encode(text, true, true); }

private slots:
    void initTestCase() {
        auto m = engine::Model::load(testing::defaultModelPath());
        QVERIFY2(m.ok(), m ? "" : m.error().toString().c_str());
        m_model = *m;
    }

    void attentionAgreesWithIndependentRecomputation_data() {
        QTest::addColumn<int>("prompt");
        for (int i = 0; i < 3; ++i) QTest::newRow(std::to_string(i).c_str()) << i;
    }
    void attentionAgreesWithIndependentRecomputation() {
        QFETCH(int, prompt);
        auto s = newSession();
        auto cap = std::make_shared<Capture>(*m_model, CaptureOptions::all(), engine::KvCacheType::F16);
        s->attachCapture(cap);
        const auto tokens = ids(kPrompts[prompt]);
        QVERIFY(s->evaluate(tokens).ok());
        QCOMPARE(cap->positions(), int(tokens.size()));
        const auto& g = cap->geometry();
        double worst = 0, worstSum = 0, worstEntropy = 0, worstSink = 0;
        std::vector<float> row;
        for (int layer = 0; layer < g.nLayers; layer += 3) {
            for (int head = 0; head < g.nHead; ++head) {
                auto map = cap->attentionMap(layer, head);
                QVERIFY(map.ok());
                const int n = cap->positions();
                for (int i = 0; i < n; ++i) {
                    const auto ref = referenceRow(*cap, layer, head, i);
                    double sum = 0, entropy = 0;
                    for (int j = 0; j < n; ++j) {
                        const float p = (*map)[size_t(i) * n + j];
                        if (j > i) { QCOMPARE(p, 0.0f); continue; }  // causal
                        sum += p;
                        worst = std::max(worst, std::fabs(p - ref[size_t(j)]));
                        if (p > 0) entropy -= double(p) * std::log(double(p));
                    }
                    worstSum = std::max(worstSum, std::fabs(sum - 1.0));
                    const auto& summary = cap->rowSummary(layer, i, head);
                    worstEntropy = std::max(worstEntropy, std::fabs(summary.entropy - entropy));
                    worstSink = std::max(worstSink, double(std::fabs(summary.sink - (*map)[size_t(i) * n])));
                }
            }
        }
        qInfo("prompt %d: %zu tokens, max |p - p_ref| %.3g, max |Σp - 1| %.3g, entropy Δ %.3g, sink Δ %.3g", prompt,
              tokens.size(), worst, worstSum, worstEntropy, worstSink);
        QVERIFY2(worst <= 1e-3, qPrintable(QString::number(worst)));
        QVERIFY(worstSum <= 1e-5);
        // The forward pass's own summaries match the recomputed rows: the
        // recomputation is what the model computed.
        QVERIFY2(worstEntropy <= 1e-3, qPrintable(QString::number(worstEntropy)));
        QVERIFY2(worstSink <= 1e-6, qPrintable(QString::number(worstSink)));
    }

    void captureLeavesLogitsUntouched() {
        const auto tokens = ids(kPrompts[0]);
        auto plain = newSession();
        auto a = plain->evaluateAll(tokens);
        auto probed = newSession();
        probed->attachCapture(std::make_shared<Capture>(*m_model, CaptureOptions::all(), engine::KvCacheType::F16));
        auto b = probed->evaluateAll(tokens);
        QVERIFY(a.ok() && b.ok());
        QVERIFY(*a == *b);
    }

    void lastLensPointEqualsRealLogits() {
        const auto tokens = ids(kPrompts[1]);
        auto s = newSession();
        auto cap = std::make_shared<Capture>(*m_model, CaptureOptions::all(), engine::KvCacheType::F16);
        s->attachCapture(cap);
        auto logits = s->evaluateAll(tokens);
        QVERIFY(logits.ok());
        const int n = int(tokens.size());
        auto lens = engine::computeLogitLens(*s, *cap, 0, n, 5);
        QVERIFY2(lens.ok(), lens ? "" : lens.error().toString().c_str());
        QCOMPARE(lens->nPoints, m_model->config().nLayers + 1);
        const int nVocab = m_model->config().nVocab;
        double worst = 0;
        int earlyAgree = 0;
        for (int i = 0; i < n; ++i) {
            const float* row = &(*logits)[size_t(i) * nVocab];
            const int32_t top = int32_t(std::max_element(row, row + nVocab) - row);
            const auto& last = lens->cell(lens->nPoints - 1, i);
            QCOMPARE(last.topIds[0], top);
            QCOMPARE(last.targetRank, 0);
            double z = 0;
            const float mx = row[top];
            for (int v = 0; v < nVocab; ++v) z += std::exp(double(row[v] - mx));
            for (int k = 0; k < 5; ++k)
                worst = std::max(worst, std::fabs(last.topProbs[size_t(k)] -
                                                  std::exp(double(row[last.topIds[size_t(k)]] - mx)) / z));
            earlyAgree += lens->cell(1, i).topIds[0] == top;
        }
        qInfo("lens last point vs real logits: max prob Δ %.3g; layer-0 top-1 agrees at %d/%d", worst, earlyAgree, n);
        QVERIFY(worst <= 1e-5);
        QVERIFY(earlyAgree < n);  // the first layer is not yet the answer
    }

    void shapesFollowTheArchitecture() {
        auto s = newSession();
        auto cap = std::make_shared<Capture>(*m_model, CaptureOptions::all(), engine::KvCacheType::F16);
        s->attachCapture(cap);
        const auto tokens = ids(kPrompts[2]);
        QVERIFY(s->evaluate(tokens).ok());
        const int32_t next = 42;
        QVERIFY(s->evaluate(std::span<const int32_t>(&next, 1)).ok());
        const auto& c = m_model->config();
        const auto& passes = cap->passes();
        QCOMPARE(int(passes.size()), int((tokens.size() + 15) / 16) + 1);
        for (const auto& pass : passes) {
            const int n = pass.nTokens, keys = pass.startPos + n;
            int layersSeen = 0;
            for (const auto& op : pass.ops) {
                const auto& d = op.output.dims;
                switch (op.op) {
                    case OpKind::QProj: QCOMPARE(op.output.rank, 3); QCOMPARE(d[0], int64_t(n));
                        QCOMPARE(d[1] * d[2], int64_t(c.nHead) * c.headDim); ++layersSeen; break;
                    case OpKind::KProj: QCOMPARE(d[1], int64_t(c.nHeadKv)); QCOMPARE(d[2], int64_t(c.headDim)); break;
                    case OpKind::Scores: QCOMPARE(d[0], int64_t(c.nHead)); QCOMPARE(d[1], int64_t(n));
                        QCOMPARE(d[2], int64_t(keys)); break;
                    case OpKind::GateProj: QCOMPARE(d[1], int64_t(c.nFf)); break;
                    case OpKind::Logits: QCOMPARE(d[1], int64_t(c.nVocab)); break;
                    default: break;
                }
                if (op.weight >= 0) {
                    const auto& w = cap->weights()[size_t(op.weight)];
                    if (op.op == OpKind::QProj) QCOMPARE(w.shape[1], int64_t(c.nHead) * c.headDim);
                    if (op.op == OpKind::KProj) QCOMPARE(w.shape[1], int64_t(c.nHeadKv) * c.headDim);
                }
            }
            QCOMPARE(layersSeen, c.nLayers);
        }
        QCOMPARE(passes.back().nTokens, 1);  // the decode step
    }

    void generationRecordsEveryToken() {
        auto s = newSession();
        auto cap = std::make_shared<Capture>(*m_model, CaptureOptions::all(), engine::KvCacheType::F16);
        engine::GenerationRequest req;
        req.prompt = ids(kPrompts[0]);
        req.sampling.maxTokens = 8;
        req.sampling.temperature = 0;
        QVERIFY(engine::generate(*s, req).ok());  // before the capture: nothing recorded
        s->attachCapture(cap);
        QCOMPARE(cap->positions(), 0);
        auto r = engine::generate(*s, req);  // must re-run the cached prompt to record it
        QVERIFY(r.ok());
        QCOMPARE(r->reusedPromptTokens, 0);
        QCOMPARE(cap->positions(), s->position());
        QCOMPARE(cap->tokens(), s->tokens());
        QVERIFY(cap->limitMessage().empty());
    }
};

QTEST_GUILESS_MAIN(TestCaptureReal)
#include "tst_capture_real.moc"
