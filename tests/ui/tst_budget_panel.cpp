// The memory budget planner panel on the real default model: every figure
// it shows equals engine::planMemory recomputed here for the same options;
// KV type, context (spin and slider) and sequences move the chart's series;
// a small and a large GPU budget change the largest context and its
// marker; the MHA/GQA/MQA table; a GGUF and a bare Llama-2-7B config.json
// planned from disk on the worker thread; what-if weight types, refused
// ones included; a malformed config.json shows its error and keeps the
// previous plan; the exports parse back.
#include <QCheckBox>
#include <QComboBox>
#include <QElapsedTimer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QPlainTextEdit>
#include <QSignalSpy>
#include <QSlider>
#include <QSpinBox>
#include <QSvgRenderer>
#include <QTableWidget>
#include <QtTest>
#include <fstream>
#include <map>

#include "engine/model.h"
#include "support/hf_export.h"
#include "support/synthetic_model.h"
#include "tests/ui/capture_fixture.h"
#include "tests/ui/ui_test_support.h"
#include "ui/budget_panel.h"

GLASSBOX_UI_TEST_ENVIRONMENT

using namespace glassbox;
using engine::TensorType;

namespace {

const char* kLlama2Config = R"({
  "architectures": ["LlamaForCausalLM"], "model_type": "llama",
  "hidden_size": 4096, "num_hidden_layers": 32, "num_attention_heads": 32,
  "num_key_value_heads": 32, "intermediate_size": 11008, "vocab_size": 32000,
  "max_position_embeddings": 4096, "rms_norm_eps": 1e-05, "torch_dtype": "float16"
})";

QString thousands(uint64_t v) { return QString::fromStdString(engine::formatThousands(v)); }

QString writeFile(const QString& dir, const QString& name, const char* text) {
    const QString path = QDir(dir).filePath(name);
    std::ofstream(path.toStdString(), std::ios::binary) << text;
    return path;
}

}  // namespace

class TestBudgetPanel : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void cleanupTestCase();
    void showsEnginePlan();
    void kvPerTokenForSmolLM2();
    void controlsMoveTheChart();
    void gpuBudgetChangesLargestContext();
    void attentionLayouts();
    void whatIfWeightTypes();
    void plansAnotherGguf();
    void plansBareConfigJson();
    void malformedConfigKeepsPlan();
    void exportsParseBack();
    void screenshot();
    void clearsOnNull();
    void plansSafetensorsCheckpoint();

private:
    // The row of the plan table with this key, or -1.
    int planRow(const QString& key) const {
        for (int r = 0; r < m_panel->planTable()->rowCount(); ++r)
            if (m_panel->planTable()->item(r, 0)->data(Qt::UserRole).toString() == key) return r;
        return -1;
    }
    QString shown(const QString& key) const {
        const int r = planRow(key);
        return r < 0 ? QString() : m_panel->planTable()->item(r, 1)->text();
    }
    bool planFileAndWait(const QString& path) {
        m_panel->planFile(path);
        if (!m_panel->isBusy()) return false;  // the file is read off the UI thread
        return QTest::qWaitFor([&] { return !m_panel->isBusy(); }, 20000);
    }
    engine::MemoryPlan expectedPlan(const engine::ModelFootprint& fp) const {
        auto plan = engine::planMemory(fp, m_panel->planOptions());
        if (!plan) qFatal("planMemory: %s", plan.error().toString().c_str());
        return *plan;
    }
    void selectBudget(const QString& name) {
        const int i = m_panel->budgetBox()->findText(name, Qt::MatchContains);
        QVERIFY2(i >= 0, qPrintable(name));
        m_panel->budgetBox()->setCurrentIndex(i);
    }

    std::shared_ptr<const engine::Model> m_model;
    engine::ModelFootprint m_fp;
    ui::BudgetPanel* m_panel = nullptr;
    QString m_dir;
};

void TestBudgetPanel::initTestCase() {
    auto model = engine::Model::load(testing::defaultModelPath());
    QVERIFY2(model, model ? "" : model.error().toString().c_str());
    m_model = *model;
    m_fp = engine::footprintFromModel(*m_model);
    m_dir = QString::fromStdString(testing::makeTempDir("glassbox-budget"));
    m_panel = new ui::BudgetPanel;
    m_panel->resize(1400, 900);
    m_panel->show();
    QVERIFY(QTest::qWaitForWindowExposed(m_panel));
    QVERIFY(!m_panel->hasPlan());
    QSignalSpy changed(m_panel, &ui::BudgetPanel::planChanged);
    m_panel->setModel(m_model);
    QCOMPARE(changed.count(), 1);
    QVERIFY(m_panel->hasPlan());
    QCOMPARE(m_panel->source(), ui::BudgetPanel::Source::LoadedModel);
    QCOMPARE(m_panel->sourcePath(), QString::fromStdString(m_model->path()));
    qInfo("replan (plan + chart series + tables): %.3f ms", m_panel->lastReplanMs());
}

void TestBudgetPanel::cleanupTestCase() { delete m_panel; }

void TestBudgetPanel::showsEnginePlan() {
    // The defaults: F16 KV, 4,096 tokens, 1 sequence, available RAM, 10 %.
    const engine::PlanOptions o = m_panel->planOptions();
    QCOMPARE(o.kvType, TensorType::F16);
    QCOMPARE(o.contextSize, 4096);
    QCOMPARE(o.sequences, 1);
    QCOMPARE(o.safetyMargin, 0.10);
    QCOMPARE(o.budgetBytes, engine::querySystemMemory().availableRam ? m_panel->budgetBox()->itemData(0).toULongLong()
                                                                     : 0ull);
    const engine::MemoryPlan e = expectedPlan(m_fp);
    const engine::MemoryPlan& p = m_panel->plan();
    QCOMPARE(p.weightBytes, e.weightBytes);
    QCOMPARE(p.weightBytes, m_model->weightBytes());
    QCOMPARE(p.totalBytes, e.totalBytes);
    QCOMPARE(p.scratch.total(), e.scratch.total());
    QCOMPARE(shown(QStringLiteral("weights")), thousands(e.weightBytes));
    QCOMPARE(shown(QStringLiteral("kv_per_token")), thousands(e.kvBytesPerToken));
    QCOMPARE(shown(QStringLiteral("kv_per_sequence")), thousands(e.kvBytesPerSequence));
    QCOMPARE(shown(QStringLiteral("kv_total")), thousands(e.kvBytesTotal));
    QCOMPARE(shown(QStringLiteral("scratch_activations")), thousands(e.scratch.activations));
    QCOMPARE(shown(QStringLiteral("scratch_scores")), thousands(e.scratch.scores));
    QCOMPARE(shown(QStringLiteral("scratch_matmul")), thousands(e.scratch.matmulScratch));
    QCOMPARE(shown(QStringLiteral("scratch_fused")), thousands(e.scratch.fusedScratch));
    QCOMPARE(shown(QStringLiteral("scratch")), thousands(e.scratch.total()));
    QCOMPARE(shown(QStringLiteral("per_sequence")), thousands(e.perSequenceBytes));
    QCOMPARE(shown(QStringLiteral("total")), thousands(e.totalBytes));
    // The weight table: the engine's rows, then the total.
    QCOMPARE(m_panel->weightTable()->rowCount(), int(m_fp.weights.size()) + 1);
    for (int r = 0; r < int(m_fp.weights.size()); ++r) {
        QCOMPARE(m_panel->weightTable()->item(r, 0)->text(), QString::fromStdString(m_fp.weights[size_t(r)].type));
        QCOMPARE(m_panel->weightTable()->item(r, 3)->text(), thousands(m_fp.weights[size_t(r)].bytes));
    }
    QCOMPARE(m_panel->weightTable()->item(int(m_fp.weights.size()), 3)->text(), thousands(m_fp.weightBytes));
    QVERIFY(m_panel->formulaText().contains(QString::fromStdString(e.kvFormula)));
    QVERIFY(m_panel->formulaText().contains(thousands(e.totalBytes) + QStringLiteral(" bytes")));
    QCOMPARE(m_panel->formulaView()->font().styleHint() == QFont::TypeWriter ||
                 QFontInfo(m_panel->formulaView()->font()).fixedPitch(),
             true);
    QVERIFY(m_panel->formulaView()->isReadOnly());
    if (!e.fit) QSKIP("the available RAM is unknown here");
    QCOMPARE(p.fit->maxContext, e.fit->maxContext);
    QCOMPARE(p.fit->maxSequences, e.fit->maxSequences);
    QCOMPARE(shown(QStringLiteral("usable")), thousands(e.fit->usableBytes));
    QVERIFY(m_panel->fitsText().startsWith(e.fit->fits ? QStringLiteral("Fits: yes") : QStringLiteral("Fits: NO")));
    QVERIFY(m_panel->fitsText().contains(QStringLiteral("Largest context for 1 sequence: %1 tokens")
                                             .arg(thousands(uint64_t(e.fit->maxContext)))));
    QVERIFY(m_panel->fitsText().contains(
        QStringLiteral("Most sequences at 4,096 tokens: %1.").arg(thousands(uint64_t(e.fit->maxSequences)))));
}

void TestBudgetPanel::kvPerTokenForSmolLM2() {
    const engine::ModelConfig& c = m_model->config();
    QCOMPARE(c.nLayers, 30);
    QCOMPARE(c.nHeadKv, 3);
    QCOMPARE(c.headDim, 64);
    QCOMPARE(m_panel->plan().kvBytesPerToken, uint64_t(2 * 30 * 3 * 64 * 2));
    QCOMPARE(m_panel->plan().kvBytesPerToken, uint64_t(23040));
    QCOMPARE(shown(QStringLiteral("kv_per_token")), QStringLiteral("23,040"));
    QVERIFY(m_panel->formulaText().contains(
        QStringLiteral("2 × 30 layers × 3 KV heads × 64 dims × 4,096 tokens × 2 bytes = 94,371,840 bytes")));
}

void TestBudgetPanel::controlsMoveTheChart() {
    struct Case {
        TensorType kv;
        int context;
        int sequences;
    };
    const Case cases[] = {{TensorType::Q8_0, 3000, 4}, {TensorType::F32, 16384, 2}, {TensorType::Q4_0, 700, 64},
                          {TensorType::F16, 4096, 1}};
    for (const Case& k : cases) {
        m_panel->kvTypeBox()->setCurrentIndex(
            m_panel->kvTypeBox()->findText(QString::fromUtf8(engine::tensorTypeName(k.kv).data())));
        m_panel->contextSpin()->setValue(k.context);
        m_panel->sequencesSpin()->setValue(k.sequences);
        const engine::PlanOptions o = m_panel->planOptions();
        QCOMPARE(o.kvType, k.kv);
        QCOMPARE(o.contextSize, k.context);
        QCOMPARE(o.sequences, k.sequences);
        const uint64_t perToken = *engine::kvBytesPerToken(m_fp.config, k.kv);
        QCOMPARE(m_panel->plan().kvBytesTotal, perToken * uint64_t(k.context) * uint64_t(k.sequences));
        const viz::BudgetSeries& s = m_panel->chartSeries();
        const int i = s.indexOf(k.context);
        QVERIFY2(i >= 0, "the chosen context is a point of the chart");
        QCOMPARE(s.chosenContext, k.context);
        QCOMPARE(s.kv[size_t(i)], perToken * uint64_t(k.context) * uint64_t(k.sequences));
        QCOMPARE(s.weights[size_t(i)], m_fp.weightBytes);
        QCOMPARE(s.scratch[size_t(i)], m_panel->plan().scratch.total() * uint64_t(k.sequences));
        QCOMPARE(s.total(size_t(i)), m_panel->plan().totalBytes);
        QCOMPARE(m_panel->chart()->graph(0)->dataCount(), int(s.contexts.size()));
        QCOMPARE(m_panel->chart()->layerValues(viz::BudgetChart::KvCache), s.kv);
        // The x axis: 256 … 4 × the training context, powers of two included.
        QCOMPARE(s.contexts.front(), 256);
        QCOMPARE(s.contexts.back(), 4 * m_fp.config.nCtxTrain);
        QVERIFY(s.indexOf(8192) >= 0);
        const engine::MemoryPlan e = expectedPlan(m_fp);
        QCOMPARE(shown(QStringLiteral("total")), thousands(e.totalBytes));
    }
    // The slider moves the spin box (powers of two land exactly), and back.
    m_panel->contextSlider()->setValue(8 * 13);
    QCOMPARE(m_panel->contextSpin()->value(), 8192);
    QCOMPARE(m_panel->plan().options.contextSize, 8192);
    m_panel->contextSpin()->setValue(1024);
    QCOMPARE(m_panel->contextSlider()->value(), 8 * 10);
    QCOMPARE(m_panel->contextLimit(), 4 * m_fp.config.nCtxTrain);
    // Dragging the slider over the whole range replans on the UI thread each step.
    m_panel->fullRangeBox()->setChecked(true);
    double worst = 0, sum = 0;
    int steps = 0;
    for (int v = m_panel->contextSlider()->minimum(); v <= m_panel->contextSlider()->maximum(); ++v, ++steps) {
        m_panel->contextSlider()->setValue(v);
        worst = std::max(worst, m_panel->lastReplanMs());
        sum += m_panel->lastReplanMs();
    }
    qInfo("slider sweep 256 … 1M: %d replans, mean %.2f ms, worst %.2f ms", steps, sum / steps, worst);
    QVERIFY2(worst < 250, "a replan is arithmetic; it must not stall the UI thread");
    m_panel->fullRangeBox()->setChecked(false);
    m_panel->contextSpin()->setValue(4096);
    QCOMPARE(m_panel->plan().options.contextSize, 4096);
}

void TestBudgetPanel::gpuBudgetChangesLargestContext() {
    m_panel->fullRangeBox()->setChecked(true);
    QCOMPARE(m_panel->contextLimit(), engine::kPlanMaxContext);
    selectBudget(QStringLiteral("RTX 4060 8 GB"));
    QCOMPARE(m_panel->planOptions().budgetBytes, uint64_t(8) << 30);
    const engine::MemoryPlan small = expectedPlan(m_fp);
    QCOMPARE(m_panel->plan().fit->maxContext, small.fit->maxContext);
    QCOMPARE(m_panel->plan().fit->maxSequences, small.fit->maxSequences);
    QVERIFY(small.fit->maxContext > 4096 && small.fit->maxContext < engine::kPlanMaxContext);
    QCOMPARE(m_panel->chart()->markerContext(), small.fit->maxContext);
    QCOMPARE(m_panel->chart()->budgetLineBytes(), small.fit->usableBytes);
    const viz::BudgetSeries& s = m_panel->chartSeries();
    const int at = s.indexOf(small.fit->maxContext);
    QVERIFY(at >= 0);
    QVERIFY(s.total(size_t(at)) <= s.usableBytes);
    QVERIFY(s.total(size_t(at + 1)) > s.usableBytes);  // the next point is past the budget
    QVERIFY(m_panel->fitsText().contains(thousands(uint64_t(small.fit->maxContext))));
    selectBudget(QStringLiteral("H200 141 GB"));
    const engine::MemoryPlan big = expectedPlan(m_fp);
    QCOMPARE(m_panel->plan().fit->maxContext, big.fit->maxContext);
    QCOMPARE(big.fit->maxContext, engine::kPlanMaxContext);  // the backend's limit
    QVERIFY(m_panel->plan().fit->maxContext > small.fit->maxContext);
    QVERIFY(m_panel->fitsText().contains(QStringLiteral("the backend’s limit")));
    QVERIFY(m_panel->plan().fit->maxSequences > small.fit->maxSequences);
    // Without the full range the marker is past the chart: the text says so.
    selectBudget(QStringLiteral("RTX 4060 8 GB"));
    m_panel->fullRangeBox()->setChecked(false);
    QCOMPARE(m_panel->chart()->markerContext(), 0);
    QCOMPARE(m_panel->plan().fit->maxContext, small.fit->maxContext);
    // Sequences shrink the largest context.
    m_panel->sequencesSpin()->setValue(16);
    QVERIFY(m_panel->plan().fit->maxContext < small.fit->maxContext);
    QCOMPARE(m_panel->plan().fit->maxContext, expectedPlan(m_fp).fit->maxContext);
    m_panel->sequencesSpin()->setValue(1);
    m_panel->budgetBox()->setCurrentIndex(0);
}

void TestBudgetPanel::attentionLayouts() {
    m_panel->sequencesSpin()->setValue(2);
    const QTableWidget* t = m_panel->attentionTable();
    QCOMPARE(t->rowCount(), 3);
    const QString names[] = {QStringLiteral("MHA"), QStringLiteral("GQA"), QStringLiteral("MQA")};
    const int heads[] = {9, 3, 1};
    for (int r = 0; r < 3; ++r) {
        const uint64_t perToken = uint64_t(2) * 30 * uint64_t(heads[r]) * 64 * 2;
        QCOMPARE(t->item(r, 0)->text(), names[r]);
        QCOMPARE(t->item(r, 1)->text().toInt(), heads[r]);
        QCOMPARE(t->item(r, 2)->text(), thousands(perToken));
        QCOMPARE(t->item(r, 3)->data(Qt::UserRole).toULongLong(), perToken * 4096 * 2);
        QCOMPARE(t->item(r, 4)->text().contains(QStringLiteral("this model")), r == 1);
    }
    QCOMPARE(t->item(0, 2)->text(), QStringLiteral("69,120"));
    QCOMPARE(t->item(2, 2)->text(), QStringLiteral("7,680"));
    QVERIFY(m_panel->formulaText().contains(QStringLiteral("2 × 30 layers × 9 KV heads × 64 dims")));
    QVERIFY(m_panel->formulaText().contains(QStringLiteral("× 2 sequences ×")));
    m_panel->sequencesSpin()->setValue(1);
}

void TestBudgetPanel::whatIfWeightTypes() {
    QComboBox* box = m_panel->weightTypeBox();
    box->setCurrentIndex(box->findText(QStringLiteral("Q8_0"), Qt::MatchStartsWith));
    const auto q8 = engine::footprintFromConfig(m_fp.config, TensorType::Q8_0);
    QVERIFY(q8);
    QVERIFY(m_panel->footprint().weightsEstimated);
    QCOMPARE(m_panel->plan().weightBytes, q8->weightBytes);
    QCOMPARE(shown(QStringLiteral("weights")), thousands(q8->weightBytes));
    QCOMPARE(m_panel->plan().totalBytes, expectedPlan(*q8).totalBytes);
    // Q4_K needs rows in multiples of 256; SmolLM2's hidden size is 576.
    const uint64_t before = m_panel->plan().totalBytes;
    box->setCurrentIndex(box->findText(QStringLiteral("Q4_K"), Qt::MatchStartsWith));
    QVERIFY(!m_panel->errorText().isEmpty());
    QVERIFY2(m_panel->errorText().contains(QStringLiteral("InvalidArgument")), qPrintable(m_panel->errorText()));
    QVERIFY(box->currentText().startsWith(QStringLiteral("Q8_0")));  // back to the type in use
    QCOMPARE(m_panel->plan().totalBytes, before);
    box->setCurrentIndex(0);
    QVERIFY(m_panel->errorText().isEmpty());
    QVERIFY(!m_panel->footprint().weightsEstimated);
    QCOMPARE(m_panel->plan().weightBytes, m_fp.weightBytes);
}

void TestBudgetPanel::plansAnotherGguf() {
    const QString other = QDir(QString::fromStdString(testing::modelsDir()))
                              .filePath(QStringLiteral("SmolLM2-135M-Instruct.Q8_0.gguf"));
    if (!QFileInfo::exists(other)) QSKIP("models/SmolLM2-135M-Instruct.Q8_0.gguf is not here");
    QElapsedTimer timer;
    timer.start();
    QVERIFY(planFileAndWait(other));
    qInfo("GGUF header planned in %lld ms (worker thread + queued reply)", timer.elapsed());
    QCOMPARE(m_panel->source(), ui::BudgetPanel::Source::File);
    QVERIFY(m_panel->errorText().isEmpty());
    const auto fp = engine::footprintFromGguf(other.toStdString());
    QVERIFY(fp);
    QCOMPARE(m_panel->plan().weightBytes, fp->weightBytes);
    QCOMPARE(m_panel->plan().totalBytes, expectedPlan(*fp).totalBytes);
    QCOMPARE(m_panel->weightTable()->item(0, 0)->text(), QString::fromStdString(fp->weights[0].type));
    m_panel->useLoadedModel();
    QCOMPARE(m_panel->source(), ui::BudgetPanel::Source::LoadedModel);
    QCOMPARE(m_panel->plan().weightBytes, m_fp.weightBytes);
}

void TestBudgetPanel::plansBareConfigJson() {
    const QString dir = QDir(m_dir).filePath(QStringLiteral("llama2"));
    QVERIFY(QDir().mkpath(dir));
    const QString config = writeFile(dir, QStringLiteral("config.json"), kLlama2Config);
    QVERIFY(planFileAndWait(config));
    QVERIFY2(m_panel->errorText().isEmpty(), qPrintable(m_panel->errorText()));
    QCOMPARE(m_panel->source(), ui::BudgetPanel::Source::File);
    QCOMPARE(m_panel->sourcePath(), config);
    QVERIFY(m_panel->footprint().weightsEstimated);
    QCOMPARE(m_panel->contextLimit(), 4 * 4096);
    m_panel->contextSpin()->setValue(1000);
    const engine::MemoryPlan& p = m_panel->plan();
    QCOMPARE(p.kvBytesPerToken, uint64_t(524288));
    QCOMPARE(p.kvBytesPerSequence, uint64_t(524288000));
    QCOMPARE(shown(QStringLiteral("kv_per_sequence")), QStringLiteral("524,288,000"));
    QVERIFY(m_panel->formulaText().contains(QStringLiteral(
        "2 × 32 layers × 32 KV heads × 128 dims × 1,000 tokens × 2 bytes = 524,288,000 bytes (524.3 MB)")));
    const auto fp = engine::footprintFromConfigJson(config.toStdString());
    QVERIFY(fp);
    QCOMPARE(p.weightBytes, fp->weightBytes);
    QCOMPARE(p.totalBytes, expectedPlan(*fp).totalBytes);
    // MHA: no GQA row; MQA would need 1/32 of the cache.
    QCOMPARE(m_panel->attentionTable()->rowCount(), 2);
    QVERIFY(m_panel->attentionTable()->item(0, 4)->text().contains(QStringLiteral("this model")));
    QCOMPARE(m_panel->attentionTable()->item(1, 2)->text(), QStringLiteral("16,384"));
    // The weight type selector: Q4_0 instead of the config's float16.
    QComboBox* box = m_panel->weightTypeBox();
    box->setCurrentIndex(box->findText(QStringLiteral("Q4_0"), Qt::MatchStartsWith));
    const auto q4 = engine::footprintFromConfigJson(config.toStdString(), TensorType::Q4_0);
    QVERIFY(q4);
    QCOMPARE(m_panel->plan().weightBytes, q4->weightBytes);
    QVERIFY(q4->weightBytes < fp->weightBytes / 3);
    QCOMPARE(m_panel->weightTable()->item(0, 0)->text(), QStringLiteral("Q4_0"));
    box->setCurrentIndex(0);
    QCOMPARE(m_panel->plan().weightBytes, fp->weightBytes);
}

void TestBudgetPanel::malformedConfigKeepsPlan() {
    const QString before = m_panel->sourcePath();
    const uint64_t total = m_panel->plan().totalBytes;
    const QString bad = QDir(m_dir).filePath(QStringLiteral("bad"));
    QVERIFY(QDir().mkpath(bad));
    const QString path = writeFile(bad, QStringLiteral("config.json"),
                                   R"({"model_type": "llama", "hidden_size": "wide", "num_hidden_layers": 2})");
    QSignalSpy failed(m_panel, &ui::BudgetPanel::planFailed);
    QVERIFY(planFileAndWait(path));
    QCOMPARE(failed.count(), 1);
    const QString error = m_panel->errorText();
    QVERIFY2(error.contains(QStringLiteral("Malformed")) && error.contains(QStringLiteral("hidden_size")),
             qPrintable(error));
    QVERIFY(error.contains(QStringLiteral("unchanged")));
    QCOMPARE(m_panel->sourcePath(), before);
    QCOMPARE(m_panel->plan().totalBytes, total);
    QVERIFY(m_panel->findChild<QLabel*>(QStringLiteral("budgetError"))->isVisible());
    // Not JSON at all, and a file that is not there.
    const QString garbage = writeFile(bad, QStringLiteral("garbage.json"), "{ \"hidden_size\": 40");
    QVERIFY(planFileAndWait(garbage));
    QVERIFY2(!m_panel->errorText().isEmpty(), "truncated JSON is reported");
    QVERIFY(planFileAndWait(QDir(bad).filePath(QStringLiteral("missing.gguf"))));
    QVERIFY2(m_panel->errorText().contains(QStringLiteral("Io")), qPrintable(m_panel->errorText()));
    QCOMPARE(m_panel->plan().totalBytes, total);
    QCOMPARE(failed.count(), 3);
    // Controls still replan the previous plan; a good file clears the error.
    m_panel->sequencesSpin()->setValue(2);
    QVERIFY(m_panel->plan().totalBytes > total);
    m_panel->sequencesSpin()->setValue(1);
    QVERIFY(planFileAndWait(before));
    QVERIFY(m_panel->errorText().isEmpty());
    QVERIFY(!m_panel->findChild<QLabel*>(QStringLiteral("budgetError"))->isVisible());
}

void TestBudgetPanel::exportsParseBack() {
    QString error;
    const QString png = uitest::scratch(QStringLiteral("budget.png"));
    QVERIFY2(m_panel->exportImage(png, &error), qPrintable(error));
    QCOMPARE(QImage(png).size(), m_panel->chart()->size());
    const QString svg = uitest::scratch(QStringLiteral("budget.svg"));
    QVERIFY2(m_panel->exportImage(svg, &error), qPrintable(error));
    QVERIFY(QSvgRenderer(svg).isValid());
    const engine::MemoryPlan& p = m_panel->plan();
    const QString csv = uitest::scratch(QStringLiteral("budget.csv"));
    QVERIFY2(m_panel->exportData(csv, &error), qPrintable(error));
    const QList<QStringList> rows = uitest::readCsv(csv);
    QCOMPARE(rows[0].join(QLatin1Char(',')), QStringLiteral("section,key,label,bytes,size"));
    std::map<QString, uint64_t> bytes;  // "section/key/label" -> bytes
    for (const QStringList& r : rows.mid(1)) {
        QCOMPARE(r.size(), 5);
        bytes[r[0] + QLatin1Char('/') + r[1] + QLatin1Char('/') + r[2]] = r[3].toULongLong();
        if (r[0] == QLatin1String("plan")) bytes[QStringLiteral("plan/") + r[1]] = r[3].toULongLong();
    }
    QCOMPARE(bytes[QStringLiteral("plan/kv_per_sequence")], p.kvBytesPerSequence);
    QCOMPARE(bytes[QStringLiteral("plan/total")], p.totalBytes);
    QCOMPARE(bytes[QStringLiteral("chart/1000/kv_cache")], uint64_t(524288000));
    int found = 0;
    for (const QStringList& r : rows)
        if (r[0] == QLatin1String("attention") && r[1] == QLatin1String("MQA/per_token")) {
            QCOMPARE(r[3].toULongLong(), p.kvBytesPerToken / 32);
            ++found;
        }
    QCOMPARE(found, 1);
    const QString json = uitest::scratch(QStringLiteral("budget.json"));
    QVERIFY2(m_panel->exportData(json, &error), qPrintable(error));
    QFile file(json);
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QJsonObject root = QJsonDocument::fromJson(file.readAll()).object();
    QCOMPARE(root[QStringLiteral("kv_bytes_per_sequence")].toInteger(), qint64(524288000));
    QCOMPARE(root[QStringLiteral("total_bytes")].toInteger(), qint64(p.totalBytes));
    QCOMPARE(root[QStringLiteral("options")].toObject()[QStringLiteral("context")].toInt(), 1000);
    QCOMPARE(root[QStringLiteral("model")].toObject()[QStringLiteral("layers")].toInt(), 32);
    QCOMPARE(root[QStringLiteral("source")].toObject()[QStringLiteral("kind")].toString(), QStringLiteral("config.json"));
    QCOMPARE(root[QStringLiteral("attention")].toArray().size(), 2);
    const QJsonObject chart = root[QStringLiteral("chart")].toObject();
    QCOMPARE(chart[QStringLiteral("contexts")].toArray().size(), int(m_panel->chartSeries().contexts.size()));
    QCOMPARE(root[QStringLiteral("kv_formula")].toString(), QString::fromStdString(p.kvFormula));
    if (p.fit) QCOMPARE(root[QStringLiteral("fit")].toObject()[QStringLiteral("max_context")].toInt(), p.fit->maxContext);
    QVERIFY(!m_panel->exportData(uitest::scratch(QStringLiteral("budget.npy")), &error));
    QVERIFY(error.contains(QStringLiteral("npy")));
    QVERIFY(!m_panel->exportImage(uitest::scratch(QStringLiteral("budget.gif")), &error));
}

void TestBudgetPanel::screenshot() {
    if (qEnvironmentVariable("GLASSBOX_WRITE_SCREENSHOTS") != QLatin1String("1"))
        QSKIP("set GLASSBOX_WRITE_SCREENSHOTS=1 to write docs/screenshots/budget.png");
    m_panel->useLoadedModel();
    m_panel->contextSpin()->setValue(16384);
    m_panel->sequencesSpin()->setValue(4);
    selectBudget(QStringLiteral("RTX 4060 8 GB"));
    m_panel->fullRangeBox()->setChecked(true);
    QTest::qWait(300);
    const QString dir = QDir(qEnvironmentVariable("GLASSBOX_SOURCE_DIR", QStringLiteral("."))).filePath(
        QStringLiteral("docs/screenshots"));
    QVERIFY(QDir().mkpath(dir));
    QVERIFY(m_panel->grab().save(QDir(dir).filePath(QStringLiteral("budget.png"))));
    m_panel->fullRangeBox()->setChecked(false);
    m_panel->sequencesSpin()->setValue(1);
    m_panel->budgetBox()->setCurrentIndex(0);
}

void TestBudgetPanel::clearsOnNull() {
    m_panel->useLoadedModel();
    QVERIFY(m_panel->hasPlan());
    m_panel->setModel(nullptr);
    QVERIFY(!m_panel->hasPlan());
    QCOMPARE(m_panel->source(), ui::BudgetPanel::Source::None);
    QCOMPARE(m_panel->planTable()->rowCount(), 0);
    QVERIFY(m_panel->chartSeries().empty());
    QString error;
    QVERIFY(!m_panel->exportData(uitest::scratch(QStringLiteral("none.csv")), &error));
    QVERIFY(!error.isEmpty());
    // A file planned while no model is loaded stays when the model goes.
    const QString config = QDir(m_dir).filePath(QStringLiteral("llama2/config.json"));
    QVERIFY(planFileAndWait(config));
    QVERIFY(m_panel->hasPlan());
    m_panel->setModel(nullptr);
    QVERIFY(m_panel->hasPlan());
}

// A safetensors checkpoint folder (a tiny F16 model exported as Hugging
// Face files): planned from its headers, by folder and by file.
void TestBudgetPanel::plansSafetensorsCheckpoint() {
    testing::SyntheticModelSpec spec;
    spec.weightType = spec.embeddingType = TensorType::F16;
    spec.nCtxTrain = 2048;
    const std::string gguf = m_dir.toStdString() + "/tiny.gguf";
    QVERIFY(testing::writeSyntheticModel(gguf, spec).ok());
    auto tiny = engine::Model::load(gguf);
    QVERIFY(tiny);
    const QString dir = QDir(m_dir).filePath(QStringLiteral("tiny-hf"));
    QVERIFY(QDir().mkpath(dir));
    QVERIFY(testing::exportAsHfCheckpoint(**tiny, dir.toStdString()).ok());
    const auto fp = engine::footprintFromSafetensors(dir.toStdString());
    QVERIFY2(fp, fp ? "" : fp.error().toString().c_str());
    for (const QString& path : {dir, QDir(dir).filePath(QStringLiteral("model.safetensors"))}) {
        QVERIFY(planFileAndWait(path));
        QVERIFY2(m_panel->errorText().isEmpty(), qPrintable(m_panel->errorText()));
        QCOMPARE(m_panel->footprint().source, std::string("safetensors"));
        QVERIFY(!m_panel->footprint().weightsEstimated);
        QCOMPARE(m_panel->plan().weightBytes, fp->weightBytes);
        QCOMPARE(m_panel->contextLimit(), 4 * 2048);
        QCOMPARE(m_panel->plan().totalBytes, expectedPlan(*fp).totalBytes);
        QCOMPARE(m_panel->plan().kvBytesPerToken, uint64_t(2) * 2 * 2 * 16 * 2);  // 2 layers, 2 KV heads × 16 dims
    }
}

QTEST_MAIN(TestBudgetPanel)
#include "tst_budget_panel.moc"
