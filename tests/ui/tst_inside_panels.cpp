// The inside-the-model tabs in the real window on the real model: a
// playground run records a capture that reaches all four panels, selecting a
// generated token moves their selection to the step that produced it, the
// logit lens is computed on the engine thread (with the last point equal to
// the model's own top token), and switching recording off records nothing.
#include <QFileInfo>
#include <QTabWidget>
#include <QtTest>

#include "engine/capture.h"
#include "tests/ui/ui_test_support.h"
#include "ui/attention_panel.h"
#include "ui/budget_panel.h"
#include "ui/prompt_drift_view.h"
#include "ui/quant_lab_panel.h"
#include "ui/logit_lens_panel.h"
#include "ui/residual_panel.h"
#include "ui/shapes_panel.h"
#include "viz/token_view.h"

GLASSBOX_UI_TEST_ENVIRONMENT

using namespace glassbox;
using namespace glassbox::ui;

class TestInsidePanels : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() {
        QVERIFY2(QFile::exists(uitest::modelPath()), "the default model is missing");
        m_window = new MainWindow(uitest::options(uitest::scratch(QStringLiteral("inside.glassbox")), uitest::modelPath()));
        m_window->show();
        QVERIFY(QTest::qWaitForWindowExposed(m_window));
        QVERIFY(uitest::waitForProject(*m_window));
        QVERIFY(uitest::waitForModel(*m_window));
    }
    void cleanupTestCase() { delete m_window; }

    void memoryTabPlansTheLoadedModel() {
        BudgetPanel* budget = m_window->budgetPanel();
        QVERIFY(uitest::waitInEventLoop([&] { return budget->hasPlan() && !budget->isBusy(); }, 10000));
        QCOMPARE(budget->source(), BudgetPanel::Source::LoadedModel);
        QCOMPARE(budget->plan().kvBytesPerToken, uint64_t(2 * 30 * 3 * 64 * 2));
    }

    void quantizationTabHasTheModel() {
        QuantLabPanel* lab = m_window->quantLabPanel();
        QVERIFY(lab->referenceText().contains(QStringLiteral("this model")));
        QVERIFY(!lab->isBusy());
        // No reference yet: the prompt comparison says what it needs.
        QVERIFY(!m_window->promptDriftView()->compareButton()->isEnabled());
        // The F16 variant exists where scripts/make_variants.py has been run.
        const QString f16 = QFileInfo(uitest::modelPath()).dir().filePath(QStringLiteral("SmolLM2-135M-Instruct.F16.gguf"));
        if (!QFile::exists(f16)) return;
        lab->loadReference(f16);
        QVERIFY(uitest::waitInEventLoop([&] { return lab->referenceModel() && !lab->isBusy(); }, 30000));
        QVERIFY(uitest::waitInEventLoop([&] { return m_window->promptDriftView()->compareButton()->isEnabled(); }, 2000));
    }

    void runReachesEveryPanel() {
        QVERIFY(m_window->action(QStringLiteral("recordInside"))->isChecked());
        QVERIFY(uitest::runCompletion(*m_window, QStringLiteral("The capital of France is"), 8));
        auto cap = m_window->currentCapture();
        QVERIFY(cap);
        const RunStack* stack = m_window->playground()->runStack();
        const auto& record = stack->run(0).record;
        // Every token that was fed back is recorded: the prompt and all
        // generated tokens but the last.
        QCOMPARE(cap->positions(), int(record.promptTokens.size() + record.tokens.size()) - 1);
        QVERIFY(m_window->attentionPanel()->isEnabled());
        QCOMPARE(m_window->attentionPanel()->capture(), cap);
        QVERIFY(uitest::waitInEventLoop([&] { return !m_window->attentionPanel()->redrawPending(); }, 10000));
        QCOMPARE(m_window->insidePosition(), cap->positions() - 1);
        QCOMPARE(m_window->attentionPanel()->selectedPosition(), cap->positions() - 1);
        QCOMPARE(m_window->shapesPanel()->isEnabled(), true);
        QCOMPARE(m_window->residualPanel()->isEnabled(), true);
    }

    void selectingATokenMovesThePanels() {
        auto cap = m_window->currentCapture();
        RunStack* stack = m_window->playground()->runStack();
        const int prompt = int(stack->run(0).record.promptTokens.size());
        stack->selectToken(0, 2);  // the third generated token ...
        QCOMPARE(m_window->insidePosition(), prompt + 1);  // ... came out of step prompt + 1
        QCOMPARE(m_window->attentionPanel()->selectedPosition(), prompt + 1);
        QCOMPARE(m_window->logitLensPanel()->selectedPosition(), prompt + 1);
        QVERIFY(cap->tokens()[size_t(prompt + 2)] == stack->run(0).record.tokens[2].id);
    }

    void lensIsComputedOnTheEngineThread() {
        LogitLensPanel* lens = m_window->logitLensPanel();
        QVERIFY(uitest::waitInEventLoop([&] { return !lens->isComputing() && !lens->chartProbabilities().empty(); },
                                        30000));
        // The last point is the model's own prediction: probability of the
        // final token there equals its top probability, rank 1.
        QCOMPARE(lens->chartRanks().back(), 1.0);
        QVERIFY(!lens->isStale());
    }

    void recordingOffRecordsNothing() {
        const auto before = m_window->currentCapture();
        m_window->action(QStringLiteral("recordInside"))->setChecked(false);
        QVERIFY(uitest::runCompletion(*m_window, QStringLiteral("Once upon a time"), 4));
        QCOMPARE(m_window->currentCapture(), before);  // nothing new was recorded
        m_window->action(QStringLiteral("recordInside"))->setChecked(true);
        QVERIFY(uitest::runCompletion(*m_window, QStringLiteral("Once upon a time"), 4));
        QVERIFY(m_window->currentCapture() != before);
        const auto& record = m_window->playground()->runStack()->run(0).record;
        QCOMPARE(m_window->currentCapture()->positions(), int(record.promptTokens.size() + record.tokens.size()) - 1);
    }

private:
    MainWindow* m_window = nullptr;
};

QTEST_MAIN(TestInsidePanels)
#include "tst_inside_panels.moc"
