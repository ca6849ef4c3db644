// Helpers of the project value types: prompt mode names and building a run
// record from a generation result.
#include "projects/project_records.h"

#include <chrono>

namespace glassbox::projects {

int64_t unixMillisNow() {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

const char* promptModeName(PromptMode mode) {
    return mode == PromptMode::Chat ? "chat" : "completion";
}

std::optional<PromptMode> promptModeFromName(const std::string& name) {
    if (name == "completion") return PromptMode::Completion;
    if (name == "chat") return PromptMode::Chat;
    return std::nullopt;
}

RunRecord RunRecord::fromGeneration(const engine::GenerationResult& result,
                                    const engine::SamplerSettings& settings) {
    RunRecord run;
    run.settings = settings;
    run.seed = result.seed;
    run.promptTokens = result.promptTokens;
    run.outputText = result.text;
    run.stopReason = result.stopReason;
    run.prefillSeconds = result.prefillSeconds;
    run.decodeSeconds = result.decodeSeconds;
    run.prefillTokensPerSecond = result.prefillTokensPerSecond();
    run.decodeTokensPerSecond = result.decodeTokensPerSecond();
    run.reusedPromptTokens = result.reusedPromptTokens;
    run.tokens = result.tokens;
    return run;
}

}  // namespace glassbox::projects
