// ProjectWriter: the writer thread's loop, batching, savepoints and the
// one-job-per-transaction retry after a failed batch.
#include "projects/project_writer.h"

#include <exception>
#include <new>

namespace glassbox::projects {

using engine::ErrorCode;
using engine::makeError;
using engine::Status;

ProjectWriter::ProjectWriter(SqliteConnection db) : m_db(std::move(db)) {
    m_thread = std::thread([this] { loop(); });
}

ProjectWriter::~ProjectWriter() { stop(); }

void ProjectWriter::post(Job job) {
    {
        std::lock_guard lock(m_mutex);
        if (!m_stopping) {
            m_queue.push_back(std::move(job));
            m_wake.notify_one();
            return;
        }
    }
    job.finish(makeError(ErrorCode::Io, "the project is closed; the change was not saved", "closed"));
}

void ProjectWriter::flush() {
    if (stopped() || std::this_thread::get_id() == m_thread.get_id()) return;
    submit<void>([](SqliteConnection&) -> Status { return {}; }).wait();
}

void ProjectWriter::stop() {
    {
        std::lock_guard lock(m_mutex);
        m_stopping = true;
        m_wake.notify_one();
    }
    if (m_thread.joinable()) m_thread.join();
}

bool ProjectWriter::stopped() const {
    std::lock_guard lock(m_mutex);
    return m_stopping;
}

void ProjectWriter::loop() {
    for (;;) {
        std::deque<Job> batch;
        {
            std::unique_lock lock(m_mutex);
            m_wake.wait(lock, [this] { return m_stopping || !m_queue.empty(); });
            if (m_queue.empty()) return;  // stopping, and everything queued is done
            if (m_queue.front().exclusive) {
                batch.push_back(std::move(m_queue.front()));
                m_queue.pop_front();
            } else {
                while (!m_queue.empty() && !m_queue.front().exclusive && batch.size() < kMaxBatch) {
                    batch.push_back(std::move(m_queue.front()));
                    m_queue.pop_front();
                }
            }
        }
        if (batch.front().exclusive)
            runExclusive(batch.front());
        else if (batch.size() == 1)
            runAlone(batch.front());
        else
            runBatch(batch);
    }
}

Status ProjectWriter::runProtected(Job& job) {
    try {
        return job.run(m_db);
    } catch (const std::bad_alloc&) {
        return makeError(ErrorCode::OutOfMemory, "out of memory while saving to the project");
    } catch (const std::exception& e) {
        return makeError(ErrorCode::Io, std::string("saving to the project failed: ") + e.what());
    } catch (...) {
        return makeError(ErrorCode::Io, "saving to the project failed");
    }
}

void ProjectWriter::runExclusive(Job& job) { job.finish(runProtected(job)); }

void ProjectWriter::runAlone(Job& job) {
    Status status = m_db.exec("BEGIN IMMEDIATE", "starting a transaction");
    if (status.ok()) {
        status = runProtected(job);
        if (status.ok()) status = m_db.exec("COMMIT", "committing");
        if (!status.ok() && !m_db.inAutocommit()) (void)m_db.exec("ROLLBACK", "");
    }
    job.finish(status);
}

void ProjectWriter::runBatch(std::deque<Job>& batch) {
    if (!m_db.exec("BEGIN IMMEDIATE", "starting a transaction").ok()) {
        for (Job& job : batch) runAlone(job);
        return;
    }
    std::vector<Status> results(batch.size());
    bool broken = false;
    for (size_t i = 0; i < batch.size() && !broken; ++i) {
        if (!m_db.exec("SAVEPOINT job", "").ok()) {
            broken = true;
            break;
        }
        results[i] = runProtected(batch[i]);
        if (!results[i].ok()) {
            // Some errors (a full disk, I/O) make SQLite roll back the whole
            // transaction; the jobs before this one must then run again.
            if (m_db.inAutocommit() || !m_db.exec("ROLLBACK TO job", "").ok()) broken = true;
        }
        if (!broken && !m_db.exec("RELEASE job", "").ok()) broken = true;
    }
    if (!broken && !m_db.exec("COMMIT", "committing").ok()) broken = true;
    if (broken) {
        if (!m_db.inAutocommit()) (void)m_db.exec("ROLLBACK", "");
        for (Job& job : batch) runAlone(job);
        return;
    }
    for (size_t i = 0; i < batch.size(); ++i) batch[i].finish(results[i]);
}

}  // namespace glassbox::projects
