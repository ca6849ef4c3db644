// The tensor-shapes panel on a real captured run: the shapes drawn for a
// layer are the architecture's (Q = [n, heads × head dim], K = [n, KV heads
// × head dim], scores = [heads, n, keys], gate = [n, FFN], logits = [1,
// vocab]) for the pass that computed the selected token, the output head
// shows only in the pass that ran it, a decode step shows n = 1, blocks
// show the weight they read and the statistics recorded there, and the
// exports parse back.
#include <QComboBox>
#include <QElapsedTimer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSignalSpy>
#include <QSpinBox>
#include <QSvgRenderer>
#include <QTableWidget>
#include <QtTest>

#include "tests/ui/capture_fixture.h"
#include "tests/ui/ui_test_support.h"
#include "ui/shapes_panel.h"
#include "viz/shape_flow.h"

GLASSBOX_UI_TEST_ENVIRONMENT

using namespace glassbox;
using engine::OpKind;

class TestShapesPanel : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void cleanupTestCase();
    void passesFollowMicroBatches();
    void shapesMatchArchitecture();
    void outputHeadOnlyInLastMicroBatch();
    void blockShowsWeightAndStatistics();
    void userPicksEmitPosition();
    void decodeStepShowsOneToken();
    void exportsParseBack();
    void screenshot();
    void clearsOnNull();

private:
    const viz::FlowBlock& block(OpKind op) const;
    static int64_t trailing(const engine::ShapeDesc& s);

    uitest::CapturedRun m_run;
    ui::ShapesPanel* m_panel = nullptr;
    int m_n = 0;
    static constexpr int kMicroBatch = 8;
};

void TestShapesPanel::initTestCase() {
    QString error;
    const char* prompt = "The quick brown fox jumps over the lazy dog because it was bored of sitting in the sun "
                         "all day long.";
    QVERIFY2(m_run.start(prompt, kMicroBatch, false, &error), qPrintable(error));
    m_n = int(m_run.ids.size());
    QVERIFY(m_n > 2 * kMicroBatch);  // at least three prefill passes
    m_panel = new ui::ShapesPanel;
    m_panel->resize(1300, 850);
    m_panel->show();
    QVERIFY(QTest::qWaitForWindowExposed(m_panel));
    QElapsedTimer timer;
    timer.start();
    m_panel->setCapture(m_run.snapshot(), m_run.labels());
    qInfo("setCapture (%d passes, %d positions): %.2f ms", m_panel->passCount(), m_n, timer.nsecsElapsed() / 1e6);
    // Once warm, what a new snapshot, a layer switch and a token switch cost on the UI thread.
    {
        timer.restart();
        m_panel->setCapture(m_run.snapshot(), m_run.labels());
        const double again = timer.nsecsElapsed() / 1e6;
        timer.restart();
        m_panel->setLayer(1);
        const double layer = timer.nsecsElapsed() / 1e6;
        timer.restart();
        m_panel->setSelectedPosition(m_n - 2);
        qInfo("warm: setCapture %.2f ms, setLayer %.2f ms, select token %.2f ms", again, layer,
              timer.nsecsElapsed() / 1e6);
        m_panel->setLayer(0);
        m_panel->setSelectedPosition(m_n - 1);
    }
}

void TestShapesPanel::cleanupTestCase() { delete m_panel; }

const viz::FlowBlock& TestShapesPanel::block(OpKind op) const {
    const int i = m_panel->flow()->indexOf(op);
    if (i < 0) qFatal("no block for %s", engine::opKindName(op));
    return m_panel->flow()->blocks()[size_t(i)];
}

// Elements per token: the product of the dims after the first.
int64_t TestShapesPanel::trailing(const engine::ShapeDesc& s) {
    int64_t p = 1;
    for (int i = 1; i < s.rank; ++i) p *= s.dims[size_t(i)];
    return p;
}

void TestShapesPanel::passesFollowMicroBatches() {
    const int passes = (m_n + kMicroBatch - 1) / kMicroBatch;
    QCOMPARE(m_panel->passCount(), passes);
    QCOMPARE(m_panel->passLabel(0), QStringLiteral("prefill tokens 0–7"));
    QCOMPARE(m_panel->passLabel(1), QStringLiteral("prefill tokens 8–15"));
    // The last token is selected at first: the last pass computed it.
    QCOMPARE(m_panel->selectedPosition(), m_n - 1);
    QCOMPARE(m_panel->passIndex(), passes - 1);
    m_panel->setSelectedPosition(3);
    QCOMPARE(m_panel->passIndex(), 0);
    m_panel->setSelectedPosition(kMicroBatch + 2);
    QCOMPARE(m_panel->passIndex(), 1);
    QCOMPARE(m_panel->findChild<QComboBox*>(QStringLiteral("shapesPass"))->currentText(), m_panel->passLabel(1));
}

void TestShapesPanel::shapesMatchArchitecture() {
    const engine::ModelConfig& c = m_run.config();
    m_panel->setSelectedPosition(m_n - 1);
    const engine::ExecutedPass& pass = m_run.capture->passes()[size_t(m_panel->passIndex())];
    const int n = pass.nTokens, keys = pass.startPos + pass.nTokens;
    for (int layer : {0, c.nLayers / 2, c.nLayers - 1}) {
        m_panel->setLayer(layer);
        QCOMPARE(m_panel->layer(), layer);
        const engine::ShapeDesc& q = block(OpKind::QProj).output;
        QCOMPARE(q.dims[0], int64_t(n));
        QCOMPARE(trailing(q), int64_t(c.nHead) * c.headDim);
        const engine::ShapeDesc& k = block(OpKind::KProj).output;
        QCOMPARE(k.dims[0], int64_t(n));
        QCOMPARE(trailing(k), int64_t(c.nHeadKv) * c.headDim);
        QCOMPARE(trailing(block(OpKind::VProj).output), int64_t(c.nHeadKv) * c.headDim);
        const engine::ShapeDesc& s = block(OpKind::Scores).output;
        QCOMPARE(s.rank, 3);
        QCOMPARE(s.dims[0], int64_t(c.nHead));
        QCOMPARE(s.dims[1], int64_t(n));
        QCOMPARE(s.dims[2], int64_t(keys));
        const engine::ShapeDesc& gate = block(OpKind::GateProj).output;
        QCOMPARE(gate.rank, 2);
        QCOMPARE(gate.dims[0], int64_t(n));
        QCOMPARE(gate.dims[1], int64_t(c.nFf));
        QCOMPARE(block(OpKind::DownProj).output.dims[1], int64_t(c.nEmbd));
        QCOMPARE(block(OpKind::Embedding).output.dims[1], int64_t(c.nEmbd));
        const engine::ShapeDesc& logits = block(OpKind::Logits).output;
        QCOMPARE(logits.dims[0], int64_t(1));  // evaluate() asks for the last row only
        QCOMPARE(logits.dims[1], int64_t(c.nVocab));
        // The edge carries dims, dtype and bytes; the block names the real weight.
        const int qi = m_panel->flow()->indexOf(OpKind::QProj);
        QCOMPARE(m_panel->flow()->edgeText(qi), viz::shapeText(q));
        QVERIFY(m_panel->flow()->edgeText(qi).contains(QStringLiteral(" F32 · ")));
        QCOMPARE(q.bytes, uint64_t(n) * c.nHead * c.headDim * 4);
        const engine::TensorView& wq = m_run.model->layers()[size_t(layer)].wq;
        QVERIFY(block(OpKind::QProj).weightText.startsWith(QString::fromStdString(wq.name)));
        const QString type = QString::fromLatin1(engine::tensorTypeName(wq.type).data());
        QVERIFY2(block(OpKind::QProj).weightText.endsWith(type), qPrintable(block(OpKind::QProj).weightText));
        QVERIFY2(m_panel->layerLabel(layer).contains(type), qPrintable(m_panel->layerLabel(layer)));
    }
}

void TestShapesPanel::outputHeadOnlyInLastMicroBatch() {
    m_panel->setSelectedPosition(0);
    QCOMPARE(m_panel->passIndex(), 0);
    QVERIFY(!block(OpKind::Logits).executed());
    QCOMPARE(m_panel->flow()->edgeText(m_panel->flow()->indexOf(OpKind::Logits)),
             QStringLiteral("not computed in this pass"));
    // Scores of the first pass attend to its own 8 keys only.
    QCOMPARE(block(OpKind::Scores).output.dims[2], int64_t(kMicroBatch));
    m_panel->setSelectedPosition(kMicroBatch);
    QCOMPARE(block(OpKind::Scores).output.dims[2], int64_t(2 * kMicroBatch));
    m_panel->setSelectedPosition(m_n - 1);
    QVERIFY(block(OpKind::Logits).executed());
}

void TestShapesPanel::blockShowsWeightAndStatistics() {
    const int layer = 2, pos = m_n - 2;
    m_panel->setSelectedPosition(pos);
    m_panel->setLayer(layer);
    // Select by clicking the block, as a user would.
    const int index = m_panel->flow()->indexOf(OpKind::OutProj);
    QTest::mouseClick(m_panel->flow(), Qt::LeftButton, {}, m_panel->flow()->blockRect(index).center());
    QVERIFY(m_panel->selectedOp() == OpKind::OutProj);
    const engine::TensorView& wo = m_run.model->layers()[layer].wo;
    QTableWidget* weights = m_panel->weightsTable();
    QCOMPARE(weights->rowCount(), 1);
    QCOMPARE(weights->item(0, 0)->text(), QString::fromStdString(wo.name));
    QCOMPARE(weights->item(0, 2)->text(), QString::fromLatin1(engine::tensorTypeName(wo.type).data()));
    QCOMPARE(weights->item(0, 3)->text(), viz::byteText(wo.bytes));
    const engine::ActivationStats& real = m_run.capture->stats(layer, engine::ActivationSite::AttentionOutput, pos);
    QVERIFY(m_panel->shownStats().has_value());
    QCOMPARE(m_panel->shownStats()->l2, real.l2);
    QVERIFY(m_panel->shownStats()->topDim == real.topDim);
    QVERIFY(m_panel->statsText().contains(QString::number(double(real.l2), 'g', 4)));
    // The histogram holds every value of the residual stream after the layer.
    int total = 0;
    for (int count : m_panel->histogramCounts()) total += count;
    QCOMPARE(total, m_run.config().nEmbd);
    // The final residual block reads the residual site.
    m_panel->selectOp(OpKind::FfnResidual);
    QCOMPARE(m_panel->shownStats()->l2, m_run.capture->stats(layer, engine::ActivationSite::Residual, pos).l2);
    m_panel->selectOp(OpKind::Embedding);
    QVERIFY(qAbs(m_panel->shownStats()->l2 - uitest::l2(m_run.capture->residual(0, pos))) < 1e-3);
}

void TestShapesPanel::userPicksEmitPosition() {
    QSignalSpy spy(m_panel, &ui::ShapesPanel::positionSelected);
    m_panel->setSelectedPosition(1);  // following the playground: no signal
    QCOMPARE(spy.count(), 0);
    m_panel->findChild<QSpinBox*>(QStringLiteral("shapesToken"))->setValue(5);
    QCOMPARE(spy.count(), 1);
    QCOMPARE(spy.takeFirst().at(0).toInt(), 5);
    m_panel->findChild<QComboBox*>(QStringLiteral("shapesPass"))->setCurrentIndex(1);
    QCOMPARE(spy.count(), 1);
    const int picked = spy.takeFirst().at(0).toInt();
    QVERIFY(picked >= kMicroBatch && picked < 2 * kMicroBatch);
    QCOMPARE(m_panel->selectedPosition(), picked);
}

void TestShapesPanel::decodeStepShowsOneToken() {
    QVERIFY(m_run.decodeOne());
    QVERIFY(m_run.decodeOne());
    const int pos = m_n + 1;  // the second decoded token
    m_panel->setCapture(m_run.snapshot(), m_run.labels());
    m_panel->setSelectedPosition(pos);
    QCOMPARE(m_panel->passLabel(m_panel->passIndex()), QStringLiteral("decode token %1").arg(pos));
    const engine::ModelConfig& c = m_run.config();
    m_panel->setLayer(c.nLayers - 1);
    QCOMPARE(block(OpKind::QProj).output.dims[0], int64_t(1));
    QCOMPARE(block(OpKind::Scores).output.dims[0], int64_t(c.nHead));
    QCOMPARE(block(OpKind::Scores).output.dims[1], int64_t(1));
    QCOMPARE(block(OpKind::Scores).output.dims[2], int64_t(pos + 1));
    QCOMPARE(block(OpKind::GateProj).output.dims[0], int64_t(1));
    QCOMPARE(block(OpKind::Logits).output.dims[1], int64_t(c.nVocab));
    // The previous decode step attended to one key fewer.
    m_panel->setSelectedPosition(pos - 1);
    QCOMPARE(block(OpKind::Scores).output.dims[2], int64_t(pos));
}

void TestShapesPanel::exportsParseBack() {
    m_panel->setSelectedPosition(m_n - 1);
    QString error;
    const QString png = uitest::scratch(QStringLiteral("shapes.png"));
    QVERIFY2(m_panel->exportImage(png, &error), qPrintable(error));
    QImage image(png);
    QCOMPARE(image.size(), m_panel->flow()->sizeHint());
    const QString svg = uitest::scratch(QStringLiteral("shapes.svg"));
    QVERIFY2(m_panel->exportImage(svg, &error), qPrintable(error));
    QVERIFY(QSvgRenderer(svg).isValid());
    const engine::ExecutedPass& pass = m_run.capture->passes()[size_t(m_panel->passIndex())];
    const QString csv = uitest::scratch(QStringLiteral("shapes.csv"));
    QVERIFY2(m_panel->exportData(csv, &error), qPrintable(error));
    const QList<QStringList> rows = uitest::readCsv(csv);
    QCOMPARE(rows.size(), int(pass.ops.size()) + 1);
    QCOMPARE(rows[0].join(QLatin1Char(',')), QStringLiteral("pass_start,pass_tokens,layer,op,input_dims,input_type,"
                                                             "input_bytes,output_dims,output_type,output_bytes,"
                                                             "weight,weight_type,weight_shape,weight_bytes"));
    const engine::ModelConfig& c = m_run.config();
    int gates = 0;
    for (const QStringList& row : rows) {
        if (row[2] != QLatin1String("0") || row[3] != QLatin1String("gate_proj")) continue;
        ++gates;
        QCOMPARE(row[7], QStringLiteral("%1x%2").arg(pass.nTokens).arg(c.nFf));
        QCOMPARE(row[10], QString::fromStdString(m_run.model->layers()[0].wGate.name));
    }
    QCOMPARE(gates, 1);
    const QString json = uitest::scratch(QStringLiteral("shapes.json"));
    QVERIFY2(m_panel->exportData(json, &error), qPrintable(error));
    QFile jsonFile(json);
    QVERIFY(jsonFile.open(QIODevice::ReadOnly));
    const QJsonObject root = QJsonDocument::fromJson(jsonFile.readAll()).object();
    QCOMPARE(root[QStringLiteral("ops")].toArray().size(), int(pass.ops.size()));
    QCOMPARE(root[QStringLiteral("geometry")][QStringLiteral("heads")].toInt(), c.nHead);
    const QJsonObject last = root[QStringLiteral("ops")].toArray().last().toObject();
    QCOMPARE(last[QStringLiteral("op")].toString(), QStringLiteral("logits"));
    QCOMPARE(last[QStringLiteral("output")][QStringLiteral("dims")].toArray().last().toInt(), c.nVocab);
    // Shapes are a table: no .npy, with a reason.
    QVERIFY(!m_panel->exportData(uitest::scratch(QStringLiteral("shapes.npy")), &error));
    QVERIFY(error.contains(QStringLiteral("CSV")));
    QVERIFY(!m_panel->exportImage(uitest::scratch(QStringLiteral("shapes.bmp")), &error));
}

void TestShapesPanel::screenshot() {
    if (qEnvironmentVariable("GLASSBOX_WRITE_SCREENSHOTS") != QLatin1String("1"))
        QSKIP("set GLASSBOX_WRITE_SCREENSHOTS=1 to write docs/screenshots/shapes.png");
    m_panel->setSelectedPosition(m_n - 1);
    m_panel->setLayer(3);
    m_panel->selectOp(OpKind::QProj);
    QTest::qWait(300);
    const QString dir = QDir(qEnvironmentVariable("GLASSBOX_SOURCE_DIR", QStringLiteral("."))).filePath(
        QStringLiteral("docs/screenshots"));
    QVERIFY(QDir().mkpath(dir));
    QVERIFY(m_panel->grab().save(QDir(dir).filePath(QStringLiteral("shapes.png"))));
}

void TestShapesPanel::clearsOnNull() {
    m_panel->setCapture(nullptr, {});
    QCOMPARE(m_panel->passCount(), 0);
    QVERIFY(m_panel->flow()->blocks().empty());
    QVERIFY(!m_panel->shownStats().has_value());
    QVERIFY(m_panel->histogramCounts().empty());
    QString error;
    QVERIFY(!m_panel->exportImage(uitest::scratch(QStringLiteral("none.png")), &error));
    QVERIFY(!error.isEmpty());
    // And back.
    m_panel->setCapture(m_run.snapshot(), m_run.labels());
    QVERIFY(!m_panel->flow()->blocks().empty());
}

QTEST_MAIN(TestShapesPanel)
#include "tst_shapes_panel.moc"
