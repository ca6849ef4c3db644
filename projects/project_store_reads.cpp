// ProjectStore's reads: each one a read transaction on the read-only
// connection (so a run and its tokens come from one snapshot), synchronously
// or on the reader thread.
#include "projects/catalog_tables.h"
#include "projects/project_store.h"
#include "projects/run_export.h"
#include "projects/run_table.h"

namespace glassbox::projects {

using engine::Error;
using engine::ErrorCode;
using engine::makeError;
using engine::Result;
using engine::Status;

namespace {

Error closedError() { return makeError(ErrorCode::Io, "the project is closed", "closed"); }

}  // namespace

template <class T>
Result<T> ProjectStore::read(const std::function<Result<T>(SqliteConnection&)>& work) const {
    std::lock_guard lock(m_readMutex);
    if (!m_reader.isOpen()) return closedError();
    if (!m_reader.inAutocommit()) (void)m_reader.exec("ROLLBACK", "");  // a read that could not finish
    GB_TRY(m_reader.exec("BEGIN", "reading the project"));
    Result<T> result = work(m_reader);
    (void)m_reader.exec(result.ok() ? "COMMIT" : "ROLLBACK", "");
    return result;
}

template <class T>
std::future<Result<T>> ProjectStore::readAsync(std::function<Result<T>()> work, Completion<T> done) const {
    auto promise = std::make_shared<std::promise<Result<T>>>();
    std::future<Result<T>> future = promise->get_future();
    const bool queued = m_readTasks && m_readTasks->post([promise, work = std::move(work), done] {
        Result<T> result = work();
        notify(done, result);
        promise->set_value(std::move(result));
    });
    if (!queued) {
        const Result<T> closed(closedError());
        notify(done, closed);
        promise->set_value(closed);
    }
    return future;
}

Result<std::vector<RunSummary>> ProjectStore::listRuns(const RunFilter& filter) const {
    return read<std::vector<RunSummary>>([&](SqliteConnection& db) { return selectRuns(db, filter); });
}

Result<RunRecord> ProjectStore::loadRun(int64_t runId) const {
    return read<RunRecord>([&](SqliteConnection& db) { return selectRun(db, runId); });
}

Result<std::vector<ModelRecord>> ProjectStore::models() const {
    return read<std::vector<ModelRecord>>([](SqliteConnection& db) { return selectModels(db); });
}

Result<ModelRecord> ProjectStore::loadModel(int64_t modelId) const {
    return read<ModelRecord>([&](SqliteConnection& db) { return selectModel(db, modelId); });
}

Result<std::vector<PromptRecord>> ProjectStore::prompts() const {
    return read<std::vector<PromptRecord>>([](SqliteConnection& db) { return selectPrompts(db); });
}

Result<PromptRecord> ProjectStore::loadPrompt(int64_t promptId) const {
    return read<PromptRecord>([&](SqliteConnection& db) { return selectPrompt(db, promptId); });
}

Result<std::vector<Draft>> ProjectStore::drafts() const {
    return read<std::vector<Draft>>([](SqliteConnection& db) { return selectDrafts(db); });
}

Result<std::optional<std::string>> ProjectStore::setting(const std::string& key) const {
    return read<std::optional<std::string>>([&](SqliteConnection& db) { return selectSetting(db, key); });
}

Result<std::string> ProjectStore::exportRunJson(int64_t runId) const {
    return read<std::string>([&](SqliteConnection& db) -> Result<std::string> {
        GB_ASSIGN_OR_RETURN(const RunRecord run, selectRun(db, runId));
        std::optional<ModelRecord> model;
        std::optional<PromptRecord> prompt;
        if (run.modelId) {
            GB_ASSIGN_OR_RETURN(model, selectModel(db, *run.modelId));
        }
        if (run.promptId) {
            GB_ASSIGN_OR_RETURN(prompt, selectPrompt(db, *run.promptId));
        }
        return runToJson(run, model ? &*model : nullptr, prompt ? &*prompt : nullptr);
    });
}

std::future<Result<std::vector<RunSummary>>> ProjectStore::listRunsAsync(
    RunFilter filter, Completion<std::vector<RunSummary>> done) const {
    return readAsync<std::vector<RunSummary>>([this, filter = std::move(filter)] { return listRuns(filter); },
                                              std::move(done));
}

std::future<Result<RunRecord>> ProjectStore::loadRunAsync(int64_t runId, Completion<RunRecord> done) const {
    return readAsync<RunRecord>([this, runId] { return loadRun(runId); }, std::move(done));
}

}  // namespace glassbox::projects
