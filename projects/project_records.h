// The value types a project stores: models, prompts, runs with every
// generated token (log-probability, alternatives, sampler stages), drafts
// and filters for listing runs. Plain values with no behaviour, shared by the
// store, its tables and the front ends. Timestamps are Unix milliseconds;
// ids are SQLite rowids (positive; std::nullopt / 0 means "none yet").
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/generator.h"
#include "engine/sampler.h"
#include "engine/sampler_settings.h"

namespace glassbox::projects {

// A model file a run was made with, identified by path and content hash.
struct ModelRecord {
    int64_t id = 0;             // 0 until stored
    std::string path;           // as opened (file or checkpoint directory)
    uint64_t fileBytes = 0;
    std::string sha256;         // lowercase hex; empty when not computed
    std::string architecture;   // ModelConfig::architecture, e.g. "llama"
    std::string displayName;
    int64_t addedAt = 0;        // 0: set to "now" when stored
};

enum class PromptMode { Completion, Chat };

// Milliseconds since the Unix epoch, for the *At fields.
int64_t unixMillisNow();

// "completion" / "chat", and back (nullopt for anything else).
const char* promptModeName(PromptMode mode);
std::optional<PromptMode> promptModeFromName(const std::string& name);

// A prompt the user edits and runs, possibly many times.
struct PromptRecord {
    int64_t id = 0;
    std::string title;
    PromptMode mode = PromptMode::Completion;
    std::string systemPrompt;   // chat mode only
    std::string content;        // completion: the text; chat: messages as a JSON array
    int64_t createdAt = 0;      // 0: "now" when stored
    int64_t updatedAt = 0;      // 0: "now" when stored
};

// One generation: what was asked, with which model and settings, and every
// token that came out. Stored and loaded as one unit.
struct RunRecord {
    int64_t id = 0;
    std::optional<int64_t> promptId;
    std::optional<int64_t> modelId;
    std::optional<int64_t> parentRunId;  // the run this one branched from
    int32_t branchTokenIndex = -1;       // generated-token index branched at; -1 = none
    engine::SamplerSettings settings;    // as requested (seed may be kRandomSeed)
    uint64_t seed = 0;                   // the seed actually used
    std::string promptText;              // the text that was tokenized (template applied)
    std::vector<int32_t> promptTokens;
    std::string outputText;
    engine::StopReason stopReason = engine::StopReason::MaxTokens;
    double prefillSeconds = 0.0;
    double decodeSeconds = 0.0;
    double prefillTokensPerSecond = 0.0;
    double decodeTokensPerSecond = 0.0;
    int32_t reusedPromptTokens = 0;
    std::string engineVersion;           // empty: this build's version when stored
    std::string hardware;                // e.g. "CPU: AMD EPYC 7B13, 16 threads, AVX2"
    int64_t createdAt = 0;               // 0: "now" when stored
    std::string label;
    std::string notes;
    std::optional<int64_t> compareGroup; // runs started together for comparison
    bool deleted = false;                // in the trash (see ProjectStore::deleteRun)
    // Stored per token: id, text, logprob, probability, greedy, alternatives
    // and stages. tokens[i].index is stored as i and sample.token as id.
    std::vector<engine::GeneratedToken> tokens;

    // Copy everything a generation produced (tokens, text, timings, seed).
    static RunRecord fromGeneration(const engine::GenerationResult& result,
                                    const engine::SamplerSettings& settings);
};

// One row of a run list: enough to draw it without loading its tokens.
struct RunSummary {
    int64_t id = 0;
    std::optional<int64_t> promptId;
    std::optional<int64_t> modelId;
    std::optional<int64_t> parentRunId;
    int32_t branchTokenIndex = -1;
    std::optional<int64_t> compareGroup;
    uint64_t seed = 0;
    engine::StopReason stopReason = engine::StopReason::MaxTokens;
    int32_t tokenCount = 0;
    std::string outputPreview;  // the first ~200 bytes of the output (whole UTF-8 characters)
    double decodeTokensPerSecond = 0.0;
    int64_t createdAt = 0;
    std::string label;
    bool deleted = false;
};

// Which runs listRuns returns. Unset fields match everything.
struct RunFilter {
    std::optional<int64_t> promptId;
    std::optional<int64_t> modelId;
    std::optional<int64_t> parentRunId;
    std::optional<int64_t> compareGroup;
    std::string labelContains;   // substring of the label, case-sensitive
    enum class Trash { Exclude, Include, Only } trash = Trash::Exclude;
    bool newestFirst = true;
    int32_t limit = 0;           // 0 = no limit
    int32_t offset = 0;
};

// Unsaved UI state kept across crashes (prompt being typed, open tabs).
struct Draft {
    std::string key;
    std::string text;
    int64_t updatedAt = 0;
};

}  // namespace glassbox::projects
