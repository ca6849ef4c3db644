// ProjectController: the window's access to the project store. Opening,
// creating and closing a project and every read run on a background thread;
// writes go to the store's own writer thread. Results come back to the UI
// thread as signals, so the window never waits on the disk.
//
// A run is saved with its model and prompt records (model, then prompt, then
// the run and its tokens, chained through the writer's completions).
// Errors (not a project, damaged, read-only location, disk full) arrive as
// messages for the banner; what was already committed stays intact.
#pragma once

#include <QObject>
#include <QThreadPool>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "projects/project_records.h"
#include "ui/playground_run.h"

namespace glassbox::projects {
class ProjectStore;
}

namespace glassbox::ui {

struct ModelInfo;

class ProjectController : public QObject {
    Q_OBJECT
public:
    explicit ProjectController(QObject* parent = nullptr);
    ~ProjectController() override;  // finishes queued writes and closes the project

    bool isOpen() const { return bool(m_store); }
    bool isOpening() const { return m_opening > 0; }
    QString path() const { return m_path; }
    bool isReadOnly() const;

    void create(const QString& path);
    void open(const QString& path);
    // Copy the project to `path` and continue there.
    void saveAs(const QString& path);
    // Close the current project (in the background).
    void close();

    void saveRun(const PlaygroundRun& run, const ModelInfo* model);
    void refreshRuns();
    void loadRun(int64_t runId);
    void saveDraft(const QString& key, const QString& text);
    void setSetting(const QString& key, const QString& value);
    // Limit the file's size in pages (writes beyond it fail as on a full disk).
    void setMaxPageCount(int64_t pages);
    // Block until queued writes are committed (for shutdown and tests).
    void flush();

    // Chat turns <-> the JSON array a prompt record stores.
    static std::string messagesToJson(const std::vector<engine::ChatMessage>& messages);
    static std::vector<engine::ChatMessage> messagesFromJson(const std::string& json);

signals:
    void opened(const QString& path, bool hadUncleanExit, const std::vector<glassbox::projects::Draft>& drafts);
    void openFailed(const QString& message);
    void closed();
    void savedAs(const QString& path);
    void runSaved(quint64 localId, qint64 runId);
    void runsListed(const std::vector<glassbox::projects::RunSummary>& runs);
    void runLoaded(const glassbox::ui::PlaygroundRun& run);
    void readFailed(const QString& message);
    void writeFailed(const QString& message);
    void draftSaved(const QString& key);

private:
    // Posts work to the UI thread while the controller lives; a no-op after.
    struct Relay {
        std::mutex mutex;
        ProjectController* target = nullptr;
        void post(std::function<void(ProjectController*)> fn);
    };
    using Store = std::shared_ptr<projects::ProjectStore>;

    void startOpen(const QString& path, bool create);
    void adopt(Store store, const QString& path, bool unclean, std::vector<projects::Draft> drafts);
    void closeInBackground(Store store);
    void reportWrite(const QString& action, const engine::Error& error);
    static projects::PromptRecord promptFor(const PlaygroundRun& run);

    Store m_store;
    QString m_path;
    int m_opening = 0;
    quint64 m_openGeneration = 0;
    QThreadPool m_io;  // one thread: opens, closes and reads, in order
    std::shared_ptr<Relay> m_relay;
    std::map<std::string, int64_t> m_promptIds;  // prompt content key -> id, in this project
    std::map<std::string, int64_t> m_modelIds;   // model path -> id, in this project
};

}  // namespace glassbox::ui
