// ProjectStore's writes: each one a job for the writer thread, and Save As,
// which copies the file and moves the store onto the copy.
#include <filesystem>

#include "projects/catalog_tables.h"
#include "projects/project_store.h"
#include "projects/run_table.h"

#ifdef _WIN32
#include <fcntl.h>
#include <io.h>
#else
#include <fcntl.h>
#include <unistd.h>
#endif

namespace glassbox::projects {

namespace fs = std::filesystem;
using engine::Error;
using engine::ErrorCode;
using engine::makeError;
using engine::Result;
using engine::Status;

namespace {

// Flush a file (or, on POSIX, a folder: the rename in it) to the disk.
Status syncPath(const std::string& path, bool directory) {
#ifdef _WIN32
    if (directory) return {};  // NTFS journals the rename itself
    const int fd = _open(path.c_str(), _O_RDWR | _O_BINARY);
    const bool ok = fd >= 0 && _commit(fd) == 0;
    if (fd >= 0) _close(fd);
#else
    const int fd = ::open(path.c_str(), directory ? O_RDONLY | O_DIRECTORY : O_RDONLY);
    const bool ok = fd >= 0 && ::fsync(fd) == 0;
    if (fd >= 0) ::close(fd);
#endif
    if (!ok) return makeError(ErrorCode::Io, "could not flush " + path + " to the disk", "path");
    return {};
}

bool samePath(const std::string& a, const std::string& b) {
    std::error_code ec1, ec2;
    const fs::path ca = fs::weakly_canonical(a, ec1);
    const fs::path cb = fs::weakly_canonical(b, ec2);
    return !ec1 && !ec2 ? ca == cb : fs::path(a) == fs::path(b);
}

// VACUUM INTO a temporary file next to `target`, sync it, then rename it over `target`.
Status writeCopy(SqliteConnection& db, const std::string& target) {
    std::error_code ec;
    fs::path folder = fs::path(target).parent_path();
    if (folder.empty()) folder = ".";
    if (!fs::is_directory(folder, ec))
        return makeError(ErrorCode::NotFound, "the folder " + folder.string() + " does not exist", "path");
    const std::string temporary = target + ".saving";
    for (const char* suffix : {"", "-journal", "-wal", "-shm"}) fs::remove(temporary + suffix, ec);

    Status status;
    {
        GB_ASSIGN_OR_RETURN(SqliteStatement vacuum, db.prepare("VACUUM INTO ?1"));
        vacuum.bind(1, std::string_view(temporary));
        status = vacuum.run();
    }
    if (status.ok()) status = syncPath(temporary, false);
    if (status.ok()) {
        // Log files left by an earlier project at `target` would be replayed into the copy.
        for (const char* suffix : {"-journal", "-wal", "-shm"}) fs::remove(target + suffix, ec);
        fs::rename(temporary, target, ec);
        if (ec) status = makeError(ErrorCode::Io, "could not replace " + target + ": " + ec.message(), "path");
    }
    if (!status.ok()) {
        fs::remove(temporary, ec);
        return status;
    }
    (void)syncPath(folder.string(), true);
    return {};
}

}  // namespace

template <class T>
std::future<Result<T>> ProjectStore::write(std::function<Result<T>(SqliteConnection&)> work, Completion<T> done,
                                           bool exclusive) {
    if (!m_writer) {
        const Error e = makeError(ErrorCode::Io, "the project is open read-only; the change was not saved",
                                  "SQLITE_READONLY");
        notify(done, Result<T>(e));
        std::promise<Result<T>> promise;
        promise.set_value(e);
        return promise.get_future();
    }
    return m_writer->submit<T>(std::move(work), std::move(done), exclusive);
}

std::future<Result<int64_t>> ProjectStore::upsertModel(ModelRecord model, Completion<int64_t> done) {
    return write<int64_t>([m = std::move(model)](SqliteConnection& db) { return upsertModelRow(db, m, unixMillisNow()); },
                          std::move(done));
}

std::future<Result<int64_t>> ProjectStore::addPrompt(PromptRecord prompt, Completion<int64_t> done) {
    return write<int64_t>(
        [p = std::move(prompt)](SqliteConnection& db) { return insertPromptRow(db, p, unixMillisNow()); },
        std::move(done));
}

std::future<Result<void>> ProjectStore::updatePrompt(PromptRecord prompt, Completion<void> done) {
    return write<void>([p = std::move(prompt)](SqliteConnection& db) { return updatePromptRow(db, p, unixMillisNow()); },
                       std::move(done));
}

std::future<Result<int64_t>> ProjectStore::insertRun(RunRecord run, Completion<int64_t> done) {
    return write<int64_t>([r = std::move(run)](SqliteConnection& db) { return insertRunRow(db, r, unixMillisNow()); },
                          std::move(done));
}

std::future<Result<void>> ProjectStore::updateRunNotes(int64_t runId, std::string label, std::string notes,
                                                       Completion<void> done) {
    return write<void>([runId, label = std::move(label), notes = std::move(notes)](SqliteConnection& db) {
        return projects::updateRunNotes(db, runId, label, notes);
    }, std::move(done));
}

std::future<Result<void>> ProjectStore::deleteRun(int64_t runId, Completion<void> done) {
    return write<void>([runId](SqliteConnection& db) { return setRunDeleted(db, runId, unixMillisNow()); },
                       std::move(done));
}

std::future<Result<void>> ProjectStore::restoreRun(int64_t runId, Completion<void> done) {
    return write<void>([runId](SqliteConnection& db) { return setRunDeleted(db, runId, std::nullopt); },
                       std::move(done));
}

std::future<Result<int64_t>> ProjectStore::emptyTrash(Completion<int64_t> done) {
    return write<int64_t>([](SqliteConnection& db) { return purgeDeletedRuns(db); }, std::move(done));
}

std::future<Result<void>> ProjectStore::saveDraft(std::string key, std::string text, Completion<void> done) {
    return write<void>([key = std::move(key), text = std::move(text)](SqliteConnection& db) {
        return upsertDraft(db, key, text, unixMillisNow());
    }, std::move(done));
}

std::future<Result<void>> ProjectStore::clearDraft(std::string key, Completion<void> done) {
    return write<void>([key = std::move(key)](SqliteConnection& db) { return deleteDraft(db, key); },
                       std::move(done));
}

std::future<Result<void>> ProjectStore::setSetting(std::string key, std::string value, Completion<void> done) {
    return write<void>([key = std::move(key), value = std::move(value)](SqliteConnection& db) {
        return upsertSetting(db, key, value);
    }, std::move(done));
}

std::future<Result<int64_t>> ProjectStore::setMaxPageCount(int64_t pages) {
    return write<int64_t>([pages](SqliteConnection& db) -> Result<int64_t> {
        return db.queryInt("PRAGMA max_page_count = " + std::to_string(std::max<int64_t>(pages, 1)));
    }, {});
}

std::future<Result<void>> ProjectStore::saveAs(std::string path, Completion<void> done) {
    return write<void>([this, path = std::move(path)](SqliteConnection& db) { return switchTo(db, path); },
                       std::move(done), /*exclusive=*/true);
}

// Runs on the writer thread, outside any transaction.
Status ProjectStore::switchTo(SqliteConnection& db, const std::string& target) {
    const std::string current = path();
    if (samePath(current, target))
        return makeError(ErrorCode::InvalidArgument, target + " is already the project's file", "path");
    Status written = writeCopy(db, target);
    if (!written.ok()) {
        Error e = written.error();
        e.message = "saving a copy to " + target + " failed: " + e.message;
        return e;
    }
    auto copy = SqliteConnection::open(target, SqliteConnection::Mode::ReadWrite);
    Status status = copy.ok() ? Status() : Status(copy.error());
    if (status.ok()) status = copy->exec("PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; "
                                         "PRAGMA synchronous = FULL;", "opening the copy");
    if (status.ok()) status = upsertSetting(*copy, "session_open", "1");
    auto reader = status.ok() ? SqliteConnection::open(target, SqliteConnection::Mode::ReadOnly)
                              : Result<SqliteConnection>(status.error());
    if (!reader.ok()) {
        Error e = reader.error();
        e.message = "the copy " + target + " was written but could not be opened: " + e.message;
        return e;
    }
    // Leave the old file closed cleanly, then move both connections over. The
    // old write connection closes last, so SQLite checkpoints its log.
    (void)upsertSetting(db, "session_open", "0");
    {
        std::lock_guard lock(m_readMutex);
        m_reader = std::move(*reader);
    }
    {
        std::lock_guard lock(m_pathMutex);
        m_path = target;
    }
    db = std::move(*copy);
    return {};
}

void ProjectStore::flush() {
    if (m_writer) m_writer->flush();
}

}  // namespace glassbox::projects
