// The SQL behind runs and run_tokens: inserting a run with all its tokens,
// loading it back exactly, listing summaries, the trash. Every function works
// on a connection the caller owns (the writer thread's, or the guarded read
// connection) and inside the caller's transaction.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/result.h"
#include "projects/project_records.h"
#include "projects/sqlite_connection.h"

namespace glassbox::projects {

// Insert the run and every token; returns the new id. `now` fills a zero
// createdAt. Errors: InvalidArgument (a referenced prompt, model or parent
// run does not exist, or too many alternatives), the connection's errors.
engine::Result<int64_t> insertRunRow(SqliteConnection& db, const RunRecord& run, int64_t now);

// The run with its tokens, as stored. Errors: NotFound; Malformed / Truncated
// when a stored value is damaged (the field names the column, the message
// the run and token); the connection's errors.
engine::Result<RunRecord> selectRun(SqliteConnection& db, int64_t id);

engine::Result<std::vector<RunSummary>> selectRuns(SqliteConnection& db, const RunFilter& filter);

// Move a run to the trash (deletedAt set) or back (nullopt). NotFound when
// there is no such run.
engine::Status setRunDeleted(SqliteConnection& db, int64_t id, std::optional<int64_t> deletedAt);

// Change a run's label and notes. NotFound when there is no such run.
engine::Status updateRunNotes(SqliteConnection& db, int64_t id, const std::string& label,
                              const std::string& notes);

// Delete the runs in the trash for good; returns how many.
engine::Result<int64_t> purgeDeletedRuns(SqliteConnection& db);

// engine::StopReason from its stored name (stopReasonName), or nullopt.
std::optional<engine::StopReason> stopReasonFromName(const std::string& name);

}  // namespace glassbox::projects
