// SamplerSettings: every knob of token sampling, with defaults, as a plain
// value that a project can store and a front end can edit. validate() checks
// every field and names the first bad one; Sampler::create refuses settings
// that do not validate.
#pragma once

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "engine/result.h"

namespace glassbox::engine {

struct SamplerSettings {
    // Seed value meaning "pick a seed from the environment"; the sampler
    // reports the seed it picked (Sampler::seed()) so the run can be replayed.
    static constexpr uint64_t kRandomSeed = ~uint64_t(0);

    // Caps enforced by validate().
    static constexpr float kMinTemperature = 1e-4f;  // below this (except 0) 1/T overflows the maths
    static constexpr float kMaxTemperature = 100.0f;
    static constexpr float kMaxRepeatPenalty = 10.0f;
    static constexpr float kMaxPresenceFrequency = 2.0f;  // OpenAI's range [-2, 2]
    static constexpr int32_t kMaxPenaltyLastN = 1 << 20;
    static constexpr int32_t kMaxTokensCap = 1 << 20;
    static constexpr size_t kMaxStopStrings = 16;
    static constexpr size_t kMaxStopStringBytes = 256;
    static constexpr int32_t kMaxTopLogprobs = 20;
    static constexpr int32_t kMaxStageCandidates = 1024;

    float temperature = 0.8f;    // 0 = greedy (argmax after penalties), else [1e-4, 100]
    int32_t topK = 40;           // keep the k most likely; 0 = off
    float topP = 0.95f;          // nucleus: smallest set with mass >= p; 1 = off
    float minP = 0.05f;          // keep p >= minP * p_max; 0 = off
    float repeatPenalty = 1.0f;  // llama.cpp: logit > 0 ? logit / r : logit * r; 1 = off
    float presencePenalty = 0.0f;   // OpenAI: logit -= (count > 0) * presence
    float frequencyPenalty = 0.0f;  // OpenAI: logit -= count * frequency
    int32_t penaltyLastN = 64;   // window of recent tokens the penalties see; 0 = off, -1 = all
    uint64_t seed = kRandomSeed;
    int32_t maxTokens = 512;     // generation stops after this many tokens
    std::vector<std::string> stopStrings;  // generation stops before any of these
    int32_t topLogprobs = 5;     // alternatives reported with each token (0..20)
    bool captureStages = false;  // record the candidate list after every stage
    int32_t stageCandidates = 64;  // how many top candidates each captured stage keeps

    // Ok, or InvalidArgument naming the first field out of range (in
    // Error::field) with the allowed range in the message.
    Result<void> validate() const;
};

inline Result<void> SamplerSettings::validate() const {
    auto bad = [](const char* field, std::string message) {
        return makeError(ErrorCode::InvalidArgument, std::string(field) + " " + message, field);
    };
    // Written as !(inside) so NaN fails every check.
    if (!(temperature == 0.0f ||
          (temperature >= kMinTemperature && temperature <= kMaxTemperature)))
        return bad("temperature", "must be 0 (greedy) or in [0.0001, 100]");
    if (topK < 0) return bad("topK", "must be >= 0 (0 = off)");
    if (!(topP > 0.0f && topP <= 1.0f)) return bad("topP", "must be in (0, 1] (1 = off)");
    if (!(minP >= 0.0f && minP <= 1.0f)) return bad("minP", "must be in [0, 1] (0 = off)");
    if (!(repeatPenalty > 0.0f && repeatPenalty <= kMaxRepeatPenalty))
        return bad("repeatPenalty", "must be in (0, 10] (1 = off)");
    if (!(std::fabs(presencePenalty) <= kMaxPresenceFrequency))
        return bad("presencePenalty", "must be in [-2, 2] (0 = off)");
    if (!(std::fabs(frequencyPenalty) <= kMaxPresenceFrequency))
        return bad("frequencyPenalty", "must be in [-2, 2] (0 = off)");
    if (penaltyLastN < -1 || penaltyLastN > kMaxPenaltyLastN)
        return bad("penaltyLastN", "must be in [-1, 1048576] (0 = off, -1 = whole history)");
    if (maxTokens < 1 || maxTokens > kMaxTokensCap)
        return bad("maxTokens", "must be in [1, 1048576]");
    if (stopStrings.size() > kMaxStopStrings)
        return bad("stopStrings", "may hold at most 16 strings");
    for (const std::string& stop : stopStrings) {
        if (stop.empty()) return bad("stopStrings", "must not contain an empty string");
        if (stop.size() > kMaxStopStringBytes)
            return bad("stopStrings", "entries must be at most 256 bytes");
    }
    if (topLogprobs < 0 || topLogprobs > kMaxTopLogprobs)
        return bad("topLogprobs", "must be in [0, 20]");
    if (stageCandidates < 1 || stageCandidates > kMaxStageCandidates)
        return bad("stageCandidates", "must be in [1, 1024]");
    return {};
}

}  // namespace glassbox::engine
