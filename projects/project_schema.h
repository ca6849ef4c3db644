// The project file's schema: its identity (application id), its version
// (user_version), the ordered migrations that build and upgrade it, and the
// checks a file must pass before the store trusts it. docs/project-file.md
// describes every table and column.
//
// Versions:
//   1  models, prompts, runs, run_tokens, drafts, settings
//   2  runs.notes, runs.compare_group, runs.deleted_at (trash with undo),
//      run_tokens.stages (sampler stage captures)
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "engine/result.h"
#include "projects/sqlite_connection.h"

namespace glassbox::projects {

// PRAGMA application_id of every project file: 'GBx1'.
inline constexpr int32_t kApplicationId = 0x47427831;
// The schema version this build writes (PRAGMA user_version).
inline constexpr int kSchemaVersion = 2;

// One step of the schema's history: the SQL that takes a file from
// toVersion - 1 to toVersion. Each step runs in its own transaction, which
// also sets user_version, so a file is always at exactly one version.
struct Migration {
    int toVersion;
    const char* description;
    const char* sql;
};

// Every step, oldest first (migrations()[i].toVersion == i + 1).
std::span<const Migration> migrations();

// Checks the first bytes of `path` before SQLite sees the file. Errors:
//   NotFound   no such file
//   Io         the file cannot be read
//   Malformed  empty, or not an SQLite database (field "header"); a header
//              with an impossible page size
//   Truncated  shorter than its header says, or not whole pages (field "header")
engine::Status checkFileHeader(const std::string& path);

// Reads application_id and user_version and returns the version. Errors:
//   Unsupported  another program's database (field "application_id"), or a
//                version newer than kSchemaVersion (field "user_version")
//   Malformed    no schema version, or SQLite finds the file damaged
engine::Result<int> checkIdentity(SqliteConnection& db, const std::string& path);

// PRAGMA quick_check. Malformed (field "quick_check") naming the first problems.
engine::Status checkIntegrity(SqliteConnection& db);

// Fresh file: application_id, every migration and user_version in one transaction.
engine::Status createSchema(SqliteConnection& db);

// Apply the steps after `fromVersion`, each in its own transaction.
// Errors: the failing step's SQLite error, with the file left at the last
// version that completed.
engine::Status migrate(SqliteConnection& db, int fromVersion);

}  // namespace glassbox::projects
