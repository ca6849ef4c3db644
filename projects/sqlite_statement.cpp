// SqliteStatement: binding, stepping and reading columns of a cached
// prepared statement; the lease resets the statement when it ends.
#include "projects/sqlite_statement.h"

#include <sqlite3.h>

#include "projects/sqlite_connection.h"

namespace glassbox::projects {

SqliteStatement::SqliteStatement(SqliteStatement&& other) noexcept
    : m_db(other.m_db), m_stmt(other.m_stmt) {
    other.m_stmt = nullptr;
}

SqliteStatement& SqliteStatement::operator=(SqliteStatement&& other) noexcept {
    if (this != &other) {
        release();
        m_db = other.m_db;
        m_stmt = other.m_stmt;
        other.m_stmt = nullptr;
    }
    return *this;
}

SqliteStatement::~SqliteStatement() { release(); }

void SqliteStatement::release() {
    if (!m_stmt) return;
    sqlite3_reset(m_stmt);
    sqlite3_clear_bindings(m_stmt);
    m_stmt = nullptr;
}

SqliteStatement& SqliteStatement::bind(int index, int64_t value) {
    sqlite3_bind_int64(m_stmt, index, value);
    return *this;
}

SqliteStatement& SqliteStatement::bind(int index, double value) {
    sqlite3_bind_double(m_stmt, index, value);
    return *this;
}

SqliteStatement& SqliteStatement::bind(int index, std::string_view text) {
    sqlite3_bind_text64(m_stmt, index, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
    return *this;
}

SqliteStatement& SqliteStatement::bind(int index, std::optional<int64_t> value) {
    if (value) return bind(index, *value);
    return bindNull(index);
}

SqliteStatement& SqliteStatement::bindBlob(int index, std::span<const uint8_t> blob) {
    // A zero-length blob is still a blob (not NULL): give SQLite a valid pointer.
    static const uint8_t kEmpty = 0;
    sqlite3_bind_blob64(m_stmt, index, blob.empty() ? &kEmpty : blob.data(), blob.size(),
                        SQLITE_TRANSIENT);
    return *this;
}

SqliteStatement& SqliteStatement::bindNull(int index) {
    sqlite3_bind_null(m_stmt, index);
    return *this;
}

engine::Result<bool> SqliteStatement::step() {
    const int rc = sqlite3_step(m_stmt);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    return sqliteError(m_db, rc, {});
}

engine::Status SqliteStatement::run() {
    GB_ASSIGN_OR_RETURN(const bool row, step());
    (void)row;
    return {};
}

bool SqliteStatement::isNull(int column) const {
    return sqlite3_column_type(m_stmt, column) == SQLITE_NULL;
}

int64_t SqliteStatement::int64(int column) const { return sqlite3_column_int64(m_stmt, column); }

std::optional<int64_t> SqliteStatement::optionalInt64(int column) const {
    if (isNull(column)) return std::nullopt;
    return int64(column);
}

double SqliteStatement::real(int column) const { return sqlite3_column_double(m_stmt, column); }

std::string SqliteStatement::text(int column) const {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(m_stmt, column));
    const int n = sqlite3_column_bytes(m_stmt, column);
    return p ? std::string(p, size_t(n)) : std::string();
}

std::span<const uint8_t> SqliteStatement::blob(int column) const {
    const auto* p = static_cast<const uint8_t*>(sqlite3_column_blob(m_stmt, column));
    const int n = sqlite3_column_bytes(m_stmt, column);
    if (!p || n <= 0) return {};
    return {p, size_t(n)};
}

}  // namespace glassbox::projects
