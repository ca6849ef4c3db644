// The schema's SQL, its migration steps and the checks a file must pass
// before it is opened as a project (header, identity, integrity).
#include "projects/project_schema.h"

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "engine/checked_math.h"

namespace glassbox::projects {

using engine::ErrorCode;
using engine::makeError;
using engine::Result;
using engine::Status;

namespace {

// Float columns of run_tokens have no declared type (BLOB affinity): REAL
// affinity would store integral values as integers and turn -0.0 into 0.0.
// Timings are REAL and may be NULL (a NaN has no SQL value).
constexpr const char* kVersion1 = R"sql(
CREATE TABLE models (
    id            INTEGER PRIMARY KEY,
    path          TEXT NOT NULL,
    file_bytes    INTEGER NOT NULL DEFAULT 0,
    sha256        TEXT NOT NULL DEFAULT '',
    architecture  TEXT NOT NULL DEFAULT '',
    display_name  TEXT NOT NULL DEFAULT '',
    added_at      INTEGER NOT NULL,
    UNIQUE (path, sha256)
);
CREATE TABLE prompts (
    id            INTEGER PRIMARY KEY,
    title         TEXT NOT NULL DEFAULT '',
    mode          TEXT NOT NULL CHECK (mode IN ('completion', 'chat')),
    system_prompt TEXT NOT NULL DEFAULT '',
    content       TEXT NOT NULL DEFAULT '',
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);
CREATE TABLE runs (
    id                        INTEGER PRIMARY KEY,
    prompt_id                 INTEGER REFERENCES prompts(id) ON DELETE SET NULL,
    model_id                  INTEGER REFERENCES models(id) ON DELETE SET NULL,
    parent_run_id             INTEGER REFERENCES runs(id) ON DELETE SET NULL,
    branch_token_index        INTEGER NOT NULL DEFAULT -1,
    settings_json             TEXT NOT NULL,
    seed                      INTEGER NOT NULL,
    prompt_text               TEXT NOT NULL DEFAULT '',
    prompt_tokens             BLOB NOT NULL,
    output_text               TEXT NOT NULL DEFAULT '',
    stop_reason               TEXT NOT NULL,
    token_count               INTEGER NOT NULL DEFAULT 0,
    prefill_seconds           REAL,
    decode_seconds            REAL,
    prefill_tokens_per_second REAL,
    decode_tokens_per_second  REAL,
    reused_prompt_tokens      INTEGER NOT NULL DEFAULT 0,
    engine_version            TEXT NOT NULL DEFAULT '',
    hardware                  TEXT NOT NULL DEFAULT '',
    created_at                INTEGER NOT NULL,
    label                     TEXT NOT NULL DEFAULT ''
);
CREATE INDEX runs_by_prompt ON runs (prompt_id, created_at);
CREATE INDEX runs_by_model ON runs (model_id, created_at);
CREATE TABLE run_tokens (
    run_id        INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    idx           INTEGER NOT NULL,
    token_id      INTEGER NOT NULL,
    text          TEXT NOT NULL,
    logprob,
    probability,
    flags         INTEGER NOT NULL DEFAULT 0,
    alternatives  BLOB,
    PRIMARY KEY (run_id, idx)
);
CREATE TABLE drafts (
    key           TEXT PRIMARY KEY,
    text          TEXT NOT NULL,
    updated_at    INTEGER NOT NULL
);
CREATE TABLE settings (
    key           TEXT PRIMARY KEY,
    value         TEXT
);
)sql";

constexpr const char* kVersion2 = R"sql(
ALTER TABLE runs ADD COLUMN notes TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN compare_group INTEGER;
ALTER TABLE runs ADD COLUMN deleted_at INTEGER;
ALTER TABLE run_tokens ADD COLUMN stages BLOB;
CREATE INDEX runs_by_group ON runs (compare_group) WHERE compare_group IS NOT NULL;
CREATE INDEX runs_by_parent ON runs (parent_run_id) WHERE parent_run_id IS NOT NULL;
)sql";

constexpr Migration kMigrations[] = {
    {1, "models, prompts, runs, run tokens, drafts, settings", kVersion1},
    {2, "run notes, compare groups, trash, sampler stages", kVersion2},
};
static_assert(std::size(kMigrations) == size_t(kSchemaVersion));

uint32_t bigEndian32(const uint8_t* p) {
    return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | uint32_t(p[3]);
}

std::string hex32(uint32_t v) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "0x%08X", v);
    return buf;
}

}  // namespace

std::span<const Migration> migrations() { return kMigrations; }

Status checkFileHeader(const std::string& path) {
    namespace fs = std::filesystem;
    std::error_code ec;
    if (!fs::exists(path, ec))
        return makeError(ErrorCode::NotFound, "no project file at " + path);
    const uint64_t size = fs::file_size(path, ec);
    std::ifstream in(path, std::ios::binary);
    if (ec || !in) return makeError(ErrorCode::Io, "cannot read " + path);
    if (size == 0)
        return makeError(ErrorCode::Malformed, "not a Glassbox project: " + path + " is empty", "header", 0);

    uint8_t header[100] = {};
    in.read(reinterpret_cast<char*>(header), sizeof header);
    const uint64_t got = uint64_t(in.gcount());
    static const char kMagic[16] = "SQLite format 3";  // 15 characters and the NUL
    if (got < sizeof kMagic || std::memcmp(header, kMagic, sizeof kMagic) != 0)
        return makeError(ErrorCode::Malformed,
                         "not a Glassbox project: " + path + " is not an SQLite database", "header", 0);
    if (size < sizeof header)
        return makeError(ErrorCode::Truncated,
                         "the project file is truncated: " + std::to_string(size) +
                             " bytes, less than the 100-byte database header",
                         "header", size);

    uint32_t pageSize = (uint32_t(header[16]) << 8) | header[17];
    if (pageSize == 1) pageSize = 65536;
    if (pageSize < 512 || pageSize > 65536 || (pageSize & (pageSize - 1)) != 0)
        return makeError(ErrorCode::Malformed,
                         "the project file is damaged: invalid page size " + std::to_string(pageSize),
                         "header", 16);

    // With a non-empty write-ahead log the main file may legitimately lag
    // behind: SQLite's own checks decide then.
    const fs::path wal = path + "-wal";
    if (fs::exists(wal, ec) && fs::file_size(wal, ec) > 0 && !ec) return {};

    if (size % pageSize != 0)
        return makeError(ErrorCode::Truncated,
                         "the project file is truncated: " + std::to_string(size) +
                             " bytes is not a whole number of " + std::to_string(pageSize) + "-byte pages",
                         "header", size);
    const uint32_t declaredPages = bigEndian32(header + 28);
    const bool declaredValid = declaredPages > 0 && bigEndian32(header + 24) == bigEndian32(header + 92);
    const auto declaredBytes = engine::checkedMul(declaredPages, pageSize);
    if (declaredValid && declaredBytes && size < *declaredBytes)
        return makeError(ErrorCode::Truncated,
                         "the project file is truncated: its header declares " +
                             std::to_string(declaredPages) + " pages (" + std::to_string(*declaredBytes) +
                             " bytes) but the file has " + std::to_string(size) + " bytes",
                         "header", size);
    return {};
}

Result<int> checkIdentity(SqliteConnection& db, const std::string& path) {
    auto appId = db.queryInt("PRAGMA application_id");
    if (!appId.ok()) {
        engine::Error e = appId.error();
        e.message = "cannot read " + path + ": " + e.message;
        return e;
    }
    if (int32_t(*appId) != kApplicationId) {
        const std::string who = *appId == 0 ? "it has no application id"
                                            : "application id " + hex32(uint32_t(*appId));
        return makeError(ErrorCode::Unsupported,
                         "not a Glassbox project: " + path + " is an SQLite database of another program (" +
                             who + ")",
                         "application_id");
    }
    GB_ASSIGN_OR_RETURN(const int64_t version, db.queryInt("PRAGMA user_version"));
    if (version > kSchemaVersion)
        return makeError(ErrorCode::Unsupported,
                         "this project was made by a newer Glassbox (file version " + std::to_string(version) +
                             "; this Glassbox reads up to version " + std::to_string(kSchemaVersion) +
                             "). Update Glassbox to open it.",
                         "user_version");
    if (version < 1)
        return makeError(ErrorCode::Malformed, "the project file has no schema version", "user_version");
    return int(version);
}

Status checkIntegrity(SqliteConnection& db) {
    auto rows = db.queryTexts("PRAGMA quick_check(4)");
    if (!rows.ok()) {
        engine::Error e = rows.error();
        e.message = "the project file is damaged: " + e.message;
        return e;
    }
    if (rows->size() == 1 && rows->front() == "ok") return {};
    std::string problems;
    for (const std::string& row : *rows) problems += (problems.empty() ? "" : "; ") + row;
    if (problems.empty()) problems = "the integrity check returned nothing";
    return makeError(ErrorCode::Malformed, "the project file is damaged: " + problems, "quick_check");
}

Status createSchema(SqliteConnection& db) {
    std::string sql = "BEGIN IMMEDIATE;\nPRAGMA application_id = " + std::to_string(kApplicationId) + ";\n";
    for (const Migration& m : kMigrations) sql += m.sql;
    sql += "PRAGMA user_version = " + std::to_string(kSchemaVersion) + ";\nCOMMIT;";
    Status s = db.exec(sql, "creating the project");
    if (!s.ok() && !db.inAutocommit()) (void)db.exec("ROLLBACK", "");
    return s;
}

Status migrate(SqliteConnection& db, int fromVersion) {
    for (const Migration& m : kMigrations) {
        if (m.toVersion <= fromVersion) continue;
        const std::string sql = std::string("BEGIN IMMEDIATE;\n") + m.sql +
                                "PRAGMA user_version = " + std::to_string(m.toVersion) + ";\nCOMMIT;";
        Status s = db.exec(sql, "upgrading the project to file version " + std::to_string(m.toVersion) +
                                    " (" + m.description + ")");
        if (!s.ok()) {
            if (!db.inAutocommit()) (void)db.exec("ROLLBACK", "");
            return s;
        }
    }
    return {};
}

}  // namespace glassbox::projects
