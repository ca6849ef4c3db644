// The quantization lab panel on the real default model: an analysis of a
// few tensors and types run from the panel shows exactly what
// engine::analyzeQuantError computes here (table, outliers, heatmap cells
// against engine::quantErrorHeatmap, histograms against
// engine::quantErrorHistograms); Cancel stops a whole-model analysis and
// leaves the panel idle with no report; a cancelled re-quantization leaves
// no file; the exports parse back.
#include <QComboBox>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProgressBar>
#include <QSvgRenderer>
#include <QTableWidget>
#include <QtTest>
#include <cmath>
#include <qcustomplot.h>

#include "engine/model.h"
#include "tests/ui/ui_test_support.h"
#include "ui/quant_lab_panel.h"
#include "viz/quant_heatmap.h"

GLASSBOX_UI_TEST_ENVIRONMENT

using namespace glassbox;
using engine::TensorType;

namespace {

const std::vector<TensorType> kTypes = {TensorType::Q8_0, TensorType::Q4_0};
const std::vector<std::string> kTensors = {"blk.0.attn_q.weight",   "blk.0.attn_k.weight", "blk.0.attn_v.weight",
                                           "blk.0.attn_output.weight", "blk.0.ffn_down.weight",
                                           "blk.3.attn_q.weight",   "blk.3.ffn_gate.weight"};

bool sameDouble(double a, double b) { return (std::isnan(a) && std::isnan(b)) || a == b; }

}  // namespace

class TestQuantLabPanel : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void cleanupTestCase();
    void tableMatchesEngine();
    void heatmapMatchesEngine();
    void histogramsAndOutliers();
    void exportsParseBack();
    void screenshot();
    void cancelStopsAnalysis();
    void cancelledRequantizeLeavesNoFile();
    void requantizeWritesLoadableModel();
    void loadsReferenceModel();
    void badReferenceIsReportedAndKeepsTheReport();

private:
    bool waitIdle(int ms) {
        return uitest::waitInEventLoop([&] { return !m_panel->isBusy(); }, ms);
    }
    std::shared_ptr<const engine::Model> m_model;
    std::optional<engine::QuantErrorReport> m_expected;
    ui::QuantLabPanel* m_panel = nullptr;
};

void TestQuantLabPanel::initTestCase() {
    auto model = engine::Model::load(testing::defaultModelPath());
    QVERIFY2(model, model ? "" : model.error().toString().c_str());
    m_model = *model;
    m_panel = new ui::QuantLabPanel;
    m_panel->resize(1300, 900);
    m_panel->show();
    QVERIFY(QTest::qWaitForWindowExposed(m_panel));
    QCOMPARE(m_panel->referenceText(), QStringLiteral("reference: F32 dequantized from this model"));
    m_panel->setModel(m_model);
    QVERIFY(!m_panel->isBusy());
    QVERIFY(!m_panel->hasReport());
    QCOMPARE(m_panel->checkedTypes().size(), engine::quantLabTypes().size());
    m_panel->setCheckedTypes(kTypes);
    QCOMPARE(m_panel->checkedTypes(), kTypes);
    m_panel->setTensorFilter(kTensors);

    QElapsedTimer timer;
    timer.start();
    QSignalSpy ready(m_panel, &ui::QuantLabPanel::reportReady);
    QVERIFY(m_panel->analyse());
    QVERIFY(m_panel->isBusy());  // the analysis runs off the UI thread
    QVERIFY(!m_panel->analyse());  // one job at a time
    QVERIFY(waitIdle(60000));
    qInfo("panel analysis of %zu tensors × %zu types: %lld ms", kTensors.size(), kTypes.size(), timer.elapsed());
    QVERIFY2(m_panel->lastError().isEmpty(), qPrintable(m_panel->lastError()));
    QCOMPARE(ready.count(), 1);
    QVERIFY(m_panel->hasReport());
    QCOMPARE(m_panel->progressBar()->value(), m_panel->progressBar()->maximum());

    engine::QuantErrorOptions options;
    options.types = kTypes;
    options.tensors = kTensors;
    auto expected = engine::analyzeQuantError(*m_model, options);
    QVERIFY2(expected, expected ? "" : expected.error().toString().c_str());
    m_expected = std::move(*expected);
}

void TestQuantLabPanel::cleanupTestCase() { delete m_panel; }

void TestQuantLabPanel::tableMatchesEngine() {
    const engine::QuantErrorReport& r = m_panel->report();
    QCOMPARE(r.types, kTypes);
    QCOMPARE(r.tensors.size(), kTensors.size());
    QCOMPARE(r.tensors.front().reference, m_expected->tensors.front().reference);
    for (TensorType type : kTypes) {
        m_panel->selectType(type);
        QCOMPARE(m_panel->selectedType(), type);
        QCOMPARE(m_panel->table()->rowCount(), int(kTensors.size()));
        for (int row = 0; row < m_panel->table()->rowCount(); ++row) {
            const std::string name = m_panel->table()->item(row, ui::QuantLabPanel::ColTensor)->text().toStdString();
            const engine::QuantErrorStats* e = m_expected->find(name, type);
            QVERIFY2(e, name.c_str());
            const auto cell = [&](int col) { return m_panel->table()->item(row, col)->data(Qt::UserRole).toDouble(); };
            QCOMPARE(cell(ui::QuantLabPanel::ColRmse), e->rmse);
            QCOMPARE(cell(ui::QuantLabPanel::ColMaxAbs), e->maxAbsError);
            QCOMPARE(cell(ui::QuantLabPanel::ColSnr), e->snrDb);
            QCOMPARE(cell(ui::QuantLabPanel::ColCosine), e->cosine);
            QCOMPARE(cell(ui::QuantLabPanel::ColBpw), e->bitsPerWeight);
            QVERIFY(m_panel->table()->item(row, ui::QuantLabPanel::ColUsed)->text().startsWith(
                QString::fromUtf8(engine::tensorTypeName(e->used).data())));
        }
    }
    // One tensor in full, against the engine run here.
    const engine::QuantErrorStats* mine = r.find("blk.0.attn_q.weight", TensorType::Q4_0);
    const engine::QuantErrorStats* theirs = m_expected->find("blk.0.attn_q.weight", TensorType::Q4_0);
    QVERIFY(mine && theirs);
    QCOMPARE(mine->elements, theirs->elements);
    QCOMPARE(mine->bytes, theirs->bytes);
    QCOMPARE(mine->rmse, theirs->rmse);
    QCOMPARE(mine->outliers.size(), theirs->outliers.size());
    QVERIFY(mine->rmse > 0 && theirs->snrDb > 0);
}

void TestQuantLabPanel::heatmapMatchesEngine() {
    const engine::QuantMetric metrics[] = {engine::QuantMetric::SnrDb, engine::QuantMetric::Rmse,
                                           engine::QuantMetric::Cosine};
    for (TensorType type : kTypes)
        for (engine::QuantMetric metric : metrics) {
            m_panel->selectType(type);
            m_panel->selectMetric(metric);
            auto expected = engine::quantErrorHeatmap(*m_expected, type, metric);
            QVERIFY(expected);
            const engine::QuantHeatmap& shown = m_panel->heatmapShown();
            QCOMPARE(shown.type, type);
            QCOMPARE(shown.metric, metric);
            QCOMPARE(m_panel->heatmap()->layers(), int(expected->cells.size()));
            QCOMPARE(m_panel->heatmap()->columns(), int(expected->columns.size()));
            int analysed = 0;
            for (int l = 0; l < m_panel->heatmap()->layers(); ++l)
                for (int c = 0; c < m_panel->heatmap()->columns(); ++c) {
                    const double want = expected->cells[size_t(l)][size_t(c)];
                    QVERIFY2(sameDouble(m_panel->heatmap()->value(l, c), want),
                             qPrintable(QStringLiteral("cell %1,%2").arg(l).arg(c)));
                    analysed += std::isfinite(want) ? 1 : 0;
                }
            QCOMPARE(analysed, int(kTensors.size()));
        }
    // blk.3.ffn_gate: layer 3, the "gate" column.
    const auto& cols = m_panel->heatmapShown().columns;
    const int gate = int(std::find(cols.begin(), cols.end(), engine::WeightKind::Gate) - cols.begin());
    QCOMPARE(m_panel->heatmap()->value(3, gate),
             m_expected->find("blk.3.ffn_gate.weight", m_panel->selectedType())->cosine);
    QVERIFY(std::isnan(m_panel->heatmap()->value(2, gate)));
    m_panel->selectMetric(engine::QuantMetric::SnrDb);
}

void TestQuantLabPanel::histogramsAndOutliers() {
    m_panel->selectType(TensorType::Q4_0);
    QVERIFY(m_panel->selectTensor(QStringLiteral("blk.0.ffn_down.weight")));
    QCOMPARE(m_panel->selectedTensor(), QStringLiteral("blk.0.ffn_down.weight"));
    QVERIFY(uitest::waitInEventLoop([&] { return !m_panel->histogramBusy() && m_panel->histograms(); }, 20000));
    engine::QuantHistogramOptions options;
    options.types = {TensorType::Q4_0};
    options.bins = ui::QuantLabPanel::kHistogramBins;
    auto expected = engine::quantErrorHistograms(*m_model, "blk.0.ffn_down.weight", options);
    QVERIFY(expected);
    const engine::TensorQuantHistograms& shown = *m_panel->histograms();
    QCOMPARE(shown.tensor, std::string("blk.0.ffn_down.weight"));
    QCOMPARE(shown.weights.counts, expected->weights.counts);
    QCOMPARE(shown.errors.front().counts, expected->errors.front().counts);
    QCOMPARE(shown.errors.front().range, expected->errors.front().range);
    QCOMPARE(m_panel->histogramPlot()->graphCount(), 2);
    QCOMPARE(m_panel->histogramPlot()->graph(1)->dataCount(), ui::QuantLabPanel::kHistogramBins);
    const engine::QuantErrorStats* e = m_expected->find("blk.0.ffn_down.weight", TensorType::Q4_0);
    QCOMPARE(m_panel->outlierTable()->rowCount(), int(e->outliers.size()));
    QVERIFY(!e->outliers.empty());
    QCOMPARE(m_panel->outlierTable()->item(0, 0)->data(Qt::UserRole).toDouble(), double(e->outliers[0].row));
    QCOMPARE(m_panel->outlierTable()->item(0, 1)->data(Qt::UserRole).toDouble(), double(e->outliers[0].col));
    QCOMPARE(m_panel->outlierTable()->item(0, 4)->data(Qt::UserRole).toDouble(), e->outliers[0].error());
}

void TestQuantLabPanel::exportsParseBack() {
    QString error;
    const QString png = uitest::scratch(QStringLiteral("quant.png"));
    QVERIFY2(m_panel->exportImage(png, &error), qPrintable(error));
    QImage image(png);
    QVERIFY(!image.isNull());
    QCOMPARE(image.size(), m_panel->heatmap()->size());
    const QString svg = uitest::scratch(QStringLiteral("quant.svg"));
    QVERIFY2(m_panel->exportImage(svg, &error), qPrintable(error));
    QVERIFY(QSvgRenderer(svg).isValid());
    QVERIFY(!m_panel->exportImage(uitest::scratch(QStringLiteral("quant.gif")), &error));

    const QString csv = uitest::scratch(QStringLiteral("quant.csv"));
    QVERIFY2(m_panel->exportData(csv, &error), qPrintable(error));
    QFile f(csv);
    QVERIFY(f.open(QIODevice::ReadOnly));
    const QStringList lines = QString::fromUtf8(f.readAll()).split(QLatin1Char('\n'), Qt::SkipEmptyParts);
    QCOMPARE(lines.size(), 1 + int(kTensors.size() * kTypes.size()));
    const QStringList header = lines[0].split(QLatin1Char(','));
    QCOMPARE(header[0], QStringLiteral("tensor"));
    for (const QString& line : lines.mid(1)) {
        const QStringList f = line.split(QLatin1Char(','));
        QCOMPARE(f.size(), header.size());
        const auto* e = m_expected->find(f[0].toStdString(), *engine::tensorTypeFromName(f[3].toStdString()));
        QVERIFY(e);
        QCOMPARE(f[header.indexOf(QStringLiteral("rmse"))].toDouble(), e->rmse);
        QCOMPARE(f[header.indexOf(QStringLiteral("snr_db"))].toDouble(), e->snrDb);
        QCOMPARE(f[header.indexOf(QStringLiteral("cosine"))].toDouble(), e->cosine);
    }

    const QString json = uitest::scratch(QStringLiteral("quant.json"));
    QVERIFY2(m_panel->exportData(json, &error), qPrintable(error));
    QFile j(json);
    QVERIFY(j.open(QIODevice::ReadOnly));
    const QJsonObject root = QJsonDocument::fromJson(j.readAll()).object();
    QCOMPARE(root[QStringLiteral("types")].toArray().size(), int(kTypes.size()));
    const QJsonArray tensors = root[QStringLiteral("tensors")].toArray();
    QCOMPARE(tensors.size(), int(kTensors.size()));
    const QJsonObject first = tensors[0].toObject();
    const auto* e = m_expected->find(first[QStringLiteral("name")].toString().toStdString(), kTypes[0]);
    QVERIFY(e);
    const QJsonObject s = first[QStringLiteral("stats")].toArray()[0].toObject();
    QCOMPARE(s[QStringLiteral("rmse")].toDouble(), e->rmse);
    QCOMPARE(s[QStringLiteral("max_abs_error")].toDouble(), e->maxAbsError);
    QVERIFY(!m_panel->exportData(uitest::scratch(QStringLiteral("quant.npy")), &error));
    QVERIFY(error.contains(QStringLiteral("npy")));
}

void TestQuantLabPanel::screenshot() {
    if (qEnvironmentVariable("GLASSBOX_WRITE_SCREENSHOTS") != QLatin1String("1"))
        QSKIP("set GLASSBOX_WRITE_SCREENSHOTS=1 to write docs/screenshots/quant_lab.png");
    // The whole model in three types, for a full heatmap.
    m_panel->setCheckedTypes({TensorType::Q8_0, TensorType::Q4_0, TensorType::Q4_K});
    m_panel->setTensorFilter({});
    QElapsedTimer timer;
    timer.start();
    QVERIFY(m_panel->analyse());
    QVERIFY(waitIdle(120000));
    QVERIFY2(m_panel->hasReport(), qPrintable(m_panel->lastError()));
    qInfo("whole-model analysis, 3 types: %lld ms", timer.elapsed());
    m_panel->selectType(TensorType::Q4_0);
    QVERIFY(m_panel->selectTensor(QStringLiteral("blk.5.ffn_down.weight")));
    QVERIFY(uitest::waitInEventLoop([&] { return m_panel->histograms().has_value(); }, 20000));
    QTest::qWait(300);
    const QString dir = QDir(qEnvironmentVariable("GLASSBOX_SOURCE_DIR", QStringLiteral("."))).filePath(
        QStringLiteral("docs/screenshots"));
    QVERIFY(QDir().mkpath(dir));
    QVERIFY(m_panel->grab().save(QDir(dir).filePath(QStringLiteral("quant_lab.png"))));
}

void TestQuantLabPanel::cancelStopsAnalysis() {
    m_panel->setCheckedTypes({engine::quantLabTypes().begin(), engine::quantLabTypes().end()});
    m_panel->setTensorFilter({});  // the whole model, every type: far longer than the wait below
    QSignalSpy finished(m_panel, &ui::QuantLabPanel::jobFinished);
    QVERIFY(m_panel->analyse());
    QVERIFY(!m_panel->hasReport());
    QTest::qWait(150);
    QVERIFY(m_panel->isBusy());
    QElapsedTimer timer;
    timer.start();
    m_panel->cancel();
    QVERIFY(waitIdle(20000));
    qInfo("analysis stopped %lld ms after Cancel", timer.elapsed());
    QCOMPARE(finished.count(), 1);
    QVERIFY(!m_panel->hasReport());
    QVERIFY2(m_panel->lastError().startsWith(QStringLiteral("Cancelled")), qPrintable(m_panel->lastError()));
    QVERIFY(m_panel->heatmap()->isEmpty());
    QCOMPARE(m_panel->table()->rowCount(), 0);
    QString error;
    QVERIFY(!m_panel->exportData(uitest::scratch(QStringLiteral("none.csv")), &error));
}

void TestQuantLabPanel::cancelledRequantizeLeavesNoFile() {
    const QString out = uitest::scratch(QStringLiteral("requantized.gguf"));
    QVERIFY(m_panel->saveRequantized(out, TensorType::Q4_0));
    QCOMPARE(m_panel->job(), ui::QuantLabPanel::Job::Requantize);
    QTest::qWait(50);
    m_panel->cancel();
    QVERIFY(waitIdle(20000));
    if (m_panel->lastError().isEmpty()) QSKIP("the model was written before Cancel arrived");
    QVERIFY2(m_panel->lastError().startsWith(QStringLiteral("Cancelled")), qPrintable(m_panel->lastError()));
    QVERIFY(!QFile::exists(out));
}

void TestQuantLabPanel::requantizeWritesLoadableModel() {
    const QString out = uitest::scratch(QStringLiteral("requantized-q4_0.gguf"));
    QElapsedTimer timer;
    timer.start();
    QVERIFY(m_panel->saveRequantized(out, TensorType::Q4_0));
    QVERIFY(waitIdle(60000));
    qInfo("re-quantized to Q4_0 in %lld ms", timer.elapsed());
    QVERIFY2(m_panel->lastError().isEmpty(), qPrintable(m_panel->lastError()));
    auto written = engine::Model::load(out.toStdString());
    QVERIFY2(written, written ? "" : written.error().toString().c_str());
    QCOMPARE((*written)->config().nLayers, m_model->config().nLayers);
    QVERIFY((*written)->weightBytes() < m_model->weightBytes());
    QFile::remove(out);
}

void TestQuantLabPanel::loadsReferenceModel() {
    const QString f16 = QDir(QString::fromStdString(testing::modelsDir()))
                            .filePath(QStringLiteral("SmolLM2-135M-Instruct.F16.gguf"));
    if (!QFileInfo::exists(f16)) QSKIP("models/SmolLM2-135M-Instruct.F16.gguf is not here");
    m_panel->loadReference(f16);
    QCOMPARE(m_panel->job(), ui::QuantLabPanel::Job::Reference);
    QVERIFY(waitIdle(60000));
    QVERIFY2(m_panel->lastError().isEmpty(), qPrintable(m_panel->lastError()));
    QVERIFY(m_panel->referenceModel());
    QCOMPARE(m_panel->referenceText(), QStringLiteral("reference: SmolLM2-135M-Instruct.F16.gguf"));
    // Measured against the F16 weights now.
    m_panel->setCheckedTypes({TensorType::Q8_0});
    m_panel->setTensorFilter({"blk.0.attn_q.weight"});
    QVERIFY(m_panel->analyse());
    QVERIFY(waitIdle(60000));
    QVERIFY(m_panel->hasReport());
    QCOMPARE(m_panel->report().referenceModel, f16.toStdString());
    m_panel->loadReference(QString());
    QVERIFY(!m_panel->referenceModel());
    QCOMPARE(m_panel->referenceText(), QStringLiteral("reference: F32 dequantized from this model"));
}

// A damaged reference file: the engine's typed error in the panel, no
// reference taken, and the report on screen untouched.
void TestQuantLabPanel::badReferenceIsReportedAndKeepsTheReport() {
    m_panel->setCheckedTypes({TensorType::Q8_0});
    m_panel->setTensorFilter({"blk.0.attn_q.weight"});
    QVERIFY(m_panel->analyse());
    QVERIFY(waitIdle(60000));
    QVERIFY(m_panel->hasReport());
    const double rmse = m_panel->report().tensors.at(0).stats.at(0).rmse;
    const QString bad = QDir(QString::fromStdString(testing::makeTempDir("quant-lab-bad"))).filePath("bad.gguf");
    {
        QFile f(bad);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(QByteArray("GGUF\x03\x00\x00\x00", 8) + QByteArray(40, '\xff'));
    }
    m_panel->loadReference(bad);
    QVERIFY(waitIdle(10000));
    QVERIFY(!m_panel->lastError().isEmpty());
    QVERIFY(!m_panel->referenceModel());
    QVERIFY(m_panel->hasReport());
    QCOMPARE(m_panel->report().tensors.at(0).stats.at(0).rmse, rmse);
}

QTEST_MAIN(TestQuantLabPanel)
#include "tst_quant_lab_panel.moc"
