// The generation loop: prefill a prompt, then sample token after token,
// streaming each token (with its log-probability, alternatives and, on
// request, the sampler's stages) to a callback until max tokens, an
// end-of-generation token, a stop string, a full context or a stop request.
#pragma once

#include <functional>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "engine/result.h"
#include "engine/sampler.h"
#include "engine/sampler_settings.h"

namespace glassbox::engine {

class Session;

enum class StopReason { MaxTokens, EndOfGeneration, StopString, ContextFull, Cancelled };
const char* stopReasonName(StopReason reason);

struct GeneratedToken {
    int index = 0;            // 0-based position among generated tokens
    int32_t id = -1;
    std::string text;         // text this token made visible (may be empty while UTF-8 or a stop string is pending)
    SampleResult sample;      // logprob, alternatives, stages
};

struct GenerationResult {
    std::vector<int32_t> promptTokens;
    std::vector<GeneratedToken> tokens;
    std::string text;          // the visible completion, stop string excluded
    StopReason stopReason = StopReason::MaxTokens;
    uint64_t seed = 0;         // the seed actually used
    double prefillSeconds = 0.0;
    double decodeSeconds = 0.0;
    int reusedPromptTokens = 0;  // prompt tokens already in the session's cache

    double prefillTokensPerSecond() const;
    double decodeTokensPerSecond() const;
};

// Called on the generating thread for every sampled token.
using TokenCallback = std::function<void(const GeneratedToken&)>;

struct GenerationRequest {
    std::vector<int32_t> prompt;
    SamplerSettings sampling;
    bool keepTokens = true;  // store every GeneratedToken in the result
};

// Runs the request on the session. The session's cache is reused for the
// longest common prefix with the prompt (branching costs only the new
// tokens). Errors: sampler settings (InvalidArgument naming the field), the
// backend's errors. Cancellation and a full context end the run normally
// with the matching StopReason.
Result<GenerationResult> generate(Session& session, const GenerationRequest& request,
                                  const TokenCallback& onToken = {}, std::stop_token stop = {});

}  // namespace glassbox::engine
