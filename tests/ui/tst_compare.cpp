// Compare on the real model: the same prompt with two (and four) sampler
// settings side by side, aligned by step; greedy lanes match a greedy
// playground run token for token; a lane can run a second model.
#include <QAbstractItemModelTester>
#include <QTableView>
#include <QtTest>

#include "support/synthetic_model.h"
#include "tests/ui/ui_test_support.h"
#include "ui/compare_model.h"
#include "ui/compare_widget.h"
#include "ui/history_model.h"
#include "ui/history_panel.h"
#include "ui/message_banner.h"
#include "ui/token_inspector.h"

GLASSBOX_UI_TEST_ENVIRONMENT

using namespace glassbox;
using namespace glassbox::ui;

class TestCompare : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void cleanupTestCase();
    void comparesTwoSettingsAlignedByStep();
    void greedyLaneMatchesPlayground();
    void comparesFourLanes();
    void comparesTwoModels();

private:
    MainWindow* m_window = nullptr;
    std::vector<int32_t> m_greedyLane;
};

void TestCompare::initTestCase() {
    m_window = new MainWindow(uitest::options(uitest::scratch(QStringLiteral("compare.glassbox")), uitest::modelPath()));
    m_window->show();
    QVERIFY(uitest::waitForModel(*m_window));
    QVERIFY(uitest::waitForProject(*m_window));
    m_window->playground()->setPromptText(QStringLiteral("The best way to learn a language is"));
}

void TestCompare::cleanupTestCase() { delete m_window; }

void TestCompare::comparesTwoSettingsAlignedByStep() {
    CompareWidget* compare = m_window->compare();
    QCOMPARE(compare->laneCount(), 2);
    QAbstractItemModelTester tester(compare->model(), QAbstractItemModelTester::FailureReportingMode::QtTest);
    compare->setMaxTokens(10);
    m_window->runCompare();
    QVERIFY(m_window->engine()->isGenerating());
    QCOMPARE(m_window->centralTabs()->currentWidget(), compare);
    QVERIFY(uitest::waitForIdle(*m_window));
    CompareModel* model = compare->model();
    QCOMPARE(model->columnCount(), 2);
    QVERIFY(model->laneLength(0) > 0 && model->laneLength(0) <= 10);
    QVERIFY(model->laneLength(1) > 0 && model->laneLength(1) <= 10);
    QCOMPARE(model->rowCount(), std::max(model->laneLength(0), model->laneLength(1)));
    QVERIFY(model->headerData(0, Qt::Horizontal).toString().contains(QStringLiteral("greedy")));
    QVERIFY(model->headerData(1, Qt::Horizontal).toString().contains(QStringLiteral("T 1.3")));
    // Row n holds each lane's n-th token.
    const auto& runs = m_window->compareRuns();
    QCOMPARE(runs.size(), size_t(2));
    for (int lane = 0; lane < 2; ++lane) {
        QCOMPARE(int(runs[size_t(lane)].record.tokens.size()), model->laneLength(lane));
        for (int step = 0; step < model->laneLength(lane); ++step) {
            QCOMPARE(model->data(model->index(step, lane), CompareModel::TokenIdRole).toInt(),
                     runs[size_t(lane)].record.tokens[size_t(step)].id);
            const double p = model->data(model->index(step, lane), CompareModel::ProbabilityRole).toDouble();
            QVERIFY(p > 0 && p <= 1);
        }
    }
    const int diverge = model->firstDivergence();
    if (diverge >= 0) QVERIFY(compare->divergenceText().contains(QString::number(diverge)));
    for (const auto& t : runs[0].record.tokens) m_greedyLane.push_back(t.id);
    // Clicking a cell shows that token in the inspector.
    QTableView* table = compare->table();
    QTest::mouseClick(table->viewport(), Qt::LeftButton, {}, table->visualRect(model->index(1, 1)).center());
    QCOMPARE(m_window->inspector()->step(), 1);
    QCOMPARE(m_window->inspector()->alternativeCount(), int(runs[1].record.tokens[1].sample.topAlternatives.size()));
    // Both lanes are saved as one comparison group.
    QTRY_COMPARE_WITH_TIMEOUT(m_window->history()->model()->rowCount(), 2, 10000);
    QCOMPARE(m_window->history()->model()->runAt(0).compareGroup, m_window->history()->model()->runAt(1).compareGroup);
    QVERIFY(m_window->history()->model()->runAt(0).compareGroup.has_value());
}

void TestCompare::greedyLaneMatchesPlayground() {
    engine::SamplerSettings greedy;
    greedy.temperature = 0.0f;
    greedy.maxTokens = 10;
    m_window->samplerPanel()->setSettings(greedy);
    m_window->runPrompt();
    QVERIFY(uitest::waitForIdle(*m_window));
    std::vector<int32_t> ids;
    for (const auto& t : m_window->playground()->runStack()->run(0).record.tokens) ids.push_back(t.id);
    QCOMPARE(ids, m_greedyLane);
}

void TestCompare::comparesFourLanes() {
    CompareWidget* compare = m_window->compare();
    compare->setLaneCount(4);
    QCOMPARE(compare->laneCount(), 4);
    for (int lane = 2; lane < 4; ++lane) {
        engine::SamplerSettings s = compare->laneSettings(lane)->settings();
        s.temperature = 0.5f + 0.5f * float(lane);
        s.seed = uint64_t(100 + lane);
        compare->laneSettings(lane)->setSettings(s);
    }
    compare->setMaxTokens(6);
    m_window->runCompare();
    QVERIFY(uitest::waitForIdle(*m_window));
    QCOMPARE(compare->model()->columnCount(), 4);
    for (int lane = 0; lane < 4; ++lane) QVERIFY(compare->model()->laneLength(lane) > 0);
    compare->setLaneCount(2);
}

void TestCompare::comparesTwoModels() {
    // A second, tiny model with its own (byte-level) vocabulary.
    const QString other = uitest::scratch(QStringLiteral("tiny.gguf"));
    QVERIFY(testing::writeSyntheticModel(other.toStdString(), {}).ok());
    CompareWidget* compare = m_window->compare();
    compare->setLaneModelPath(1, other);
    compare->setMaxTokens(5);
    m_window->runCompare();
    QVERIFY(uitest::waitForIdle(*m_window));
    QVERIFY2(!m_window->banner()->isVisible() || m_window->banner()->level() != MessageBanner::Level::Error,
             qPrintable(m_window->banner()->text()));
    QVERIFY(compare->model()->laneLength(0) > 0);
    QCOMPARE(compare->model()->laneLength(1), 5);
    QVERIFY(compare->model()->headerData(1, Qt::Horizontal).toString().contains(QStringLiteral("tiny.gguf")));
    // The second model saw the prompt through its own tokenizer.
    const auto& lane = m_window->compareRuns()[1];
    for (int32_t id : lane.record.promptTokens) QVERIFY(id < testing::kSyntheticVocab);
    compare->setLaneModelPath(1, QString());
}

QTEST_MAIN(TestCompare)
#include "tst_compare.moc"
