// MainWindow: opening models (progress, cancel, errors) and the prompt's tokens.
#include <QFileInfo>
#include <QStatusBar>

#include "engine/tokenizer.h"
#include "ui/compare_widget.h"
#include "ui/device_choice.h"
#include "ui/engine_client.h"
#include "ui/budget_panel.h"
#include "ui/quant_lab_panel.h"
#include "ui/main_window.h"
#include "ui/playground_widget.h"
#include "ui/prompt_tokens_panel.h"
#include "ui/recent_files.h"
#include "ui/status_panel.h"

namespace glassbox::ui {

void MainWindow::connectEngine() {
    connect(m_engine, &EngineClient::loadStarted, this, [this](const QString& path) {
        m_status->setLoading(true);
        statusBar()->showMessage(tr("Loading %1…").arg(QFileInfo(path).fileName()));
        updateActions();
    });
    connect(m_engine, &EngineClient::loadProgress, m_status, &StatusPanel::setLoadProgress);
    connect(m_engine, &EngineClient::modelLoaded, this, &MainWindow::onModelLoaded);
    connect(m_engine, &EngineClient::loadFailed, this, &MainWindow::onLoadFailed);
    connect(m_engine, &EngineClient::tokensArrived, this, &MainWindow::onTokens);
    connect(m_engine, &EngineClient::laneFinished, this, &MainWindow::onLaneFinished);
    connect(m_engine, &EngineClient::generationFinished, this, &MainWindow::onGenerationFinished);
    connect(m_status, &StatusPanel::cancelLoadRequested, this, &MainWindow::cancelModelLoad);

    m_promptTokensTimer.setSingleShot(true);
    m_promptTokensTimer.setInterval(120);
    connect(&m_promptTokensTimer, &QTimer::timeout, this, &MainWindow::updatePromptTokens);
    connect(m_playground, &PlaygroundWidget::promptEdited, this, &MainWindow::schedulePromptTokens);
    connect(m_playground, &PlaygroundWidget::promptEdited, this, &MainWindow::scheduleDraft);
}

void MainWindow::openModel(const QString& path) {
    if (path.isEmpty()) return;
    // The worker runs one job at a time: finish the generation (within a
    // token) so the load starts at once.
    stopGeneration();
    m_engine->loadModel(path, m_deviceChoice->apply({}));
}

void MainWindow::cancelModelLoad() {
    m_engine->cancelLoad();
}

void MainWindow::onModelLoaded(const ModelInfo& info) {
    const ModelInfo* model = m_engine->model();
    m_status->setLoading(false);
    m_status->setModel(model);
    m_playground->setModel(model);
    m_budgetPanel->setModel(info.model);
    m_quantLabPanel->setModel(info.model);
    updatePromptDriftModels();
    m_recentModels->add(info.path);
    statusBar()->showMessage(tr("Loaded %1 (%2, %3) in %4 s")
                                 .arg(info.name, info.architecture, info.weightType)
                                 .arg(info.loadSeconds, 0, 'f', 2),
                             6000);
    if (!info.chatNote.isEmpty()) showMessage(MessageBanner::Level::Info, info.chatNote);
    else if (m_banner->level() != MessageBanner::Level::Info) m_banner->dismiss();
    showPlacementNotes(info);
    updateTitle();
    updateActions();
    updatePromptTokens();
}

void MainWindow::onLoadFailed(const QString& message, bool cancelled) {
    m_status->setLoading(false);
    const ModelInfo* current = m_engine->model();
    if (cancelled) {
        const QString keep = current ? tr(" Still using %1.").arg(current->name) : QString();
        showMessage(MessageBanner::Level::Info, tr("Loading was cancelled.") + keep);
    } else {
        // "What happened. Still using X.\nEngine detail"
        const QString keep = current ? tr(" Still using %1.").arg(current->name) : QString();
        const qsizetype cut = message.indexOf(QLatin1Char('\n'));
        showMessage(MessageBanner::Level::Error,
                    cut < 0 ? message + keep : message.left(cut) + keep + message.mid(cut));
    }
    updateActions();
}

void MainWindow::schedulePromptTokens() { m_promptTokensTimer.start(); }

void MainWindow::updatePromptTokens() {
    const ModelInfo* model = m_engine->model();
    if (!model) {
        m_promptTokens->setMessage(tr("Open a model to see how it splits the prompt into tokens."));
        return;
    }
    auto prepared = m_playground->prepare();
    if (!prepared) {
        m_promptTokens->setMessage(QString::fromStdString(prepared.error().message));
        return;
    }
    m_promptTokens->setTokens(prepared->tokens, &model->model->tokenizer(),
                              int(QString::fromStdString(prepared->text).size()), model->contextSize);
}

}  // namespace glassbox::ui
