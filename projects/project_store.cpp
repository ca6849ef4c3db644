// ProjectStore's life cycle: creating and opening a file (with every check
// before it is trusted), the session marker that detects an unclean exit,
// and closing.
#include "projects/project_store.h"

#include <filesystem>

#include "projects/catalog_tables.h"
#include "projects/project_schema.h"

namespace glassbox::projects {

namespace fs = std::filesystem;
using engine::Error;
using engine::ErrorCode;
using engine::makeError;
using engine::Result;
using engine::Status;

namespace {

constexpr const char* kSessionKey = "session_open";

bool isPermissionProblem(const Error& e) {
    return e.field == "SQLITE_CANTOPEN" || e.field == "SQLITE_READONLY" || e.field == "SQLITE_PERM";
}

Error withPrefix(Error e, const std::string& prefix) {
    e.message = prefix + e.message;
    return e;
}

// Every write connection: write-ahead log, foreign keys, synced commits.
Status configureWriter(SqliteConnection& db, const std::string& path) {
    auto mode = db.queryTexts("PRAGMA journal_mode = WAL");
    if (!mode.ok()) {
        if (isPermissionProblem(mode.error()))
            return withPrefix(mode.error(), "cannot open " + path +
                                                " for writing: its folder is read-only (open it read-only instead): ");
        return mode.error();
    }
    if (mode->empty() || mode->front() != "wal")
        return makeError(ErrorCode::Io, "cannot use a write-ahead log for " + path, "journal_mode");
    return db.exec("PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL;", "configuring the project");
}

void removeFileSet(const std::string& path) {
    std::error_code ec;
    for (const char* suffix : {"", "-journal", "-wal", "-shm"}) fs::remove(path + suffix, ec);
}

}  // namespace

Result<std::unique_ptr<ProjectStore>> ProjectStore::create(const std::string& path) {
    std::error_code ec;
    fs::path folder = fs::path(path).parent_path();
    if (folder.empty()) folder = ".";
    if (!fs::is_directory(folder, ec))
        return makeError(ErrorCode::NotFound, "cannot create the project: the folder " + folder.string() +
                                                  " does not exist");
    if (fs::exists(path, ec))
        return makeError(ErrorCode::Io, "cannot create the project: a file already exists at " + path, "path");

    auto db = SqliteConnection::open(path, SqliteConnection::Mode::Create);
    Status status = db.ok() ? createSchema(*db) : Status(db.error());
    if (status.ok()) status = configureWriter(*db, path);
    if (!status.ok()) {
        if (db.ok()) db->close();
        removeFileSet(path);
        Error e = status.error();
        if (isPermissionProblem(e))
            e.message = "cannot create the project at " + path +
                        ": the folder is read-only or you may not write there (" + e.message + ")";
        else
            e.message = "cannot create the project at " + path + ": " + e.message;
        return e;
    }
    return start(path, std::move(*db), false);
}

Result<std::unique_ptr<ProjectStore>> ProjectStore::open(const std::string& path, OpenMode mode) {
    GB_TRY(checkFileHeader(path));
    const bool readOnly = mode == OpenMode::ReadOnly;
    auto db = SqliteConnection::open(path, readOnly ? SqliteConnection::Mode::ReadOnly
                                                    : SqliteConnection::Mode::ReadWrite);
    if (!db.ok()) return db.error();
    if (!readOnly && db->isReadOnly())
        return makeError(ErrorCode::Io, "the project file " + path +
                                            " is write-protected; open it read-only to look at it",
                         "SQLITE_READONLY");

    auto version = checkIdentity(*db, path);
    if (!version.ok() && readOnly && version.error().code == ErrorCode::Io) {
        // Read-only media: SQLite cannot create the shared-memory file next
        // to the project. Without a leftover write-ahead log nobody can be
        // writing it, so read it as immutable.
        std::error_code ec;
        if (fs::exists(path + "-wal", ec))
            return withPrefix(version.error(),
                              "the project was not closed cleanly and its folder is read-only; copy it to a "
                              "writable folder to open it: ");
        db = SqliteConnection::open(path, SqliteConnection::Mode::Immutable);
        if (!db.ok()) return db.error();
        version = checkIdentity(*db, path);
    }
    if (!version.ok()) return version.error();
    GB_TRY(checkIntegrity(*db));

    if (readOnly) {
        if (*version < kSchemaVersion)
            return makeError(ErrorCode::Unsupported,
                             "this project uses file version " + std::to_string(*version) +
                                 "; open it for writing once to upgrade it to version " +
                                 std::to_string(kSchemaVersion),
                             "user_version");
        return start(path, std::move(*db), true);
    }
    GB_TRY(configureWriter(*db, path));
    if (*version < kSchemaVersion) GB_TRY(migrate(*db, *version));
    GB_ASSIGN_OR_RETURN(std::unique_ptr<ProjectStore> store, start(path, std::move(*db), false));
    if (*version < kSchemaVersion) store->m_upgradedFrom = *version;
    return store;
}

Result<std::unique_ptr<ProjectStore>> ProjectStore::start(const std::string& path, SqliteConnection db,
                                                          bool readOnlyMode) {
    std::unique_ptr<ProjectStore> store(new ProjectStore());
    store->m_path = path;
    store->m_readOnly = readOnlyMode;
    if (readOnlyMode) {
        GB_ASSIGN_OR_RETURN(const std::optional<std::string> flag, selectSetting(db, kSessionKey));
        store->m_hadUncleanExit = flag.value_or("0") == "1";
        store->m_reader = std::move(db);
    } else {
        GB_TRY(store->beginSession(db));
        store->m_writer = std::make_unique<ProjectWriter>(std::move(db));
        Status reader = store->openReader(path);
        if (!reader.ok()) {
            (void)store->close();
            return reader.error();
        }
    }
    store->m_readTasks = std::make_unique<TaskThread>();
    return store;
}

Status ProjectStore::beginSession(SqliteConnection& db) {
    GB_ASSIGN_OR_RETURN(const std::optional<std::string> flag, selectSetting(db, kSessionKey));
    m_hadUncleanExit = flag.value_or("0") == "1";
    return upsertSetting(db, kSessionKey, "1");
}

Status ProjectStore::openReader(const std::string& path) {
    GB_ASSIGN_OR_RETURN(SqliteConnection reader, SqliteConnection::open(path, SqliteConnection::Mode::ReadOnly));
    std::lock_guard lock(m_readMutex);
    m_reader = std::move(reader);
    return {};
}

ProjectStore::~ProjectStore() { (void)close(); }

std::string ProjectStore::path() const {
    std::lock_guard lock(m_pathMutex);
    return m_path;
}

Status ProjectStore::close() {
    if (m_closed.exchange(true)) return {};
    if (m_readTasks) m_readTasks->stop();
    Status status;
    if (m_writer) {
        m_writer->stop();
        status = upsertSetting(m_writer->connection(), kSessionKey, "0");
    }
    {
        std::lock_guard lock(m_readMutex);
        m_reader.close();
    }
    // The write connection closes last, so SQLite checkpoints and removes the log.
    if (m_writer) m_writer->connection().close();
    return status;
}

}  // namespace glassbox::projects
