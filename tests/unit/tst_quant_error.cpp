// The quantization lab on synthetic models: per-tensor statistics against an
// independent double-precision recomputation, the expected ordering of the
// types, llama.cpp's fallback types, thread-count independence, reference
// models, the heatmap table, histograms, re-quantized models (which must
// load and give logits close to the source's), cancellation and bad input.
#include <QtTest>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>

#include "engine/gguf_file.h"
#include "engine/mapped_file.h"
#include "engine/model.h"
#include "engine/quant_error.h"
#include "engine/session.h"
#include "engine/tokenizer.h"
#include "kernels/cpu/quant_kernels.h"
#include "support/synthetic_model.h"
#include "support/test_paths.h"

using namespace glassbox;
using engine::ErrorCode;
using engine::QuantErrorOptions;
using engine::QuantErrorStats;
using engine::TensorType;
using engine::TensorView;

namespace {

using ModelPtr = std::shared_ptr<const engine::Model>;

// Every weight row is a multiple of 256 wide: all eight types apply natively.
testing::SyntheticModelSpec wideSpec(TensorType type = TensorType::F32, uint32_t seed = 1) {
    testing::SyntheticModelSpec s;
    s.nEmbd = 256;
    s.nHead = 4;
    s.nHeadKv = 2;
    s.nFf = 256;
    s.weightType = type;
    s.embeddingType = type;
    s.seed = seed;
    return s;
}

// Statistics of one tensor through one type, recomputed from scratch.
struct Expected {
    double sumW2 = 0, sumQ2 = 0, sumWQ = 0, sumE2 = 0, maxAbs = 0;
    std::vector<std::pair<double, std::pair<int64_t, int64_t>>> top;  // |err|, (row, col)
    uint64_t bytes = 0;
};

Expected recompute(const TensorView& t, TensorType type) {
    Expected e;
    const int64_t cols = t.ne[0], rows = t.ne[1];
    const uint64_t rb = *engine::rowBytes(type, uint64_t(cols));
    std::vector<float> w(static_cast<size_t>(cols)), q(static_cast<size_t>(cols));
    std::vector<uint8_t> blocks(rb);
    for (int64_t r = 0; r < rows; ++r) {
        kernels::dequantizeRow(t.type, t.data + uint64_t(r) * t.rowStride(), w.data(), cols);
        kernels::quantizeRow(type, w.data(), blocks.data(), cols);
        kernels::dequantizeRow(type, blocks.data(), q.data(), cols);
        for (int64_t c = 0; c < cols; ++c) {
            const double a = w[size_t(c)], b = q[size_t(c)], d = b - a;
            e.sumW2 += a * a;
            e.sumQ2 += b * b;
            e.sumWQ += a * b;
            e.sumE2 += d * d;
            e.maxAbs = std::max(e.maxAbs, std::fabs(d));
            e.top.push_back({std::fabs(d), {r, c}});
        }
    }
    std::stable_sort(e.top.begin(), e.top.end(), [](const auto& x, const auto& y) { return x.first > y.first; });
    e.top.resize(5);
    e.bytes = rb * uint64_t(rows);
    return e;
}

bool relClose(double a, double b, double rel = 1e-9) {
    return std::fabs(a - b) <= rel * std::max({1e-300, std::fabs(a), std::fabs(b)});
}

std::vector<float> logitsFor(const ModelPtr& m, const std::vector<int32_t>& tokens) {
    engine::BackendOptions o;
    o.contextSize = 64;
    o.threads = 2;
    auto s = engine::Session::create(m, o);
    if (!s) qFatal("%s", s.error().toString().c_str());
    auto l = (*s)->evaluateAll(tokens);
    if (!l) qFatal("%s", l.error().toString().c_str());
    return *l;
}

}  // namespace

class TestQuantError : public QObject {
    Q_OBJECT

    std::string m_dir;
    ModelPtr m_wide;    // F32, every row width a multiple of 256
    ModelPtr m_narrow;  // F32, 64-wide rows: the K-quants fall back
    std::string m_widePath, m_narrowPath;

    ModelPtr write(const std::string& name, const testing::SyntheticModelSpec& spec) {
        const std::string path = m_dir + "/" + name;
        auto st = testing::writeSyntheticModel(path, spec);
        if (!st) qFatal("%s", st.error().toString().c_str());
        auto m = engine::Model::load(path);
        if (!m) qFatal("%s", m.error().toString().c_str());
        return *m;
    }

    engine::QuantErrorReport analyze(const engine::Model& m, QuantErrorOptions o = {}) {
        auto r = engine::analyzeQuantError(m, o);
        if (!r) qFatal("%s", r.error().toString().c_str());
        return std::move(*r);
    }

private slots:
    void initTestCase() {
        m_dir = testing::makeTempDir("gb-quant-error");
        m_wide = write("wide.gguf", wideSpec());
        m_widePath = m_wide->path();
        m_narrow = write("narrow.gguf", testing::SyntheticModelSpec{});
        m_narrowPath = m_narrow->path();
    }

    void cleanupTestCase() { std::filesystem::remove_all(m_dir); }

    void statisticsMatchDoubleRecomputation() {
        QuantErrorOptions o;
        o.threads = 2;
        const auto report = analyze(*m_wide, o);
        QCOMPARE(report.types.size(), size_t(8));
        QCOMPARE(report.tensors.size(), size_t(1 + 2 * 7));  // tied output is not repeated
        const std::pair<std::string, const TensorView*> picks[] = {
            {"token_embd.weight", &m_wide->tokenEmbedding()},
            {"blk.0.attn_k.weight", &m_wide->layers()[0].wk},
            {"blk.1.ffn_down.weight", &m_wide->layers()[1].wDown}};
        for (const auto& [name, view] : picks) {
            const auto* t = report.findTensor(name);
            QVERIFY2(t, name.c_str());
            QCOMPARE(t->reference, std::string("F32 (this model)"));
            for (TensorType type : engine::quantLabTypes()) {
                const QuantErrorStats* s = report.find(name, type);
                QVERIFY(s);
                QCOMPARE(s->used, type);
                const Expected e = recompute(*view, type);
                const double n = double(view->elements());
                QCOMPARE(s->elements, view->elements());
                QCOMPARE(s->bytes, e.bytes);
                QCOMPARE(s->bitsPerWeight, double(e.bytes) * 8.0 / n);
                QVERIFY2(relClose(s->rmse, std::sqrt(e.sumE2 / n)), name.c_str());
                QCOMPARE(s->maxAbsError, e.maxAbs);
                QVERIFY(relClose(s->snrDb, 10.0 * std::log10(e.sumW2 / e.sumE2)));
                QVERIFY(relClose(s->cosine, e.sumWQ / std::sqrt(e.sumW2 * e.sumQ2)));
                QVERIFY(relClose(s->referenceRms, std::sqrt(e.sumW2 / n)));
                QCOMPARE(s->outliers.size(), size_t(5));
                for (size_t i = 0; i < 5; ++i) {
                    const auto& o2 = s->outliers[i];
                    QCOMPARE(std::fabs(o2.error()), e.top[i].first);
                    QCOMPARE(o2.row, e.top[i].second.first);
                    QCOMPARE(o2.col, e.top[i].second.second);
                }
            }
        }
    }

    void typesOrderAsExpected() {
        const auto report = analyze(*m_wide);
        for (const auto& t : report.tensors) {
            const auto* q8 = report.find(t.name, TensorType::Q8_0);
            const auto* q4 = report.find(t.name, TensorType::Q4_0);
            QVERIFY2(q8->rmse < q4->rmse, t.name.c_str());
            QVERIFY(q8->snrDb > q4->snrDb);
            QVERIFY(q8->cosine > q4->cosine);
        }
        auto total = [&](TensorType type) {
            const size_t k = size_t(std::find(report.types.begin(), report.types.end(), type) - report.types.begin());
            return report.totals[k];
        };
        QVERIFY(total(TensorType::Q8_0).snrDb > total(TensorType::Q6_K).snrDb);
        QVERIFY(total(TensorType::Q6_K).snrDb > total(TensorType::Q5_K).snrDb);
        QVERIFY(total(TensorType::Q5_K).snrDb > total(TensorType::Q4_K).snrDb);
        QVERIFY(total(TensorType::Q5_1).snrDb > total(TensorType::Q4_1).snrDb);
        QCOMPARE(total(TensorType::Q8_0).bitsPerWeight, 8.5);
        QCOMPARE(total(TensorType::Q6_K).bitsPerWeight, 6.5625);
        QCOMPARE(total(TensorType::Q4_K).fallbackElements, int64_t(0));
    }

    void fallbackFollowsLlamaCpp() {
        QCOMPARE(engine::quantFallbackType(TensorType::Q4_K, 576), TensorType::Q5_0);
        QCOMPARE(engine::quantFallbackType(TensorType::Q5_K, 576), TensorType::Q5_1);
        QCOMPARE(engine::quantFallbackType(TensorType::Q6_K, 576), TensorType::Q8_0);
        QCOMPARE(engine::quantFallbackType(TensorType::Q4_K, 1536), TensorType::Q4_K);
        QCOMPARE(engine::quantFallbackType(TensorType::Q4_0, 48), TensorType::F16);
        QCOMPARE(engine::quantFallbackType(TensorType::Q6_K, 80), TensorType::F16);
        const auto report = analyze(*m_narrow);
        const QuantErrorStats* s = report.find("blk.0.attn_q.weight", TensorType::Q4_K);
        QVERIFY(s && s->fallback());
        QCOMPARE(s->used, TensorType::Q5_0);
        QCOMPARE(s->bitsPerWeight, 5.5);
        QCOMPARE(s->fallbackElements, s->elements);
        QVERIFY(!report.find("blk.0.attn_q.weight", TensorType::Q4_0)->fallback());
        QCOMPARE(report.totals[7].fallbackElements, report.elements);  // Q6_K: every row is 64 or 128 wide
    }

    void sameResultsForAnyThreadCount() {
        QuantErrorOptions one, three;
        one.threads = 1;
        three.threads = 3;
        one.types = three.types = {TensorType::Q4_0, TensorType::Q5_K};
        const auto a = analyze(*m_wide, one), b = analyze(*m_wide, three);
        QCOMPARE(a.threads, 1);
        QCOMPARE(b.threads, 3);
        for (size_t i = 0; i < a.tensors.size(); ++i)
            for (size_t k = 0; k < a.types.size(); ++k) {
                const auto &x = a.tensors[i].stats[k], &y = b.tensors[i].stats[k];
                QCOMPARE(x.rmse, y.rmse);
                QCOMPARE(x.snrDb, y.snrDb);
                QCOMPARE(x.cosine, y.cosine);
                QCOMPARE(x.outliers.size(), y.outliers.size());
                for (size_t j = 0; j < x.outliers.size(); ++j) QCOMPARE(x.outliers[j].col, y.outliers[j].col);
            }
    }

    void referenceModel() {
        // The same random weights stored as Q8_0: the F32 file is its reference.
        const ModelPtr q8 = write("q8.gguf", wideSpec(TensorType::Q8_0));
        const auto own = analyze(*q8);
        QCOMPARE(own.tensors[1].reference, std::string("F32 dequantized from Q8_0 (this model)"));
        QuantErrorOptions o;
        o.reference = m_wide.get();
        const auto vsF32 = analyze(*q8, o);
        QCOMPARE(vsF32.tensors[1].reference, std::string("F32 (wide.gguf)"));
        QCOMPARE(vsF32.referenceModel, m_widePath);
        // Against the F32 reference the figures are those of the F32 model itself.
        const auto direct = analyze(*m_wide);
        QCOMPARE(vsF32.totals[1].rmse, direct.totals[1].rmse);
        QVERIFY(own.find("blk.0.attn_q.weight", TensorType::Q8_0)->snrDb > 60.0);  // Q8_0 of Q8_0: (nearly) exact

        testing::SyntheticModelSpec other = wideSpec();
        other.nFf = 512;
        const ModelPtr otherShape = write("other_shape.gguf", other);
        o.reference = otherShape.get();
        auto r = engine::analyzeQuantError(*m_wide, o);
        QVERIFY(!r.ok());
        QCOMPARE(r.error().code, ErrorCode::InvalidArgument);
        QCOMPARE(r.error().field, std::string("blk.0.ffn_gate.weight"));
        testing::SyntheticModelSpec fewer = wideSpec();
        fewer.nLayers = 1;
        const ModelPtr oneLayer = write("one_layer.gguf", fewer);
        o.reference = oneLayer.get();
        r = engine::analyzeQuantError(*m_wide, o);
        QVERIFY(!r.ok());
        QCOMPARE(r.error().code, ErrorCode::NotFound);
    }

    void heatmapTable() {
        testing::SyntheticModelSpec untied = wideSpec();
        untied.tiedEmbeddings = false;
        const ModelPtr m = write("untied.gguf", untied);
        const auto report = analyze(*m);
        QCOMPARE(report.tensors.back().kind, engine::WeightKind::Output);
        auto h = engine::quantErrorHeatmap(report, TensorType::Q4_K, engine::QuantMetric::RelativeRmse);
        QVERIFY(h.ok());
        QCOMPARE(h->cells.size(), size_t(2));
        QCOMPARE(h->columns.size(), size_t(7));
        QCOMPARE(h->columns[4], engine::WeightKind::Gate);
        QCOMPARE(h->cells[1][6], report.find("blk.1.ffn_down.weight", TensorType::Q4_K)->relativeRmse());
        QCOMPARE(h->cells[0][1], report.find("blk.0.attn_k.weight", TensorType::Q4_K)->relativeRmse());
        QCOMPARE(h->embedding, report.find("token_embd.weight", TensorType::Q4_K)->relativeRmse());
        QCOMPARE(h->output, report.find("output.weight", TensorType::Q4_K)->relativeRmse());
        auto tied = engine::quantErrorHeatmap(analyze(*m_wide), TensorType::Q8_0, engine::QuantMetric::SnrDb);
        QVERIFY(tied.ok() && std::isnan(tied->output));
        QuantErrorOptions onlyQ8;
        onlyQ8.types = {TensorType::Q8_0};
        auto missing = engine::quantErrorHeatmap(analyze(*m, onlyQ8), TensorType::Q4_0, engine::QuantMetric::SnrDb);
        QVERIFY(!missing.ok());
        QCOMPARE(missing.error().code, ErrorCode::InvalidArgument);
    }

    void histograms() {
        engine::QuantHistogramOptions o;
        o.types = {TensorType::Q4_0, TensorType::Q6_K};
        o.bins = 32;
        const std::string name = "blk.1.ffn_up.weight";
        auto h = engine::quantErrorHistograms(*m_wide, name, o);
        QVERIFY2(h.ok(), h.ok() ? "" : h.error().toString().c_str());
        const TensorView& v = m_wide->layers()[1].wUp;
        QCOMPARE(h->weights.counts.size(), size_t(32));
        QCOMPARE(h->weights.total(), uint64_t(v.elements()));
        QCOMPARE(h->errors.size(), size_t(2));
        QCOMPARE(h->used[1], TensorType::Q6_K);
        QuantErrorOptions ao;
        ao.types = o.types;
        ao.tensors = {name};
        const auto report = analyze(*m_wide, ao);
        QCOMPARE(h->weights.range, report.tensors[0].referenceMaxAbs);
        // Independent count of the Q4_0 error histogram.
        std::vector<uint64_t> expected(32, 0);
        const double range = report.tensors[0].stats[0].maxAbsError;
        QCOMPARE(h->errors[0].range, range);
        std::vector<float> w(size_t(v.ne[0])), q(size_t(v.ne[0]));
        std::vector<uint8_t> blocks(*engine::rowBytes(TensorType::Q4_0, uint64_t(v.ne[0])));
        for (int64_t r = 0; r < v.ne[1]; ++r) {
            std::memcpy(w.data(), v.data + uint64_t(r) * v.rowStride(), w.size() * 4);
            kernels::quantizeRow(TensorType::Q4_0, w.data(), blocks.data(), v.ne[0]);
            kernels::dequantizeRow(TensorType::Q4_0, blocks.data(), q.data(), v.ne[0]);
            for (size_t c = 0; c < w.size(); ++c) {
                const double e = double(q[c]) - double(w[c]);
                ++expected[size_t(std::clamp(int(std::floor((e + range) * 32.0 / (2.0 * range))), 0, 31))];
            }
        }
        for (size_t b = 0; b < 32; ++b) QCOMPARE(h->errors[0].counts[b], expected[b]);
        QVERIFY(h->errors[0].counts.front() + h->errors[0].counts.back() > 0);  // the extremes land in end bins

        o.bins = 0;
        auto bad = engine::quantErrorHistograms(*m_wide, name, o);
        QVERIFY(!bad.ok() && bad.error().code == ErrorCode::InvalidArgument);
        o.bins = 64;
        bad = engine::quantErrorHistograms(*m_wide, "blk.9.ffn_up.weight", o);
        QVERIFY(!bad.ok() && bad.error().code == ErrorCode::NotFound);
    }

    void requantizedModelLoadsAndMatches() {
        const std::vector<int32_t> tokens = {257, 72, 101, 108, 108, 111, 32, 116, 104, 101, 114, 101};
        const std::vector<float> base = logitsFor(m_wide, tokens);
        for (TensorType target : {TensorType::Q8_0, TensorType::Q4_K}) {
            const std::string out = m_dir + "/requant_" + std::string(engine::tensorTypeName(target)) + ".gguf";
            std::vector<float> fractions;
            auto st = engine::requantizeModel(*m_wide, target, out, {},
                                              [&](float f, const std::string&) { fractions.push_back(f); }, 2);
            QVERIFY2(st.ok(), st.ok() ? "" : st.error().toString().c_str());
            QVERIFY(std::is_sorted(fractions.begin(), fractions.end()));
            QCOMPARE(fractions.back(), 1.0f);
            auto loaded = engine::Model::load(out);
            QVERIFY2(loaded.ok(), loaded.ok() ? "" : loaded.error().toString().c_str());
            const ModelPtr m = *loaded;
            QCOMPARE(m->layers()[0].wq.type, target);
            QCOMPARE(m->tokenEmbedding().type, target);
            QCOMPARE(m->outputNorm().type, TensorType::F32);
            QCOMPARE(m->tokenizer().nVocab(), m_wide->tokenizer().nVocab());
            QCOMPARE(m->tokenizer().encode("the tea", false, false), m_wide->tokenizer().encode("the tea", false, false));
            QCOMPARE(m->metadata().size(), m_wide->metadata().size() + 2);  // + file_type, quantization_version
            const std::vector<float> logits = logitsFor(m, tokens);
            double maxDiff = 0, maxAbs = 0;
            for (size_t i = 0; i < base.size(); ++i) {
                maxDiff = std::max(maxDiff, double(std::fabs(logits[i] - base[i])));
                maxAbs = std::max(maxAbs, double(std::fabs(base[i])));
            }
            qInfo("%s: max |logit difference| %.4g, max |logit| %.4g", engine::tensorTypeName(target).data(), maxDiff,
                  maxAbs);
            const double tolerance = target == TensorType::Q8_0 ? 0.01 : 0.1;
            QVERIFY2(maxDiff < tolerance * maxAbs, qPrintable(QString("max |diff| %1 of %2").arg(maxDiff).arg(maxAbs)));
        }
        auto mapped = engine::MappedFile::open(m_dir + "/requant_Q8_0.gguf");
        QVERIFY(mapped.ok());
        auto gguf = engine::GgufFile::parse(mapped->bytes());
        QVERIFY(gguf.ok());
        QCOMPARE(gguf->getInt("general.file_type").value_or(-1), int64_t(7));
    }

    void requantizeFallbackAndPlan() {
        auto plan = engine::planRequantize(*m_narrow, TensorType::Q4_K);
        QVERIFY(plan.ok());
        int fallbacks = 0, kept = 0;
        for (const auto& t : *plan) {
            if (t.fallback) ++fallbacks;
            if (t.shape.size() == 1) {
                ++kept;
                QCOMPARE(t.to, TensorType::F32);
            } else {
                QCOMPARE(t.to, TensorType::Q5_0);
            }
        }
        QCOMPARE(fallbacks, 1 + 2 * 7);
        QCOMPARE(kept, 1 + 2 * 2);
        const std::string out = m_dir + "/narrow_q4k.gguf";
        QVERIFY(engine::requantizeModel(*m_narrow, TensorType::Q4_K, out).ok());
        auto m = engine::Model::load(out);
        QVERIFY(m.ok());
        QCOMPARE((*m)->layers()[1].wDown.type, TensorType::Q5_0);
        QCOMPARE((*m)->weightTypeSummary(), std::string("Q5_0"));
    }

    void cancellation() {
        std::stop_source stopped;
        stopped.request_stop();
        auto r = engine::analyzeQuantError(*m_wide, {}, stopped.get_token());
        QVERIFY(!r.ok() && r.error().code == ErrorCode::Cancelled);
        std::stop_source midway;
        int calls = 0;
        r = engine::analyzeQuantError(*m_wide, {}, midway.get_token(), [&](float, const std::string&) {
            ++calls;
            midway.request_stop();
        });
        QVERIFY(!r.ok() && r.error().code == ErrorCode::Cancelled);
        QVERIFY(calls >= 1);
        auto h = engine::quantErrorHistograms(*m_wide, "token_embd.weight", {}, stopped.get_token());
        QVERIFY(!h.ok() && h.error().code == ErrorCode::Cancelled);
        const std::string out = m_dir + "/cancelled.gguf";
        std::stop_source rq;
        auto st = engine::requantizeModel(*m_wide, TensorType::Q8_0, out, rq.get_token(),
                                          [&](float, const std::string&) { rq.request_stop(); });
        QVERIFY(!st.ok() && st.error().code == ErrorCode::Cancelled);
        QVERIFY(!std::filesystem::exists(out));
        QVERIFY(!std::filesystem::exists(out + ".partial"));
    }

    void badArguments() {
        auto expect = [](const auto& result, ErrorCode code) {
            QVERIFY(!result.ok());
            QCOMPARE(int(result.error().code), int(code));
        };
        QuantErrorOptions o;
        o.types = {TensorType::Q8_K};
        expect(engine::analyzeQuantError(*m_wide, o), ErrorCode::InvalidArgument);
        o.types = {TensorType::Q2_K};
        expect(engine::analyzeQuantError(*m_wide, o), ErrorCode::InvalidArgument);
        o.types = {TensorType::Q4_0, TensorType::Q4_0};
        expect(engine::analyzeQuantError(*m_wide, o), ErrorCode::InvalidArgument);
        o.types = {};
        o.outliers = -1;
        expect(engine::analyzeQuantError(*m_wide, o), ErrorCode::InvalidArgument);
        o.outliers = 5;
        o.tensors = {"blk.0.attn_norm.weight"};
        expect(engine::analyzeQuantError(*m_wide, o), ErrorCode::NotFound);

        expect(engine::planRequantize(*m_wide, TensorType::Q2_K), ErrorCode::InvalidArgument);
        expect(engine::requantizeModel(*m_wide, TensorType::Q8_1, m_dir + "/x.gguf"), ErrorCode::InvalidArgument);
        expect(engine::requantizeModel(*m_wide, TensorType::Q8_0, ""), ErrorCode::InvalidArgument);
        expect(engine::requantizeModel(*m_wide, TensorType::Q8_0, m_widePath), ErrorCode::InvalidArgument);
        expect(engine::requantizeModel(*m_wide, TensorType::Q8_0, m_dir + "/no/such/dir/x.gguf"), ErrorCode::Io);
    }
};

QTEST_GUILESS_MAIN(TestQuantError)
#include "tst_quant_error.moc"
