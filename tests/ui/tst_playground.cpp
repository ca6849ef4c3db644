// The workbench's heart on the real model: load and cancel a load, run a
// prompt, inspect a token's alternatives and sampler stages, branch from an
// alternative, stop mid-generation, and chat.
#include <QAbstractItemModelTester>
#include <QSignalSpy>
#include <QTableWidget>
#include <QtTest>
#include <cmath>

#include "engine/tokenizer.h"
#include "tests/ui/ui_test_support.h"
#include "ui/prompt_tokens_panel.h"
#include "ui/status_panel.h"
#include "ui/token_inspector.h"
#include "viz/stages_chart.h"
#include "viz/token_view.h"

GLASSBOX_UI_TEST_ENVIRONMENT

using namespace glassbox;
using namespace glassbox::ui;

class TestPlayground : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void cleanupTestCase();
    void loadsModelWithProgress();
    void cancelsLoadAndKeepsModel();
    void runsPromptAndShowsProbabilities();
    void showsPromptTokens();
    void inspectsAlternativesAndStages();
    void branchesFromAlternative();
    void stopsWithinOneToken();
    void chatsWithModelFormat();

private:
    MainWindow* m_window = nullptr;
};

void TestPlayground::initTestCase() {
    QVERIFY2(QFile::exists(uitest::modelPath()), "the default model is missing");
    m_window = new MainWindow(uitest::options(uitest::scratch(QStringLiteral("playground.glassbox"))));
    m_window->show();
    QVERIFY(QTest::qWaitForWindowExposed(m_window));
    m_window->activateWindow();
    QVERIFY(QTest::qWaitForWindowActive(m_window));
    QVERIFY(uitest::waitForProject(*m_window));
}

void TestPlayground::cleanupTestCase() { delete m_window; }

void TestPlayground::loadsModelWithProgress() {
    QSignalSpy progress(m_window->engine(), &EngineClient::loadProgress);
    m_window->openModel(uitest::modelPath());
    QVERIFY(m_window->statusPanel()->loadingVisible());
    QVERIFY(m_window->statusPanel()->cancelButton()->isVisible());
    QVERIFY(uitest::waitForModel(*m_window));
    QVERIFY(progress.count() >= 2);
    QVERIFY(!m_window->statusPanel()->loadingVisible());
    const ModelInfo* model = m_window->engine()->model();
    QCOMPARE(model->architecture, QStringLiteral("llama"));
    QVERIFY(m_window->statusPanel()->deviceText().contains(QStringLiteral("CPU")));
    QVERIFY(m_window->statusPanel()->threadsText().contains(QString::number(model->threads)));
    QVERIFY(m_window->statusPanel()->contextText().contains(QString::number(model->contextSize)));
    QVERIFY(m_window->windowTitle().contains(model->name));
}

void TestPlayground::cancelsLoadAndKeepsModel() {
    const auto before = m_window->engine()->model()->model;
    m_window->openModel(uitest::modelPath());
    QVERIFY(m_window->engine()->isLoading());
    m_window->cancelModelLoad();
    QVERIFY(!m_window->engine()->isLoading());
    QVERIFY(!m_window->statusPanel()->loadingVisible());
    QVERIFY(m_window->banner()->text().contains(QStringLiteral("cancelled")));
    // Whatever the worker finishes later is dropped: the model stays.
    QTest::qWait(1500);
    QCOMPARE(m_window->engine()->model()->model, before);
    QVERIFY(m_window->action(QStringLiteral("run"))->isEnabled());
}

void TestPlayground::runsPromptAndShowsProbabilities() {
    QVERIFY(uitest::runCompletion(*m_window, QStringLiteral("The three primary colours are"), 12));
    RunStack* stack = m_window->playground()->runStack();
    QCOMPARE(stack->count(), 1);
    const PlaygroundRun& run = stack->run(0);
    QVERIFY(!run.running);
    QVERIFY(run.record.tokens.size() >= 1 && run.record.tokens.size() <= 12);
    QCOMPARE(stack->view(0)->count(), int(run.record.tokens.size()));
    for (int i = 0; i < stack->view(0)->count(); ++i) {
        const viz::TokenCell& cell = stack->view(0)->cell(i);
        QVERIFY(cell.probability > 0.0 && cell.probability <= 1.0);
        QCOMPARE(cell.id, run.record.tokens[size_t(i)].id);
        QVERIFY(stack->view(0)->tooltipFor(i).contains(QStringLiteral("id %1").arg(cell.id)));
    }
    QVERIFY(run.record.seed == 7);
    QVERIFY(!run.record.outputText.empty());
    QVERIFY(m_window->statusPanel()->speedText().contains(QStringLiteral("Decode")));
    QVERIFY(!m_window->statusPanel()->speedText().contains(QStringLiteral("Decode: – ")));
    // Entropy colouring is one switch away.
    m_window->playground()->setColorMode(viz::ColorMode::Entropy);
    QCOMPARE(stack->view(0)->colorMode(), viz::ColorMode::Entropy);
    m_window->playground()->setColorMode(viz::ColorMode::Probability);
    // The run reached the project.
    QTRY_VERIFY_WITH_TIMEOUT(stack->run(0).record.id > 0, 10000);
}

void TestPlayground::showsPromptTokens() {
    PromptTokensPanel* panel = m_window->promptTokens();
    QTRY_VERIFY_WITH_TIMEOUT(panel->view()->count() > 0, 5000);
    const auto& tok = m_window->engine()->model()->model->tokenizer();
    const auto ids = tok.encode("The three primary colours are", true, false);
    QCOMPARE(panel->view()->count(), int(ids.size()));
    for (int i = 0; i < panel->view()->count(); ++i) {
        QCOMPARE(panel->view()->cell(i).id, ids[size_t(i)]);
        QVERIFY(panel->view()->tooltipFor(i).contains(QStringLiteral("id %1").arg(ids[size_t(i)])));
    }
    QVERIFY(panel->summary().contains(QStringLiteral("%1 tokens").arg(ids.size())));
}

void TestPlayground::inspectsAlternativesAndStages() {
    RunStack* stack = m_window->playground()->runStack();
    viz::TokenView* view = stack->view(0);
    // Click the second token like a user would.
    const QRect r = view->cellRect(1);
    QVERIFY(r.isValid());
    QTest::mouseClick(view->viewport(), Qt::LeftButton, {}, r.center());
    TokenInspector* inspector = m_window->inspector();
    QCOMPARE(inspector->step(), 1);
    QVERIFY(inspector->summaryText().contains(QStringLiteral("Step 1")));
    QCOMPARE(inspector->alternativeCount(), 10);
    double sum = 0;
    for (int row = 0; row < inspector->alternativeCount(); ++row) {
        const double p = inspector->alternativeProbability(row);
        QVERIFY(p > 0 && p <= 1);
        if (row > 0) QVERIFY(p <= inspector->alternativeProbability(row - 1) + 1e-9);
        sum += p;
    }
    QVERIFY(sum <= 1.0 + 1e-6);
    const QStringList series = inspector->chart()->seriesNames();
    QVERIFY(series.size() >= 5);
    QVERIFY(series.first().startsWith(QStringLiteral("raw")));
    QVERIFY(series.join(QLatin1Char('|')).contains(QStringLiteral("temperature")));
    QVERIFY(series.join(QLatin1Char('|')).contains(QStringLiteral("top-k")));
    QVERIFY(series.join(QLatin1Char('|')).contains(QStringLiteral("min-p")));
    QVERIFY(series.last().startsWith(QStringLiteral("final")));
    // The final distribution sums to at most 1 and holds the chosen token.
    const auto& chosen = stack->run(0).record.tokens[1];
    const auto& ids = inspector->chart()->candidates();
    const auto at = std::find(ids.begin(), ids.end(), chosen.id);
    QVERIFY(at != ids.end());
    const double finalProb = inspector->chart()->seriesValues(int(series.size()) - 1)[size_t(at - ids.begin())];
    QVERIFY(finalProb > 0);
    // Probability and logit views of the same stages.
    inspector->chart()->setScale(viz::StagesChart::Scale::Logit);
    QCOMPARE(inspector->chart()->seriesNames().size(), series.size());
    inspector->chart()->setScale(viz::StagesChart::Scale::Probability);
}

void TestPlayground::branchesFromAlternative() {
    RunStack* stack = m_window->playground()->runStack();
    const PlaygroundRun parent = stack->run(0);
    TokenInspector* inspector = m_window->inspector();
    stack->selectToken(0, 2);
    QCOMPARE(inspector->step(), 2);
    int row = 0;
    while (inspector->alternativeId(row) == parent.record.tokens[2].id) ++row;
    const int32_t alt = inspector->alternativeId(row);
    inspector->selectAlternative(row);
    QVERIFY(inspector->branchButton()->isEnabled());
    QTest::mouseClick(inspector->branchButton(), Qt::LeftButton);
    QVERIFY(m_window->engine()->isGenerating());
    QVERIFY(uitest::waitForIdle(*m_window));

    QCOMPARE(stack->count(), 2);  // the original stays visible
    const PlaygroundRun& branch = stack->run(1);
    QCOMPARE(branch.record.branchTokenIndex, 2);
    QVERIFY(branch.record.tokens.size() > 3);
    for (int i = 0; i < 2; ++i) QCOMPARE(branch.record.tokens[size_t(i)].id, parent.record.tokens[size_t(i)].id);
    QCOMPARE(branch.record.tokens[2].id, alt);
    QVERIFY(stack->view(1)->cell(0).muted);
    QVERIFY(stack->view(1)->cell(2).marked);
    // Only the new tokens were computed: the prompt and the tokens before
    // the branch point came from the cache.
    QVERIFY(branch.record.reusedPromptTokens >= int(parent.record.promptTokens.size()));
    QVERIFY(stack->headerText(1).contains(QStringLiteral("branch of")));
    QTRY_VERIFY_WITH_TIMEOUT(stack->run(1).record.id > 0 && stack->run(1).record.parentRunId == parent.record.id,
                             10000);
}

void TestPlayground::stopsWithinOneToken() {
    m_window->playground()->setPromptText(QStringLiteral("Once upon a time"));
    m_window->samplerPanel()->setSettings(uitest::quickSettings(400));
    m_window->runPrompt();
    RunStack* stack = m_window->playground()->runStack();
    QTRY_VERIFY_WITH_TIMEOUT(stack->count() == 1 && stack->view(0)->count() >= 3, 30000);
    // Esc is the Stop shortcut.
    QTest::keyClick(QApplication::focusWidget() ? QApplication::focusWidget() : m_window, Qt::Key_Escape);
    const int seenAtStop = stack->view(0)->count();
    QElapsedTimer timer;
    timer.start();
    QVERIFY(uitest::waitForIdle(*m_window, 5000));
    const qint64 stopMs = timer.elapsed();
    const PlaygroundRun& run = stack->run(0);
    QCOMPARE(run.record.stopReason, engine::StopReason::Cancelled);
    // Tokens reach the window in batches at most every 17 ms, so when Stop is
    // pressed the window may not yet show the last batch (at ~100 tok/s up to
    // 2-3 tokens) plus the token being computed; the engine stops after that one.
    QVERIFY2(int(run.record.tokens.size()) <= seenAtStop + 4,
             qPrintable(QStringLiteral("%1 tokens after stop at %2").arg(run.record.tokens.size()).arg(seenAtStop)));
    qInfo("stop took %lld ms, %d token(s) after the stop request", stopMs, int(run.record.tokens.size()) - seenAtStop);
    QVERIFY(run.record.tokens.size() < 400);
}

void TestPlayground::chatsWithModelFormat() {
    PlaygroundWidget* pg = m_window->playground();
    pg->setMode(projects::PromptMode::Chat);
    pg->setConversation({});
    pg->setSystemPrompt(QStringLiteral("You are a concise assistant."));
    pg->setPromptText(QStringLiteral("What is the capital of France?"));
    auto prepared = pg->prepare();
    QVERIFY(prepared.ok());
    QVERIFY(prepared->text.find("<|im_start|>system") != std::string::npos);
    QVERIFY(prepared->text.find("<|im_start|>assistant") != std::string::npos);
    m_window->samplerPanel()->setSettings(uitest::quickSettings(16));
    m_window->runPrompt();
    QVERIFY(uitest::waitForIdle(*m_window));
    QCOMPARE(pg->conversation().size(), size_t(2));
    QCOMPARE(pg->conversation()[0].role, std::string("user"));
    QCOMPARE(pg->conversation()[1].role, std::string("assistant"));
    QVERIFY(!pg->conversation()[1].content.empty());
    QVERIFY(pg->promptText().isEmpty());
    pg->setMode(projects::PromptMode::Completion);
}

QTEST_MAIN(TestPlayground)
#include "tst_playground.moc"
