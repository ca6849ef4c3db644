// Model-level quantization comparison on synthetic models: identical models
// give zero KL and full top-1 agreement, a Q4_0 copy of an F32 model gives
// positive KL, every statistic against an independent float64 recomputation
// from evaluateAll logits, llama-perplexity's chunking and second-half
// scoring, progress and cancellation, the prompt view's residual drift, and
// the errors for mismatched models and bad arguments.
#include <QtTest>

#include <algorithm>
#include <cmath>
#include <stop_token>

#include "engine/capture.h"
#include "engine/gguf_file.h"
#include "engine/gguf_writer.h"
#include "engine/kl_compare.h"
#include "engine/mapped_file.h"
#include "engine/model.h"
#include "engine/session.h"
#include "support/synthetic_model.h"
#include "support/test_paths.h"

using namespace glassbox;
using engine::KlCompareOptions;
using engine::Model;

namespace {

std::vector<int32_t> tokens(int n, int salt = 0) {
    std::vector<int32_t> t;
    for (int i = 0; i < n; ++i) t.push_back(int32_t((i * 37 + salt * 11 + (i * i) % 13 + 5) % 256));
    return t;
}

// A copy of a GGUF file with one vocabulary entry renamed, or asking for BOS.
engine::Status rewriteModel(const std::string& src, const std::string& dst, bool renameToken, bool addBos) {
    GB_ASSIGN_OR_RETURN(engine::MappedFile file, engine::MappedFile::open(src));
    GB_ASSIGN_OR_RETURN(engine::GgufFile gguf, engine::GgufFile::parse(file.bytes()));
    engine::GgufWriter w;
    for (const auto& [key, value] : gguf.metadata()) w.set(key, value);
    auto vocab = gguf.getStringArray("tokenizer.ggml.tokens");
    if (!vocab) return engine::makeError(engine::ErrorCode::NotFound, "no tokens");
    if (renameToken) (*vocab)[65] = "renamed";
    w.setArray("tokenizer.ggml.tokens", *vocab);
    if (addBos) w.set("tokenizer.ggml.add_bos_token", true);
    for (const auto& t : gguf.tensors()) {
        std::vector<int64_t> ne(t.ne.begin(), t.ne.begin() + t.nDims);
        GB_TRY(w.addTensor(t.name, t.type, ne, file.bytes().subspan(gguf.dataOffset() + t.offset, t.bytes)));
    }
    return w.writeFile(dst);
}

struct LogSoftmax {
    std::vector<double> logp;
    int32_t top = 0;
};

// Two-pass float64 log-softmax and first argmax, written independently of
// the engine's single-pass formula.
LogSoftmax logSoftmax(const float* row, int n) {
    LogSoftmax out;
    double maxv = row[0];
    for (int i = 1; i < n; ++i)
        if (row[i] > maxv) maxv = row[i], out.top = i;
    double z = 0;
    for (int i = 0; i < n; ++i) z += std::exp(double(row[i]) - maxv);
    out.logp.resize(size_t(n));
    for (int i = 0; i < n; ++i) out.logp[size_t(i)] = double(row[i]) - maxv - std::log(z);
    return out;
}

double sortedPercentile(std::vector<double> v, double f) {
    std::sort(v.begin(), v.end());
    const double p = f * double(v.size() - 1);
    const size_t lo = size_t(std::floor(p));
    const size_t hi = std::min(lo + 1, v.size() - 1);
    return v[lo] + (p - double(lo)) * (v[hi] - v[lo]);
}

// Sample standard error of the mean in llama-perplexity's form:
// sqrt(population variance / (n - 1)), computed two-pass.
double standardError(const std::vector<double>& v) {
    double mean = 0;
    for (double x : v) mean += x;
    mean /= double(v.size());
    double ss = 0;
    for (double x : v) ss += (x - mean) * (x - mean);
    return std::sqrt(ss / double(v.size()) / double(v.size() - 1));
}

bool near(double a, double b, double tol) { return std::fabs(a - b) <= tol * std::max(1.0, std::fabs(b)); }

}  // namespace

class TestKlCompare : public QObject {
    Q_OBJECT
    std::shared_ptr<const Model> m_f32, m_f32Copy, m_q4, m_renamed, m_threeLayers, m_f32Bos, m_q4Bos;

    static std::shared_ptr<const Model> load(const std::string& path) {
        auto m = Model::load(path);
        if (!m) qFatal("%s", m.error().toString().c_str());
        return *m;
    }

    static KlCompareOptions options(int ctx) {
        KlCompareOptions o;
        o.contextSize = ctx;
        o.threads = 2;
        o.microBatch = 8;
        return o;
    }

private slots:
    void initTestCase() {
        const std::string dir = testing::makeTempDir("kl-compare");
        testing::SyntheticModelSpec spec;
        spec.tiedEmbeddings = false;  // a small-scale output head: soft, varied distributions
        QVERIFY(testing::writeSyntheticModel(dir + "/f32.gguf", spec).ok());
        spec.weightType = engine::TensorType::Q4_0;
        spec.embeddingType = engine::TensorType::Q4_0;
        QVERIFY(testing::writeSyntheticModel(dir + "/q4.gguf", spec).ok());
        spec.weightType = spec.embeddingType = engine::TensorType::F32;
        spec.nLayers = 3;
        QVERIFY(testing::writeSyntheticModel(dir + "/three.gguf", spec).ok());
        QVERIFY(rewriteModel(dir + "/f32.gguf", dir + "/renamed.gguf", true, false).ok());
        QVERIFY(rewriteModel(dir + "/f32.gguf", dir + "/f32-bos.gguf", false, true).ok());
        QVERIFY(rewriteModel(dir + "/q4.gguf", dir + "/q4-bos.gguf", false, true).ok());
        m_f32 = load(dir + "/f32.gguf");
        m_f32Copy = load(dir + "/f32.gguf");
        m_q4 = load(dir + "/q4.gguf");
        m_renamed = load(dir + "/renamed.gguf");
        m_threeLayers = load(dir + "/three.gguf");
        m_f32Bos = load(dir + "/f32-bos.gguf");
        m_q4Bos = load(dir + "/q4-bos.gguf");
    }

    void nextTokenOnHandMadeRows() {
        const std::vector<float> ref = {0.0f, 0.0f, -1e30f}, quant = {0.0f, std::log(3.0f), -1e30f};
        const auto p = engine::compareNextToken(ref, quant, 1);
        QVERIFY(std::fabs(p.kld - (0.5 * std::log(2.0) + 0.5 * std::log(2.0 / 3.0))) < 1e-7);
        QCOMPARE(p.topRef, 0);  // first of two equal maxima
        QCOMPARE(p.topQuant, 1);
        QVERIFY(std::fabs(p.logProbRef - std::log(0.5)) < 1e-12);
        QVERIFY(std::fabs(p.logProbQuant - std::log(0.75)) < 1e-7);
        const auto none = engine::compareNextToken(ref, quant, -1);
        QVERIFY(std::isnan(none.logProbRef) && std::isnan(none.logProbQuant));
        QCOMPARE(engine::compareNextToken(ref, ref, 0).kld, 0.0);
    }

    void summaryFormulasOnHandMadeValues() {
        engine::KlScoredTokens s;
        for (int i = 0; i < 4; ++i) {
            s.index.push_back(i);
            s.kld.push_back(float(i + 1));  // 1 2 3 4
            s.logProbRef.push_back(std::log(0.5f));
            s.logProbQuant.push_back(std::log(0.25f));
            s.topRef.push_back(i);
            s.topQuant.push_back(i < 3 ? i : 0);
        }
        const auto st = engine::summarizeKl(s);
        QCOMPARE(st.count, int64_t(4));
        QCOMPARE(st.meanKld.value, 2.5);
        QCOMPARE(st.meanKld.error, 0.0);  // n <= 10: no error, as llama-perplexity
        QCOMPARE(st.medianKld, 2.5);      // even count: mean of the middle two
        QVERIFY(std::fabs(st.p90Kld - 3.7) < 1e-12);
        QCOMPARE(st.maxKld, 4.0);
        QCOMPARE(st.minKld, 1.0);
        QCOMPARE(st.sameTop.value, 0.75);
        QVERIFY(std::fabs(st.sameTop.error - std::sqrt(0.75 * 0.25 / 3)) < 1e-12);
        QVERIFY(std::fabs(st.pplRef.value - 2.0) < 1e-6);
        QVERIFY(std::fabs(st.pplQuant.value - 4.0) < 1e-6);
        QVERIFY(std::fabs(st.deltaPpl.value - 2.0) < 1e-5);
        QVERIFY(std::fabs(st.meanDeltaP.value + 0.25) < 1e-6);
        QVERIFY(std::fabs(st.rmsDeltaP.value - 0.25) < 1e-6);
        QCOMPARE(engine::summarizeKl({}).count, int64_t(0));
    }

    void identicalModelsGiveZero() {
        auto r = engine::compareModels(m_f32, m_f32Copy, tokens(100), options(32));
        QVERIFY2(r.ok(), r ? "" : r.error().toString().c_str());
        QCOMPARE(r->chunks, 3);
        for (size_t i = 0; i < r->scored.size(); ++i) {
            QCOMPARE(r->scored.kld[i], 0.0f);
            QVERIFY(r->scored.sameTop(i));
            QCOMPARE(r->scored.logProbRef[i], r->scored.logProbQuant[i]);
        }
        QCOMPARE(r->stats.meanKld.value, 0.0);
        QCOMPARE(r->stats.maxKld, 0.0);
        QCOMPARE(r->stats.sameTop.value, 1.0);
        QCOMPARE(r->stats.sameTop.error, 0.0);
        QCOMPARE(r->stats.deltaPpl.value, 0.0);
        QCOMPARE(r->stats.logPplRatio.value, 0.0);
    }

    void quantizedPairHasPositiveKl() {
        auto r = engine::compareModels(m_f32, m_q4, tokens(100), options(32));
        QVERIFY2(r.ok(), r ? "" : r.error().toString().c_str());
        QVERIFY(r->stats.meanKld.value > 0);
        QVERIFY(r->stats.meanKld.error > 0);
        QVERIFY(r->stats.maxKld >= r->stats.p99Kld && r->stats.p99Kld >= r->stats.p95Kld);
        QVERIFY(r->stats.p95Kld >= r->stats.p90Kld && r->stats.p90Kld >= r->stats.medianKld);
        for (float k : r->scored.kld) QVERIFY(k >= -1e-7f);
        qInfo("synthetic Q4_0 vs F32: mean KLD %.6g ± %.2g, same top %.1f%%", r->stats.meanKld.value,
              r->stats.meanKld.error, 100 * r->stats.sameTop.value);
    }

    void statisticsMatchIndependentRecomputation() {
        const int ctx = 40;
        const auto ids = tokens(3 * ctx + 7, 3);
        auto r = engine::compareModels(m_f32, m_q4, ids, options(ctx));
        QVERIFY(r.ok());
        const int nVocab = m_f32->config().nVocab;
        engine::BackendOptions b;
        b.contextSize = ctx;
        b.threads = 1;
        std::vector<double> klds, nllRef, nllQuant;
        int same = 0;
        size_t k = 0;
        for (int c = 0; c < 3; ++c) {
            const std::vector<int32_t> chunk(ids.begin() + c * ctx, ids.begin() + (c + 1) * ctx);
            auto sr = engine::Session::create(m_f32, b);
            auto sq = engine::Session::create(m_q4, b);
            QVERIFY(sr.ok() && sq.ok());
            auto lr = (*sr)->evaluateAll(chunk);
            auto lq = (*sq)->evaluateAll(chunk);
            QVERIFY(lr.ok() && lq.ok());
            for (int j = ctx / 2; j < ctx - 1; ++j, ++k) {
                const auto pr = logSoftmax(lr->data() + size_t(j) * nVocab, nVocab);
                const auto pq = logSoftmax(lq->data() + size_t(j) * nVocab, nVocab);
                double kl = 0;
                for (int v = 0; v < nVocab; ++v)
                    kl += std::exp(pr.logp[size_t(v)]) * (pr.logp[size_t(v)] - pq.logp[size_t(v)]);
                const int32_t next = chunk[size_t(j) + 1];
                QCOMPARE(r->scored.index[k], c * ctx + j + 1);
                QVERIFY2(std::fabs(r->scored.kld[k] - kl) <= 1e-6 * kl + 1e-12, qPrintable(QString::number(kl)));
                QCOMPARE(r->scored.topRef[k], pr.top);
                QCOMPARE(r->scored.topQuant[k], pq.top);
                QVERIFY(std::fabs(r->scored.logProbRef[k] - pr.logp[size_t(next)]) < 1e-5);
                QVERIFY(std::fabs(r->scored.logProbQuant[k] - pq.logp[size_t(next)]) < 1e-5);
                klds.push_back(double(r->scored.kld[k]));
                nllRef.push_back(-pr.logp[size_t(next)]);
                nllQuant.push_back(-pq.logp[size_t(next)]);
                same += pr.top == pq.top ? 1 : 0;
            }
        }
        QCOMPARE(k, r->scored.size());
        const auto& st = r->stats;
        const double n = double(klds.size());
        double meanK = 0, meanR = 0, meanQ = 0;
        for (size_t i = 0; i < klds.size(); ++i) meanK += klds[i] / n, meanR += nllRef[i] / n, meanQ += nllQuant[i] / n;
        QVERIFY(near(st.meanKld.value, meanK, 1e-9));
        QVERIFY(near(st.meanKld.error, standardError(klds), 1e-6));
        QVERIFY(near(st.medianKld, sortedPercentile(klds, 0.5), 1e-9));
        QVERIFY(near(st.p90Kld, sortedPercentile(klds, 0.90), 1e-6));
        QVERIFY(near(st.p95Kld, sortedPercentile(klds, 0.95), 1e-6));
        QVERIFY(near(st.p99Kld, sortedPercentile(klds, 0.99), 1e-6));
        QVERIFY(near(st.maxKld, sortedPercentile(klds, 1.0), 1e-9));
        QVERIFY(near(st.sameTop.value, same / n, 1e-12));
        QVERIFY(near(st.pplRef.value, std::exp(meanR), 1e-5));
        QVERIFY(near(st.pplQuant.value, std::exp(meanQ), 1e-5));
        QVERIFY(near(st.pplQuant.error, std::exp(meanQ) * standardError(nllQuant), 1e-4));
        QVERIFY(near(st.deltaPpl.value, std::exp(meanQ) - std::exp(meanR), 1e-4));
        QVERIFY(near(st.logPplRatio.value, meanQ - meanR, 1e-5));
        std::vector<double> diff(klds.size());
        for (size_t i = 0; i < diff.size(); ++i) diff[i] = nllQuant[i] - nllRef[i];
        QVERIFY(near(st.logPplRatio.error, standardError(diff), 1e-3));  // Var(a − b) = Va + Vb − 2 Cov
    }

    // With a vocabulary that adds BOS, every chunk starts with BOS in place of
    // its first token (as llama-perplexity does).
    void chunksStartWithBosWhenTheVocabularyAddsIt() {
        const int ctx = 16, nVocab = m_f32->config().nVocab;
        const auto ids = tokens(2 * ctx, 7);
        auto r = engine::compareModels(m_f32Bos, m_q4Bos, ids, options(ctx));
        auto plain = engine::compareModels(m_f32, m_q4, ids, options(ctx));
        QVERIFY(r.ok() && plain.ok());
        QCOMPARE(r->tokens, ids);  // the ids as given; only the evaluated batch changes
        engine::BackendOptions b;
        b.contextSize = ctx;
        b.threads = 1;
        double worst = 0, change = 0;
        for (int c = 0; c < 2; ++c) {
            std::vector<int32_t> chunk(ids.begin() + c * ctx, ids.begin() + (c + 1) * ctx);
            chunk[0] = testing::kSyntheticVocab - 1;  // <|endoftext|>, the BOS
            auto sr = engine::Session::create(m_f32, b);
            auto sq = engine::Session::create(m_q4, b);
            auto lr = (*sr)->evaluateAll(chunk);
            auto lq = (*sq)->evaluateAll(chunk);
            QVERIFY(lr.ok() && lq.ok());
            for (int j = ctx / 2; j < ctx - 1; ++j) {
                const size_t k = size_t(c * (ctx - 1 - ctx / 2) + j - ctx / 2);
                const auto p = engine::compareNextToken({lr->data() + size_t(j) * nVocab, size_t(nVocab)},
                                                        {lq->data() + size_t(j) * nVocab, size_t(nVocab)}, chunk[j + 1]);
                worst = std::max(worst, std::fabs(r->scored.kld[k] - p.kld) / (p.kld + 1e-12));
                change = std::max(change, std::fabs(double(r->scored.logProbRef[k]) - plain->scored.logProbRef[k]));
            }
        }
        QVERIFY2(worst < 1e-5, qPrintable(QString::number(worst)));
        QVERIFY(change > 1e-6);  // BOS at position 0 changed what later positions see
    }

    void chunksScoreOnlyTheSecondHalf() {
        const int ctx = 16;
        const auto ids = tokens(3 * ctx + 5);
        auto r = engine::compareModels(m_f32, m_q4, ids, options(ctx));
        QVERIFY(r.ok());
        QCOMPARE(r->chunks, 3);
        QCOMPARE(r->contextSize, ctx);
        QCOMPARE(int(r->tokens.size()), 3 * ctx);  // the tail is dropped
        QCOMPARE(int(r->scored.size()), 3 * (ctx - 1 - ctx / 2));
        std::vector<int32_t> expected;
        for (int c = 0; c < 3; ++c)
            for (int j = ctx / 2; j < ctx - 1; ++j) expected.push_back(c * ctx + j + 1);
        QCOMPARE(r->scored.index, expected);
        KlCompareOptions two = options(ctx);
        two.maxChunks = 2;
        auto r2 = engine::compareModels(m_f32, m_q4, ids, two);
        QVERIFY(r2.ok());
        QCOMPARE(r2->chunks, 2);
        // Chunks are independent: the first two chunks score the same either way.
        for (size_t i = 0; i < r2->scored.size(); ++i) QCOMPARE(r2->scored.kld[i], r->scored.kld[i]);
        // An odd context: first = 7, positions 7..13 of 15.
        auto odd = engine::compareModels(m_f32, m_q4, ids, options(15));
        QVERIFY(odd.ok());
        QCOMPARE(odd->scored.index.front(), 8);
        QCOMPARE(int(odd->scored.size()), odd->chunks * 7);
    }

    void progressAndCancellation() {
        const auto ids = tokens(64);
        std::vector<std::pair<int, int>> calls;
        auto r = engine::compareModels(m_f32, m_q4, ids, options(16), [&](int d, int t) { calls.push_back({d, t}); });
        QVERIFY(r.ok());
        QCOMPARE(int(calls.size()), 8);
        for (int i = 0; i < 8; ++i) QCOMPARE(calls[size_t(i)], std::make_pair(i + 1, 8));

        std::stop_source before;
        before.request_stop();
        auto c1 = engine::compareModels(m_f32, m_q4, ids, options(16), {}, before.get_token());
        QVERIFY(!c1.ok());
        QCOMPARE(c1.error().code, engine::ErrorCode::Cancelled);

        std::stop_source during;
        auto c2 = engine::compareModels(m_f32, m_q4, ids, options(16), [&](int d, int) {
            if (d == 3) during.request_stop();
        }, during.get_token());
        QVERIFY(!c2.ok());
        QCOMPARE(c2.error().code, engine::ErrorCode::Cancelled);

        std::stop_source prompt;
        prompt.request_stop();
        auto c3 = engine::comparePrompt(m_f32, m_q4, tokens(10), {}, prompt.get_token());
        QVERIFY(!c3.ok());
        QCOMPARE(c3.error().code, engine::ErrorCode::Cancelled);
    }

    void errors() {
        const auto ids = tokens(64);
        auto check = [](const auto& r, engine::ErrorCode code) {
            QVERIFY(!r.ok());
            QCOMPARE(r.error().code, code);
        };
        auto mismatch = engine::compareModels(m_f32, m_renamed, ids, options(16));
        check(mismatch, engine::ErrorCode::InvalidArgument);
        QVERIFY(mismatch.error().message.find("token 65") != std::string::npos);
        check(engine::comparePrompt(m_renamed, m_f32, tokens(8)), engine::ErrorCode::InvalidArgument);
        check(engine::compareModels(nullptr, m_f32, ids, options(16)), engine::ErrorCode::InvalidArgument);
        check(engine::compareModels(m_f32, m_q4, ids, options(2)), engine::ErrorCode::InvalidArgument);
        check(engine::compareModels(m_f32, m_q4, tokens(15), options(16)), engine::ErrorCode::InvalidArgument);
        auto bad = ids;
        bad[20] = testing::kSyntheticVocab;
        check(engine::compareModels(m_f32, m_q4, bad, options(16)), engine::ErrorCode::InvalidArgument);
        check(engine::comparePrompt(m_f32, m_q4, {}), engine::ErrorCode::InvalidArgument);
        check(engine::comparePrompt(m_f32, m_threeLayers, tokens(8)), engine::ErrorCode::InvalidArgument);
        engine::PromptDriftOptions tiny;
        tiny.maxCaptureBytes = 1024;
        check(engine::comparePrompt(m_f32, m_q4, tokens(8), tiny), engine::ErrorCode::OutOfMemory);
    }

    void promptDriftOfIdenticalModels() {
        auto d = engine::comparePrompt(m_f32, m_f32Copy, tokens(12));
        QVERIFY2(d.ok(), d ? "" : d.error().toString().c_str());
        QCOMPARE(d->points, m_f32->config().nLayers + 1);
        QCOMPARE(int(d->cosine.size()), d->points * 12);
        for (float c : d->cosine) QVERIFY(std::fabs(c - 1.0f) < 1e-6f);
        QCOMPARE(d->firstDriftPoint, -1);
        QCOMPARE(d->flips, 0);
        QCOMPARE(int(d->perToken.size()), 12);
        QCOMPARE(d->perToken.index.back(), 12);
        QVERIFY(std::isnan(d->perToken.logProbRef.back()));
        for (float k : d->perToken.kld) QCOMPARE(k, 0.0f);
    }

    void promptDriftOfQuantizedModel() {
        const auto ids = tokens(12, 5);
        auto d = engine::comparePrompt(m_f32, m_q4, ids);
        QVERIFY(d.ok());
        // Independent cosine of one cell from fresh captures.
        auto capture = [&](const std::shared_ptr<const Model>& m) {
            engine::BackendOptions b;
            b.contextSize = 12;
            b.threads = 1;
            auto s = engine::Session::create(m, b);
            engine::CaptureOptions co;
            co.residuals = true;
            auto cap = std::make_shared<engine::Capture>(*m, co, engine::KvCacheType::F16);
            (*s)->attachCapture(cap);
            if (!(*s)->evaluate(ids).ok()) qFatal("evaluate");
            return cap;
        };
        auto a = capture(m_f32), b = capture(m_q4);
        const int point = 2, pos = 7;
        double dot = 0, na = 0, nb = 0;
        for (size_t i = 0; i < a->residual(point, pos).size(); ++i) {
            const double x = a->residual(point, pos)[i], y = b->residual(point, pos)[i];
            dot += x * y, na += x * x, nb += y * y;
        }
        QVERIFY(std::fabs(d->cosine[size_t(point) * 12 + pos] - dot / std::sqrt(na * nb)) < 1e-6);
        double mean = 0;
        for (int p = 0; p < 12; ++p) mean += d->cosine[size_t(point) * 12 + size_t(p)] / 12;
        QVERIFY(std::fabs(d->meanCosine[size_t(point)] - mean) < 1e-6);
        QVERIFY(d->meanCosine.back() < 1.0f);
        int flips = 0;
        for (size_t i = 0; i < d->perToken.size(); ++i) flips += d->perToken.sameTop(i) ? 0 : 1;
        QCOMPARE(d->flips, flips);
        // The first drift point follows the threshold.
        int expected = -1;
        for (int p = 0; p < d->points && expected < 0; ++p)
            if (d->meanCosine[size_t(p)] < d->threshold) expected = p;
        QCOMPARE(d->firstDriftPoint, expected);
        engine::PromptDriftOptions strict;
        strict.cosineThreshold = 2.0;
        QCOMPARE(engine::comparePrompt(m_f32, m_q4, ids, strict)->firstDriftPoint, 0);
        strict.cosineThreshold = -2.0;
        QCOMPARE(engine::comparePrompt(m_f32, m_q4, ids, strict)->firstDriftPoint, -1);
    }
};

QTEST_GUILESS_MAIN(TestKlCompare)
#include "tst_kl_compare.moc"
