// ProjectController: background opens and reads, chained writes, relayed results.
#include "ui/project_controller.h"

#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include "projects/project_store.h"
#include "ui/engine_messages.h"
#include "ui/error_text.h"

namespace glassbox::ui {

using projects::ProjectStore;

namespace {

bool isWriteProtected(const engine::Error& e) {
    return e.code == engine::ErrorCode::Io &&
           (e.field == "SQLITE_READONLY" || e.field == "SQLITE_CANTOPEN" || e.field == "SQLITE_PERM");
}

}  // namespace

void ProjectController::Relay::post(std::function<void(ProjectController*)> fn) {
    std::lock_guard lock(mutex);
    if (!target) return;
    ProjectController* t = target;
    QMetaObject::invokeMethod(t, [t, fn = std::move(fn)] { fn(t); }, Qt::QueuedConnection);
}

ProjectController::ProjectController(QObject* parent) : QObject(parent), m_relay(std::make_shared<Relay>()) {
    m_relay->target = this;
    m_io.setMaxThreadCount(1);
    m_io.setExpiryTimeout(-1);
}

ProjectController::~ProjectController() {
    {
        std::lock_guard lock(m_relay->mutex);
        m_relay->target = nullptr;
    }
    m_io.waitForDone();
    if (m_store) (void)m_store->close();
    m_store.reset();
}

bool ProjectController::isReadOnly() const { return m_store && m_store->isReadOnly(); }

void ProjectController::create(const QString& path) { startOpen(path, true); }
void ProjectController::open(const QString& path) { startOpen(path, false); }

void ProjectController::startOpen(const QString& path, bool create) {
    const quint64 generation = ++m_openGeneration;
    ++m_opening;
    auto relay = m_relay;
    m_io.start([relay, path, create, generation] {
        const std::string p = path.toStdString();
        auto result = create ? ProjectStore::create(p) : ProjectStore::open(p);
        if (!result && !create && isWriteProtected(result.error())) {
            // A project on read-only media can still be looked at.
            result = ProjectStore::open(p, ProjectStore::OpenMode::ReadOnly);
        }
        if (!result) {
            const QString message = ErrorText::forProject(create ? QStringLiteral("create") : QStringLiteral("open"),
                                                          path, result.error());
            relay->post([message](ProjectController* c) {
                --c->m_opening;
                emit c->openFailed(message);
            });
            return;
        }
        Store store(std::move(*result));
        std::vector<projects::Draft> drafts;
        if (auto d = store->drafts()) drafts = std::move(*d);
        const bool unclean = store->hadUncleanExit();
        relay->post([store, path, unclean, drafts, generation](ProjectController* c) mutable {
            --c->m_opening;
            if (generation != c->m_openGeneration) {
                c->closeInBackground(std::move(store));  // a newer open superseded this one
                return;
            }
            c->adopt(std::move(store), path, unclean, std::move(drafts));
        });
    });
}

void ProjectController::adopt(Store store, const QString& path, bool unclean, std::vector<projects::Draft> drafts) {
    closeInBackground(std::move(m_store));
    m_store = std::move(store);
    m_path = QFileInfo(path).absoluteFilePath();
    m_promptIds.clear();
    m_modelIds.clear();
    emit opened(m_path, unclean, drafts);
    refreshRuns();
}

void ProjectController::closeInBackground(Store store) {
    if (!store) return;
    m_io.start([store = std::move(store)]() mutable {
        (void)store->close();
        store.reset();
    });
}

void ProjectController::close() {
    ++m_openGeneration;
    closeInBackground(std::move(m_store));
    m_store.reset();
    m_path.clear();
    emit closed();
}

void ProjectController::saveAs(const QString& path) {
    if (!m_store) {
        emit writeFailed(tr("No project is open."));
        return;
    }
    auto relay = m_relay;
    const quint64 generation = m_openGeneration;
    m_store->saveAs(path.toStdString(), [relay, path, generation](const engine::Status& st) {
        relay->post([st, path, generation](ProjectController* c) {
            if (!st.ok()) {
                emit c->writeFailed(ErrorText::forProject(tr("save"), path, st.error()));
                return;
            }
            if (generation == c->m_openGeneration) c->m_path = QFileInfo(path).absoluteFilePath();
            emit c->savedAs(QFileInfo(path).absoluteFilePath());
        });
    });
}

void ProjectController::reportWrite(const QString& action, const engine::Error& error) {
    emit writeFailed(ErrorText::forProject(action, m_path, error));
}

projects::PromptRecord ProjectController::promptFor(const PlaygroundRun& run) {
    projects::PromptRecord p;
    p.mode = run.mode;
    p.systemPrompt = run.systemPrompt.toStdString();
    if (run.mode == projects::PromptMode::Chat) {
        std::vector<engine::ChatMessage> turns = run.history;
        turns.push_back({"user", run.userText.toStdString()});
        p.content = messagesToJson(turns);
    } else {
        p.content = run.userText.toStdString();
    }
    p.title = run.userText.simplified().left(60).toStdString();
    return p;
}

void ProjectController::saveRun(const PlaygroundRun& run, const ModelInfo* model) {
    if (!m_store) {
        emit writeFailed(tr("No project is open: the run is shown but not saved."));
        return;
    }
    ProjectStore* store = m_store.get();
    auto relay = m_relay;
    const quint64 generation = m_openGeneration;
    const quint64 localId = run.localId;
    auto record = std::make_shared<projects::RunRecord>(run.record);
    const projects::PromptRecord prompt = promptFor(run);
    const std::string promptKey = projects::promptModeName(prompt.mode) + std::string("\x1f") + prompt.systemPrompt +
                                  "\x1f" + prompt.content;
    projects::ModelRecord modelRecord;
    modelRecord.path = run.modelPath.toStdString();
    modelRecord.displayName = run.modelName.toStdString();
    if (model && model->path == run.modelPath) {
        modelRecord.fileBytes = uint64_t(model->fileBytes);
        modelRecord.architecture = model->architecture.toStdString();
    }
    auto fail = [relay](const engine::Error& e) {
        relay->post([e](ProjectController* c) { c->reportWrite(tr("save the run to"), e); });
    };
    auto insertRun = [store, relay, record, fail, localId, generation]() {
        store->insertRun(std::move(*record), [relay, fail, localId, generation](const engine::Result<int64_t>& id) {
            if (!id) return fail(id.error());
            relay->post([localId, generation, runId = *id](ProjectController* c) {
                if (generation == c->m_openGeneration) emit c->runSaved(localId, runId);
            });
        });
    };
    auto withPrompt = [store, relay, record, prompt, promptKey, insertRun, fail, generation,
                       known = m_promptIds.count(promptKey) ? m_promptIds[promptKey] : 0]() {
        if (known > 0) {
            record->promptId = known;
            return insertRun();
        }
        store->addPrompt(prompt, [=](const engine::Result<int64_t>& id) {
            if (!id) return fail(id.error());
            record->promptId = *id;
            relay->post([promptKey, generation, pid = *id](ProjectController* c) {
                if (generation == c->m_openGeneration) c->m_promptIds[promptKey] = pid;
            });
            insertRun();
        });
    };
    const auto knownModel = m_modelIds.find(modelRecord.path);
    if (knownModel != m_modelIds.end()) {
        record->modelId = knownModel->second;
        withPrompt();
        return;
    }
    store->upsertModel(modelRecord, [=, path = modelRecord.path](const engine::Result<int64_t>& id) {
        if (!id) return fail(id.error());
        record->modelId = *id;
        relay->post([path, generation, mid = *id](ProjectController* c) {
            if (generation == c->m_openGeneration) c->m_modelIds[path] = mid;
        });
        withPrompt();
    });
}

void ProjectController::refreshRuns() {
    if (!m_store) return;
    Store store = m_store;
    auto relay = m_relay;
    const quint64 generation = m_openGeneration;
    m_io.start([store, relay, generation] {
        projects::RunFilter filter;
        filter.newestFirst = true;
        auto runs = store->listRuns(filter);
        relay->post([runs = std::move(runs), generation](ProjectController* c) {
            if (generation != c->m_openGeneration) return;
            if (!runs) emit c->readFailed(ErrorText::forProject(tr("read"), c->m_path, runs.error()));
            else emit c->runsListed(*runs);
        });
    });
}

void ProjectController::loadRun(int64_t runId) {
    if (!m_store) return;
    Store store = m_store;
    auto relay = m_relay;
    m_io.start([store, relay, runId] {
        auto record = store->loadRun(runId);
        if (!record) {
            relay->post([e = record.error()](ProjectController* c) {
                emit c->readFailed(ErrorText::forProject(tr("read a run from"), c->m_path, e));
            });
            return;
        }
        PlaygroundRun run;
        run.record = std::move(*record);
        if (run.record.promptId) {
            if (auto prompt = store->loadPrompt(*run.record.promptId)) {
                run.mode = prompt->mode;
                run.systemPrompt = QString::fromStdString(prompt->systemPrompt);
                if (prompt->mode == projects::PromptMode::Chat) {
                    run.history = messagesFromJson(prompt->content);
                    if (!run.history.empty() && run.history.back().role == "user") {
                        run.userText = QString::fromStdString(run.history.back().content);
                        run.history.pop_back();
                    }
                } else {
                    run.userText = QString::fromStdString(prompt->content);
                }
            }
        }
        if (run.record.modelId) {
            if (auto model = store->loadModel(*run.record.modelId)) {
                run.modelPath = QString::fromStdString(model->path);
                run.modelName = QString::fromStdString(model->displayName);
            }
        }
        relay->post([run = std::move(run)](ProjectController* c) { emit c->runLoaded(run); });
    });
}

void ProjectController::saveDraft(const QString& key, const QString& text) {
    if (!m_store) return;
    auto relay = m_relay;
    m_store->saveDraft(key.toStdString(), text.toStdString(), [relay, key](const engine::Status& st) {
        relay->post([st, key](ProjectController* c) {
            if (!st.ok()) c->reportWrite(tr("autosave to"), st.error());
            else emit c->draftSaved(key);
        });
    });
}

void ProjectController::setSetting(const QString& key, const QString& value) {
    if (!m_store) return;
    auto relay = m_relay;
    m_store->setSetting(key.toStdString(), value.toStdString(), [relay](const engine::Status& st) {
        if (!st.ok()) relay->post([st](ProjectController* c) { c->reportWrite(tr("save settings to"), st.error()); });
    });
}

void ProjectController::setMaxPageCount(int64_t pages) {
    if (m_store) (void)m_store->setMaxPageCount(pages);
}

void ProjectController::flush() {
    if (m_store) m_store->flush();
}

std::string ProjectController::messagesToJson(const std::vector<engine::ChatMessage>& messages) {
    QJsonArray array;
    for (const auto& m : messages) {
        array.append(QJsonObject{{QStringLiteral("role"), QString::fromStdString(m.role)},
                                 {QStringLiteral("content"), QString::fromStdString(m.content)}});
    }
    return QJsonDocument(array).toJson(QJsonDocument::Compact).toStdString();
}

std::vector<engine::ChatMessage> ProjectController::messagesFromJson(const std::string& json) {
    std::vector<engine::ChatMessage> out;
    const QJsonDocument doc = QJsonDocument::fromJson(QByteArray::fromStdString(json));
    for (const QJsonValue& v : doc.array()) {
        const QJsonObject o = v.toObject();
        out.push_back({o.value(QStringLiteral("role")).toString().toStdString(),
                       o.value(QStringLiteral("content")).toString().toStdString()});
    }
    return out;
}

}  // namespace glassbox::ui
