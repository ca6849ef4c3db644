// Sampler implementation. The chain, its order and its guarantees are
// described in sampler.h. Invariants during one call:
//  * m_work holds the logits after penalties; -inf entries are impossible
//    tokens and never survive a stage.
//  * survivors are either "every finite token of m_work, in id order"
//    (m_allFinite) or exactly the entries of m_cand, whose first m_sorted
//    entries are best-first.
//  * every sum runs over survivors in that fixed order.
#include "engine/sampler.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <limits>
#include <string>
#include <utility>

namespace glassbox::engine {

namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();
constexpr size_t kTopPFirstChunk = 64;
constexpr double kBucketsPerUnit = 16.0;  // nucleus buckets per unit of tempered logit

// 2^(j/64) for j = 0..63, from a Taylor series evaluated at compile time
// (constant folding of +, *, / is correctly rounded, so every compiler
// produces the same table).
constexpr std::array<double, 64> makeExp2Table() {
    constexpr double kLn2 = 0.6931471805599453094;
    std::array<double, 64> table{};
    for (size_t j = 0; j < table.size(); ++j) {
        const double x = kLn2 * double(j) / 64.0;
        double term = 1.0;
        double sum = 1.0;
        for (int n = 1; n < 30; ++n) {
            term = term * x / double(n);
            sum += term;
        }
        table[j] = sum;
    }
    return table;
}
constexpr std::array<double, 64> kExp2Table = makeExp2Table();

// exp(x) for the sampler's weights, built from IEEE-754 double operations
// only: x = (64k + j) ln2/64 + r with |r| <= ln2/128, exp(x) = 2^k 2^(j/64)
// exp(r), exp(r) by a degree-5 polynomial (relative error ~1e-16). The C
// library's exp differs between implementations in the last bit; this gives
// the same bits everywhere, provided the polynomial is not contracted into
// fused multiply-adds (hence the pragma for clang; GCC and MSVC do not
// contract on x86-64 without FMA flags). Results below ~2^-1021 flush to 0.
double fixedExp(double x) {
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif
    if (!(x > -708.0)) return 0.0;  // underflow, and -inf
    if (x > 709.0) return std::numeric_limits<double>::infinity();
    constexpr double kSixtyFourOverLn2 = 92.332482616893656877;
    constexpr double kLn2Hi = 6.93147180369123816490e-01 / 64.0;  // 32 significant bits
    constexpr double kLn2Lo = 1.90821492927058770002e-10 / 64.0;
    constexpr double kRoundMagic = 0x1.8p52;  // adding it rounds to an integer
    const double nd = (x * kSixtyFourOverLn2 + kRoundMagic) - kRoundMagic;
    const int64_t n = int64_t(nd);
    const double r = (x - nd * kLn2Hi) - nd * kLn2Lo;
    const double p =
        1.0 + r * (1.0 + r * (0.5 + r * (1.0 / 6.0 + r * (1.0 / 24.0 + r * (1.0 / 120.0)))));
    const double scale = std::bit_cast<double>(uint64_t((n >> 6) + 1023) << 52);
    return kExp2Table[size_t(n & 63)] * p * scale;
}

// Best-first order: higher logit, then lower id. A strict total order, so
// the chosen sets never depend on how a standard library breaks ties.
struct BetterFirst {
    template <class C>
    bool operator()(const C& a, const C& b) const {
        return a.logit > b.logit || (a.logit == b.logit && a.id < b.id);
    }
};

bool isFinite(float logit) { return logit != kNegInf; }  // +inf / NaN rejected up front

}  // namespace

const char* samplerStageName(SamplerStageKind kind) {
    switch (kind) {
        case SamplerStageKind::Raw: return "raw";
        case SamplerStageKind::Penalties: return "penalties";
        case SamplerStageKind::Temperature: return "temperature";
        case SamplerStageKind::TopK: return "top-k";
        case SamplerStageKind::TopP: return "top-p";
        case SamplerStageKind::MinP: return "min-p";
        case SamplerStageKind::Final: return "final";
    }
    return "unknown";
}

Sampler::Sampler(SamplerSettings settings) : m_settings(std::move(settings)) {
    reseed(m_settings.seed);
}

Result<Sampler> Sampler::create(SamplerSettings settings) {
    GB_TRY(settings.validate());
    return Sampler(std::move(settings));
}

void Sampler::reseed(uint64_t seed) {
    m_seed = seed == SamplerSettings::kRandomSeed ? Rng::entropySeed() : seed;
    m_rng.reseed(m_seed);
}

Result<SampleResult> Sampler::sample(std::span<const float> logits,
                                     std::span<const int32_t> history) {
    SampleResult result;
    GB_TRY(sample(logits, history, result));
    return result;
}

Result<void> Sampler::sample(std::span<const float> logits, std::span<const int32_t> history,
                             SampleResult& out) {
    if (logits.empty())
        return makeError(ErrorCode::InvalidArgument, "logits are empty", "logits");
    if (logits.size() > size_t(std::numeric_limits<int32_t>::max()))
        return makeError(ErrorCode::InvalidArgument, "more logits than token ids can address",
                         "logits");
    GB_TRY(scanRaw(logits));
    fillAlternatives(logits, out);

    m_work.assign(logits.begin(), logits.end());
    m_allFinite = true;
    m_sorted = 0;
    m_cand.clear();
    m_invT = 1.0;
    const bool penalised = applyPenalties(history);
    m_max = m_rawMax;
    if (penalised) {
        m_max = kNegInf;
        for (float l : m_work) m_max = std::max(m_max, l);
    }

    out.greedy = m_settings.temperature == 0.0f;
    out.hasStages = m_settings.captureStages;
    if (out.hasStages) {
        SamplerStage& raw = out.stages.stages[size_t(SamplerStageKind::Raw)];
        raw.kind = SamplerStageKind::Raw;
        raw.active = true;
        captureLogits(raw, logits, 1.0);
        const bool penaltiesOn = m_settings.penaltyLastN != 0 &&
                                 (m_settings.repeatPenalty != 1.0f ||
                                  m_settings.presencePenalty != 0.0f ||
                                  m_settings.frequencyPenalty != 0.0f);
        captureStage(out, SamplerStageKind::Penalties, penaltiesOn);
    }

    if (out.greedy) {
        out.token = argmaxWork();
        out.probability = 1.0f;
        if (out.hasStages) captureGreedyTail(out, out.token);
    } else {
        sampleStochastic(out);
    }
    out.logprob = float(double(logits[size_t(out.token)]) - m_rawLogZ);
    return {};
}

Result<void> Sampler::scanRaw(std::span<const float> logits) {
    float maxLogit = kNegInf;
    int64_t finite = 0;
    for (size_t i = 0; i < logits.size(); ++i) {
        const float l = logits[i];
        if (std::isnan(l) || l == std::numeric_limits<float>::infinity()) {
            return makeError(ErrorCode::InvalidArgument,
                             "logit of token " + std::to_string(i) + " is " +
                                 (std::isnan(l) ? "NaN" : "+inf"),
                             "logits");
        }
        if (l > maxLogit) maxLogit = l;
        if (isFinite(l)) ++finite;
    }
    if (finite == 0)
        return makeError(ErrorCode::InvalidArgument, "every logit is -inf", "logits");
    double z = 0.0;
    for (float l : logits) z += fixedExp(double(l) - double(maxLogit));
    m_rawMax = maxLogit;
    m_rawLogZ = double(maxLogit) + std::log(z);
    m_finiteCount = finite;
    return {};
}

void Sampler::fillAlternatives(std::span<const float> logits, SampleResult& out) const {
    const size_t wanted = size_t(m_settings.topLogprobs);
    std::array<Candidate, SamplerSettings::kMaxTopLogprobs> best{};
    size_t count = 0;
    const BetterFirst better;
    for (size_t i = 0; i < logits.size() && wanted > 0; ++i) {
        const Candidate c{int32_t(i), logits[i]};
        if (!isFinite(c.logit)) continue;
        if (count == wanted && !better(c, best[count - 1])) continue;
        size_t pos = count < wanted ? count++ : count - 1;
        while (pos > 0 && better(c, best[pos - 1])) {
            best[pos] = best[pos - 1];
            --pos;
        }
        best[pos] = c;
    }
    out.topAlternatives.resize(count);
    for (size_t i = 0; i < count; ++i)
        out.topAlternatives[i] = {best[i].id, float(double(best[i].logit) - m_rawLogZ)};
}

bool Sampler::applyPenalties(std::span<const int32_t> history) {
    const SamplerSettings& s = m_settings;
    const bool any = s.repeatPenalty != 1.0f || s.presencePenalty != 0.0f ||
                     s.frequencyPenalty != 0.0f;
    if (!any || s.penaltyLastN == 0 || history.empty()) return false;
    const size_t window = s.penaltyLastN < 0
                              ? history.size()
                              : std::min(size_t(s.penaltyLastN), history.size());
    m_window.clear();
    const int64_t vocab = int64_t(m_work.size());
    for (int32_t id : history.last(window))
        if (id >= 0 && id < vocab) m_window.push_back(id);
    if (m_window.empty()) return false;
    std::sort(m_window.begin(), m_window.end());

    for (size_t i = 0; i < m_window.size();) {
        const int32_t id = m_window[i];
        size_t j = i;
        while (j < m_window.size() && m_window[j] == id) ++j;
        const float count = float(j - i);
        i = j;
        float& l = m_work[size_t(id)];
        if (!isFinite(l)) continue;
        if (s.repeatPenalty != 1.0f) l = l > 0.0f ? l / s.repeatPenalty : l * s.repeatPenalty;
        l -= count * s.frequencyPenalty + s.presencePenalty;
    }
    return true;
}

int32_t Sampler::argmaxWork() const {
    size_t best = 0;
    for (size_t i = 1; i < m_work.size(); ++i)
        if (m_work[i] > m_work[best]) best = i;  // strict: lowest id wins ties
    return int32_t(best);
}

void Sampler::sampleStochastic(SampleResult& out) {
    m_invT = 1.0 / double(m_settings.temperature);
    const bool capture = out.hasStages;
    if (capture)
        captureStage(out, SamplerStageKind::Temperature, m_settings.temperature != 1.0f);
    applyTopK();
    if (capture) captureStage(out, SamplerStageKind::TopK, m_settings.topK > 0);
    applyTopP();
    if (capture) captureStage(out, SamplerStageKind::TopP, m_settings.topP < 1.0f);
    applyMinP();
    if (capture) captureStage(out, SamplerStageKind::MinP, m_settings.minP > 0.0f);
    draw(out);
    if (capture) captureStage(out, SamplerStageKind::Final, true);
}

double Sampler::weight(float logit) const {
    return fixedExp((double(logit) - double(m_max)) * m_invT);
}

int64_t Sampler::survivorCount() const {
    return m_allFinite ? m_finiteCount : int64_t(m_cand.size());
}

void Sampler::keepAll() {
    if (!m_allFinite) return;
    m_cand.clear();
    for (size_t i = 0; i < m_work.size(); ++i)
        if (isFinite(m_work[i])) m_cand.push_back({int32_t(i), m_work[i]});
    m_allFinite = false;
    m_sorted = 0;
}

void Sampler::sortTop(size_t count) {
    count = std::min(count, m_cand.size());
    if (count <= m_sorted) return;
    // Entries before m_sorted are already the best, in order; only the rest
    // needs selecting.
    const auto first = m_cand.begin() + ptrdiff_t(m_sorted);
    const auto nth = m_cand.begin() + ptrdiff_t(count);
    if (nth != m_cand.end()) std::nth_element(first, nth, m_cand.end(), BetterFirst{});
    std::sort(first, nth, BetterFirst{});
    m_sorted = count;
}

bool Sampler::applyTopK() {
    const int32_t k = m_settings.topK;
    if (k <= 0 || int64_t(k) >= survivorCount()) return false;
    if (m_allFinite && size_t(k) * 16 <= m_work.size()) {
        selectTopKByHeap(size_t(k));
        return true;
    }
    keepAll();
    sortTop(size_t(k));
    m_cand.resize(size_t(k));
    return true;
}

void Sampler::selectTopKByHeap(size_t k) {
    // One pass keeping the k best tokens seen so far in a heap whose top is
    // the worst of them: most tokens are rejected by a single comparison.
    const BetterFirst better;
    m_cand.clear();
    for (size_t i = 0; i < m_work.size(); ++i) {
        const Candidate c{int32_t(i), m_work[i]};
        if (!isFinite(c.logit)) continue;
        if (m_cand.size() < k) {
            m_cand.push_back(c);
            std::push_heap(m_cand.begin(), m_cand.end(), better);
        } else if (better(c, m_cand.front())) {
            std::pop_heap(m_cand.begin(), m_cand.end(), better);
            m_cand.back() = c;
            std::push_heap(m_cand.begin(), m_cand.end(), better);
        }
    }
    std::sort_heap(m_cand.begin(), m_cand.end(), better);  // best first
    m_allFinite = false;
    m_sorted = m_cand.size();
}

bool Sampler::applyTopP() {
    if (m_settings.topP >= 1.0f) return false;
    const double p = double(m_settings.topP);
    if (!m_allFinite) {
        double z = 0.0;
        for (const Candidate& c : m_cand) z += weight(c.logit);
        cutNucleus(p * z);
        return true;
    }
    const double z = preselectNucleus(p);
    if (!cutNucleus(p * z)) {
        // Rounding left the preselection a hair short: walk every token.
        m_allFinite = true;
        keepAll();
        cutNucleus(p * z);
    }
    return true;
}

size_t Sampler::bucketOf(float logit) const {
    const double d = (double(m_max) - double(logit)) * m_invT;  // >= 0
    return d < double(kNucleusBuckets) / kBucketsPerUnit ? size_t(d * kBucketsPerUnit)
                                                          : kNucleusBuckets - 1;
}

double Sampler::preselectNucleus(double p) {
    // Bucket every token by its tempered distance below the max. Buckets are
    // ordered like the tokens, so the buckets whose mass reaches p (plus one
    // bucket of margin) hold a best-first prefix containing the nucleus, and
    // only that prefix needs sorting. z is summed in id order as elsewhere.
    m_bucketMass.fill(0.0);
    double z = 0.0;
    for (float l : m_work) {
        if (!isFinite(l)) continue;
        const double w = weight(l);
        z += w;
        m_bucketMass[bucketOf(l)] += w;
    }
    const double target = p * z;
    double cum = 0.0;
    size_t last = kNucleusBuckets - 1;
    for (size_t b = 0; b < kNucleusBuckets; ++b) {
        cum += m_bucketMass[b];
        if (cum >= target) {
            last = std::min(b + 1, kNucleusBuckets - 1);
            break;
        }
    }
    m_cand.clear();
    for (size_t i = 0; i < m_work.size(); ++i)
        if (isFinite(m_work[i]) && bucketOf(m_work[i]) <= last)
            m_cand.push_back({int32_t(i), m_work[i]});
    m_allFinite = false;
    m_sorted = 0;
    return z;
}

bool Sampler::cutNucleus(double target) {
    // Smallest best-first prefix whose mass reaches the target; sort only as
    // far as needed, doubling the sorted prefix until the nucleus is covered.
    double cum = 0.0;
    size_t walked = 0;
    size_t chunk = kTopPFirstChunk;
    while (walked < m_cand.size()) {
        sortTop(std::max(m_sorted, std::min(chunk, m_cand.size())));
        for (; walked < m_sorted; ++walked) {
            cum += weight(m_cand[walked].logit);
            if (cum >= target) {
                m_cand.resize(walked + 1);
                return true;
            }
        }
        chunk *= 2;
    }
    return false;
}

bool Sampler::applyMinP() {
    if (m_settings.minP <= 0.0f) return false;
    // p_i / p_max = exp((l_i - l_max) / T); the max survives every stage.
    const double minP = double(m_settings.minP);
    if (m_allFinite) {
        // Tokens far below the threshold in logit space skip the exponential;
        // the margin dwarfs log()'s rounding, so the decisions are exact.
        const double maxDistance = -std::log(minP) + 1e-6;
        m_cand.clear();
        for (size_t i = 0; i < m_work.size(); ++i) {
            const float l = m_work[i];
            if (!isFinite(l) || (double(m_max) - double(l)) * m_invT > maxDistance) continue;
            if (weight(l) >= minP) m_cand.push_back({int32_t(i), l});
        }
        m_allFinite = false;
        m_sorted = 0;
        return true;
    }
    const bool fullySorted = m_sorted == m_cand.size();
    m_cand.erase(std::remove_if(m_cand.begin(), m_cand.end(),
                                [&](const Candidate& c) { return weight(c.logit) < minP; }),
                 m_cand.end());
    m_sorted = fullySorted ? m_cand.size() : 0;
    return true;
}

void Sampler::draw(SampleResult& out) {
    const size_t count = m_allFinite ? m_work.size() : m_cand.size();
    m_weights.resize(count);
    double z = 0.0;
    for (size_t i = 0; i < count; ++i) {
        m_weights[i] = weight(m_allFinite ? m_work[i] : m_cand[i].logit);
        z += m_weights[i];
    }
    // Walk the survivors in their fixed order; a rounding shortfall at the
    // end falls back to the last possible token.
    const double target = m_rng.nextDouble() * z;
    double cum = 0.0;
    size_t chosen = 0;
    for (size_t i = 0; i < count; ++i) {
        if (m_weights[i] <= 0.0) continue;
        cum += m_weights[i];
        chosen = i;
        if (cum > target) break;
    }
    out.token = m_allFinite ? int32_t(chosen) : m_cand[chosen].id;
    out.probability = float(m_weights[chosen] / z);
}

void Sampler::captureLogits(SamplerStage& stage, std::span<const float> logits,
                            double invT) const {
    float maxLogit = kNegInf;
    for (float l : logits) maxLogit = std::max(maxLogit, l);
    double z = 0.0;
    m_scratch.clear();
    for (size_t i = 0; i < logits.size(); ++i) {
        if (!isFinite(logits[i])) continue;
        z += fixedExp((double(logits[i]) - double(maxLogit)) * invT);
        m_scratch.push_back({int32_t(i), logits[i]});
    }
    stage.survivors = int64_t(m_scratch.size());
    const size_t keep = std::min(m_scratch.size(), size_t(m_settings.stageCandidates));
    const auto nth = m_scratch.begin() + ptrdiff_t(keep);
    if (nth != m_scratch.end()) std::nth_element(m_scratch.begin(), nth, m_scratch.end(), BetterFirst{});
    std::sort(m_scratch.begin(), nth, BetterFirst{});
    stage.top.resize(keep);
    for (size_t i = 0; i < keep; ++i) {
        const Candidate& c = m_scratch[i];
        const double w = fixedExp((double(c.logit) - double(maxLogit)) * invT);
        stage.top[i] = {c.id, float(double(c.logit) * invT), float(w / z)};
    }
}

void Sampler::captureCandidates(SamplerStage& stage) const {
    double z = 0.0;
    for (const Candidate& c : m_cand) z += weight(c.logit);
    stage.survivors = int64_t(m_cand.size());
    const size_t keep = std::min(m_cand.size(), size_t(m_settings.stageCandidates));
    const Candidate* best = m_cand.data();
    if (m_sorted < keep) {
        m_scratch.assign(m_cand.begin(), m_cand.end());
        const auto nth = m_scratch.begin() + ptrdiff_t(keep);
        if (nth != m_scratch.end())
            std::nth_element(m_scratch.begin(), nth, m_scratch.end(), BetterFirst{});
        std::sort(m_scratch.begin(), nth, BetterFirst{});
        best = m_scratch.data();
    }
    stage.top.resize(keep);
    for (size_t i = 0; i < keep; ++i)
        stage.top[i] = {best[i].id, float(double(best[i].logit) * m_invT),
                        float(weight(best[i].logit) / z)};
}

void Sampler::captureStage(SampleResult& out, SamplerStageKind kind, bool active) {
    SamplerStage& stage = out.stages.stages[size_t(kind)];
    stage.kind = kind;
    stage.active = active;
    if (!active) {
        // An inactive stage shows the previous stage's candidates unchanged.
        const SamplerStage& previous = out.stages.stages[size_t(kind) - 1];
        stage.survivors = previous.survivors;
        stage.top = previous.top;
        return;
    }
    if (m_allFinite)
        captureLogits(stage, m_work, m_invT);
    else
        captureCandidates(stage);
}

void Sampler::captureGreedyTail(SampleResult& out, int32_t token) {
    for (SamplerStageKind kind : {SamplerStageKind::Temperature, SamplerStageKind::TopK,
                                  SamplerStageKind::TopP, SamplerStageKind::MinP})
        captureStage(out, kind, false);
    SamplerStage& last = out.stages.stages[size_t(SamplerStageKind::Final)];
    last.kind = SamplerStageKind::Final;
    last.active = true;
    last.survivors = 1;
    last.top.resize(1);
    last.top[0] = {token, m_work[size_t(token)], 1.0f};
}

}  // namespace glassbox::engine
