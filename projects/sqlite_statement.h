// SqliteStatement: a prepared statement borrowed from a connection's cache.
// Binding is by 1-based index; step() walks the rows; the statement is reset
// and its bindings cleared when the lease ends, so the cached statement is
// ready for the next user. Not thread-safe (neither is the connection).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "engine/result.h"

struct sqlite3;
struct sqlite3_stmt;

namespace glassbox::projects {

class SqliteStatement {
public:
    SqliteStatement(sqlite3* db, sqlite3_stmt* stmt) : m_db(db), m_stmt(stmt) {}
    SqliteStatement(SqliteStatement&& other) noexcept;
    SqliteStatement& operator=(SqliteStatement&& other) noexcept;
    SqliteStatement(const SqliteStatement&) = delete;
    SqliteStatement& operator=(const SqliteStatement&) = delete;
    ~SqliteStatement();

    // Bind a value to parameter `index` (1-based). Text and blobs are copied.
    SqliteStatement& bind(int index, int64_t value);
    SqliteStatement& bind(int index, double value);
    SqliteStatement& bind(int index, std::string_view text);
    SqliteStatement& bind(int index, std::optional<int64_t> value);  // nullopt: NULL
    SqliteStatement& bindBlob(int index, std::span<const uint8_t> blob);
    SqliteStatement& bindNull(int index);

    // The next row: true when there is one, false when done; the connection's
    // typed error otherwise (see sqliteError).
    engine::Result<bool> step();
    // Step to completion of a statement that returns no rows.
    engine::Status run();

    bool isNull(int column) const;
    int64_t int64(int column) const;
    std::optional<int64_t> optionalInt64(int column) const;  // NULL: nullopt
    double real(int column) const;
    std::string text(int column) const;
    std::span<const uint8_t> blob(int column) const;  // valid until the next step

private:
    void release();

    sqlite3* m_db = nullptr;
    sqlite3_stmt* m_stmt = nullptr;
};

}  // namespace glassbox::projects
