// MainWindow: projects (new, open, save as), saving runs, the History panel,
// reopening runs, and draft autosave with restore after an unclean exit.
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QStatusBar>
#include <QTabWidget>

#include "projects/settings_json.h"
#include "ui/draft_autosaver.h"
#include "ui/engine_client.h"
#include "ui/history_panel.h"
#include "ui/main_window.h"
#include "ui/playground_widget.h"
#include "ui/project_controller.h"
#include "ui/recent_files.h"
#include "ui/run_stack.h"
#include "ui/sampler_panel.h"
#include "ui/token_inspector.h"

namespace glassbox::ui {
namespace {

const QString kDraftKey = QStringLiteral("playground");

}  // namespace

void MainWindow::connectProject() {
    connect(m_project, &ProjectController::opened, this,
            [this](const QString& path, bool unclean, const std::vector<projects::Draft>& drafts) {
                onProjectOpened(path, unclean);
                if (unclean) {
                    offerDraftRestore(drafts);
                    return;
                }
                // A clean open continues where the project was left.
                for (const auto& d : drafts)
                    if (d.key == kDraftKey.toStdString()) applyDraftState(QString::fromStdString(d.text));
                m_autosaver->forgetSaved();
                m_autosaver->touch();
            });
    connect(m_project, &ProjectController::openFailed, this, [this](const QString& message) {
        const QString keep = m_project->isOpen()
                                 ? tr(" %1 stays open.").arg(QFileInfo(m_project->path()).fileName())
                                 : QString();
        const qsizetype cut = message.indexOf(QLatin1Char('\n'));
        showMessage(MessageBanner::Level::Error,
                    cut < 0 ? message + keep : message.left(cut) + keep + message.mid(cut));
        updateActions();
    });
    connect(m_project, &ProjectController::savedAs, this, [this](const QString& path) {
        m_recentProjects->add(path);
        m_history->setProjectName(QFileInfo(path).fileName());
        statusBar()->showMessage(tr("Saved as %1").arg(path), 6000);
        updateTitle();
    });
    connect(m_project, &ProjectController::runSaved, this, &MainWindow::onRunSaved);
    connect(m_project, &ProjectController::runsListed, m_history, &HistoryPanel::setRuns);
    connect(m_project, &ProjectController::runLoaded, this, &MainWindow::onRunLoaded);
    connect(m_project, &ProjectController::readFailed, this,
            [this](const QString& message) { showMessage(MessageBanner::Level::Error, message); });
    connect(m_project, &ProjectController::writeFailed, this,
            [this](const QString& message) { showMessage(MessageBanner::Level::Error, message); });
    connect(m_history, &HistoryPanel::reopenRequested, this, &MainWindow::reopenRun);
    connect(m_sampler, &SamplerPanel::settingsChanged, this, &MainWindow::scheduleDraft);
    connect(m_playground, &PlaygroundWidget::colorModeChanged, this, &MainWindow::scheduleDraft);
}

void MainWindow::newProject(const QString& path) {
    m_autosaver->flush();
    m_project->create(path);
}

void MainWindow::openProject(const QString& path) {
    m_autosaver->flush();
    m_project->open(path);
}

void MainWindow::saveProjectAs(const QString& path) {
    m_autosaver->flush();
    m_project->saveAs(path);
}

void MainWindow::onProjectOpened(const QString& path, bool) {
    m_recentProjects->add(path);
    m_history->setProjectName(QFileInfo(path).fileName());
    if (m_project->isReadOnly())
        showMessage(MessageBanner::Level::Warning, tr("%1 is read-only: new runs are shown but not saved.")
                                                       .arg(QFileInfo(path).fileName()));
    statusBar()->showMessage(tr("Opened %1").arg(path), 5000);
    updateTitle();
    updateActions();
}

void MainWindow::saveRun(const PlaygroundRun& run) {
    if (!m_project->isOpen()) return;
    if (run.isBranch() && !run.record.parentRunId) {
        // The parent is still being saved; follow it once it has an id.
        m_waitingForParent.push_back(run);
        return;
    }
    m_project->saveRun(run, m_engine->model());
}

void MainWindow::onRunSaved(quint64 localId, int64_t id) {
    ++m_savedRuns;
    RunStack* stack = m_playground->runStack();
    for (int i = 0; i < stack->count(); ++i) {
        PlaygroundRun& run = stack->run(i);
        if (run.localId == localId) {
            run.record.id = id;
            stack->refreshHeader(i);
        }
        if (run.parentLocalId == localId && !run.record.parentRunId) {
            run.record.parentRunId = id;
            stack->refreshHeader(i);
        }
    }
    for (auto& lane : m_compareLanes)
        if (lane.localId == localId) lane.record.id = id;
    std::vector<PlaygroundRun> ready;
    for (auto it = m_waitingForParent.begin(); it != m_waitingForParent.end();) {
        if (it->parentLocalId == localId) {
            it->record.parentRunId = id;
            ready.push_back(std::move(*it));
            it = m_waitingForParent.erase(it);
        } else {
            ++it;
        }
    }
    for (const auto& run : ready) m_project->saveRun(run, m_engine->model());
    m_project->refreshRuns();
}

void MainWindow::reopenRun(int64_t runId) { m_project->loadRun(runId); }

void MainWindow::onRunLoaded(const PlaygroundRun& loaded) {
    supersedeRunning();
    if (m_engine->isGenerating()) m_engine->cancelGeneration();
    const ModelInfo* model = m_engine->model();
    const bool sameModel = model && QFileInfo(model->path) == QFileInfo(loaded.modelPath);
    m_autosaver->setSuspended(true);
    m_playground->setMode(loaded.mode);
    m_playground->setSystemPrompt(loaded.systemPrompt);
    m_playground->setConversation(loaded.history);
    m_playground->setPromptText(loaded.userText);
    m_sampler->setSettings(loaded.record.settings);
    m_autosaver->setSuspended(false);
    PlaygroundRun run = loaded;
    run.localId = m_nextLocalId++;
    RunStack* stack = m_playground->runStack();
    stack->clear();
    m_inspector->clear();
    stack->addRun(std::move(run), model ? model->model : nullptr);
    m_tabs->setCurrentWidget(m_playground);
    if (!sameModel && !loaded.modelPath.isEmpty())
        showMessage(MessageBanner::Level::Info,
                    tr("Run #%1 was made with %2; token texts are shown with the loaded model's vocabulary.")
                        .arg(loaded.record.id)
                        .arg(QFileInfo(loaded.modelPath).fileName()),
                    tr("Open that model"), [this, path = loaded.modelPath] { openModel(path); });
    statusBar()->showMessage(tr("Reopened run #%1").arg(loaded.record.id), 4000);
    updateActions();
}

void MainWindow::scheduleDraft() {
    if (!m_closing) m_autosaver->touch();
}

QString MainWindow::draftState() const {
    QJsonObject o;
    o[QStringLiteral("mode")] = QString::fromLatin1(projects::promptModeName(m_playground->mode()));
    o[QStringLiteral("prompt")] = m_playground->promptText();
    o[QStringLiteral("system")] = m_playground->systemPrompt();
    o[QStringLiteral("conversation")] =
        QJsonDocument::fromJson(QByteArray::fromStdString(ProjectController::messagesToJson(m_playground->conversation())))
            .array();
    o[QStringLiteral("sampler")] = QString::fromStdString(projects::samplerSettingsToJson(m_sampler->settings()));
    o[QStringLiteral("colorMode")] =
        m_playground->colorMode() == viz::ColorMode::Entropy ? QStringLiteral("entropy") : QStringLiteral("probability");
    o[QStringLiteral("tab")] = m_tabs->currentIndex();
    return QString::fromUtf8(QJsonDocument(o).toJson(QJsonDocument::Compact));
}

void MainWindow::applyDraftState(const QString& json) {
    const QJsonObject o = QJsonDocument::fromJson(json.toUtf8()).object();
    if (o.isEmpty()) return;
    m_autosaver->setSuspended(true);
    const auto mode = projects::promptModeFromName(o.value(QStringLiteral("mode")).toString().toStdString());
    m_playground->setMode(mode.value_or(projects::PromptMode::Completion));
    m_playground->setSystemPrompt(o.value(QStringLiteral("system")).toString());
    m_playground->setConversation(ProjectController::messagesFromJson(
        QJsonDocument(o.value(QStringLiteral("conversation")).toArray()).toJson(QJsonDocument::Compact).toStdString()));
    m_playground->setPromptText(o.value(QStringLiteral("prompt")).toString());
    if (auto s = projects::samplerSettingsFromJson(o.value(QStringLiteral("sampler")).toString().toStdString()))
        m_sampler->setSettings(*s);
    m_playground->setColorMode(o.value(QStringLiteral("colorMode")).toString() == QLatin1String("entropy")
                                   ? viz::ColorMode::Entropy
                                   : viz::ColorMode::Probability);
    m_tabs->setCurrentIndex(o.value(QStringLiteral("tab")).toInt());
    m_autosaver->setSuspended(false);
}

void MainWindow::offerDraftRestore(const std::vector<projects::Draft>& drafts) {
    const auto it = std::find_if(drafts.begin(), drafts.end(),
                                 [](const projects::Draft& d) { return d.key == kDraftKey.toStdString(); });
    if (it == drafts.end()) return;
    const QString state = QString::fromStdString(it->text);
    showMessage(MessageBanner::Level::Warning,
                tr("Glassbox did not close properly last time. Your unsaved prompt and settings from then were "
                   "kept."),
                tr("Restore"), [this, state] { applyDraftState(state); });
}

}  // namespace glassbox::ui
