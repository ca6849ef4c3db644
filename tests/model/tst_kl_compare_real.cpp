// Model-level quantization comparison on the real default model:
// SmolLM2-135M-Instruct Q4_1 (and Q8_0 when present) against its F16 file on
// the start of the fidelity text, plus the prompt view's residual drift.
// Skipped when the F16 reference is not in GLASSBOX_MODELS_DIR.
#include <QtTest>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "engine/kl_compare.h"
#include "engine/model.h"
#include "engine/tokenizer.h"
#include "support/test_paths.h"

using namespace glassbox;
using engine::Model;

class TestKlCompareReal : public QObject {
    Q_OBJECT
    std::shared_ptr<const Model> m_f16, m_q4;
    std::vector<int32_t> m_ids;

    static std::string path(const char* type) {
        return testing::modelsDir() + "/SmolLM2-135M-Instruct." + type + ".gguf";
    }

    static engine::KlCompareOptions options() {
        engine::KlCompareOptions o;
        o.contextSize = 128;
        o.maxChunks = 2;
        o.threads = 2;
        return o;
    }

private slots:
    void initTestCase() {
        if (!std::filesystem::exists(path("F16")))
            QSKIP("SmolLM2-135M-Instruct.F16.gguf not found (GLASSBOX_MODELS_DIR); scripts/make_variants.py writes it");
        auto f16 = Model::load(path("F16"));
        auto q4 = Model::load(testing::defaultModelPath());
        QVERIFY2(f16.ok(), f16 ? "" : f16.error().toString().c_str());
        QVERIFY2(q4.ok(), q4 ? "" : q4.error().toString().c_str());
        m_f16 = *f16;
        m_q4 = *q4;
        std::ifstream in(testing::testDataDir() + "/fidelity_text.txt", std::ios::binary);
        std::stringstream ss;
        ss << in.rdbuf();
        m_ids = engine::tokenizeForKl(*m_q4, ss.str());
        QVERIFY(m_ids.size() >= 256);
        QCOMPARE(m_ids, engine::tokenizeForKl(*m_f16, ss.str()));
    }

    void q41AgainstF16() {
        auto r = engine::compareModels(m_f16, m_q4, m_ids, options());
        QVERIFY2(r.ok(), r ? "" : r.error().toString().c_str());
        const auto& s = r->stats;
        qInfo("Q4_1 vs F16, 2 × 128 tokens: mean KLD %.6f ± %.6f, median %.6f, p99 %.6f, max %.6f, same top %.2f%%, "
              "PPL %.3f -> %.3f (Δ %+.3f ± %.3f)",
              s.meanKld.value, s.meanKld.error, s.medianKld, s.p99Kld, s.maxKld, 100 * s.sameTop.value,
              s.pplRef.value, s.pplQuant.value, s.deltaPpl.value, s.deltaPpl.error);
        QCOMPARE(s.count, int64_t(2 * 63));
        QVERIFY(s.meanKld.value > 0 && s.meanKld.value < 0.1);
        QVERIFY(s.meanKld.error > 0 && s.meanKld.error < s.meanKld.value);
        QVERIFY(s.sameTop.value > 0.8);
        QVERIFY(s.pplRef.value > 2 && s.pplRef.value < 500);
        QVERIFY(std::fabs(s.logPplRatio.value) < 0.1);
        QVERIFY(s.pplCorrelation > 0.9);
        for (float k : r->scored.kld) QVERIFY(std::isfinite(k) && k > -1e-6f);

        if (!std::filesystem::exists(path("Q8_0"))) return;
        auto q8 = Model::load(path("Q8_0"));
        QVERIFY(q8.ok());
        auto r8 = engine::compareModels(m_f16, *q8, m_ids, options());
        QVERIFY(r8.ok());
        qInfo("Q8_0 vs F16: mean KLD %.6f, same top %.2f%%", r8->stats.meanKld.value, 100 * r8->stats.sameTop.value);
        // The F16 and Q8_0 files are written from the Q4_1 file (scripts/make_variants.py), so both pairs
        // measure small rounding differences, not the loss against the original checkpoint.
        QVERIFY(r8->stats.meanKld.value > 0 && r8->stats.meanKld.value < 0.1);
        QVERIFY(r8->stats.sameTop.value > 0.8);
    }

    void referenceAgainstItselfIsZero() {
        auto o = options();
        o.maxChunks = 1;
        auto r = engine::compareModels(m_f16, m_f16, m_ids, o);
        QVERIFY(r.ok());
        QCOMPARE(r->stats.maxKld, 0.0);
        QCOMPARE(r->stats.sameTop.value, 1.0);
    }

    void promptDrift() {
        const auto ids = m_q4->tokenizer().encode("The capital of France is Paris, and the capital of Italy is", true, true);
        auto d = engine::comparePrompt(m_f16, m_q4, ids);
        QVERIFY2(d.ok(), d ? "" : d.error().toString().c_str());
        QCOMPARE(d->points, m_q4->config().nLayers + 1);
        QString line;
        for (float c : d->meanCosine) line += QString::number(c, 'f', 5) + " ";
        qInfo("mean residual cosine per point: %s; %d flips of %zu; first drift point %d", qPrintable(line), d->flips,
              ids.size(), d->firstDriftPoint);
        for (float c : d->meanCosine) QVERIFY(c > 0.9f && c <= 1.0f + 1e-6f);
        QVERIFY(d->flips <= int(ids.size()) / 2);
        engine::PromptDriftOptions strict;
        strict.cosineThreshold = 0.99999;
        auto s = engine::comparePrompt(m_f16, m_q4, ids, strict);
        QVERIFY(s.ok());
        QVERIFY(s->firstDriftPoint >= 0);
        QVERIFY(s->meanCosine[size_t(s->firstDriftPoint)] < 0.99999f);
        for (int p = 0; p < s->firstDriftPoint; ++p) QVERIFY(s->meanCosine[size_t(p)] >= 0.99999f);
    }
};

QTEST_GUILESS_MAIN(TestKlCompareReal)
#include "tst_kl_compare_real.moc"
