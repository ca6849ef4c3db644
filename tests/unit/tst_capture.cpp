// Capture bookkeeping on synthetic models: F32 and F16 caches, rewinding
// and branching, the memory cap, late attachment, activation statistics and
// the per-position byte count.
#include <QtTest>

#include <cmath>

#include "engine/capture.h"
#include "engine/capture_export.h"
#include "engine/json.h"
#include "engine/generator.h"
#include "engine/logit_lens.h"
#include "engine/model.h"
#include "engine/session.h"
#include "support/synthetic_model.h"
#include "support/test_paths.h"

using namespace glassbox;
using engine::Capture;
using engine::CaptureOptions;
using engine::KvCacheType;

class TestCapture : public QObject {
    Q_OBJECT
    std::shared_ptr<const engine::Model> m_model;

    std::unique_ptr<engine::Session> session(KvCacheType kv = KvCacheType::F16) {
        engine::BackendOptions o;
        o.contextSize = 128;
        o.threads = 2;
        o.microBatch = 8;
        o.kvType = kv;
        auto s = engine::Session::create(m_model, o);
        if (!s) qFatal("%s", s.error().toString().c_str());
        return std::move(*s);
    }

    static std::vector<int32_t> tokens(int n, int salt = 0) {
        std::vector<int32_t> t;
        for (int i = 0; i < n; ++i) t.push_back((i * 37 + salt * 11 + 5) % 250);
        return t;
    }

private slots:
    void initTestCase() {
        const std::string path = testing::makeTempDir("capture") + "/m.gguf";
        testing::SyntheticModelSpec spec;
        spec.nLayers = 3;
        QVERIFY(testing::writeSyntheticModel(path, spec).ok());
        auto m = engine::Model::load(path);
        QVERIFY(m.ok());
        m_model = *m;
    }

    void rowsAreDistributionsForBothCacheTypes() {
        for (KvCacheType kv : {KvCacheType::F16, KvCacheType::F32}) {
            auto s = session(kv);
            auto cap = std::make_shared<Capture>(*m_model, CaptureOptions::all(), kv);
            s->attachCapture(cap);
            QVERIFY(s->evaluate(tokens(20)).ok());
            QCOMPARE(cap->positions(), 20);
            for (int layer = 0; layer < 3; ++layer)
                for (int head = 0; head < 4; ++head) {
                    std::vector<float> row;
                    QVERIFY(cap->attentionRow(layer, head, 19, true, row).ok());
                    QCOMPARE(int(row.size()), 20);
                    double sum = 0;
                    for (float p : row) sum += p;
                    QVERIFY(std::fabs(sum - 1.0) < 1e-5);
                    QVERIFY(cap->attentionRow(layer, head, 19, false, row).ok());  // scores: finite
                    for (float v : row) QVERIFY(std::isfinite(v));
                }
            std::vector<float> row;
            QVERIFY(!cap->attentionRow(3, 0, 0, true, row).ok());
            QVERIFY(!cap->attentionRow(0, 4, 0, true, row).ok());
            QVERIFY(!cap->attentionRow(0, 0, 20, true, row).ok());
        }
    }

    void rewindAndBranchKeepTheCaptureInStep() {
        auto s = session();
        auto cap = std::make_shared<Capture>(*m_model, CaptureOptions::all(), KvCacheType::F16);
        s->attachCapture(cap);
        QVERIFY(s->evaluate(tokens(24)).ok());
        std::vector<float> before;
        QVERIFY(cap->attentionRow(1, 2, 9, true, before).ok());
        s->truncate(10);
        QCOMPARE(cap->positions(), 10);
        QVERIFY(s->evaluate(tokens(5, 7)).ok());  // a different branch
        QCOMPARE(cap->positions(), 15);
        QCOMPARE(cap->tokens(), s->tokens());
        std::vector<float> after;
        QVERIFY(cap->attentionRow(1, 2, 9, true, after).ok());
        QVERIFY(before == after);  // the shared prefix is unchanged
        for (const auto& pass : cap->passes()) QVERIFY(pass.startPos < 15);
    }

    void memoryCapStopsRecordingAndSaysSo() {
        auto s = session();
        CaptureOptions o = CaptureOptions::all();
        auto probe = std::make_shared<Capture>(*m_model, o, KvCacheType::F16);
        o.maxBytes = probe->bytesPerPosition() * 12;
        auto cap = std::make_shared<Capture>(*m_model, o, KvCacheType::F16);
        s->attachCapture(cap);
        QVERIFY(s->evaluate(tokens(30)).ok());  // the run itself succeeds
        QCOMPARE(cap->positions(), 8);          // one 8-token micro-batch fits, the second would not
        QVERIFY(cap->limitMessage().find("MiB") != std::string::npos);
        QVERIFY(cap->bytes() <= o.maxBytes);
    }

    void lateAttachmentIsReported() {
        auto s = session();
        QVERIFY(s->evaluate(tokens(10)).ok());
        auto cap = std::make_shared<Capture>(*m_model, CaptureOptions::all(), KvCacheType::F16);
        s->attachCapture(cap);
        QCOMPARE(s->capturedPrefix(), 0);
        const int32_t t = 3;
        QVERIFY(s->evaluate(std::span<const int32_t>(&t, 1)).ok());
        QCOMPARE(cap->positions(), 0);
        QVERIFY(!cap->limitMessage().empty());
    }

    void activationStatsMatchARecomputation() {
        auto s = session();
        auto cap = std::make_shared<Capture>(*m_model, CaptureOptions::all(), KvCacheType::F16);
        s->attachCapture(cap);
        QVERIFY(s->evaluate(tokens(9)).ok());
        for (int layer = 0; layer < 3; ++layer)
            for (int pos = 0; pos < 9; ++pos) {
                const auto r = cap->residual(layer + 1, pos);
                const auto& st = cap->stats(layer, engine::ActivationSite::Residual, pos);
                double sq = 0, sum = 0, maxAbs = 0;
                for (float v : r) { sq += double(v) * v; sum += v; maxAbs = std::max(maxAbs, double(std::fabs(v))); }
                QVERIFY(std::fabs(st.l2 - std::sqrt(sq)) <= 1e-4 * std::sqrt(sq));
                QVERIFY(std::fabs(st.mean - sum / double(r.size())) <= 1e-5);
                QCOMPARE(double(std::fabs(st.topValue[0])), maxAbs);
                QCOMPARE(r[size_t(st.topDim[0])], st.topValue[0]);
                for (int k = 1; k < engine::kTopDims; ++k)
                    QVERIFY(std::fabs(st.topValue[size_t(k)]) <= std::fabs(st.topValue[size_t(k - 1)]));
            }
    }

    void bytesPerPositionMatchesTheFormula() {
        const auto& c = m_model->config();
        Capture cap(*m_model, CaptureOptions::all(), KvCacheType::F16);
        const uint64_t L = uint64_t(c.nLayers);
        const uint64_t expected = 4 + L * (uint64_t(c.qDim()) * 4 + uint64_t(c.kvDim()) * 2 + uint64_t(c.nHead) * 8) +
                                  (L + 1) * uint64_t(c.nEmbd) * 4 + L * 3 * sizeof(engine::ActivationStats);
        QCOMPARE(cap.bytesPerPosition(), expected);
        Capture none(*m_model, CaptureOptions{}, KvCacheType::F16);
        QCOMPARE(none.bytesPerPosition(), uint64_t(4));
    }

    void exportsParseBack() {
        auto s = session();
        auto cap = std::make_shared<Capture>(*m_model, CaptureOptions::all(), KvCacheType::F16);
        s->attachCapture(cap);
        QVERIFY(s->evaluate(tokens(11)).ok());
        auto json = engine::parseJson(engine::captureToJson(*cap, {"a", "\"quoted\"\n"}));
        QVERIFY2(json.ok(), json ? "" : json.error().toString().c_str());
        QCOMPARE(json->find("positions")->asInt().value_or(-1), int64_t(11));
        QCOMPARE(json->find("tokens")->items().size(), size_t(11));
        QCOMPARE(json->find("passes")->items().size(), cap->passes().size());
        QCOMPARE(json->find("layers")->items().size(), size_t(3));
        const auto* firstOp = json->find("passes")->at(0)->find("ops")->at(0);
        QCOMPARE(firstOp->find("op")->asString().value_or(""), std::string_view("embedding"));
        auto lens = engine::computeLogitLens(*s, *cap, 0, 11, 3);
        QVERIFY(lens.ok());
        auto lensJson = engine::parseJson(engine::logitLensToJson(*lens, {}));
        QVERIFY(lensJson.ok());
        QCOMPARE(lensJson->find("cells")->items().size(), size_t(4));  // embeddings + 3 layers
        const std::string dir = testing::makeTempDir("capture-export");
        QVERIFY(engine::writeAttentionNpy(*cap, 1, true, dir + "/a.npy").ok());
        QVERIFY(engine::writeResidualNpy(*cap, dir + "/r.npy").ok());
        QVERIFY(!engine::writeAttentionNpy(*cap, 3, true, dir + "/bad.npy").ok());
        QVERIFY(!engine::writeTextFile("/nonexistent-dir/x.json", "{}").ok());
    }

    void lensRejectsBadArguments() {
        auto s = session();
        CaptureOptions o;
        o.attention = true;
        auto cap = std::make_shared<Capture>(*m_model, o, KvCacheType::F16);
        s->attachCapture(cap);
        QVERIFY(s->evaluate(tokens(4)).ok());
        QVERIFY(!engine::computeLogitLens(*s, *cap, 0, 4, 5).ok());  // no residuals
        auto full = std::make_shared<Capture>(*m_model, CaptureOptions::all(), KvCacheType::F16);
        s->truncate(0);
        s->attachCapture(full);
        QVERIFY(s->evaluate(tokens(4)).ok());
        QVERIFY(!engine::computeLogitLens(*s, *full, 2, 5, 5).ok());
        QVERIFY(!engine::computeLogitLens(*s, *full, 0, 4, 0).ok());
        std::stop_source stop;
        stop.request_stop();
        auto cancelled = engine::computeLogitLens(*s, *full, 0, 4, 5, stop.get_token());
        QVERIFY(!cancelled.ok());
        QCOMPARE(cancelled.error().code, engine::ErrorCode::Cancelled);
        QVERIFY(engine::computeLogitLens(*s, *full, 0, 4, 5).ok());
    }
};

QTEST_GUILESS_MAIN(TestCapture)
#include "tst_capture.moc"
