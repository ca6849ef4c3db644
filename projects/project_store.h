// ProjectStore: a .glassbox project, which is one SQLite database (SQLite as
// an application file format: the database is the document, so there is no
// "Save"; Save As copies it). docs/project-file.md describes the file.
//
// Threads. Every write goes to one writer thread that owns the write
// connection and batches queued jobs into transactions: write methods return
// at once with a std::future that completes when the change is committed
// (and call the optional Completion on the writer thread just before). Reads
// use a separate read-only connection (WAL lets it read while the writer
// writes); they are synchronous and fast, or asynchronous on a reader thread
// (the *Async methods). A read sees every write whose future has completed.
// All methods may be called from any thread, except create/open/close and the
// destructor, which belong to the owner. Completions must not wait on the
// store's futures or call flush() (they run on the writer thread).
//
// Durability. A run and all its tokens are one transaction: after a crash a
// run is either fully there or absent. Commits are synced (synchronous=FULL).
// A write that fails (full disk, I/O error, read-only file) gets a typed
// error; the writer keeps running and nothing committed before is lost.
//
// Errors. Error::code is the category; Error::field says precisely what:
//   "header"          (open) not an SQLite file, or truncated
//   "application_id"  (open) an SQLite database of another program
//   "user_version"    (open) made by a newer Glassbox, or no version
//   "quick_check"     (open) the file is damaged
//   "SQLITE_FULL", "SQLITE_IOERR", "SQLITE_READONLY", "SQLITE_CANTOPEN",
//   "SQLITE_CORRUPT", ... the SQLite result behind a failed read or write
//   "closed"          the store was closed
//   a column ("run_tokens.stages", "runs.prompt_tokens", ...) with the byte
//                     offset, when a stored value is damaged
#pragma once

#include <atomic>
#include <cstdint>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "engine/result.h"
#include "projects/project_records.h"
#include "projects/project_writer.h"
#include "projects/sqlite_connection.h"
#include "projects/task_thread.h"

namespace glassbox::projects {

class ProjectStore {
public:
    enum class OpenMode { ReadWrite, ReadOnly };

    // A new, empty project at `path`. Errors: Io "already exists" (field
    // "path"); NotFound when the folder does not exist; Io with a clear
    // message when the folder is read-only (field SQLITE_CANTOPEN or
    // SQLITE_READONLY); the disk errors.
    static engine::Result<std::unique_ptr<ProjectStore>> create(const std::string& path);

    // Open an existing project. Before SQLite sees the file its header is
    // checked; then its application id, version and integrity (quick_check).
    // An older file is upgraded in place (ReadWrite only). Errors:
    //   NotFound     no such file
    //   Malformed    not an SQLite file (field "header"), damaged ("quick_check")
    //   Truncated    shorter than its header says (field "header")
    //   Unsupported  another program's database ("application_id"), made by a
    //                newer Glassbox ("user_version"), or (ReadOnly) needs an
    //                upgrade first
    //   Io           ReadWrite on a write-protected file or folder
    //                (SQLITE_READONLY / SQLITE_CANTOPEN: open it ReadOnly)
    // ReadOnly works on read-only media; writes then fail with SQLITE_READONLY.
    static engine::Result<std::unique_ptr<ProjectStore>> open(const std::string& path,
                                                              OpenMode mode = OpenMode::ReadWrite);

    ~ProjectStore();  // close()
    ProjectStore(const ProjectStore&) = delete;
    ProjectStore& operator=(const ProjectStore&) = delete;

    // The file in use (changes after saveAs).
    std::string path() const;
    bool isReadOnly() const { return m_readOnly; }
    // The previous session did not close the project (crash, kill, power
    // loss): offer drafts() for restore. In ReadOnly mode this may also mean
    // another program has the project open.
    bool hadUncleanExit() const { return m_hadUncleanExit; }
    // The file version before this open upgraded it; 0 when no upgrade ran.
    int upgradedFrom() const { return m_upgradedFrom; }

    // ---- Writes (asynchronous; the future completes after commit) ----
    // Insert the model, or update the one with the same path and sha256; its id.
    std::future<engine::Result<int64_t>> upsertModel(ModelRecord model, Completion<int64_t> done = {});
    std::future<engine::Result<int64_t>> addPrompt(PromptRecord prompt, Completion<int64_t> done = {});
    // NotFound when prompt.id does not exist.
    std::future<engine::Result<void>> updatePrompt(PromptRecord prompt, Completion<void> done = {});
    // The run and all its tokens in one transaction; its id. InvalidArgument
    // when promptId / modelId / parentRunId name rows that do not exist.
    std::future<engine::Result<int64_t>> insertRun(RunRecord run, Completion<int64_t> done = {});
    std::future<engine::Result<void>> updateRunNotes(int64_t runId, std::string label, std::string notes,
                                                     Completion<void> done = {});
    // Move a run to the trash (hidden from listRuns by default) and back
    // again (undo). NotFound when there is no such run.
    std::future<engine::Result<void>> deleteRun(int64_t runId, Completion<void> done = {});
    std::future<engine::Result<void>> restoreRun(int64_t runId, Completion<void> done = {});
    // Delete the runs in the trash for good (their tokens too); how many.
    std::future<engine::Result<int64_t>> emptyTrash(Completion<int64_t> done = {});
    // Autosave of unsaved UI state; the caller debounces.
    std::future<engine::Result<void>> saveDraft(std::string key, std::string text, Completion<void> done = {});
    std::future<engine::Result<void>> clearDraft(std::string key, Completion<void> done = {});
    // Project-level state (panel layout, last selection).
    std::future<engine::Result<void>> setSetting(std::string key, std::string value, Completion<void> done = {});
    // Cap the file at `pages` pages (PRAGMA max_page_count; never below its
    // current size). Returns the cap in effect. Writes past it fail like a
    // full disk (SQLITE_FULL). The cap lasts until the project is closed.
    std::future<engine::Result<int64_t>> setMaxPageCount(int64_t pages);

    // Write a compacted copy to `path` (VACUUM INTO a temporary file, synced,
    // then renamed over `path`) and continue on the copy; the old file is
    // left closed cleanly. Runs after every write queued before it. Errors:
    // InvalidArgument when `path` is the current file; the disk errors (the
    // store then stays on the old file).
    std::future<engine::Result<void>> saveAs(std::string path, Completion<void> done = {});

    // Block until every write queued so far has finished.
    void flush();

    // Finish queued writes, mark the session closed cleanly and close the
    // file. Afterwards reads fail and writes complete with an error (field
    // "closed"). Returns the error of the final write, if any.
    engine::Status close();

    // ---- Reads (synchronous, any thread) ----
    engine::Result<std::vector<RunSummary>> listRuns(const RunFilter& filter = {}) const;
    // Errors: NotFound; Malformed / Truncated for a damaged stored value.
    engine::Result<RunRecord> loadRun(int64_t runId) const;
    engine::Result<std::vector<ModelRecord>> models() const;
    engine::Result<ModelRecord> loadModel(int64_t modelId) const;
    engine::Result<std::vector<PromptRecord>> prompts() const;
    engine::Result<PromptRecord> loadPrompt(int64_t promptId) const;
    engine::Result<std::vector<Draft>> drafts() const;
    engine::Result<std::optional<std::string>> setting(const std::string& key) const;
    // A run as a self-contained JSON document (its model and prompt included).
    engine::Result<std::string> exportRunJson(int64_t runId) const;

    // ---- Reads (asynchronous, on the reader thread) ----
    std::future<engine::Result<std::vector<RunSummary>>> listRunsAsync(
        RunFilter filter, Completion<std::vector<RunSummary>> done = {}) const;
    std::future<engine::Result<RunRecord>> loadRunAsync(int64_t runId, Completion<RunRecord> done = {}) const;

private:
    ProjectStore() = default;
    static engine::Result<std::unique_ptr<ProjectStore>> start(const std::string& path,
                                                               SqliteConnection writer, bool readOnlyMode);
    engine::Status beginSession(SqliteConnection& db);
    engine::Status openReader(const std::string& path);
    engine::Status switchTo(SqliteConnection& db, const std::string& target);

    template <class T>
    std::future<engine::Result<T>> write(std::function<engine::Result<T>(SqliteConnection&)> work,
                                         Completion<T> done, bool exclusive = false);
    template <class T>
    engine::Result<T> read(const std::function<engine::Result<T>(SqliteConnection&)>& work) const;
    template <class T>
    std::future<engine::Result<T>> readAsync(std::function<engine::Result<T>()> work, Completion<T> done) const;

    mutable std::mutex m_pathMutex;
    std::string m_path;
    bool m_readOnly = false;
    bool m_hadUncleanExit = false;
    int m_upgradedFrom = 0;
    std::unique_ptr<ProjectWriter> m_writer;  // null in ReadOnly mode
    mutable std::mutex m_readMutex;
    mutable SqliteConnection m_reader;
    mutable std::unique_ptr<TaskThread> m_readTasks;
    std::atomic<bool> m_closed{false};
};

}  // namespace glassbox::projects
