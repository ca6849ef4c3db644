// The residual-stream panel on a real captured run: every norm in the
// heatmap equals the L2 norm recomputed from the recorded stream, the chart
// shows the selected token's column, the outlier table matches a recount of
// the recorded top dimensions and the stream's own maxima, clicking a
// column selects its token, the panel follows a growing prompt, and the
// exports parse back.
#include <QCheckBox>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSignalSpy>
#include <QSvgRenderer>
#include <QTableWidget>
#include <QtTest>
#include <map>
#include <set>

#include "tests/ui/capture_fixture.h"
#include "tests/ui/ui_test_support.h"
#include "ui/residual_panel.h"
#include "viz/residual_heatmap.h"

GLASSBOX_UI_TEST_ENVIRONMENT

using namespace glassbox;
using engine::ActivationSite;

class TestResidualPanel : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void cleanupTestCase();
    void normsMatchRecordedStream();
    void chartFollowsSelection();
    void outliersMatchRecount();
    void clickSelectsColumn();
    void followsGrowingPrompt();
    void exportsParseBack();
    void screenshot();
    void clearsOnNull();

private:
    bool waitForSummary() {
        return QTest::qWaitFor([&] { return !m_panel->isBusy(); }, 20000);
    }

    uitest::CapturedRun m_run;
    ui::ResidualPanel* m_panel = nullptr;
    int m_n = 0;
};

void TestResidualPanel::initTestCase() {
    QString error;
    QVERIFY2(m_run.start("Water boils at one hundred degrees Celsius at sea level, but at lower temperatures on "
                         "mountains.",
                         256, false, &error),
             qPrintable(error));
    m_n = int(m_run.ids.size());
    m_panel = new ui::ResidualPanel;
    m_panel->resize(1200, 800);
    m_panel->show();
    QVERIFY(QTest::qWaitForWindowExposed(m_panel));
    QSignalSpy ready(m_panel, &ui::ResidualPanel::summaryReady);
    m_panel->setCapture(m_run.snapshot(), m_run.labels());
    QVERIFY(m_panel->isBusy());  // computed off the UI thread
    QVERIFY(ready.wait(20000));
    qInfo("summary of %d tokens × %d layers: %.2f ms on the worker", m_n, m_run.config().nLayers,
          m_panel->lastSummaryMs());
}

void TestResidualPanel::cleanupTestCase() { delete m_panel; }

void TestResidualPanel::normsMatchRecordedStream() {
    const viz::ResidualHeatmap* map = m_panel->heatmap();
    const int points = m_run.config().nLayers + 1;
    QCOMPARE(map->rowCount(), points);
    QCOMPARE(map->columnCount(), m_n);
    for (int point = 0; point < points; ++point) {
        for (int pos = 0; pos < m_n; ++pos) {
            const double expected = uitest::l2(m_run.capture->residual(point, pos));
            const double shown = map->value(point, pos);
            QVERIFY2(std::fabs(shown - expected) <= 1e-4 * expected + 1e-5,
                     qPrintable(QStringLiteral("point %1 pos %2: %3 vs %4").arg(point).arg(pos).arg(shown).arg(expected)));
        }
    }
    QVERIFY(map->tooltipFor(3, 2).contains(QStringLiteral("after layer 2")));
}

void TestResidualPanel::chartFollowsSelection() {
    m_panel->setSelectedPosition(5);
    QCOMPARE(m_panel->heatmap()->selectedColumn(), 5);
    const auto& norms = m_panel->chartNorms();
    QCOMPARE(int(norms.size()), m_run.config().nLayers + 1);
    for (int point = 0; point < int(norms.size()); ++point)
        QCOMPARE(norms[size_t(point)], m_panel->heatmap()->value(point, 5));
}

void TestResidualPanel::outliersMatchRecount() {
    const engine::Capture& cap = *m_run.capture;
    const int layers = m_run.config().nLayers;
    std::map<int, int> counts;
    std::map<int, std::set<int>> where;
    for (int l = 0; l < layers; ++l)
        for (int pos = 0; pos < m_n; ++pos)
            for (int d : cap.stats(l, ActivationSite::Residual, pos).topDim)
                if (d >= 0) ++counts[d], where[d].insert(l);
    int best = 0;
    for (const auto& [d, c] : counts) best = std::max(best, c);
    QTableWidget* table = m_panel->outlierTable();
    QVERIFY(table->rowCount() > 0);
    const viz::OutlierDim& top = m_panel->summary().outliers.front();
    QCOMPARE(top.count, best);
    QCOMPARE(counts[top.dim], best);  // ties may pick another dim with the same count
    QCOMPARE(top.layers, std::vector<int>(where[top.dim].begin(), where[top.dim].end()));
    // Its largest |value| over every layer and token, read from the stream.
    float maxAbs = 0;
    for (int l = 0; l < layers; ++l)
        for (int pos = 0; pos < m_n; ++pos) maxAbs = std::max(maxAbs, std::fabs(cap.residual(l + 1, pos)[size_t(top.dim)]));
    QCOMPARE(top.maxAbs, maxAbs);
    QCOMPARE(std::fabs(cap.residual(top.maxLayer + 1, top.maxPos)[size_t(top.dim)]), maxAbs);
    // The table shows it (sorted by count, largest first).
    QCOMPARE(table->item(0, 1)->data(Qt::DisplayRole).toInt(), best);
    QCOMPARE(table->item(0, 4)->text(), viz::rangesText(top.layers));
    QCOMPARE(viz::rangesText({0, 1, 2, 5, 7, 8}), QStringLiteral("0–2, 5, 7–8"));
}

void TestResidualPanel::clickSelectsColumn() {
    QSignalSpy spy(m_panel, &ui::ResidualPanel::positionSelected);
    viz::ResidualHeatmap* map = m_panel->heatmap();
    map->replot();
    const QPoint at = map->cellCenter(4, 7);
    QCOMPARE(map->cellAt(at), std::make_pair(4, 7));
    QTest::mouseClick(map, Qt::LeftButton, {}, at);
    QCOMPARE(spy.count(), 1);
    QCOMPARE(spy.first().at(0).toInt(), 7);
    QCOMPARE(m_panel->selectedPosition(), 7);
    QCOMPARE(map->selectedColumn(), 7);
    QCOMPARE(m_panel->chartNorms().back(), map->value(map->rowCount() - 1, 7));
}

void TestResidualPanel::followsGrowingPrompt() {
    QVERIFY(m_run.decodeOne());
    QVERIFY(m_run.decodeOne());
    m_panel->setCapture(m_run.snapshot(), m_run.labels());
    QVERIFY(waitForSummary());
    QCOMPARE(m_panel->heatmap()->columnCount(), m_n + 2);
    const int point = m_run.config().nLayers;
    QVERIFY(std::fabs(m_panel->heatmap()->value(point, m_n + 1) - uitest::l2(m_run.capture->residual(point, m_n + 1))) <
            1e-3);
    m_n += 2;
    // Linear colours are one click away.
    m_panel->logScaleBox()->setChecked(false);
    QVERIFY(!m_panel->heatmap()->logScale());
    m_panel->logScaleBox()->setChecked(true);
}

void TestResidualPanel::exportsParseBack() {
    QString error;
    const QString png = uitest::scratch(QStringLiteral("residual.png"));
    QVERIFY2(m_panel->exportImage(png, &error), qPrintable(error));
    QCOMPARE(QImage(png).size(), m_panel->heatmap()->size());
    const QString svg = uitest::scratch(QStringLiteral("residual.svg"));
    QVERIFY2(m_panel->exportImage(svg, &error), qPrintable(error));
    QVERIFY(QSvgRenderer(svg).isValid());
    const int points = m_run.config().nLayers + 1;
    const QString csv = uitest::scratch(QStringLiteral("residual.csv"));
    QVERIFY2(m_panel->exportData(csv, &error), qPrintable(error));
    const QList<QStringList> rows = uitest::readCsv(csv);
    QCOMPARE(rows.size(), points * m_n + 1);
    QCOMPARE(rows[0].join(QLatin1Char(',')), QStringLiteral("point,layer,position,token,l2"));
    const QStringList& r = rows[1 + 5 * m_n + 3];
    QCOMPARE(r[1], QStringLiteral("4"));
    QCOMPARE(r[3], m_run.labels()[3]);
    QVERIFY(std::fabs(r[4].toDouble() - uitest::l2(m_run.capture->residual(5, 3))) < 1e-3);
    const QString json = uitest::scratch(QStringLiteral("residual.json"));
    QVERIFY2(m_panel->exportData(json, &error), qPrintable(error));
    QFile jsonFile(json);
    QVERIFY(jsonFile.open(QIODevice::ReadOnly));
    const QJsonObject root = QJsonDocument::fromJson(jsonFile.readAll()).object();
    QCOMPARE(root[QStringLiteral("norms")].toArray().size(), points);
    QCOMPARE(root[QStringLiteral("norms")].toArray()[0].toArray().size(), m_n);
    QCOMPARE(root[QStringLiteral("outliers")].toArray()[0].toObject()[QStringLiteral("dim")].toInt(),
             m_panel->summary().outliers.front().dim);
    const QString npy = uitest::scratch(QStringLiteral("residual.npy"));
    QVERIFY2(m_panel->exportData(npy, &error), qPrintable(error));
    std::vector<int64_t> shape;
    std::vector<float> data;
    QVERIFY(uitest::readNpy(npy, shape, data));
    QCOMPARE(shape, (std::vector<int64_t>{points, m_n}));
    QCOMPARE(double(data[size_t(7) * size_t(m_n) + 2]), m_panel->heatmap()->value(7, 2));
    QVERIFY(!m_panel->exportImage(uitest::scratch(QStringLiteral("residual.gif")), &error));
}

void TestResidualPanel::screenshot() {
    if (qEnvironmentVariable("GLASSBOX_WRITE_SCREENSHOTS") != QLatin1String("1"))
        QSKIP("set GLASSBOX_WRITE_SCREENSHOTS=1 to write docs/screenshots/residual.png");
    m_panel->setSelectedPosition(6);
    QTest::qWait(300);
    const QString dir = QDir(qEnvironmentVariable("GLASSBOX_SOURCE_DIR", QStringLiteral("."))).filePath(
        QStringLiteral("docs/screenshots"));
    QVERIFY(QDir().mkpath(dir));
    QVERIFY(m_panel->grab().save(QDir(dir).filePath(QStringLiteral("residual.png"))));
}

void TestResidualPanel::clearsOnNull() {
    m_panel->setCapture(nullptr, {});
    QVERIFY(!m_panel->isBusy());
    QCOMPARE(m_panel->heatmap()->columnCount(), 0);
    QCOMPARE(m_panel->outlierTable()->rowCount(), 0);
    QVERIFY(m_panel->chartNorms().empty());
    QString error;
    QVERIFY(!m_panel->exportData(uitest::scratch(QStringLiteral("none.csv")), &error));
    QVERIFY(!error.isEmpty());
}

QTEST_MAIN(TestResidualPanel)
#include "tst_residual_panel.moc"
