// Sampler: turns one step's logits into the next token, with every stage
// inspectable so a learner can watch the distribution being shaped.
//
// The chain, in this order:
//   penalties -> temperature -> top-k -> top-p -> min-p -> softmax -> draw
//
// * penalties: for each distinct token among the last penaltyLastN history
//   tokens, repeat penalty as llama.cpp applies it (logit > 0 ? logit / r :
//   logit * r), then OpenAI's logit -= count * frequency + (count > 0) *
//   presence.
// * temperature scales logits by 1/T before any filter sees a probability.
//   llama.cpp's default chain puts temperature after the filters instead.
//   Only top-k is unaffected by that choice (1/T does not reorder logits).
//   top-p here measures the nucleus on the tempered distribution, so a high
//   temperature widens it and a low one narrows it. min-p is not invariant
//   either, although it is sometimes said to be: it keeps
//   p_i / p_max = exp((l_i - l_max) / T) >= min_p, i.e.
//   l_i >= l_max + T * ln(min_p), so here a high temperature keeps more
//   tokens, where temperature-last would keep the set fixed.
// * top-k keeps the k highest logits; top-p the smallest prefix, by
//   probability, whose mass reaches p; min-p the tokens with p >= min_p * p_max.
//   Every filter keeps at least the most likely token.
// * ties everywhere are broken by the lower token id, so the result does not
//   depend on sort implementation details.
// * temperature 0 is greedy: the argmax after penalties (lowest id on ties).
//
// Logits: -inf marks a token as impossible and is allowed; NaN or +inf is an
// error naming the token (a NaN logit means the forward pass broke, and
// hiding it would show the learner a wrong distribution).
//
// Reproducibility: the draw uses Rng (integer-only), exponentials come from a
// fixed table-and-polynomial routine in double precision and every sum runs in
// a fixed order, so the same seed and logits give the same tokens on every
// platform.
//
// Cost per call on a V-token vocabulary: a few O(V) passes (one of them with
// an exponential, for the raw log-probabilities); top-k by a bounded heap in
// one pass; top-p without top-k by bucketing tokens on their tempered logit,
// then sorting only the buckets that can hold the nucleus. Buffers are
// reused: the in-place sample() allocates only when a call needs more room
// than any call before it (in practice, only on the first call).
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "engine/result.h"
#include "engine/rng.h"
#include "engine/sampler_settings.h"

namespace glassbox::engine {

// A token and its log-probability under the model's own (raw) distribution.
struct TokenLogprob {
    int32_t id = 0;
    float logprob = 0.0f;
};

enum class SamplerStageKind : uint8_t {
    Raw,          // the model's logits as given
    Penalties,    // after repeat / presence / frequency penalties
    Temperature,  // logits scaled by 1/T
    TopK,
    TopP,
    MinP,
    Final,        // the renormalised distribution the token is drawn from
};
inline constexpr size_t kSamplerStageCount = 7;

// "raw", "penalties", "temperature", "top-k", "top-p", "min-p", "final".
const char* samplerStageName(SamplerStageKind kind);

struct StageCandidate {
    int32_t id = 0;
    float logit = 0.0f;  // the logit at this stage (scaled by 1/T from Temperature on)
    float prob = 0.0f;   // softmax over this stage's survivors
};

struct SamplerStage {
    SamplerStageKind kind = SamplerStageKind::Raw;
    bool active = false;    // switched on in the settings (it may still remove nothing)
    int64_t survivors = 0;  // candidates still possible after this stage
    std::vector<StageCandidate> top;  // best first, at most stageCandidates
};

struct SamplerStages {
    std::array<SamplerStage, kSamplerStageCount> stages;
    const SamplerStage& operator[](SamplerStageKind kind) const { return stages[size_t(kind)]; }
};

struct SampleResult {
    int32_t token = -1;
    float logprob = 0.0f;      // log-softmax of the raw logits at `token`
    float probability = 0.0f;  // probability of `token` in the distribution it was drawn from
    bool greedy = false;       // chosen by argmax (temperature 0)
    std::vector<TokenLogprob> topAlternatives;  // top topLogprobs by raw logprob, best first
    bool hasStages = false;    // stages below are filled (settings.captureStages)
    SamplerStages stages;
};

// One Sampler per generation stream: it holds the random state and scratch
// buffers, so it is not for concurrent use.
class Sampler {
public:
    // InvalidArgument (from SamplerSettings::validate) when a field is out of
    // range. A seed of kRandomSeed is replaced by an entropy seed; seed()
    // reports the one in use.
    static Result<Sampler> create(SamplerSettings settings);

    const SamplerSettings& settings() const { return m_settings; }

    // The seed actually in use (never kRandomSeed).
    uint64_t seed() const { return m_seed; }

    // Restart the random sequence; kRandomSeed picks a fresh entropy seed.
    void reseed(uint64_t seed);

    // Turn stage capture on or off without rebuilding the sampler.
    void setCaptureStages(bool enabled) { m_settings.captureStages = enabled; }

    // Choose the next token. `history` is the token sequence so far (prompt
    // and generated); ids outside [0, logits.size()) are ignored by the
    // penalties. Errors (InvalidArgument, field "logits"): empty logits, more
    // than INT32_MAX of them, a NaN or +inf logit (the message names the
    // token), or every logit -inf. `out` keeps its buffers between calls.
    Result<void> sample(std::span<const float> logits, std::span<const int32_t> history,
                        SampleResult& out);

    // Same, returning a fresh result (allocates the result's vectors).
    Result<SampleResult> sample(std::span<const float> logits,
                                std::span<const int32_t> history);

private:
    struct Candidate {
        int32_t id;
        float logit;
    };
    static constexpr size_t kNucleusBuckets = 512;

    explicit Sampler(SamplerSettings settings);

    Result<void> scanRaw(std::span<const float> logits);
    void fillAlternatives(std::span<const float> logits, SampleResult& out) const;
    bool applyPenalties(std::span<const int32_t> history);
    int32_t argmaxWork() const;
    void sampleStochastic(SampleResult& out);
    void keepAll();
    void sortTop(size_t count);
    bool applyTopK();
    void selectTopKByHeap(size_t k);
    bool applyTopP();
    size_t bucketOf(float logit) const;
    double preselectNucleus(double p);
    bool cutNucleus(double target);
    bool applyMinP();
    void draw(SampleResult& out);
    double weight(float logit) const;
    int64_t survivorCount() const;
    void captureLogits(SamplerStage& stage, std::span<const float> logits, double invT) const;
    void captureCandidates(SamplerStage& stage) const;
    void captureStage(SampleResult& out, SamplerStageKind kind, bool active);
    void captureGreedyTail(SampleResult& out, int32_t token);

    SamplerSettings m_settings;
    uint64_t m_seed = 0;
    Rng m_rng;

    // Per-call state, kept between calls so nothing is reallocated.
    std::vector<float> m_work;           // logits after penalties
    std::vector<Candidate> m_cand;       // survivors when not "every finite token"
    std::vector<int32_t> m_window;       // penalty window, sorted
    std::vector<double> m_weights;       // draw weights of the survivors
    std::array<double, kNucleusBuckets> m_bucketMass{};  // top-p preselection
    mutable std::vector<Candidate> m_scratch;  // selection buffer for stage capture
    bool m_allFinite = true;  // survivors are every finite token of m_work, in id order
    size_t m_sorted = 0;      // leading entries of m_cand in best-first order
    int64_t m_finiteCount = 0;
    float m_rawMax = 0.0f;
    double m_rawLogZ = 0.0;
    float m_max = 0.0f;       // max of m_work (always a survivor)
    double m_invT = 1.0;      // 1 / temperature (1 when greedy)
};

}  // namespace glassbox::engine
