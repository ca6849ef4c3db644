// The quantization lab on the real default model (SmolLM2-135M-Instruct,
// Q4_1) with the F16 file as reference: the full analysis of every weight
// matrix through all eight types (timed), exact bits per weight, the SNR
// ordering, llama.cpp's fallback on the 576-wide rows, the heatmap table,
// histograms of one tensor, and a re-quantized file that loads and predicts
// like its source.
#include <QtTest>

#include <cmath>
#include <filesystem>
#include <map>

#include "engine/model.h"
#include "engine/quant_error.h"
#include "engine/session.h"
#include "engine/tokenizer.h"
#include "support/test_paths.h"

using namespace glassbox;
using engine::QuantErrorStats;
using engine::TensorType;

namespace {

using ModelPtr = std::shared_ptr<const engine::Model>;

const std::map<TensorType, double> kBitsPerWeight = {
    {TensorType::Q8_0, 8.5}, {TensorType::Q4_0, 4.5}, {TensorType::Q4_1, 5.0}, {TensorType::Q5_0, 5.5},
    {TensorType::Q5_1, 6.0}, {TensorType::Q4_K, 4.5}, {TensorType::Q5_K, 5.5}, {TensorType::Q6_K, 6.5625}};

std::string f16Path() { return testing::modelsDir() + "/SmolLM2-135M-Instruct.F16.gguf"; }

ModelPtr loadOrDie(const std::string& path) {
    auto m = engine::Model::load(path);
    if (!m) qFatal("%s", m.error().toString().c_str());
    return *m;
}

}  // namespace

class TestQuantErrorReal : public QObject {
    Q_OBJECT

    ModelPtr m_model, m_f16;
    std::optional<engine::QuantErrorReport> m_report;  // the full analysis against F16

    // SNR of all tensors of one kind together, for one type.
    double kindSnr(engine::WeightKind kind, TensorType type) const {
        double signal = 0, noise = 0;
        for (const auto& t : m_report->tensors) {
            if (t.kind != kind) continue;
            const QuantErrorStats* s = m_report->find(t.name, type);
            signal += s->referenceRms * s->referenceRms * double(s->elements);
            noise += s->rmse * s->rmse * double(s->elements);
        }
        return 10.0 * std::log10(signal / noise);
    }

    const QuantErrorStats& total(TensorType type) const {
        for (const auto& s : m_report->totals)
            if (s.requested == type) return s;
        qFatal("type missing from the report");
    }

private slots:
    void initTestCase() {
        m_model = loadOrDie(testing::defaultModelPath());
        if (std::filesystem::exists(f16Path())) m_f16 = loadOrDie(f16Path());
    }

    void fullAnalysisAgainstF16() {
        if (!m_f16) QSKIP("models/SmolLM2-135M-Instruct.F16.gguf is absent (scripts/fetch-models.sh --variants)");
        std::vector<float> fractions;
        engine::QuantErrorOptions o;
        o.reference = m_f16.get();
        o.threads = 2;
        auto r = engine::analyzeQuantError(*m_model, o, {}, [&](float f, const std::string&) { fractions.push_back(f); });
        QVERIFY2(r.ok(), r.ok() ? "" : r.error().toString().c_str());
        m_report = std::move(*r);
        const auto& report = *m_report;
        qInfo("all %zu tensors x %zu types (%lld weights) in %.2f s on %d threads", report.tensors.size(),
              report.types.size(), static_cast<long long>(report.elements), report.seconds, report.threads);
        QVERIFY(std::is_sorted(fractions.begin(), fractions.end()));
        QCOMPARE(fractions.back(), 1.0f);
        QCOMPARE(report.tensors.size(), size_t(1 + 30 * 7));  // the output head is tied to the embedding
        QCOMPARE(report.elements, int64_t(134479872));
        for (const auto& t : report.tensors) {
            QVERIFY2(t.reference.find("dequantized from F16 (SmolLM2-135M-Instruct.F16.gguf)") != std::string::npos,
                     t.reference.c_str());
            for (const QuantErrorStats& s : t.stats) {
                const bool fits = t.cols % int64_t(engine::traitsOf(s.requested).blockSize) == 0;
                QCOMPARE(s.fallback(), !fits);
                QCOMPARE(s.bitsPerWeight, kBitsPerWeight.at(s.used));
                QVERIFY2(std::isfinite(s.rmse) && s.rmse > 0.0, t.name.c_str());
                QVERIFY(s.cosine > 0.99 && s.cosine <= 1.0 + 1e-12);
                QVERIFY(s.snrDb > 15.0);
                QCOMPARE(s.outliers.size(), size_t(5));
                QCOMPARE(std::fabs(s.outliers[0].error()), s.maxAbsError);
            }
        }
        // Only ffn_down (1536 wide) takes the K-quants natively; the 576-wide rows fall back.
        const QuantErrorStats* down = report.find("blk.7.ffn_down.weight", TensorType::Q4_K);
        QVERIFY(down && !down->fallback());
        QCOMPARE(report.find("blk.7.ffn_up.weight", TensorType::Q4_K)->used, TensorType::Q5_0);
        QCOMPARE(report.find("blk.7.ffn_up.weight", TensorType::Q5_K)->used, TensorType::Q5_1);
        QCOMPARE(report.find("token_embd.weight", TensorType::Q6_K)->used, TensorType::Q8_0);
        for (TensorType t : {TensorType::Q8_0, TensorType::Q4_0, TensorType::Q4_1, TensorType::Q5_0, TensorType::Q5_1})
            QCOMPARE(total(t).bitsPerWeight, kBitsPerWeight.at(t));
    }

    void snrOrdering() {
        if (!m_report) QSKIP("needs the full analysis against the F16 reference");
        using engine::WeightKind;
        const double q8 = kindSnr(WeightKind::Down, TensorType::Q8_0), q6 = kindSnr(WeightKind::Down, TensorType::Q6_K);
        const double q5 = kindSnr(WeightKind::Down, TensorType::Q5_K), q4 = kindSnr(WeightKind::Down, TensorType::Q4_K);
        const double q41 = kindSnr(WeightKind::Down, TensorType::Q4_1);
        qInfo("ffn_down SNR: Q8_0 %.2f dB, Q6_K %.2f, Q5_K %.2f, Q4_K %.2f, Q4_1 %.2f", q8, q6, q5, q4, q41);
        QVERIFY(q8 > q6);
        QVERIFY(q6 > q5);
        QVERIFY(q6 > q4);
        QVERIFY(total(TensorType::Q8_0).snrDb > total(TensorType::Q6_K).snrDb);
        QVERIFY(total(TensorType::Q8_0).snrDb > total(TensorType::Q4_0).snrDb);
        // scripts/make_variants.py writes the F16 file from the Q4_1 one, so the
        // "reference" lies on Q4_1's 16-level grid (Q4_1 reproduces it to > 60 dB).
        // Q4_K's 16 levels per 32-weight sub-block line up with that grid and
        // only its 6-bit scales cost anything; Q5_K does no better there.
        if (q41 > 60.0)
            QEXPECT_FAIL("", "the F16 reference is the Q4_1 model re-encoded: Q4_K matches its grid", Continue);
        QVERIFY(q5 > q4);
    }

    void heatmapOfTheModel() {
        if (!m_report) QSKIP("needs the full analysis against the F16 reference");
        auto h = engine::quantErrorHeatmap(*m_report, TensorType::Q4_0, engine::QuantMetric::SnrDb);
        QVERIFY(h.ok());
        QCOMPARE(h->cells.size(), size_t(30));
        for (const auto& row : h->cells)
            for (double v : row) QVERIFY(std::isfinite(v) && v > 15.0);
        QVERIFY(std::isfinite(h->embedding));
        QVERIFY(std::isnan(h->output));
        QCOMPARE(h->cells[12][3], m_report->find("blk.12.attn_output.weight", TensorType::Q4_0)->snrDb);
    }

    void ownWeightsAsReference() {
        engine::QuantErrorOptions o;
        o.tensors = {"token_embd.weight", "blk.0.attn_q.weight"};
        o.types = {TensorType::Q4_1, TensorType::Q8_0};
        auto r = engine::analyzeQuantError(*m_model, o);
        QVERIFY(r.ok());
        QCOMPARE(r->tensors[0].reference, std::string("F32 dequantized from Q8_0 (this model)"));
        QCOMPARE(r->tensors[1].reference, std::string("F32 dequantized from Q4_1 (this model)"));
        // The Q4_1 weights quantized to Q4_1 again come back (nearly) unchanged.
        QVERIFY(r->find("blk.0.attn_q.weight", TensorType::Q4_1)->snrDb > 60.0);
    }

    void histogramsOfOneTensor() {
        engine::QuantHistogramOptions o;
        o.reference = m_f16.get();
        o.threads = 2;
        QElapsedTimer timer;
        timer.start();
        auto h = engine::quantErrorHistograms(*m_model, "blk.5.ffn_down.weight", o);
        QVERIFY2(h.ok(), h.ok() ? "" : h.error().toString().c_str());
        qInfo("histograms of one 1536 x 576 tensor, 8 types: %lld ms", static_cast<long long>(timer.elapsed()));
        QCOMPARE(h->weights.counts.size(), size_t(64));
        QCOMPARE(h->weights.total(), uint64_t(1536 * 576));
        for (const auto& e : h->errors) QCOMPARE(e.total(), uint64_t(1536 * 576));
        QVERIFY(h->errors[0].range < h->errors[1].range);  // Q8_0's errors are smaller than Q4_0's
    }

    void requantizedFileLoadsAndPredicts() {
        const ModelPtr source = m_f16 ? m_f16 : m_model;
        const std::string dir = testing::makeTempDir("gb-requant-real"), out = dir + "/q8_0.gguf";
        auto plan = engine::planRequantize(*source, TensorType::Q4_K);
        QVERIFY(plan.ok());
        int fallbacks = 0;
        for (const auto& t : *plan) fallbacks += t.fallback ? 1 : 0;
        QCOMPARE(fallbacks, 1 + 30 * 6);  // all but the 30 ffn_down matrices
        auto st = engine::requantizeModel(*source, TensorType::Q8_0, out, {}, {}, 2);
        QVERIFY2(st.ok(), st.ok() ? "" : st.error().toString().c_str());
        const ModelPtr q8 = loadOrDie(out);
        QCOMPARE(q8->weightTypeSummary(), std::string("Q8_0"));
        QCOMPARE(q8->metadata().size(), source->metadata().size());
        const auto tokens = source->tokenizer().encode(
            "The quick brown fox jumps over the lazy dog. Paris is the capital of France, and Berlin is the "
            "capital of Germany. Water boils at one hundred degrees Celsius at sea level. The sun rises in the "
            "east and sets in the west. One, two, three, four, five, six, seven, eight, nine, ten.",
            true, true);
        auto argmaxes = [&](const ModelPtr& m) {
            engine::BackendOptions bo;
            bo.contextSize = 128;
            bo.threads = 2;
            auto s = engine::Session::create(m, bo);
            if (!s) qFatal("%s", s.error().toString().c_str());
            auto logits = (*s)->evaluateAll(tokens);
            if (!logits) qFatal("%s", logits.error().toString().c_str());
            std::vector<int> best;
            const size_t nv = size_t(m->config().nVocab);
            for (size_t i = 0; i < tokens.size(); ++i)
                best.push_back(int(std::max_element(logits->begin() + i * nv, logits->begin() + (i + 1) * nv) -
                                   (logits->begin() + i * nv)));
            return best;
        };
        const auto a = argmaxes(source), b = argmaxes(q8);
        int same = 0;
        for (size_t i = 0; i < a.size(); ++i) same += a[i] == b[i] ? 1 : 0;
        qInfo("top-1 agreement, Q8_0 re-quantized vs source: %d of %zu positions", same, a.size());
        QVERIFY(same >= int(0.9 * double(a.size())));
        std::filesystem::remove_all(dir);
    }
};

QTEST_GUILESS_MAIN(TestQuantErrorReal)
#include "tst_quant_error_real.moc"
