// runs and run_tokens: one INSERT per run and per token (cached statements,
// inside the caller's transaction), and loads that check everything they
// decode, since the file may be damaged or hand-edited.
#include "projects/run_table.h"

#include <cmath>
#include <limits>

#include "projects/settings_json.h"
#include "projects/token_blobs.h"

namespace glassbox::projects {

using engine::Error;
using engine::ErrorCode;
using engine::makeError;
using engine::Result;
using engine::Status;

namespace {

constexpr int64_t kGreedyFlag = 1;

// NaN has no SQL value: SQLite stores it as NULL, and NULL reads back as NaN.
float readFloat(const SqliteStatement& row, int column) {
    if (row.isNull(column)) return std::numeric_limits<float>::quiet_NaN();
    return float(row.real(column));
}

double readDouble(const SqliteStatement& row, int column) {
    if (row.isNull(column)) return std::numeric_limits<double>::quiet_NaN();
    return row.real(column);
}

Error inRun(Error e, int64_t runId, int64_t tokenIndex = -1) {
    std::string where = "run " + std::to_string(runId);
    if (tokenIndex >= 0) where += ", token " + std::to_string(tokenIndex);
    e.message = where + ": " + e.message;
    return e;
}

Status insertToken(SqliteConnection& db, int64_t runId, int64_t idx, const engine::GeneratedToken& t) {
    GB_ASSIGN_OR_RETURN(SqliteStatement stmt,
                        db.prepare("INSERT INTO run_tokens (run_id, idx, token_id, text, logprob, probability, "
                                   "flags, alternatives, stages) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"));
    stmt.bind(1, runId).bind(2, idx).bind(3, int64_t(t.id)).bind(4, std::string_view(t.text));
    stmt.bind(5, double(t.sample.logprob)).bind(6, double(t.sample.probability));
    stmt.bind(7, t.sample.greedy ? kGreedyFlag : int64_t(0));
    if (t.sample.topAlternatives.empty()) {
        stmt.bindNull(8);
    } else {
        auto blob = encodeAlternatives(t.sample.topAlternatives);
        if (!blob.ok()) return inRun(blob.error(), runId, idx);
        stmt.bindBlob(8, *blob);
    }
    if (t.sample.hasStages) {
        GB_ASSIGN_OR_RETURN(const std::vector<uint8_t> blob, encodeStages(t.sample.stages));
        stmt.bindBlob(9, blob);
    } else {
        stmt.bindNull(9);
    }
    return stmt.run();
}

Result<engine::GeneratedToken> readToken(const SqliteStatement& row, int64_t runId, int64_t expectedIdx) {
    const int64_t idx = row.int64(0);
    if (idx != expectedIdx)
        return inRun(makeError(ErrorCode::Malformed, "tokens are not numbered 0, 1, 2, ...", "run_tokens.idx"),
                     runId, expectedIdx);
    const int64_t tokenId = row.int64(1);
    if (tokenId < INT32_MIN || tokenId > INT32_MAX)
        return inRun(makeError(ErrorCode::Malformed, "token id out of range", "run_tokens.token_id"), runId, idx);
    engine::GeneratedToken t;
    t.index = int(idx);
    t.id = int32_t(tokenId);
    t.text = row.text(2);
    t.sample.token = t.id;
    t.sample.logprob = readFloat(row, 3);
    t.sample.probability = readFloat(row, 4);
    t.sample.greedy = (row.int64(5) & kGreedyFlag) != 0;
    if (!row.isNull(6)) {
        auto alternatives = decodeAlternatives(row.blob(6), "run_tokens.alternatives");
        if (!alternatives.ok()) return inRun(alternatives.error(), runId, idx);
        t.sample.topAlternatives = std::move(alternatives).value();
    }
    if (!row.isNull(7)) {
        auto stages = decodeStages(row.blob(7), "run_tokens.stages");
        if (!stages.ok()) return inRun(stages.error(), runId, idx);
        t.sample.hasStages = true;
        t.sample.stages = std::move(stages).value();
    }
    return t;
}

Status readTokens(SqliteConnection& db, RunRecord& run, int64_t expectedCount) {
    GB_ASSIGN_OR_RETURN(SqliteStatement stmt,
                        db.prepare("SELECT idx, token_id, text, logprob, probability, flags, alternatives, stages "
                                   "FROM run_tokens WHERE run_id = ?1 ORDER BY idx"));
    stmt.bind(1, run.id);
    if (expectedCount > 0 && expectedCount <= (int64_t(1) << 24)) run.tokens.reserve(size_t(expectedCount));
    for (;;) {
        GB_ASSIGN_OR_RETURN(const bool row, stmt.step());
        if (!row) break;
        GB_ASSIGN_OR_RETURN(engine::GeneratedToken t, readToken(stmt, run.id, int64_t(run.tokens.size())));
        run.tokens.push_back(std::move(t));
    }
    if (int64_t(run.tokens.size()) != expectedCount)
        return inRun(makeError(ErrorCode::Malformed,
                               "has " + std::to_string(run.tokens.size()) + " stored tokens but records " +
                                   std::to_string(expectedCount),
                               "runs.token_count"),
                     run.id);
    return {};
}

constexpr const char* kRunColumns =
    "prompt_id, model_id, parent_run_id, branch_token_index, settings_json, seed, prompt_text, "
    "prompt_tokens, output_text, stop_reason, token_count, prefill_seconds, decode_seconds, "
    "prefill_tokens_per_second, decode_tokens_per_second, reused_prompt_tokens, engine_version, "
    "hardware, created_at, label, notes, compare_group, deleted_at";

Result<int64_t> readRunRow(const SqliteStatement& row, RunRecord& run) {
    run.promptId = row.optionalInt64(0);
    run.modelId = row.optionalInt64(1);
    run.parentRunId = row.optionalInt64(2);
    run.branchTokenIndex = int32_t(row.int64(3));
    auto settings = samplerSettingsFromJson(row.text(4));
    if (!settings.ok()) return inRun(settings.error(), run.id);
    run.settings = std::move(settings).value();
    run.seed = uint64_t(row.int64(5));
    run.promptText = row.text(6);
    auto promptTokens = decodeTokenIds(row.blob(7), "runs.prompt_tokens");
    if (!promptTokens.ok()) return inRun(promptTokens.error(), run.id);
    run.promptTokens = std::move(promptTokens).value();
    run.outputText = row.text(8);
    const auto reason = stopReasonFromName(row.text(9));
    if (!reason)
        return inRun(makeError(ErrorCode::Malformed, "unknown stop reason '" + row.text(9) + "'", "runs.stop_reason"),
                     run.id);
    run.stopReason = *reason;
    const int64_t tokenCount = row.int64(10);
    run.prefillSeconds = readDouble(row, 11);
    run.decodeSeconds = readDouble(row, 12);
    run.prefillTokensPerSecond = readDouble(row, 13);
    run.decodeTokensPerSecond = readDouble(row, 14);
    run.reusedPromptTokens = int32_t(row.int64(15));
    run.engineVersion = row.text(16);
    run.hardware = row.text(17);
    run.createdAt = row.int64(18);
    run.label = row.text(19);
    run.notes = row.text(20);
    run.compareGroup = row.optionalInt64(21);
    run.deleted = !row.isNull(22);
    return tokenCount;
}

}  // namespace

std::optional<engine::StopReason> stopReasonFromName(const std::string& name) {
    using engine::StopReason;
    for (StopReason r : {StopReason::MaxTokens, StopReason::EndOfGeneration, StopReason::StopString,
                         StopReason::ContextFull, StopReason::Cancelled})
        if (name == engine::stopReasonName(r)) return r;
    return std::nullopt;
}

Result<int64_t> insertRunRow(SqliteConnection& db, const RunRecord& run, int64_t now) {
    GB_ASSIGN_OR_RETURN(SqliteStatement stmt,
                        db.prepare(std::string("INSERT INTO runs (") + kRunColumns +
                                   ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, "
                                   "?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23)"));
    const std::vector<uint8_t> promptTokens = encodeTokenIds(run.promptTokens);
    stmt.bind(1, run.promptId).bind(2, run.modelId).bind(3, run.parentRunId);
    stmt.bind(4, int64_t(run.branchTokenIndex)).bind(5, std::string_view(samplerSettingsToJson(run.settings)));
    stmt.bind(6, int64_t(run.seed)).bind(7, std::string_view(run.promptText)).bindBlob(8, promptTokens);
    stmt.bind(9, std::string_view(run.outputText)).bind(10, std::string_view(engine::stopReasonName(run.stopReason)));
    stmt.bind(11, int64_t(run.tokens.size())).bind(12, run.prefillSeconds).bind(13, run.decodeSeconds);
    stmt.bind(14, run.prefillTokensPerSecond).bind(15, run.decodeTokensPerSecond);
    stmt.bind(16, int64_t(run.reusedPromptTokens));
    stmt.bind(17, std::string_view(run.engineVersion.empty() ? std::string(GLASSBOX_VERSION) : run.engineVersion));
    stmt.bind(18, std::string_view(run.hardware)).bind(19, run.createdAt ? run.createdAt : now);
    stmt.bind(20, std::string_view(run.label)).bind(21, std::string_view(run.notes)).bind(22, run.compareGroup);
    if (run.deleted) stmt.bind(23, now); else stmt.bindNull(23);
    GB_TRY(stmt.run());
    const int64_t id = db.lastInsertRowid();
    for (size_t i = 0; i < run.tokens.size(); ++i) GB_TRY(insertToken(db, id, int64_t(i), run.tokens[i]));
    return id;
}

Result<RunRecord> selectRun(SqliteConnection& db, int64_t id) {
    RunRecord run;
    run.id = id;
    int64_t tokenCount = 0;
    {
        GB_ASSIGN_OR_RETURN(SqliteStatement stmt,
                            db.prepare(std::string("SELECT ") + kRunColumns + " FROM runs WHERE id = ?1"));
        stmt.bind(1, id);
        GB_ASSIGN_OR_RETURN(const bool found, stmt.step());
        if (!found) return makeError(ErrorCode::NotFound, "there is no run " + std::to_string(id), "runs.id");
        GB_ASSIGN_OR_RETURN(tokenCount, readRunRow(stmt, run));
    }
    GB_TRY(readTokens(db, run, tokenCount));
    return run;
}

Result<std::vector<RunSummary>> selectRuns(SqliteConnection& db, const RunFilter& filter) {
    std::string sql =
        "SELECT id, prompt_id, model_id, parent_run_id, branch_token_index, compare_group, seed, stop_reason, "
        "token_count, substr(output_text, 1, 200), decode_tokens_per_second, created_at, label, deleted_at "
        "FROM runs WHERE 1";
    if (filter.promptId) sql += " AND prompt_id = ?1";
    if (filter.modelId) sql += " AND model_id = ?2";
    if (filter.parentRunId) sql += " AND parent_run_id = ?3";
    if (filter.compareGroup) sql += " AND compare_group = ?4";
    if (!filter.labelContains.empty()) sql += " AND instr(label, ?5) > 0";
    if (filter.trash == RunFilter::Trash::Exclude) sql += " AND deleted_at IS NULL";
    if (filter.trash == RunFilter::Trash::Only) sql += " AND deleted_at IS NOT NULL";
    sql += filter.newestFirst ? " ORDER BY created_at DESC, id DESC" : " ORDER BY created_at, id";
    sql += " LIMIT ?6 OFFSET ?7";

    GB_ASSIGN_OR_RETURN(SqliteStatement stmt, db.prepare(sql));
    if (filter.promptId) stmt.bind(1, *filter.promptId);
    if (filter.modelId) stmt.bind(2, *filter.modelId);
    if (filter.parentRunId) stmt.bind(3, *filter.parentRunId);
    if (filter.compareGroup) stmt.bind(4, *filter.compareGroup);
    if (!filter.labelContains.empty()) stmt.bind(5, std::string_view(filter.labelContains));
    stmt.bind(6, filter.limit > 0 ? int64_t(filter.limit) : int64_t(-1));
    stmt.bind(7, int64_t(std::max(0, filter.offset)));

    std::vector<RunSummary> out;
    for (;;) {
        GB_ASSIGN_OR_RETURN(const bool row, stmt.step());
        if (!row) break;
        RunSummary s;
        s.id = stmt.int64(0);
        s.promptId = stmt.optionalInt64(1);
        s.modelId = stmt.optionalInt64(2);
        s.parentRunId = stmt.optionalInt64(3);
        s.branchTokenIndex = int32_t(stmt.int64(4));
        s.compareGroup = stmt.optionalInt64(5);
        s.seed = uint64_t(stmt.int64(6));
        s.stopReason = stopReasonFromName(stmt.text(7)).value_or(engine::StopReason::MaxTokens);
        s.tokenCount = int32_t(stmt.int64(8));
        s.outputPreview = stmt.text(9);
        s.decodeTokensPerSecond = readDouble(stmt, 10);
        s.createdAt = stmt.int64(11);
        s.label = stmt.text(12);
        s.deleted = !stmt.isNull(13);
        out.push_back(std::move(s));
    }
    return out;
}

Status setRunDeleted(SqliteConnection& db, int64_t id, std::optional<int64_t> deletedAt) {
    GB_ASSIGN_OR_RETURN(SqliteStatement stmt, db.prepare("UPDATE runs SET deleted_at = ?2 WHERE id = ?1"));
    stmt.bind(1, id).bind(2, deletedAt);
    GB_TRY(stmt.run());
    if (db.changes() == 0) return makeError(ErrorCode::NotFound, "there is no run " + std::to_string(id), "runs.id");
    return {};
}

Status updateRunNotes(SqliteConnection& db, int64_t id, const std::string& label, const std::string& notes) {
    GB_ASSIGN_OR_RETURN(SqliteStatement stmt, db.prepare("UPDATE runs SET label = ?2, notes = ?3 WHERE id = ?1"));
    stmt.bind(1, id).bind(2, std::string_view(label)).bind(3, std::string_view(notes));
    GB_TRY(stmt.run());
    if (db.changes() == 0) return makeError(ErrorCode::NotFound, "there is no run " + std::to_string(id), "runs.id");
    return {};
}

Result<int64_t> purgeDeletedRuns(SqliteConnection& db) {
    GB_ASSIGN_OR_RETURN(SqliteStatement stmt, db.prepare("DELETE FROM runs WHERE deleted_at IS NOT NULL"));
    GB_TRY(stmt.run());
    return db.changes();
}

}  // namespace glassbox::projects
