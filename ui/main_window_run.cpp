// MainWindow: starting runs and branches, streaming tokens into the views,
// finishing runs, and the token inspector.
#include <QDateTime>
#include <QStatusBar>
#include <QTabWidget>

#include "engine/tokenizer.h"
#include "ui/engine_client.h"
#include "ui/main_window.h"
#include "ui/playground_widget.h"
#include "ui/run_stack.h"
#include "ui/sampler_panel.h"
#include "ui/status_panel.h"
#include "ui/token_cells.h"
#include "ui/token_inspector.h"

namespace glassbox::ui {
namespace {

void addStops(engine::SamplerSettings& s, const std::vector<std::string>& extra) {
    for (const auto& stop : extra) {
        if (std::find(s.stopStrings.begin(), s.stopStrings.end(), stop) == s.stopStrings.end() &&
            s.stopStrings.size() < engine::SamplerSettings::kMaxStopStrings)
            s.stopStrings.push_back(stop);
    }
}

}  // namespace

void MainWindow::connectRuns() {
    connect(m_playground->runStack(), &RunStack::tokenSelected, this, &MainWindow::onTokenSelected);
    connect(m_inspector, &TokenInspector::branchRequested, this, [this](int step, int32_t alt) {
        if (m_inspectingPlayground) branchAt(m_playground->runStack()->selectedRun(), step, alt);
    });
}

engine::SamplerSettings MainWindow::settingsForRun(const std::vector<std::string>& extraStops) {
    engine::SamplerSettings s = m_sampler->settings();
    addStops(s, extraStops);
    return s;
}

void MainWindow::supersedeRunning() {
    // The engine drops a superseded job's results; close its cards here.
    RunStack* stack = m_playground->runStack();
    for (int card : m_playCards) {
        if (card < 0 || card >= stack->count()) continue;
        PlaygroundRun& run = stack->run(card);
        if (!run.running) continue;
        run.record.stopReason = engine::StopReason::Cancelled;
        stack->finishRun(card);
    }
    m_playJob = 0;
    m_playCards.clear();
    m_compareJob = 0;
}

void MainWindow::runPrompt() {
    const ModelInfo* model = m_engine->model();
    if (m_engine->isLoading()) {
        showMessage(MessageBanner::Level::Warning, tr("The model is still loading; run again when it is ready."));
        return;
    }
    auto prepared = m_playground->prepare();
    if (!prepared) {
        showMessage(MessageBanner::Level::Warning, QString::fromStdString(prepared.error().message));
        return;
    }
    const engine::SamplerSettings settings = settingsForRun(prepared->extraStops);
    if (auto valid = settings.validate(); !valid) {
        showMessage(MessageBanner::Level::Warning,
                    tr("Sampler settings: %1").arg(QString::fromStdString(valid.error().message)));
        return;
    }
    if (int(prepared->tokens.size()) >= model->contextSize) {
        showMessage(MessageBanner::Level::Error,
                    tr("The prompt has %1 tokens but the context holds only %2.")
                        .arg(prepared->tokens.size())
                        .arg(model->contextSize));
        return;
    }
    supersedeRunning();
    PlaygroundRun run;
    run.localId = m_nextLocalId++;
    run.record.settings = settings;
    run.record.promptText = prepared->text;
    run.record.promptTokens = prepared->tokens;
    run.mode = m_playground->mode();
    run.userText = m_playground->promptText();
    run.systemPrompt = run.mode == projects::PromptMode::Chat ? m_playground->systemPrompt() : QString();
    if (run.mode == projects::PromptMode::Chat) run.history = m_playground->conversation();
    run.modelPath = model->path;
    run.modelName = model->name;
    run.running = true;

    GenerationLane lane;
    lane.request.prompt = prepared->tokens;
    lane.request.sampling = settings;
    lane.model = model->model;
    lane.capture = recordsInside();
    RunStack* stack = m_playground->runStack();
    stack->clear();
    m_inspector->clear();
    m_playCards = {stack->addRun(std::move(run), model->model)};
    m_playJob = m_engine->generate({std::move(lane)});
    m_tabs->setCurrentWidget(m_playground);
    m_banner->dismiss();
    updateActions();
}

void MainWindow::stopGeneration() {
    if (m_engine->isGenerating()) m_engine->cancelGeneration();
}

void MainWindow::branchFromSelection() {
    RunStack* stack = m_playground->runStack();
    if (!m_inspectingPlayground) return;
    const int32_t alt = m_inspector->selectedAlternative();
    if (stack->selectedRun() < 0 || m_inspector->step() < 0 || alt < 0) {
        showMessage(MessageBanner::Level::Info,
                    tr("Select a generated token, then one of its alternatives in the Token Inspector."));
        return;
    }
    branchAt(stack->selectedRun(), m_inspector->step(), alt);
}

void MainWindow::branchAt(int runIndex, int step, int32_t alternative) {
    const ModelInfo* model = m_engine->model();
    RunStack* stack = m_playground->runStack();
    if (!model || m_engine->isLoading() || runIndex < 0 || runIndex >= stack->count()) return;
    const PlaygroundRun& parent = stack->run(runIndex);
    if (parent.running) {
        showMessage(MessageBanner::Level::Info, tr("Wait for the run to finish (or stop it) before branching."));
        return;
    }
    if (step < 0 || step >= int(parent.record.tokens.size())) return;
    const engine::GeneratedToken& at = parent.record.tokens[size_t(step)];
    const auto alt = std::find_if(at.sample.topAlternatives.begin(), at.sample.topAlternatives.end(),
                                  [&](const engine::TokenLogprob& t) { return t.id == alternative; });
    if (alt == at.sample.topAlternatives.end()) return;

    PlaygroundRun branch;
    branch.localId = m_nextLocalId++;
    branch.parentLocalId = parent.localId;
    branch.record.parentRunId = parent.record.id > 0 ? std::optional<int64_t>(parent.record.id) : std::nullopt;
    branch.record.branchTokenIndex = step;
    branch.record.settings = parent.record.settings;
    branch.record.settings.maxTokens = std::max(1, parent.record.settings.maxTokens - step - 1);
    branch.record.promptText = parent.record.promptText;
    branch.record.promptTokens = parent.record.promptTokens;
    branch.mode = parent.mode;
    branch.userText = parent.userText;
    branch.systemPrompt = parent.systemPrompt;
    branch.history = parent.history;
    branch.modelPath = model->path;
    branch.modelName = model->name;
    branch.running = true;
    branch.record.tokens.assign(parent.record.tokens.begin(), parent.record.tokens.begin() + step);
    // The chosen alternative takes the drawn token's place; its step's
    // distribution (alternatives, stages) is the same one.
    engine::GeneratedToken chosen = at;
    chosen.id = alternative;
    chosen.sample.token = alternative;
    chosen.sample.logprob = alt->logprob;
    chosen.sample.greedy = false;
    chosen.sample.probability = 0.0f;
    for (const auto& c : at.sample.stages[engine::SamplerStageKind::Final].top)
        if (c.id == alternative) chosen.sample.probability = c.prob;
    chosen.text = model->model->tokenizer().tokenText(alternative);
    branch.record.tokens.push_back(chosen);

    GenerationLane lane;
    lane.request.prompt = parent.record.promptTokens;
    for (const auto& t : branch.record.tokens) lane.request.prompt.push_back(t.id);
    lane.request.sampling = branch.record.settings;
    lane.model = model->model;
    lane.capture = recordsInside();

    supersedeRunning();
    const int card = stack->addRun(std::move(branch), model->model);
    m_playCards = {card};
    m_playJob = m_engine->generate({std::move(lane)});
    stack->view(card)->setSelectedIndex(step);
    m_tabs->setCurrentWidget(m_playground);
    updateActions();
}

void MainWindow::onTokens(quint64 job, int lane, const TokenBatch& tokens, const StreamStats& stats) {
    if (job == m_playJob && lane < int(m_playCards.size())) {
        m_playground->runStack()->appendTokens(m_playCards[size_t(lane)], tokens);
    } else if (job == m_compareJob) {
        onCompareTokens(lane, tokens);
    }
    m_status->setStats(stats);
}

void MainWindow::onLaneFinished(quint64 job, int lane, const LaneOutcome& outcome) {
    m_status->setStats(outcome.stats);
    showDeviceNote(outcome);
    if (job == m_playJob && lane < int(m_playCards.size())) finishPlaygroundRun(m_playCards[size_t(lane)], outcome);
    else if (job == m_compareJob) onCompareLaneFinished(lane, outcome);
}

void MainWindow::finishPlaygroundRun(int card, const LaneOutcome& outcome) {
    RunStack* stack = m_playground->runStack();
    if (card < 0 || card >= stack->count()) return;
    PlaygroundRun& run = stack->run(card);
    auto& r = run.record;
    if (!outcome.ok) {
        run.error = outcome.error;
        stack->finishRun(card);
        showMessage(MessageBanner::Level::Error, outcome.error);
        return;
    }
    r.stopReason = outcome.stopReason;
    r.seed = outcome.seed;
    r.prefillSeconds = outcome.prefillSeconds;
    r.decodeSeconds = outcome.decodeSeconds;
    r.prefillTokensPerSecond = outcome.prefillTokensPerSecond;
    r.decodeTokensPerSecond = outcome.decodeTokensPerSecond;
    r.reusedPromptTokens = outcome.reusedPromptTokens;
    r.hardware = outcome.hardware.toStdString();
    r.createdAt = QDateTime::currentMSecsSinceEpoch();
    std::string text = outcome.text.toStdString();
    if (run.isBranch()) {
        // The inherited tokens and the chosen alternative were part of the prompt.
        std::vector<int32_t> head;
        for (int i = 0; i <= r.branchTokenIndex && i < int(r.tokens.size()); ++i) head.push_back(r.tokens[size_t(i)].id);
        if (const ModelInfo* model = m_engine->model()) text = model->model->tokenizer().decode(head, true) + text;
    }
    r.outputText = text;
    stack->finishRun(card);
    if (outcome.capture) showCapture(outcome.capture, stack->modelOf(card), int(r.promptTokens.size()));
    if (run.mode == projects::PromptMode::Chat) {
        if (run.isBranch()) m_playground->replaceLastReply(QString::fromStdString(text));
        else m_playground->commitExchange(run.userText, QString::fromStdString(text));
    }
    saveRun(run);
}

void MainWindow::onGenerationFinished(quint64 job) {
    if (job == m_playJob) m_playJob = 0;
    if (job == m_compareJob) m_compareJob = 0;
    updateActions();
    // Select the last token so the inspector shows something useful.
    RunStack* stack = m_playground->runStack();
    if (stack->selectedRun() < 0 && stack->count() > 0 && stack->view(0)->count() > 0) {
        stack->selectToken(stack->count() - 1, stack->view(stack->count() - 1)->count() - 1);
    }
}

void MainWindow::onTokenSelected(int runIndex, int tokenIndex) {
    RunStack* stack = m_playground->runStack();
    if (runIndex < 0 || runIndex >= stack->count()) return;
    const PlaygroundRun& run = stack->run(runIndex);
    if (tokenIndex < 0 || tokenIndex >= int(run.record.tokens.size())) {
        m_inspector->clear();
        return;
    }
    const ModelInfo* model = m_engine->model();
    m_inspectingPlayground = true;
    m_inspector->showToken(run.record.tokens[size_t(tokenIndex)], tokenIndex, stack->modelOf(runIndex));
    m_inspector->setBranchEnabled(model && !m_engine->isLoading() && !run.running);
    followTokenInside(tokenIndex);
}

}  // namespace glassbox::ui
