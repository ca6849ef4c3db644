// Model-level quantization comparison (see kl_compare.h): the chunked text
// comparison with llama-perplexity's statistics, and the prompt view with
// per-token KL and residual-stream drift read from two captures.
#include "engine/kl_compare.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "engine/capture.h"
#include "engine/model.h"
#include "engine/session.h"
#include "engine/tokenizer.h"
#include "kernels/cpu/thread_pool.h"

namespace glassbox::engine {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

Error invalid(std::string message) { return makeError(ErrorCode::InvalidArgument, std::move(message)); }

Status checkPair(const std::shared_ptr<const Model>& reference, const std::shared_ptr<const Model>& quantized) {
    if (!reference || !quantized) return invalid("no model");
    const int nRef = reference->config().nVocab, nQuant = quantized->config().nVocab;
    if (nRef != nQuant)
        return invalid("vocabularies differ: the reference has " + std::to_string(nRef) +
                       " logits per position, the quantized model " + std::to_string(nQuant));
    const auto& a = reference->tokenizer().vocab().tokens;
    const auto& b = quantized->tokenizer().vocab().tokens;
    if (a.size() != b.size())
        return invalid("vocabularies differ: " + std::to_string(a.size()) + " against " + std::to_string(b.size()) +
                       " tokens");
    for (size_t i = 0; i < a.size(); ++i)
        if (a[i] != b[i])
            return invalid("vocabularies differ at token " + std::to_string(i) + ": '" + a[i] + "' against '" +
                           b[i] + "'");
    return {};
}

Status checkIds(std::span<const int32_t> tokens, int nVocab) {
    for (size_t i = 0; i < tokens.size(); ++i)
        if (tokens[i] < 0 || tokens[i] >= nVocab)
            return invalid("token " + std::to_string(tokens[i]) + " at position " + std::to_string(i) +
                           " is outside the vocabulary of " + std::to_string(nVocab));
    return {};
}

Error cancelled() { return makeError(ErrorCode::Cancelled, "comparison cancelled"); }

// llama-perplexity's mean_and_uncertainty.
ValueWithError meanAndError(double sum, double sum2, int64_t n) {
    if (n < 1) return {};
    const double mean = sum / double(n);
    const double var = sum2 / double(n) - mean * mean;
    return {mean, var > 0 && n > 10 ? std::sqrt(var / double(n - 1)) : 0.0};
}

// llama-perplexity's covariance of the two means.
double covariance(double sumA, double sumB, double sumAB, int64_t n) {
    if (n < 10) return 0.0;
    const double dn = double(n);
    return (sumAB / dn - (sumA / dn) * (sumB / dn)) / (dn - 1);
}

double percentile(const std::vector<double>& sorted, double fraction) {
    if (fraction <= 0) return sorted.front();
    if (fraction >= 1) return sorted.back();
    double p = fraction * double(sorted.size() - 1);
    const size_t ip = size_t(p);
    p -= double(ip);
    return (1 - p) * sorted[ip] + p * sorted[std::min(ip + 1, sorted.size() - 1)];
}

void append(KlScoredTokens& out, int32_t index, const KlPoint& p) {
    out.index.push_back(index);
    out.kld.push_back(float(p.kld));
    out.logProbRef.push_back(float(p.logProbRef));
    out.logProbQuant.push_back(float(p.logProbQuant));
    out.topRef.push_back(p.topRef);
    out.topQuant.push_back(p.topQuant);
}

// Logits of positions [first, n) of a chunk from an empty cache: the first
// part runs without the output head (llama-perplexity likewise asks for
// logits only where it scores).
Result<std::vector<float>> secondHalfLogits(Session& session, std::span<const int32_t> batch, int first,
                                            std::stop_token stop) {
    session.truncate(0);
    GB_TRY(session.evaluate(batch.first(size_t(first)), stop));
    return session.evaluateAll(batch.subspan(size_t(first)), stop);
}

// Scores positions [first, n - 1) of one chunk (logit rows from `first` on),
// spread over the pool.
void scoreChunk(kernels::ThreadPool& pool, const std::vector<float>& refLogits, const std::vector<float>& quantLogits,
                size_t nVocab, std::span<const int32_t> chunk, int first, int32_t chunkStart, KlScoredTokens& out) {
    const int n = int(chunk.size()) - 1 - first;
    std::vector<KlPoint> points(size_t(std::max(n, 0)));
    pool.run([&](int thread, int threads) {
        for (int k = thread; k < n; k += threads) {
            const size_t row = size_t(k) * nVocab;
            points[size_t(k)] = compareNextToken({refLogits.data() + row, nVocab},
                                                 {quantLogits.data() + row, nVocab}, chunk[size_t(first + k) + 1]);
        }
    });
    for (int k = 0; k < n; ++k) append(out, chunkStart + first + k + 1, points[size_t(k)]);
}

}  // namespace

KlPoint compareNextToken(std::span<const float> refLogits, std::span<const float> quantLogits, int32_t next) {
    KlPoint out;
    const size_t n = std::min(refLogits.size(), quantLogits.size());
    if (n == 0) return out;
    float maxRef = refLogits[0], maxQuant = quantLogits[0];
    for (size_t i = 1; i < n; ++i) {
        if (refLogits[i] > maxRef) maxRef = refLogits[i], out.topRef = int32_t(i);
        if (quantLogits[i] > maxQuant) maxQuant = quantLogits[i], out.topQuant = int32_t(i);
    }
    // KL = Σ p_ref·(l_ref − l_quant) − lse_ref + lse_quant: one exp per row entry.
    double sumRef = 0, sumQuant = 0, weighted = 0;
    for (size_t i = 0; i < n; ++i) {
        const double r = refLogits[i], q = quantLogits[i];
        const double e = std::exp(r - maxRef);
        sumRef += e;
        weighted += e * (r - q);
        sumQuant += std::exp(q - maxQuant);
    }
    const double lseRef = maxRef + std::log(sumRef), lseQuant = maxQuant + std::log(sumQuant);
    out.kld = weighted / sumRef - lseRef + lseQuant;
    if (next >= 0 && size_t(next) < n) {
        out.logProbRef = double(refLogits[size_t(next)]) - lseRef;
        out.logProbQuant = double(quantLogits[size_t(next)]) - lseQuant;
    } else {
        out.logProbRef = out.logProbQuant = kNaN;
    }
    return out;
}

KlStatistics summarizeKl(const KlScoredTokens& scored) {
    KlStatistics s;
    const size_t n = scored.size();
    s.count = int64_t(n);
    if (n == 0) return s;
    double sumK = 0, sumK2 = 0, nll = 0, nll2 = 0, base = 0, base2 = 0, cross = 0, pd = 0, pd2 = 0, pd4 = 0;
    int64_t same = 0, withNext = 0;
    std::vector<double> sorted(n);
    for (size_t i = 0; i < n; ++i) {
        const double k = scored.kld[i];
        sumK += k;
        sumK2 += k * k;
        sorted[i] = k;
        same += scored.sameTop(i) ? 1 : 0;
        const double lq = scored.logProbQuant[i], lr = scored.logProbRef[i];
        if (!std::isfinite(lq) || !std::isfinite(lr)) continue;
        ++withNext;
        nll -= lq;
        nll2 += lq * lq;
        base -= lr;
        base2 += lr * lr;
        cross += lq * lr;
        const double d = std::exp(lq) - std::exp(lr);
        pd += d;
        pd2 += d * d;
        pd4 += d * d * d * d;
    }
    std::sort(sorted.begin(), sorted.end());
    s.meanKld = meanAndError(sumK, sumK2, int64_t(n));
    s.minKld = sorted.front();
    s.maxKld = sorted.back();
    s.medianKld = n % 2 == 0 ? 0.5 * (sorted[n / 2] + sorted[n / 2 - 1]) : sorted[n / 2];
    s.p90Kld = percentile(sorted, 0.90);
    s.p95Kld = percentile(sorted, 0.95);
    s.p99Kld = percentile(sorted, 0.99);
    s.p999Kld = percentile(sorted, 0.999);
    const double p = double(same) / double(n);
    s.sameTop = {p, n > 1 ? std::sqrt(p * (1 - p) / double(n - 1)) : 0.0};
    if (withNext == 0) return s;

    const ValueWithError logQ = meanAndError(nll, nll2, withNext), logR = meanAndError(base, base2, withNext);
    const double cov = covariance(nll, base, cross, withNext);
    s.pplQuant = {std::exp(logQ.value), std::exp(logQ.value) * logQ.error};
    s.pplRef = {std::exp(logR.value), std::exp(logR.value) * logR.error};
    const double denom = logQ.error * logR.error;
    s.pplCorrelation = denom > 0 ? cov / denom : 0.0;
    s.logPplRatio = {logQ.value - logR.value,
                     std::sqrt(std::max(0.0, logQ.error * logQ.error + logR.error * logR.error - 2 * cov))};
    const double pplCov = s.pplQuant.value * s.pplRef.value * cov;
    s.deltaPpl = {s.pplQuant.value - s.pplRef.value,
                  std::sqrt(std::max(0.0, s.pplQuant.error * s.pplQuant.error +
                                              s.pplRef.error * s.pplRef.error - 2 * pplCov))};
    s.meanDeltaP = meanAndError(pd, pd2, withNext);
    const ValueWithError mse = meanAndError(pd2, pd4, withNext);
    const double rms = std::sqrt(mse.value);
    s.rmsDeltaP = {rms, rms > 0 ? 0.5 / rms * mse.error : 0.0};
    return s;
}

std::vector<int32_t> tokenizeForKl(const Model& model, std::string_view text) {
    return model.tokenizer().encode(text, true, false);
}

Result<KlCompareResult> compareModels(std::shared_ptr<const Model> reference, std::shared_ptr<const Model> quantized,
                                      std::span<const int32_t> tokens, const KlCompareOptions& options,
                                      const KlProgress& progress, std::stop_token stop) {
    GB_TRY(checkPair(reference, quantized));
    const int nCtx = options.contextSize;
    if (nCtx < 3) return invalid("the context (chunk) size must be at least 3, not " + std::to_string(nCtx));
    const size_t nVocab = size_t(reference->config().nVocab);
    int chunks = int(std::min<size_t>(tokens.size() / size_t(nCtx), size_t(INT32_MAX)));
    if (options.maxChunks > 0) chunks = std::min(chunks, options.maxChunks);
    if (chunks < 1)
        return invalid("the text has " + std::to_string(tokens.size()) + " tokens; one chunk needs " +
                       std::to_string(nCtx));
    const std::span<const int32_t> used = tokens.first(size_t(chunks) * size_t(nCtx));
    GB_TRY(checkIds(used, int(nVocab)));

    BackendOptions backend;
    backend.contextSize = nCtx;
    backend.threads = options.threads;
    backend.microBatch = options.microBatch;
    backend.kvType = options.kvType;
    GB_ASSIGN_OR_RETURN(std::unique_ptr<Session> refSession, Session::create(reference, backend));
    GB_ASSIGN_OR_RETURN(std::unique_ptr<Session> quantSession, Session::create(quantized, backend));
    kernels::ThreadPool pool(refSession->backend().threads());

    KlCompareResult out;
    out.tokens.assign(used.begin(), used.end());
    out.contextSize = nCtx;
    out.chunks = chunks;
    const int first = nCtx / 2;
    const Tokenizer& tok = reference->tokenizer();
    const bool replaceBos = tok.addBos() && tok.bos() >= 0 && size_t(tok.bos()) < nVocab;
    for (int c = 0; c < chunks; ++c) {
        if (stop.stop_requested()) return cancelled();
        const auto chunk = used.subspan(size_t(c) * size_t(nCtx), size_t(nCtx));
        std::vector<int32_t> batch(chunk.begin(), chunk.end());
        if (replaceBos) batch[0] = tok.bos();
        GB_ASSIGN_OR_RETURN(std::vector<float> refLogits, secondHalfLogits(*refSession, batch, first, stop));
        if (progress) progress(2 * c + 1, 2 * chunks);
        GB_ASSIGN_OR_RETURN(std::vector<float> quantLogits, secondHalfLogits(*quantSession, batch, first, stop));
        if (progress) progress(2 * c + 2, 2 * chunks);
        if (stop.stop_requested()) return cancelled();
        scoreChunk(pool, refLogits, quantLogits, nVocab, chunk, first, c * nCtx, out.scored);
    }
    out.stats = summarizeKl(out.scored);
    return out;
}

namespace {

struct PromptRun {
    std::vector<float> logits;
    std::shared_ptr<Capture> capture;
};

Result<PromptRun> runPrompt(const std::shared_ptr<const Model>& model, std::span<const int32_t> tokens,
                            const PromptDriftOptions& options, std::stop_token stop) {
    BackendOptions backend;
    backend.contextSize = int(tokens.size());
    backend.threads = options.threads;
    backend.kvType = options.kvType;
    GB_ASSIGN_OR_RETURN(std::unique_ptr<Session> session, Session::create(model, backend));
    CaptureOptions co;
    co.residuals = true;
    co.maxBytes = options.maxCaptureBytes;
    PromptRun run;
    run.capture = std::make_shared<Capture>(*model, co, options.kvType);
    session->attachCapture(run.capture);
    GB_ASSIGN_OR_RETURN(run.logits, session->evaluateAll(tokens, stop));
    if (run.capture->positions() != int(tokens.size()))
        return makeError(ErrorCode::OutOfMemory,
                         "the prompt's residual streams do not fit the capture limit: " +
                             run.capture->limitMessage());
    return run;
}

double cosine(std::span<const float> a, std::span<const float> b) {
    double dot = 0, na = 0, nb = 0;
    for (size_t i = 0; i < a.size(); ++i) {
        dot += double(a[i]) * double(b[i]);
        na += double(a[i]) * double(a[i]);
        nb += double(b[i]) * double(b[i]);
    }
    if (na == 0 || nb == 0) return na == nb ? 1.0 : 0.0;
    return dot / std::sqrt(na * nb);
}

}  // namespace

Result<PromptDrift> comparePrompt(std::shared_ptr<const Model> reference, std::shared_ptr<const Model> quantized,
                                  std::span<const int32_t> tokens, const PromptDriftOptions& options,
                                  std::stop_token stop) {
    GB_TRY(checkPair(reference, quantized));
    if (tokens.empty()) return invalid("the prompt has no tokens");
    const ModelConfig& rc = reference->config();
    const ModelConfig& qc = quantized->config();
    if (rc.nLayers != qc.nLayers || rc.nEmbd != qc.nEmbd)
        return invalid("the models differ in shape: " + std::to_string(rc.nLayers) + " layers × " +
                       std::to_string(rc.nEmbd) + " against " + std::to_string(qc.nLayers) + " × " +
                       std::to_string(qc.nEmbd));
    const size_t nVocab = size_t(rc.nVocab);
    GB_TRY(checkIds(tokens, int(nVocab)));
    GB_ASSIGN_OR_RETURN(PromptRun ref, runPrompt(reference, tokens, options, stop));
    if (stop.stop_requested()) return cancelled();
    GB_ASSIGN_OR_RETURN(PromptRun quant, runPrompt(quantized, tokens, options, stop));

    PromptDrift out;
    out.tokens.assign(tokens.begin(), tokens.end());
    out.threshold = options.cosineThreshold;
    const int n = int(tokens.size());
    for (int i = 0; i < n; ++i) {
        const size_t row = size_t(i) * nVocab;
        const KlPoint p = compareNextToken({ref.logits.data() + row, nVocab}, {quant.logits.data() + row, nVocab},
                                           i + 1 < n ? tokens[size_t(i) + 1] : -1);
        append(out.perToken, i + 1, p);
        out.flips += p.topRef != p.topQuant ? 1 : 0;
    }
    out.points = rc.nLayers + 1;
    out.cosine.resize(size_t(out.points) * size_t(n));
    out.meanCosine.assign(size_t(out.points), 0.0f);
    for (int point = 0; point < out.points; ++point) {
        double sum = 0;
        for (int pos = 0; pos < n; ++pos) {
            const double c = cosine(ref.capture->residual(point, pos), quant.capture->residual(point, pos));
            out.cosine[size_t(point) * size_t(n) + size_t(pos)] = float(c);
            sum += c;
        }
        out.meanCosine[size_t(point)] = float(sum / n);
        if (out.firstDriftPoint < 0 && sum / n < options.cosineThreshold) out.firstDriftPoint = point;
    }
    return out;
}

}  // namespace glassbox::engine
