// SqliteConnection: opening with the project's hardening, the statement
// cache, and the translation of SQLite result codes into typed errors with
// messages a user can act on.
#include "projects/sqlite_connection.h"

#include <sqlite3.h>

namespace glassbox::projects {

using engine::Error;
using engine::ErrorCode;
using engine::makeError;
using engine::Result;
using engine::Status;

namespace {

// What a primary result code means for the person using the project.
std::pair<ErrorCode, const char*> describe(int primary) {
    switch (primary) {
    case SQLITE_FULL:
        return {ErrorCode::Io, "the disk is full or the project reached its size limit; "
                               "the change was not saved, earlier work is intact"};
    case SQLITE_IOERR:
        return {ErrorCode::Io, "reading or writing the project file failed; "
                               "the change was not saved, earlier work is intact"};
    case SQLITE_READONLY:
        return {ErrorCode::Io, "the project file or its folder is read-only"};
    case SQLITE_CANTOPEN:
        return {ErrorCode::Io, "the file cannot be opened (missing folder, no permission "
                               "or a read-only location)"};
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return {ErrorCode::Io, "the project is locked by another program"};
    case SQLITE_PERM:
    case SQLITE_AUTH:
        return {ErrorCode::Io, "access to the project file was denied"};
    case SQLITE_CORRUPT:
        return {ErrorCode::Malformed, "the project file is damaged"};
    case SQLITE_NOTADB:
        return {ErrorCode::Malformed, "the file is not a database"};
    case SQLITE_NOMEM:
        return {ErrorCode::OutOfMemory, "out of memory"};
    case SQLITE_CONSTRAINT:
        return {ErrorCode::InvalidArgument, "the change would break a rule of the project "
                                            "(a referenced item is missing or a value is invalid)"};
    case SQLITE_TOOBIG:
        return {ErrorCode::InvalidArgument, "a value is too large to store"};
    case SQLITE_MISMATCH:
    case SQLITE_RANGE:
        return {ErrorCode::InvalidArgument, "a value has the wrong type"};
    default:
        return {ErrorCode::Io, "the database reported an error"};
    }
}

}  // namespace

const char* sqliteCodeName(int rc) {
    switch (rc & 0xff) {
    case SQLITE_OK: return "SQLITE_OK";
    case SQLITE_ERROR: return "SQLITE_ERROR";
    case SQLITE_PERM: return "SQLITE_PERM";
    case SQLITE_BUSY: return "SQLITE_BUSY";
    case SQLITE_LOCKED: return "SQLITE_LOCKED";
    case SQLITE_NOMEM: return "SQLITE_NOMEM";
    case SQLITE_READONLY: return "SQLITE_READONLY";
    case SQLITE_IOERR: return "SQLITE_IOERR";
    case SQLITE_CORRUPT: return "SQLITE_CORRUPT";
    case SQLITE_FULL: return "SQLITE_FULL";
    case SQLITE_CANTOPEN: return "SQLITE_CANTOPEN";
    case SQLITE_CONSTRAINT: return "SQLITE_CONSTRAINT";
    case SQLITE_MISMATCH: return "SQLITE_MISMATCH";
    case SQLITE_TOOBIG: return "SQLITE_TOOBIG";
    case SQLITE_AUTH: return "SQLITE_AUTH";
    case SQLITE_RANGE: return "SQLITE_RANGE";
    case SQLITE_NOTADB: return "SQLITE_NOTADB";
    default: return "SQLITE_ERROR";
    }
}

Error sqliteError(sqlite3* db, int rc, std::string_view context) {
    const auto [code, plain] = describe(rc & 0xff);
    std::string message;
    if (!context.empty()) message.append(context).append(": ");
    message += plain;
    const char* detail = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    if (detail && *detail) message.append(" (").append(detail).append(")");
    return makeError(code, std::move(message), sqliteCodeName(rc));
}

namespace {

// "file:" URI for `path`, escaping everything SQLite's URI parser treats specially.
std::string fileUri(const std::string& path, const char* query) {
    static const char* kHex = "0123456789ABCDEF";
    std::string uri = "file:";
    for (unsigned char c : path) {
        const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                           c == '/' || c == '-' || c == '_' || c == '.' || c == '~';
        if (plain) {
            uri += char(c);
        } else {
            uri += '%';
            uri += kHex[c >> 4];
            uri += kHex[c & 15];
        }
    }
    return uri + "?" + query;
}

}  // namespace

Result<SqliteConnection> SqliteConnection::open(const std::string& path, Mode mode) {
    int flags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
    std::string name = path;
    switch (mode) {
    case Mode::ReadWrite: flags |= SQLITE_OPEN_READWRITE; break;
    case Mode::Create: flags |= SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE; break;
    case Mode::ReadOnly: flags |= SQLITE_OPEN_READONLY; break;
    case Mode::Immutable:
        flags |= SQLITE_OPEN_READONLY | SQLITE_OPEN_URI;
        name = fileUri(path, "immutable=1");
        break;
    }
    sqlite3* db = nullptr;
    const int rc = sqlite3_open_v2(name.c_str(), &db, flags, nullptr);
    SqliteConnection connection(db);
    if (rc != SQLITE_OK) return sqliteError(db, rc, "opening " + path);
    GB_TRY(connection.harden());
    return connection;
}

Status SqliteConnection::harden() {
    // Defensive mode forbids writes that could corrupt the file through SQL;
    // an untrusted schema may not call functions with side effects; Glassbox
    // uses neither triggers nor views, so a file that brings some cannot run them.
    const struct { int op; int value; } options[] = {
        {SQLITE_DBCONFIG_DEFENSIVE, 1},
        {SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0},
        {SQLITE_DBCONFIG_ENABLE_TRIGGER, 0},
        {SQLITE_DBCONFIG_ENABLE_VIEW, 0},
        {SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0},
    };
    for (const auto& o : options) {
        int applied = -1;
        const int rc = sqlite3_db_config(m_db, o.op, o.value, &applied);
        if (rc != SQLITE_OK) return error(rc, "configuring the database connection");
    }
    sqlite3_extended_result_codes(m_db, 1);
    sqlite3_busy_timeout(m_db, 5000);
    return exec("PRAGMA trusted_schema = OFF", "configuring the database connection");
}

SqliteConnection::SqliteConnection(SqliteConnection&& other) noexcept
    : m_db(other.m_db), m_cache(std::move(other.m_cache)) {
    other.m_db = nullptr;
    other.m_cache.clear();
}

SqliteConnection& SqliteConnection::operator=(SqliteConnection&& other) noexcept {
    if (this != &other) {
        close();
        m_db = other.m_db;
        m_cache = std::move(other.m_cache);
        other.m_db = nullptr;
        other.m_cache.clear();
    }
    return *this;
}

SqliteConnection::~SqliteConnection() { close(); }

void SqliteConnection::close() {
    for (auto& [sql, stmt] : m_cache) sqlite3_finalize(stmt);
    m_cache.clear();
    if (m_db) sqlite3_close_v2(m_db);
    m_db = nullptr;
}

bool SqliteConnection::isReadOnly() const { return m_db && sqlite3_db_readonly(m_db, "main") == 1; }

bool SqliteConnection::inAutocommit() const { return m_db && sqlite3_get_autocommit(m_db) != 0; }

Status SqliteConnection::exec(std::string_view sql, std::string_view context) {
    const std::string text(sql);
    const int rc = sqlite3_exec(m_db, text.c_str(), nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) return error(rc, context);
    return {};
}

Result<SqliteStatement> SqliteConnection::prepare(std::string_view sql) {
    std::string key(sql);
    auto it = m_cache.find(key);
    if (it == m_cache.end()) {
        sqlite3_stmt* stmt = nullptr;
        const int rc = sqlite3_prepare_v3(m_db, key.data(), int(key.size()), SQLITE_PREPARE_PERSISTENT,
                                          &stmt, nullptr);
        if (rc != SQLITE_OK) {
            sqlite3_finalize(stmt);
            return error(rc, "preparing a database statement");
        }
        it = m_cache.emplace(std::move(key), stmt).first;
    }
    return SqliteStatement(m_db, it->second);
}

Result<int64_t> SqliteConnection::queryInt(std::string_view sql) {
    GB_ASSIGN_OR_RETURN(SqliteStatement stmt, prepare(sql));
    GB_ASSIGN_OR_RETURN(const bool row, stmt.step());
    if (!row) return makeError(ErrorCode::NotFound, "query returned no row: " + std::string(sql));
    return stmt.int64(0);
}

Result<std::vector<std::string>> SqliteConnection::queryTexts(std::string_view sql) {
    GB_ASSIGN_OR_RETURN(SqliteStatement stmt, prepare(sql));
    std::vector<std::string> rows;
    for (;;) {
        GB_ASSIGN_OR_RETURN(const bool row, stmt.step());
        if (!row) break;
        rows.push_back(stmt.text(0));
    }
    return rows;
}

int64_t SqliteConnection::lastInsertRowid() const { return sqlite3_last_insert_rowid(m_db); }

int64_t SqliteConnection::changes() const { return sqlite3_changes64(m_db); }

}  // namespace glassbox::projects
