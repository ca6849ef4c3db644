// ProjectWriter: the one thread that writes to a project. It owns the write
// connection; callers queue jobs and get a std::future (and, optionally, a
// callback on the writer thread) that completes once the job's changes are
// committed, so no caller ever waits on the disk unless it chooses to.
//
// Jobs queued close together are batched into one transaction, each inside
// its own SAVEPOINT, so one failing job (a constraint, a full disk) is rolled
// back alone and the others still commit. When the transaction itself fails
// (SQLite rolled it back, or COMMIT failed) the batch is rerun one job per
// transaction, so every job gets its own precise result. After an error the
// thread keeps running; committed data is never touched by a later failure.
//
// "Exclusive" jobs (VACUUM INTO, reopening on another file) run alone,
// outside any transaction, after everything queued before them.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <type_traits>

#include "engine/result.h"
#include "projects/sqlite_connection.h"

namespace glassbox::projects {

// Called on the writer thread when a job has finished (committed or failed).
// It must not block on the store; an exception it throws is swallowed.
template <class T>
using Completion = std::function<void(const engine::Result<T>&)>;

// Call `done` (if any) with `result`, never letting an exception escape.
template <class T>
void notify(const Completion<T>& done, const engine::Result<T>& result) noexcept {
    if (!done) return;
    try {
        done(result);
    } catch (...) {
    }
}

class ProjectWriter {
public:
    // Takes ownership of `db` and starts the thread.
    explicit ProjectWriter(SqliteConnection db);
    ~ProjectWriter();  // stop()
    ProjectWriter(const ProjectWriter&) = delete;
    ProjectWriter& operator=(const ProjectWriter&) = delete;

    // Queue `work` (run on the writer thread with the write connection).
    // The future completes after the transaction holding it commits, or with
    // the error; `done` is called just before. After stop() the future
    // completes at once with an Io error.
    template <class T>
    std::future<engine::Result<T>> submit(std::function<engine::Result<T>(SqliteConnection&)> work,
                                          Completion<T> done = {}, bool exclusive = false);

    // Block until every job queued before this call has finished. Does
    // nothing when called from the writer thread itself (it would never return).
    void flush();

    // Finish the queued jobs, then end the thread. The connection stays open
    // (see connection()) for a final, single-threaded shutdown step.
    void stop();
    bool stopped() const;

    // The write connection; only for use after stop() or from inside a job.
    SqliteConnection& connection() { return m_db; }

    // Most jobs batched into one transaction.
    static constexpr size_t kMaxBatch = 256;

private:
    struct Job {
        std::function<engine::Status(SqliteConnection&)> run;   // may run again when a batch is retried
        std::function<void(const engine::Status&)> finish;      // exactly once, after commit or failure
        bool exclusive = false;
    };

    void post(Job job);
    void loop();
    void runBatch(std::deque<Job>& batch);
    void runAlone(Job& job);
    void runExclusive(Job& job);
    engine::Status runProtected(Job& job);

    SqliteConnection m_db;
    mutable std::mutex m_mutex;
    std::condition_variable m_wake;
    std::deque<Job> m_queue;
    bool m_stopping = false;
    std::thread m_thread;
};

template <class T>
std::future<engine::Result<T>> ProjectWriter::submit(std::function<engine::Result<T>(SqliteConnection&)> work,
                                                     Completion<T> done, bool exclusive) {
    auto promise = std::make_shared<std::promise<engine::Result<T>>>();
    std::future<engine::Result<T>> future = promise->get_future();
    if constexpr (std::is_void_v<T>) {
        Job job;
        job.run = [work = std::move(work)](SqliteConnection& db) { return work(db); };
        job.finish = [promise, done = std::move(done)](const engine::Status& status) {
            notify(done, status);
            promise->set_value(status);
        };
        job.exclusive = exclusive;
        post(std::move(job));
    } else {
        auto value = std::make_shared<std::optional<T>>();
        Job job;
        job.run = [work = std::move(work), value](SqliteConnection& db) -> engine::Status {
            engine::Result<T> r = work(db);
            if (!r.ok()) return r.error();
            *value = std::move(r).value();
            return {};
        };
        job.finish = [promise, value, done = std::move(done)](const engine::Status& status) {
            engine::Result<T> result = status.ok() ? engine::Result<T>(std::move(**value))
                                                   : engine::Result<T>(status.error());
            notify(done, result);
            promise->set_value(std::move(result));
        };
        job.exclusive = exclusive;
        post(std::move(job));
    }
    return future;
}

}  // namespace glassbox::projects
