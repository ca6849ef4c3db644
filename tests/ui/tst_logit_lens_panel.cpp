// The logit-lens panel on a real captured run: the grid's last row is the
// model's real prediction at every position (compared with the logits of
// evaluateAll), cells are coloured by probability and explain themselves
// on hover, the chart follows the selected position, clicking selects a
// position, scrolling to uncovered positions asks for them, progress and
// cancel work, and the exports parse back.
#include <QElapsedTimer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProgressBar>
#include <QPushButton>
#include <QScrollBar>
#include <QSignalSpy>
#include <QSvgRenderer>
#include <QtTest>
#include <algorithm>

#include "engine/logit_lens.h"
#include "tests/ui/capture_fixture.h"
#include "tests/ui/ui_test_support.h"
#include "ui/logit_lens_panel.h"
#include "viz/lens_grid.h"
#include "viz/probability_palette.h"

GLASSBOX_UI_TEST_ENVIRONMENT

using namespace glassbox;

class TestLogitLensPanel : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void cleanupTestCase();
    void lastRowIsRealPrediction();
    void cellsColouredAndExplained();
    void chartFollowsSelection();
    void clickSelectsPosition();
    void requestsUncoveredWindow();
    void showsProgressAndCancels();
    void exportsParseBack();
    void screenshot();
    void clearsOnNull();

private:
    std::function<QString(int32_t)> tokenText() const {
        return [this](int32_t id) { return m_run.text(id); };
    }

    uitest::CapturedRun m_run;
    engine::LogitLens m_lens;
    ui::LogitLensPanel* m_panel = nullptr;
    int m_n = 0;
};

void TestLogitLensPanel::initTestCase() {
    QString error;
    QVERIFY2(m_run.start("The capital of France is Paris, and the capital of Germany is Berlin.", 256, true, &error),
             qPrintable(error));
    m_n = int(m_run.ids.size());
    QElapsedTimer timer;
    timer.start();
    auto lens = engine::computeLogitLens(*m_run.session, *m_run.capture, 0, m_n, 5);
    QVERIFY2(lens.ok(), lens.ok() ? "" : lens.error().message.c_str());
    qInfo("computeLogitLens (%d positions × %d points): %.0f ms", m_n, lens->nPoints, timer.nsecsElapsed() / 1e6);
    m_lens = std::move(*lens);
    m_panel = new ui::LogitLensPanel;
    m_panel->resize(1200, 760);
    m_panel->show();
    QVERIFY(QTest::qWaitForWindowExposed(m_panel));
    m_panel->setCapture(m_run.snapshot(), m_run.labels());
    timer.restart();
    m_panel->setLens(m_lens, m_run.labels(), tokenText());
    qInfo("setLens: %.2f ms", timer.nsecsElapsed() / 1e6);
    timer.restart();
    m_panel->grid()->viewport()->repaint();
    qInfo("grid repaint: %.2f ms", timer.nsecsElapsed() / 1e6);
}

void TestLogitLensPanel::cleanupTestCase() { delete m_panel; }

void TestLogitLensPanel::lastRowIsRealPrediction() {
    const viz::LensGrid* grid = m_panel->grid();
    const int nVocab = m_run.config().nVocab;
    QCOMPARE(grid->rowCount(), m_run.config().nLayers + 1);
    QCOMPARE(grid->columnCount(), m_n);
    QVERIFY(!m_panel->isStale());
    for (int pos = 0; pos < m_n; ++pos) {
        const float* row = &m_run.allLogits[size_t(pos) * size_t(nVocab)];
        const int32_t argmax = int32_t(std::max_element(row, row + nVocab) - row);
        QCOMPARE(m_lens.target[size_t(pos)], argmax);
        QCOMPARE(m_lens.cell(grid->rowCount() - 1, pos).topIds.front(), argmax);
        QCOMPARE(grid->cellText(grid->rowCount() - 1, pos), m_run.text(argmax));
        QCOMPARE(m_lens.cell(grid->rowCount() - 1, pos).targetRank, 0);
    }
    // Earlier rows show the lens at that point, not the final answer.
    QCOMPARE(grid->cellText(0, 3), m_run.text(m_lens.cell(0, 3).topIds.front()));
}

void TestLogitLensPanel::cellsColouredAndExplained() {
    const viz::LensGrid* grid = m_panel->grid();
    const bool dark = grid->palette().color(QPalette::Base).lightness() < 128;
    for (int point : {0, 10, grid->rowCount() - 1}) {
        const engine::LensCell& c = m_lens.cell(point, 5);
        QCOMPARE(grid->cellColor(point, 5), viz::ProbabilityPalette::forProbability(c.topProbs.front(), dark));
        const QString tip = grid->tooltipFor(point, 5);
        QVERIFY(tip.contains(QStringLiteral("1. ")) && tip.contains(QStringLiteral("5. ")));
        QVERIFY(tip.contains(QStringLiteral("rank %1").arg(c.targetRank + 1)));
        QVERIFY(tip.contains(viz::LensGrid::rowName(point)));
    }
}

void TestLogitLensPanel::chartFollowsSelection() {
    m_panel->setSelectedPosition(4);
    QCOMPARE(m_panel->grid()->selectedColumn(), 4);
    const auto& probs = m_panel->chartProbabilities();
    const auto& ranks = m_panel->chartRanks();
    QCOMPARE(int(probs.size()), m_lens.nPoints);
    for (int point = 0; point < m_lens.nPoints; ++point) {
        QCOMPARE(probs[size_t(point)], double(m_lens.cell(point, 4).targetProb));
        QCOMPARE(ranks[size_t(point)], double(m_lens.cell(point, 4).targetRank + 1));
    }
    QCOMPARE(ranks.back(), 1.0);  // the last point is the real prediction
}

void TestLogitLensPanel::clickSelectsPosition() {
    QSignalSpy spy(m_panel, &ui::LogitLensPanel::positionSelected);
    viz::LensGrid* grid = m_panel->grid();
    grid->scrollToColumn(6);
    const QRect cell = grid->cellRect(2, 6);
    QVERIFY(grid->viewport()->rect().contains(cell.center()));
    QTest::mouseClick(grid->viewport(), Qt::LeftButton, {}, cell.center());
    QCOMPARE(spy.count(), 1);
    QCOMPARE(spy.first().at(0).toInt(), 6);
    QCOMPARE(m_panel->selectedPosition(), 6);
    QCOMPARE(m_panel->chartProbabilities().front(), double(m_lens.cell(0, 6).targetProb));
}

void TestLogitLensPanel::requestsUncoveredWindow() {
    // A lens over the first four positions in a window too narrow for all.
    ui::LogitLensPanel panel;
    panel.resize(480, 500);
    panel.show();
    QVERIFY(QTest::qWaitForWindowExposed(&panel));
    QSignalSpy spy(&panel, &ui::LogitLensPanel::lensWindowRequested);
    auto part = engine::computeLogitLens(*m_run.session, *m_run.capture, 0, 4, 3);
    QVERIFY(part.ok());
    panel.setCapture(m_run.snapshot(), m_run.labels());
    panel.setLens(*part, m_run.labels(), tokenText());
    const auto [first, count] = panel.grid()->visibleColumns();
    QVERIFY(count > 4 && count < m_n);
    // The visible columns past the fourth are asked for, once.
    QTRY_COMPARE_WITH_TIMEOUT(spy.count(), 1, 2000);
    QCOMPARE(spy.first().at(0).toInt(), first);
    QVERIFY(spy.first().at(0).toInt() + spy.first().at(1).toInt() >= first + count);
    QTest::qWait(300);
    QCOMPARE(spy.count(), 1);
    spy.clear();
    panel.grid()->horizontalScrollBar()->setValue(panel.grid()->horizontalScrollBar()->maximum());
    QTRY_COMPARE_WITH_TIMEOUT(spy.count(), 1, 2000);
    const int begin = spy.first().at(0).toInt(), n = spy.first().at(1).toInt();
    const auto [vFirst, vCount] = panel.grid()->visibleColumns();
    QVERIFY(begin <= vFirst && begin + n >= vFirst + vCount);
    QCOMPARE(begin + n, m_n);
    // Serving that request stops further requests.
    auto served = engine::computeLogitLens(*m_run.session, *m_run.capture, begin, n, 3);
    QVERIFY(served.ok());
    panel.setLens(*served, m_run.labels(), tokenText());
    QVERIFY(panel.grid()->covers(m_n - 1));
    spy.clear();
    QTest::qWait(400);
    QCOMPARE(spy.count(), 0);
    // A new capture makes the lens stale and asks again.
    panel.setCapture(std::make_shared<engine::Capture>(*m_run.capture), m_run.labels());
    QVERIFY(panel.isStale());
    QTRY_COMPARE_WITH_TIMEOUT(spy.count(), 1, 2000);
}

void TestLogitLensPanel::showsProgressAndCancels() {
    QSignalSpy cancel(m_panel, &ui::LogitLensPanel::cancelRequested);
    m_panel->setComputing(true, 0.25f);
    QVERIFY(m_panel->isComputing());
    QVERIFY(m_panel->progressBar()->isVisible());
    QCOMPARE(m_panel->progressBar()->value(), 250);
    QVERIFY(m_panel->cancelButton()->isVisible());
    QTest::mouseClick(m_panel->cancelButton(), Qt::LeftButton);
    QCOMPARE(cancel.count(), 1);
    m_panel->setComputing(false);
    QVERIFY(!m_panel->progressBar()->isVisible());
}

void TestLogitLensPanel::exportsParseBack() {
    QString error;
    const QString png = uitest::scratch(QStringLiteral("lens.png"));
    QVERIFY2(m_panel->exportImage(png, &error), qPrintable(error));
    QCOMPARE(QImage(png).size(), m_panel->grid()->exportSize(0, m_n - 1));
    const QString svg = uitest::scratch(QStringLiteral("lens.svg"));
    QVERIFY2(m_panel->exportImage(svg, &error), qPrintable(error));
    QVERIFY(QSvgRenderer(svg).isValid());
    const QString csv = uitest::scratch(QStringLiteral("lens.csv"));
    QVERIFY2(m_panel->exportData(csv, &error), qPrintable(error));
    const QList<QStringList> rows = uitest::readCsv(csv);
    QCOMPARE(rows.size(), m_lens.nPoints * m_n + 1);
    QCOMPARE(rows[0].size(), 8 + 3 * 5);
    QCOMPARE(rows[0][0], QStringLiteral("point"));
    QCOMPARE(rows[0].last(), QStringLiteral("top5_prob"));
    // Row of point 3, position 7 (rows go point by point).
    const QStringList& r = rows[1 + 3 * m_n + 7];
    QCOMPARE(r[0].toInt(), 3);
    QCOMPARE(r[2].toInt(), 7);
    QCOMPARE(r[3], m_run.labels()[7]);
    QCOMPARE(r[8].toInt(), m_lens.cell(3, 7).topIds[0]);
    QCOMPARE(r[9], m_run.text(m_lens.cell(3, 7).topIds[0]));
    QCOMPARE(r[10].toFloat(), m_lens.cell(3, 7).topProbs[0]);
    const QString json = uitest::scratch(QStringLiteral("lens.json"));
    QVERIFY2(m_panel->exportData(json, &error), qPrintable(error));
    QFile jsonFile(json);
    QVERIFY(jsonFile.open(QIODevice::ReadOnly));
    const QJsonObject root = QJsonDocument::fromJson(jsonFile.readAll()).object();
    const QJsonArray positions = root[QStringLiteral("positions")].toArray();
    QCOMPARE(positions.size(), m_n);
    const QJsonObject p2 = positions[2].toObject();
    QCOMPARE(p2[QStringLiteral("target")].toInt(), m_lens.target[2]);
    QCOMPARE(p2[QStringLiteral("points")].toArray().size(), m_lens.nPoints);
    const QString npy = uitest::scratch(QStringLiteral("lens.npy"));
    QVERIFY2(m_panel->exportData(npy, &error), qPrintable(error));
    std::vector<int64_t> shape;
    std::vector<float> data;
    QVERIFY(uitest::readNpy(npy, shape, data));
    QCOMPARE(shape, (std::vector<int64_t>{m_lens.nPoints, m_n}));
    QCOMPARE(data[size_t(3) * size_t(m_n) + 7], m_lens.cell(3, 7).targetProb);
    QVERIFY(!m_panel->exportData(uitest::scratch(QStringLiteral("lens.txt")), &error));
}

void TestLogitLensPanel::screenshot() {
    if (qEnvironmentVariable("GLASSBOX_WRITE_SCREENSHOTS") != QLatin1String("1"))
        QSKIP("set GLASSBOX_WRITE_SCREENSHOTS=1 to write docs/screenshots/logit_lens.png");
    m_panel->setSelectedPosition(9);
    QTest::qWait(300);
    const QString dir = QDir(qEnvironmentVariable("GLASSBOX_SOURCE_DIR", QStringLiteral("."))).filePath(
        QStringLiteral("docs/screenshots"));
    QVERIFY(QDir().mkpath(dir));
    QVERIFY(m_panel->grab().save(QDir(dir).filePath(QStringLiteral("logit_lens.png"))));
}

void TestLogitLensPanel::clearsOnNull() {
    m_panel->setCapture(nullptr, {});
    QVERIFY(!m_panel->grid()->hasLens());
    QCOMPARE(m_panel->grid()->columnCount(), 0);
    QVERIFY(m_panel->chartProbabilities().empty());
    QString error;
    QVERIFY(!m_panel->exportData(uitest::scratch(QStringLiteral("none.json")), &error));
    QVERIFY(!error.isEmpty());
}

QTEST_MAIN(TestLogitLensPanel)
#include "tst_logit_lens_panel.moc"
