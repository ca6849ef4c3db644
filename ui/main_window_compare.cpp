// MainWindow: comparison runs (lanes of one job) and saving them as a group.
#include <QDateTime>
#include <QFileInfo>
#include <QTabWidget>

#include "engine/tokenizer.h"
#include "ui/compare_widget.h"
#include "ui/engine_client.h"
#include "ui/main_window.h"
#include "ui/playground_widget.h"
#include "ui/token_inspector.h"

namespace glassbox::ui {

void MainWindow::runCompare() {
    const ModelInfo* model = m_engine->model();
    if (!model || m_engine->isLoading()) {
        showMessage(MessageBanner::Level::Warning, tr("Open a model (and let it finish loading) to compare."));
        return;
    }
    auto prepared = m_playground->prepare();
    if (!prepared) {
        showMessage(MessageBanner::Level::Warning,
                    tr("Compare runs the Playground's prompt: %1").arg(QString::fromStdString(prepared.error().message)));
        return;
    }
    std::vector<GenerationLane> lanes =
        m_compare->buildLanes(prepared->tokens, prepared->text, m_playground->mode() == projects::PromptMode::Chat,
                              prepared->extraStops, model->model);
    for (size_t i = 0; i < lanes.size(); ++i) {
        if (auto valid = lanes[i].request.sampling.validate(); !valid) {
            showMessage(MessageBanner::Level::Warning, tr("Lane %1: %2")
                                                           .arg(QChar('A' + int(i)))
                                                           .arg(QString::fromStdString(valid.error().message)));
            return;
        }
    }
    supersedeRunning();
    m_compareRun = PlaygroundRun{};
    m_compareRun.record.promptText = prepared->text;
    m_compareRun.record.promptTokens = prepared->tokens;
    m_compareRun.record.compareGroup = QDateTime::currentMSecsSinceEpoch();
    m_compareRun.mode = m_playground->mode();
    m_compareRun.userText = m_playground->promptText();
    if (m_compareRun.mode == projects::PromptMode::Chat) {
        m_compareRun.systemPrompt = m_playground->systemPrompt();
        m_compareRun.history = m_playground->conversation();
    }
    m_compareLanes.clear();
    for (size_t i = 0; i < lanes.size(); ++i) {
        PlaygroundRun lane = m_compareRun;
        lane.localId = m_nextLocalId++;
        lane.record.settings = lanes[i].request.sampling;
        lane.modelPath = lanes[i].modelPath.isEmpty() ? model->path : lanes[i].modelPath;
        lane.modelName = QFileInfo(lane.modelPath).fileName();
        lane.running = true;
        m_compareLanes.push_back(std::move(lane));
    }
    m_compare->begin(model->model);
    m_compareJob = m_engine->generate(std::move(lanes));
    m_tabs->setCurrentWidget(m_compare);
    m_banner->dismiss();
    updateActions();
}

void MainWindow::onCompareTokens(int lane, const TokenBatch& tokens) {
    m_compare->appendTokens(lane, tokens);
    if (lane < 0 || lane >= int(m_compareLanes.size())) return;
    auto& stored = m_compareLanes[size_t(lane)].record.tokens;
    for (const auto& t : tokens) {
        if (t.index < 0) continue;
        stored.push_back(t);
        stored.back().index = int(stored.size()) - 1;
    }
}

void MainWindow::onCompareTokenSelected(int lane, int step) {
    if (lane < 0 || lane >= int(m_compareLanes.size())) return;
    const auto& tokens = m_compareLanes[size_t(lane)].record.tokens;
    if (step < 0 || step >= int(tokens.size())) return;
    const ModelInfo* model = m_engine->model();
    const bool sameModel = model && m_compareLanes[size_t(lane)].modelPath == model->path;
    m_inspector->showToken(tokens[size_t(step)], step, sameModel ? model->model : nullptr);
    m_inspectingPlayground = false;  // branches grow in the Playground
    m_inspector->setBranchEnabled(false);
}

void MainWindow::onCompareLaneFinished(int lane, const LaneOutcome& outcome) {
    m_compare->finishLane(lane, outcome);
    if (lane < 0 || lane >= int(m_compareLanes.size())) return;
    PlaygroundRun& run = m_compareLanes[size_t(lane)];
    run.running = false;
    if (!outcome.ok) {
        showMessage(MessageBanner::Level::Error, tr("Lane %1: %2").arg(QChar('A' + lane)).arg(outcome.error));
        return;
    }
    auto& r = run.record;
    r.stopReason = outcome.stopReason;
    r.seed = outcome.seed;
    r.prefillSeconds = outcome.prefillSeconds;
    r.decodeSeconds = outcome.decodeSeconds;
    r.prefillTokensPerSecond = outcome.prefillTokensPerSecond;
    r.decodeTokensPerSecond = outcome.decodeTokensPerSecond;
    r.reusedPromptTokens = outcome.reusedPromptTokens;
    r.hardware = outcome.hardware.toStdString();
    r.outputText = outcome.text.toStdString();
    if (!outcome.promptTokens.empty()) r.promptTokens = outcome.promptTokens;
    r.createdAt = QDateTime::currentMSecsSinceEpoch();
    saveRun(run);
}

}  // namespace glassbox::ui
