// Projects on the real model: runs (plain, branch, comparison, chat) are
// saved as they finish; Save As, closing and reopening the project brings
// every run back identical (same tokens, probabilities, alternatives and
// sampler stages, drawn the same); drafts autosave within 2 s of the last
// edit; after an unclean exit the next start offers to restore them.
#include <QProcess>
#include <QPushButton>
#include <QSignalSpy>
#include <QtTest>
#include <map>

#include "tests/ui/ui_test_support.h"
#include "ui/compare_model.h"
#include "ui/compare_widget.h"
#include "ui/history_model.h"
#include "ui/history_panel.h"
#include "ui/message_banner.h"
#include "ui/token_inspector.h"
#include "viz/token_view.h"

GLASSBOX_UI_TEST_ENVIRONMENT

using namespace glassbox;
using namespace glassbox::ui;

namespace {

const char* kCrashChildEnv = "GLASSBOX_UI_CRASH_CHILD";
const QString kUnsavedPrompt = QStringLiteral("words typed just before the crash");

struct Snapshot {
    projects::RunRecord record;
    std::vector<viz::TokenCell> cells;
};

bool sameStages(const engine::SampleResult& a, const engine::SampleResult& b) {
    if (a.hasStages != b.hasStages) return false;
    if (!a.hasStages) return true;
    for (size_t s = 0; s < engine::kSamplerStageCount; ++s) {
        const auto& x = a.stages.stages[s];
        const auto& y = b.stages.stages[s];
        if (x.kind != y.kind || x.active != y.active || x.survivors != y.survivors || x.top.size() != y.top.size())
            return false;
        for (size_t i = 0; i < x.top.size(); ++i)
            if (x.top[i].id != y.top[i].id || x.top[i].logit != y.top[i].logit || x.top[i].prob != y.top[i].prob)
                return false;
    }
    return true;
}

QString compareRuns(const Snapshot& want, const PlaygroundRun& got, const viz::TokenView* view) {
    const auto& a = want.record;
    const auto& b = got.record;
    if (a.promptTokens != b.promptTokens) return QStringLiteral("prompt tokens differ");
    if (a.tokens.size() != b.tokens.size()) return QStringLiteral("token counts differ");
    if (a.seed != b.seed || a.stopReason != b.stopReason) return QStringLiteral("seed or stop reason differ");
    if (a.parentRunId != b.parentRunId || a.branchTokenIndex != b.branchTokenIndex)
        return QStringLiteral("branch origin differs");
    for (size_t i = 0; i < a.tokens.size(); ++i) {
        const auto& x = a.tokens[i];
        const auto& y = b.tokens[i];
        if (x.id != y.id || x.sample.logprob != y.sample.logprob || x.sample.probability != y.sample.probability ||
            x.sample.greedy != y.sample.greedy)
            return QStringLiteral("token %1 differs").arg(i);
        if (x.sample.topAlternatives.size() != y.sample.topAlternatives.size())
            return QStringLiteral("alternatives of token %1 differ").arg(i);
        for (size_t k = 0; k < x.sample.topAlternatives.size(); ++k)
            if (x.sample.topAlternatives[k].id != y.sample.topAlternatives[k].id ||
                x.sample.topAlternatives[k].logprob != y.sample.topAlternatives[k].logprob)
                return QStringLiteral("alternative %1 of token %2 differs").arg(k).arg(i);
        if (!sameStages(x.sample, y.sample)) return QStringLiteral("stages of token %1 differ").arg(i);
    }
    if (!want.cells.empty()) {
        if (int(want.cells.size()) != view->count()) return QStringLiteral("shown token counts differ");
        for (size_t i = 0; i < want.cells.size(); ++i) {
            const auto& c = view->cell(int(i));
            if (c.id != want.cells[i].id || c.text != want.cells[i].text ||
                c.probability != want.cells[i].probability || c.muted != want.cells[i].muted ||
                c.marked != want.cells[i].marked)
                return QStringLiteral("shown token %1 differs").arg(i);
        }
    }
    return {};
}

// The child process: type a prompt, let it autosave, then die without closing.
[[noreturn]] void crashAfterDraft(const QString& project) {
    MainWindow w(uitest::options(project));
    w.show();
    QSignalSpy saved(w.project(), &ProjectController::draftSaved);
    if (!uitest::waitForProject(w)) std::_Exit(2);
    w.playground()->setPromptText(kUnsavedPrompt);
    if (!saved.wait(5000)) std::_Exit(4);
    std::_Exit(3);
}

}  // namespace

class TestProject : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void savesRunsAsTheyFinish();
    void reopensEveryRunIdentically();
    void autosavesDraftsWithinTwoSeconds();
    void offersRestoreAfterUncleanExit();

private:
    std::map<int64_t, Snapshot> m_snapshots;
    QString m_project;
    QString m_copy;
};

void TestProject::initTestCase() {
    if (!qEnvironmentVariableIsEmpty(kCrashChildEnv)) crashAfterDraft(qEnvironmentVariable(kCrashChildEnv));
    m_project = uitest::scratch(QStringLiteral("runs.glassbox"));
    m_copy = uitest::scratch(QStringLiteral("runs-copy.glassbox"));
}

void TestProject::savesRunsAsTheyFinish() {
    auto* w = new MainWindow(uitest::options(m_project, uitest::modelPath()));
    w->show();
    QVERIFY(uitest::waitForModel(*w));
    QVERIFY(uitest::waitForProject(*w));
    RunStack* stack = w->playground()->runStack();

    // A plain run and a branch of it.
    QVERIFY(uitest::runCompletion(*w, QStringLiteral("My favourite fruit is"), 12, 21));
    QTRY_VERIFY_WITH_TIMEOUT(stack->run(0).record.id > 0, 10000);
    stack->selectToken(0, 1);
    int row = 0;
    while (w->inspector()->alternativeId(row) == stack->run(0).record.tokens[1].id) ++row;
    w->branchAt(0, 1, w->inspector()->alternativeId(row));
    QVERIFY(uitest::waitForIdle(*w));
    QTRY_VERIFY_WITH_TIMEOUT(stack->run(1).record.id > 0, 10000);
    for (int i = 0; i < stack->count(); ++i) m_snapshots[stack->run(i).record.id] = {stack->run(i).record, stack->view(i)->cells()};

    // A chat turn.
    w->playground()->setMode(projects::PromptMode::Chat);
    w->playground()->setSystemPrompt(QStringLiteral("Answer in one sentence."));
    w->playground()->setPromptText(QStringLiteral("Why is the sky blue?"));
    w->samplerPanel()->setSettings(uitest::quickSettings(10, 5));
    w->runPrompt();
    QVERIFY(uitest::waitForIdle(*w));
    QTRY_VERIFY_WITH_TIMEOUT(stack->run(0).record.id > 0, 10000);
    m_snapshots[stack->run(0).record.id] = {stack->run(0).record, stack->view(0)->cells()};
    w->playground()->setMode(projects::PromptMode::Completion);
    w->playground()->setPromptText(QStringLiteral("My favourite fruit is"));

    // A comparison of two settings: two runs in one compare group.
    w->compare()->setMaxTokens(6);
    w->runCompare();
    QVERIFY(uitest::waitForIdle(*w));
    QTRY_COMPARE_WITH_TIMEOUT(w->savedRunCount(), 5, 10000);
    QTRY_COMPARE_WITH_TIMEOUT(w->history()->model()->rowCount(), 5, 10000);
    QCOMPARE(w->compareRuns().size(), size_t(2));
    for (int lane = 0; lane < 2; ++lane) {
        const PlaygroundRun& run = w->compareRuns()[size_t(lane)];
        QVERIFY(run.record.id > 0);
        QCOMPARE(int(run.record.tokens.size()), w->compare()->model()->laneLength(lane));
        m_snapshots[run.record.id] = {run.record, {}};
    }
    QCOMPARE(m_snapshots.size(), size_t(5));
    int grouped = 0;
    for (int r = 0; r < w->history()->model()->rowCount(); ++r)
        if (w->history()->model()->runAt(r).compareGroup) ++grouped;
    QCOMPARE(grouped, 2);

    // Save As continues on the copy; closing finishes every write.
    QSignalSpy savedAs(w->project(), &ProjectController::savedAs);
    w->saveProjectAs(m_copy);
    QVERIFY(savedAs.wait(10000));
    QCOMPARE(w->project()->path(), QFileInfo(m_copy).absoluteFilePath());
    delete w;
}

void TestProject::reopensEveryRunIdentically() {
    for (const QString& path : {m_copy, m_project}) {
        auto* w = new MainWindow(uitest::options(path, uitest::modelPath()));
        w->show();
        QVERIFY(uitest::waitForModel(*w));
        QVERIFY(uitest::waitForProject(*w));
        QTRY_COMPARE_WITH_TIMEOUT(w->history()->model()->rowCount(), 5, 10000);
        QVERIFY(!w->banner()->isVisible() || w->banner()->level() != MessageBanner::Level::Error);
        for (const auto& [id, want] : m_snapshots) {
            w->history()->activateRun(id);
            RunStack* stack = w->playground()->runStack();
            QTRY_VERIFY_WITH_TIMEOUT(stack->count() == 1 && stack->run(0).record.id == id, 10000);
            const QString diff = compareRuns(want, stack->run(0), stack->view(0));
            QVERIFY2(diff.isEmpty(), qPrintable(QStringLiteral("run %1: %2").arg(id).arg(diff)));
            // The inspector shows the same alternatives as before.
            stack->selectToken(0, 0);
            QCOMPARE(w->inspector()->alternativeCount(), int(want.record.tokens[0].sample.topAlternatives.size()));
            // The prompt comes back as it was written (chat: with its system prompt).
            if (stack->run(0).mode == projects::PromptMode::Chat) {
                QCOMPARE(w->playground()->mode(), projects::PromptMode::Chat);
                QCOMPARE(w->playground()->systemPrompt(), QStringLiteral("Answer in one sentence."));
                QCOMPARE(w->playground()->promptText(), QStringLiteral("Why is the sky blue?"));
            } else {
                QCOMPARE(w->playground()->promptText(), QStringLiteral("My favourite fruit is"));
            }
        }
        delete w;
    }
}

void TestProject::autosavesDraftsWithinTwoSeconds() {
    MainWindow w(uitest::options(m_copy));
    w.show();
    QVERIFY(uitest::waitForProject(w));
    QSignalSpy saved(w.project(), &ProjectController::draftSaved);
    QElapsedTimer timer;
    // A burst of edits: one save, after the last edit.
    for (const char* text : {"a", "a draft", "a draft prompt"}) {
        w.playground()->setPromptText(QString::fromLatin1(text));
        QTest::qWait(150);
    }
    timer.start();
    QVERIFY(saved.wait(3000));
    const qint64 ms = timer.elapsed();
    qInfo("draft committed %lld ms after the last edit", ms);
    QVERIFY(ms <= 2000);
    QTest::qWait(300);
    QCOMPARE(saved.count(), 1);
}

void TestProject::offersRestoreAfterUncleanExit() {
    const QString project = uitest::scratch(QStringLiteral("crashed.glassbox"));
    {
        MainWindow w(uitest::options(project));
        QVERIFY(uitest::waitForProject(w));
    }
    QProcess child;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QString::fromLatin1(kCrashChildEnv), project);
    child.setProcessEnvironment(env);
    child.start(QCoreApplication::applicationFilePath(), {});
    QVERIFY(child.waitForFinished(30000));
    QCOMPARE(child.exitCode(), 3);

    MainWindow w(uitest::options(project));
    w.show();
    QVERIFY(uitest::waitForProject(w));
    QTRY_VERIFY_WITH_TIMEOUT(w.banner()->isVisible(), 5000);
    QVERIFY(w.banner()->text().contains(QStringLiteral("did not close properly")));
    QVERIFY(w.banner()->actionButton()->isVisible());
    QVERIFY(w.playground()->promptText().isEmpty());
    QTest::mouseClick(w.banner()->actionButton(), Qt::LeftButton);
    QCOMPARE(w.playground()->promptText(), kUnsavedPrompt);
}

QTEST_MAIN(TestProject)
#include "tst_project.moc"
