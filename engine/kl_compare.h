// Quantization lab, model level: how far a quantized model's next-token
// distributions are from a reference model's (the same network at a higher
// precision) on the same tokens, with the statistics llama.cpp's
// `llama-perplexity --kl-divergence` reports; and, for one prompt, per-token
// KL, top-1 flips and where in the network the two residual streams part.
//
// The text method is llama-perplexity's (tools/perplexity/perplexity.cpp):
// - the text is tokenized with special tokens added (BOS when the
//   vocabulary asks for it), see tokenizeForKl();
// - it is cut into floor(tokens / nCtx) chunks of nCtx tokens, no overlap,
//   the tail dropped; each chunk is evaluated from an empty cache by both
//   models, its first token replaced by BOS when the vocabulary adds BOS,
//   logits computed only from position nCtx/2 on (as llama-perplexity asks);
// - only the second half of each chunk is scored: positions j in
//   [nCtx/2, nCtx-2], each predicting token j+1, nCtx-1-nCtx/2 per chunk;
// - per scored position: KL(P_ref || P_quant) = Σ p_ref·(log p_ref − log
//   p_quant), whether the first maxima of the two logit rows are the same
//   token, and log p of the actual next token under each model;
// - mean ± error is mean ± sqrt((E[x²] − E[x]²)/(n − 1)) (error 0 for
//   n ≤ 10); same-top error sqrt(p(1 − p)/(n − 1)); median and percentiles
//   by linear interpolation at fraction·(n − 1) of the sorted values; PPL =
//   exp(mean −log p) ± PPL·error; ΔPPL's error uses the covariance of the
//   two models' −log p, as llama-perplexity does.
// Deliberate differences: reference log-probabilities are used in full
// double precision (llama-perplexity stores them rounded to 16 bits over
// [max − 16, max] and skips terms with log p_ref ≤ −16 in the KL sum, which
// moves mean KLD by well under 1% on the default model); one chunk is
// enough (llama-perplexity wants 2·nCtx tokens and prints no summary below
// 100 scored positions).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <stop_token>
#include <string_view>
#include <vector>

#include "engine/backend.h"
#include "engine/result.h"

namespace glassbox::engine {

class Model;

struct KlCompareOptions {
    int contextSize = 512;   // tokens per chunk (llama-perplexity's -c); at least 3
    int maxChunks = 0;       // 0: every whole chunk of the text
    int threads = 0;         // forward passes and statistics; 0: all hardware threads
    int microBatch = 256;    // prefill step (cancellation point)
    KvCacheType kvType = KvCacheType::F16;
};

// Called after each model's pass over a chunk: `done` of `total` passes
// (two per chunk). Runs on the calling thread.
using KlProgress = std::function<void(int done, int total)>;

struct ValueWithError {
    double value = 0;
    double error = 0;
};

// Per-position results, one entry per scored position, in text order.
struct KlScoredTokens {
    std::vector<int32_t> index;        // position of the predicted token in the compared tokens
    std::vector<float> kld;            // KL(P_ref || P_quant), nats
    std::vector<float> logProbRef;     // log p_ref(actual next token); NaN when there is none
    std::vector<float> logProbQuant;   // log p_quant(actual next token); NaN when there is none
    std::vector<int32_t> topRef;       // first argmax of the reference logits
    std::vector<int32_t> topQuant;     // first argmax of the quantized logits

    size_t size() const { return kld.size(); }
    bool sameTop(size_t i) const { return topRef[i] == topQuant[i]; }
};

struct KlStatistics {
    int64_t count = 0;                 // scored positions
    ValueWithError meanKld;            // nats
    double minKld = 0, medianKld = 0, p90Kld = 0, p95Kld = 0, p99Kld = 0, p999Kld = 0, maxKld = 0;
    ValueWithError sameTop;            // fraction of positions with the same top-1 token, 0..1
    ValueWithError pplRef, pplQuant;   // exp(mean −log p(actual next token))
    ValueWithError deltaPpl;           // PPL(quant) − PPL(ref)
    ValueWithError logPplRatio;        // mean ln(PPL(quant)/PPL(ref))
    double pplCorrelation = 0;         // Cor(ln PPL(quant), ln PPL(ref))
    ValueWithError meanDeltaP;         // mean p_quant(tok) − p_ref(tok)
    ValueWithError rmsDeltaP;          // RMS of the same
};

struct KlCompareResult {
    std::vector<int32_t> tokens;       // chunks × contextSize ids, as in the text (no BOS substitution)
    int contextSize = 0;
    int chunks = 0;
    KlScoredTokens scored;
    KlStatistics stats;
};

// One position: the two models' logit rows and the token that followed.
struct KlPoint {
    double kld = 0;
    double logProbRef = 0, logProbQuant = 0;  // NaN when next < 0
    int32_t topRef = 0, topQuant = 0;
};
// Computed in double. `next` < 0: no next token (log-probs NaN). The rows
// must have the same non-zero length and next must index them.
KlPoint compareNextToken(std::span<const float> refLogits, std::span<const float> quantLogits, int32_t next);

// The statistics of scored positions (llama-perplexity's formulas; all zero
// when there are none).
KlStatistics summarizeKl(const KlScoredTokens& scored);

// The text's ids as llama-perplexity takes them: special tokens added as the
// vocabulary asks (BOS for most models), special-token text not parsed.
std::vector<int32_t> tokenizeForKl(const Model& model, std::string_view text);

// Compares `quantized` against `reference` on tokens (see the method above).
// Errors: InvalidArgument (a null model; vocabularies that differ in size or
// in any token's text; contextSize < 3; fewer tokens than one chunk; a token
// id outside the vocabulary), the sessions' errors (OutOfMemory when a KV
// cache or the logits cannot be allocated), Cancelled.
Result<KlCompareResult> compareModels(std::shared_ptr<const Model> reference,
                                      std::shared_ptr<const Model> quantized, std::span<const int32_t> tokens,
                                      const KlCompareOptions& options = {}, const KlProgress& progress = {},
                                      std::stop_token stop = {});

struct PromptDriftOptions {
    double cosineThreshold = 0.99;     // "drifted" below this mean cosine
    int threads = 0;                   // 0: all hardware threads
    KvCacheType kvType = KvCacheType::F16;
    uint64_t maxCaptureBytes = uint64_t(1) << 30;  // per model
};

// One prompt through both models.
struct PromptDrift {
    std::vector<int32_t> tokens;
    // Every position i, predicting the token after tokens[i]: index i + 1,
    // the last one (index == tokens.size()) predicting the continuation.
    KlScoredTokens perToken;
    int flips = 0;                     // positions whose top-1 tokens differ
    // Cosine similarity of the two residual streams, points × positions,
    // row-major: point 0 is the embedding output, point l + 1 the stream
    // after layer l.
    int points = 0;
    std::vector<float> cosine;
    std::vector<float> meanCosine;     // per point, over positions
    double threshold = 0;
    // First point whose mean cosine is below the threshold (1 + layer, 0 for
    // the embedding); -1 when none is.
    int firstDriftPoint = -1;
};

// Errors: as compareModels, plus InvalidArgument (an empty prompt; models
// with different layer counts or widths), OutOfMemory (the prompt's
// residual streams exceed maxCaptureBytes).
Result<PromptDrift> comparePrompt(std::shared_ptr<const Model> reference, std::shared_ptr<const Model> quantized,
                                  std::span<const int32_t> tokens, const PromptDriftOptions& options = {},
                                  std::stop_token stop = {});

}  // namespace glassbox::engine
