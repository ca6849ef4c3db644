// SqliteConnection: one SQLite connection opened the way every project
// connection is (defensive mode, untrusted schema, no triggers or views,
// extended result codes), with a cache of prepared statements and the
// mapping from SQLite result codes to typed errors.
//
// A connection is used by one thread at a time; the store gives the write
// connection to its writer thread and guards the read connection with a mutex.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "engine/result.h"
#include "projects/sqlite_statement.h"

struct sqlite3;
struct sqlite3_stmt;

namespace glassbox::projects {

// A typed error for SQLite result code `rc` on `db` (which may be null).
// Error::field names the primary result code ("SQLITE_FULL", "SQLITE_IOERR",
// "SQLITE_READONLY", "SQLITE_CORRUPT", ...); the message starts with
// `context` and says in plain words what happened. Codes:
//   Io            SQLITE_FULL (disk full or size cap), SQLITE_IOERR,
//                 SQLITE_READONLY, SQLITE_CANTOPEN, SQLITE_BUSY/LOCKED,
//                 SQLITE_PERM and anything unexpected
//   Malformed     SQLITE_CORRUPT, SQLITE_NOTADB
//   InvalidArgument SQLITE_CONSTRAINT, SQLITE_TOOBIG, SQLITE_MISMATCH
//   OutOfMemory   SQLITE_NOMEM
engine::Error sqliteError(sqlite3* db, int rc, std::string_view context);

// "SQLITE_FULL" etc. for a (primary or extended) result code.
const char* sqliteCodeName(int rc);

class SqliteConnection {
public:
    enum class Mode {
        ReadWrite,  // an existing file, read and write
        Create,     // create the file if it is missing
        ReadOnly,   // read only; WAL files may still be created next to it
        Immutable,  // read only, promising that nobody changes the file (read-only media)
    };

    // Errors: sqliteError's (SQLITE_CANTOPEN for a missing file or folder).
    static engine::Result<SqliteConnection> open(const std::string& path, Mode mode);

    SqliteConnection() = default;
    SqliteConnection(SqliteConnection&& other) noexcept;
    SqliteConnection& operator=(SqliteConnection&& other) noexcept;
    SqliteConnection(const SqliteConnection&) = delete;
    SqliteConnection& operator=(const SqliteConnection&) = delete;
    ~SqliteConnection();

    bool isOpen() const { return m_db != nullptr; }
    sqlite3* handle() const { return m_db; }
    // True when SQLite opened the file read-only (e.g. the file is write-protected).
    bool isReadOnly() const;
    // True outside an explicit transaction (SQLite rolls back by itself after some errors).
    bool inAutocommit() const;

    // Run one or more statements that return no rows.
    engine::Status exec(std::string_view sql, std::string_view context);
    // A cached prepared statement for `sql` (prepared on first use).
    engine::Result<SqliteStatement> prepare(std::string_view sql);
    // The single integer a statement like "PRAGMA user_version" returns.
    engine::Result<int64_t> queryInt(std::string_view sql);
    // Every row's first column as text, e.g. "PRAGMA quick_check".
    engine::Result<std::vector<std::string>> queryTexts(std::string_view sql);

    int64_t lastInsertRowid() const;
    int64_t changes() const;
    engine::Error error(int rc, std::string_view context) const { return sqliteError(m_db, rc, context); }

    // Finalize cached statements and close; safe to call twice.
    void close();

private:
    explicit SqliteConnection(sqlite3* db) : m_db(db) {}
    engine::Status harden();

    sqlite3* m_db = nullptr;
    std::unordered_map<std::string, sqlite3_stmt*> m_cache;
};

}  // namespace glassbox::projects
