// Shared by the project-file tests: deterministic runs with awkward values,
// a field-by-field run comparison, raw SQLite access to the file, and small
// file helpers. Header-only.
#pragma once

#include <QtTest>

#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <bit>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <thread>

#include "engine/json.h"
#include "projects/project_schema.h"
#include "projects/project_store.h"
#include "projects/token_blobs.h"
#include "support/test_paths.h"

using namespace glassbox;
using namespace glassbox::projects;
using engine::ErrorCode;
namespace fs = std::filesystem;


namespace glassbox::projects::testsupport {

using namespace glassbox;
using namespace glassbox::projects;
using engine::ErrorCode;
namespace fs = std::filesystem;


inline bool sameBits(float a, float b) { return std::bit_cast<uint32_t>(a) == std::bit_cast<uint32_t>(b); }
inline bool sameBits(double a, double b) { return std::bit_cast<uint64_t>(a) == std::bit_cast<uint64_t>(b); }

// A deterministic run with awkward values: -0.0, -inf, denormals, NaNs with
// payloads (in the BLOBs), extreme ids, multi-byte text.
inline RunRecord makeRun(uint32_t seed, int tokens, int alternatives, bool stages, int candidates = 8) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> logit(-30.0f, 10.0f);
    RunRecord run;
    engine::SamplerSettings& s = run.settings;
    s.temperature = 0.7f;
    s.topK = 50;
    s.topP = 0.9f;
    s.minP = 0.02f;
    s.repeatPenalty = 1.1f;
    s.presencePenalty = -0.5f;
    s.frequencyPenalty = 0.3f;
    s.penaltyLastN = -1;
    s.seed = engine::SamplerSettings::kRandomSeed;
    s.maxTokens = tokens;
    s.stopStrings = {"\n\n", "</s>", "quote\"back\\slash", "\xC3\xBCnic\xC3\xB8" "de"};
    s.topLogprobs = alternatives;
    s.captureStages = stages;
    s.stageCandidates = candidates;
    run.seed = 0x8000000000000005ull + seed;
    run.promptText = "Once upon a time, \xE2\x80\x9Cquoted\xE2\x80\x9D";
    run.promptTokens = {1, 0, -1, INT32_MAX, INT32_MIN, 42};
    run.outputText = "output of run " + std::to_string(seed) + " \xF0\x9F\x99\x82";
    run.stopReason = engine::StopReason::StopString;
    run.prefillSeconds = 0.1 + seed;
    run.decodeSeconds = 1.0 / 3.0;
    run.prefillTokensPerSecond = 1234.5;
    run.decodeTokensPerSecond = 0.0;  // timings are REAL columns: -0.0 would read back as 0.0
    run.reusedPromptTokens = 3;
    run.engineVersion = "0.1.0-test";
    run.hardware = "CPU: test machine, 16 threads";
    run.createdAt = 1700000000000 + seed;
    run.label = "run " + std::to_string(seed);
    run.notes = "notes\nwith lines";
    run.compareGroup = int64_t(seed % 3);
    for (int i = 0; i < tokens; ++i) {
        engine::GeneratedToken t;
        t.index = i;
        t.id = int32_t(rng() % 49152);
        if (i % 7 != 0) {
            t.text = "t";
            t.text += std::to_string(i);
            if (i % 5 == 0) t.text += "\xC3\xA9";
        }
        t.sample.token = t.id;
        const float specials[] = {-0.0f, -std::numeric_limits<float>::infinity(), 1e-45f, -3.4e38f};
        t.sample.logprob = i % 50 < 4 ? specials[i % 50] : logit(rng);
        t.sample.probability = i % 50 == 5 ? 0.0f : std::exp(std::min(0.0f, logit(rng)));
        t.sample.greedy = i % 3 == 0;
        for (int a = 0; a < alternatives; ++a) {
            const float lp = (i + a) % 37 == 0 ? std::bit_cast<float>(0x7FA00001u) : logit(rng);
            t.sample.topAlternatives.push_back({int32_t(rng()), lp});
        }
        if (stages) {
            t.sample.hasStages = true;
            for (size_t k = 0; k < engine::kSamplerStageCount; ++k) {
                engine::SamplerStage& st = t.sample.stages.stages[k];
                st.kind = engine::SamplerStageKind(k);
                st.active = k % 2 == 0;
                st.survivors = int64_t(49152 - 1000 * k);
                for (int c = 0; c < candidates; ++c)
                    st.top.push_back({int32_t(rng() % 49152), logit(rng), c == 0 ? -0.0f : logit(rng) / -30.0f});
            }
        }
        run.tokens.push_back(std::move(t));
    }
    return run;
}

// The first difference between two runs, or an empty string.
inline std::string diffRuns(const RunRecord& a, const RunRecord& b) {
    const engine::SamplerSettings &x = a.settings, &y = b.settings;
    if (!sameBits(x.temperature, y.temperature) || x.topK != y.topK || !sameBits(x.topP, y.topP) ||
        !sameBits(x.minP, y.minP) || !sameBits(x.repeatPenalty, y.repeatPenalty) ||
        !sameBits(x.presencePenalty, y.presencePenalty) || !sameBits(x.frequencyPenalty, y.frequencyPenalty) ||
        x.penaltyLastN != y.penaltyLastN || x.seed != y.seed || x.maxTokens != y.maxTokens ||
        x.stopStrings != y.stopStrings || x.topLogprobs != y.topLogprobs || x.captureStages != y.captureStages ||
        x.stageCandidates != y.stageCandidates)
        return "settings";
    if (a.id != b.id || a.promptId != b.promptId || a.modelId != b.modelId || a.parentRunId != b.parentRunId ||
        a.branchTokenIndex != b.branchTokenIndex || a.compareGroup != b.compareGroup || a.deleted != b.deleted)
        return "ids";
    if (a.seed != b.seed || a.promptText != b.promptText || a.promptTokens != b.promptTokens ||
        a.outputText != b.outputText || a.stopReason != b.stopReason)
        return "prompt/output";
    if (!sameBits(a.prefillSeconds, b.prefillSeconds) || !sameBits(a.decodeSeconds, b.decodeSeconds) ||
        !sameBits(a.prefillTokensPerSecond, b.prefillTokensPerSecond) ||
        !sameBits(a.decodeTokensPerSecond, b.decodeTokensPerSecond) || a.reusedPromptTokens != b.reusedPromptTokens)
        return "timings";
    if (a.engineVersion != b.engineVersion || a.hardware != b.hardware || a.createdAt != b.createdAt ||
        a.label != b.label || a.notes != b.notes)
        return "metadata";
    if (a.tokens.size() != b.tokens.size()) return "token count";
    for (size_t i = 0; i < a.tokens.size(); ++i) {
        const auto &t = a.tokens[i], &u = b.tokens[i];
        const std::string at = "token " + std::to_string(i) + ": ";
        if (t.index != u.index || t.id != u.id || t.text != u.text || t.sample.token != u.sample.token ||
            t.sample.greedy != u.sample.greedy)
            return at + "id/text";
        if (!sameBits(t.sample.logprob, u.sample.logprob) || !sameBits(t.sample.probability, u.sample.probability))
            return at + "logprob/probability";
        if (t.sample.topAlternatives.size() != u.sample.topAlternatives.size()) return at + "alternative count";
        for (size_t k = 0; k < t.sample.topAlternatives.size(); ++k)
            if (t.sample.topAlternatives[k].id != u.sample.topAlternatives[k].id ||
                !sameBits(t.sample.topAlternatives[k].logprob, u.sample.topAlternatives[k].logprob))
                return at + "alternative " + std::to_string(k);
        if (t.sample.hasStages != u.sample.hasStages) return at + "hasStages";
        if (!t.sample.hasStages) continue;
        for (size_t k = 0; k < engine::kSamplerStageCount; ++k) {
            const auto &p = t.sample.stages.stages[k], &q = u.sample.stages.stages[k];
            if (p.kind != q.kind || p.active != q.active || p.survivors != q.survivors || p.top.size() != q.top.size())
                return at + "stage " + std::to_string(k);
            for (size_t c = 0; c < p.top.size(); ++c)
                if (p.top[c].id != q.top[c].id || !sameBits(p.top[c].logit, q.top[c].logit) ||
                    !sameBits(p.top[c].prob, q.top[c].prob))
                    return at + "stage " + std::to_string(k) + " candidate " + std::to_string(c);
        }
    }
    return {};
}

// The tables of file version 1, as the first release created them.
constexpr const char* kVersion1Schema = R"sql(
CREATE TABLE models (id INTEGER PRIMARY KEY, path TEXT NOT NULL, file_bytes INTEGER NOT NULL DEFAULT 0,
  sha256 TEXT NOT NULL DEFAULT '', architecture TEXT NOT NULL DEFAULT '', display_name TEXT NOT NULL DEFAULT '',
  added_at INTEGER NOT NULL, UNIQUE (path, sha256));
CREATE TABLE prompts (id INTEGER PRIMARY KEY, title TEXT NOT NULL DEFAULT '',
  mode TEXT NOT NULL CHECK (mode IN ('completion', 'chat')), system_prompt TEXT NOT NULL DEFAULT '',
  content TEXT NOT NULL DEFAULT '', created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);
CREATE TABLE runs (id INTEGER PRIMARY KEY, prompt_id INTEGER REFERENCES prompts(id) ON DELETE SET NULL,
  model_id INTEGER REFERENCES models(id) ON DELETE SET NULL,
  parent_run_id INTEGER REFERENCES runs(id) ON DELETE SET NULL, branch_token_index INTEGER NOT NULL DEFAULT -1,
  settings_json TEXT NOT NULL, seed INTEGER NOT NULL, prompt_text TEXT NOT NULL DEFAULT '',
  prompt_tokens BLOB NOT NULL, output_text TEXT NOT NULL DEFAULT '', stop_reason TEXT NOT NULL,
  token_count INTEGER NOT NULL DEFAULT 0, prefill_seconds REAL, decode_seconds REAL,
  prefill_tokens_per_second REAL, decode_tokens_per_second REAL, reused_prompt_tokens INTEGER NOT NULL DEFAULT 0,
  engine_version TEXT NOT NULL DEFAULT '', hardware TEXT NOT NULL DEFAULT '', created_at INTEGER NOT NULL,
  label TEXT NOT NULL DEFAULT '');
CREATE INDEX runs_by_prompt ON runs (prompt_id, created_at);
CREATE INDEX runs_by_model ON runs (model_id, created_at);
CREATE TABLE run_tokens (run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE, idx INTEGER NOT NULL,
  token_id INTEGER NOT NULL, text TEXT NOT NULL, logprob, probability, flags INTEGER NOT NULL DEFAULT 0,
  alternatives BLOB, PRIMARY KEY (run_id, idx));
CREATE TABLE drafts (key TEXT PRIMARY KEY, text TEXT NOT NULL, updated_at INTEGER NOT NULL);
CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT);
)sql";

// Run SQL on a file with a plain SQLite connection (no Glassbox checks).
inline std::string rawExec(const std::string& path, const std::string& sql) {
    sqlite3* db = nullptr;
    sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
    char* err = nullptr;
    const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
    std::string message = rc == SQLITE_OK ? std::string() : std::string(err ? err : "error");
    sqlite3_free(err);
    sqlite3_close(db);
    return message;
}

inline std::string rawQuery(const std::string& path, const std::string& sql) {
    sqlite3* db = nullptr;
    sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
    sqlite3_stmt* stmt = nullptr;
    std::string out;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK && sqlite3_step(stmt) == SQLITE_ROW)
        out = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return out;
}

inline std::unique_ptr<ProjectStore> mustCreate(const std::string& path) {
    auto store = ProjectStore::create(path);
    if (!store.ok()) qFatal("create failed: %s", store.error().toString().c_str());
    return std::move(store).value();
}

inline std::unique_ptr<ProjectStore> mustOpen(const std::string& path) {
    auto store = ProjectStore::open(path);
    if (!store.ok()) qFatal("open failed: %s", store.error().toString().c_str());
    return std::move(store).value();
}

inline int64_t mustInsert(ProjectStore& store, RunRecord run) {
    auto id = store.insertRun(std::move(run)).get();
    if (!id.ok()) qFatal("insertRun failed: %s", id.error().toString().c_str());
    return *id;
}

inline void writeFile(const std::string& path, const std::string& bytes) {
    std::ofstream(path, std::ios::binary | std::ios::trunc).write(bytes.data(), std::streamsize(bytes.size()));
}

inline std::string readFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}


}  // namespace glassbox::projects::testsupport

#define QCOMPARE_RUNS(actual, expected)                        \
    do {                                                       \
        const std::string diff_ = diffRuns(actual, expected);  \
        QVERIFY2(diff_.empty(), ("runs differ: " + diff_).c_str()); \
    } while (0)

