// The "on your prompt" view of the quantization lab on the real models
// (Q4_1 as the quantized model, F16 as the reference): a comparison run from
// the view shows exactly what engine::comparePrompt computes here (per-token
// KL, flips, mean cosine), one chip per scored position with flips marked,
// and the chart's values; without a reference Compare is disabled; a second
// comparison while one runs supersedes it; an error shows in the status.
#include <QDir>
#include <QElapsedTimer>
#include <QFileInfo>
#include <QPushButton>
#include <QtTest>
#include <qcustomplot.h>

#include "engine/model.h"
#include "tests/ui/ui_test_support.h"
#include "ui/prompt_drift_chips.h"
#include "ui/prompt_drift_view.h"

GLASSBOX_UI_TEST_ENVIRONMENT

using namespace glassbox;

namespace {
// Long enough for a few top-1 flips between Q4_1 and F16.
const QString kPrompt = QStringLiteral(
    "The capital of France is Paris, and the capital of England is London. In 1887 the engineer "
    "Gustave Eiffel began a wrought-iron tower for the World's Fair; critics called it useless, "
    "yet seven million people now visit it every year, and its height changes with the weather by");
}

class TestPromptDriftView : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void cleanupTestCase();
    void nullReferenceDisablesCompare();
    void matchesEngine();
    void secondCompareSupersedes();
    void thresholdMarksFirstDriftPoint();
    void cancelLeavesIdle();
    void errorShowsInStatus();

private:
    bool waitIdle(int ms = 120000) {
        return uitest::waitInEventLoop([&] { return !m_view->isBusy(); }, ms);
    }
    std::shared_ptr<const engine::Model> m_quant, m_ref;
    ui::PromptDriftView* m_view = nullptr;
};

void TestPromptDriftView::initTestCase() {
    const QString f16 = QDir(QString::fromStdString(testing::modelsDir()))
                            .filePath(QStringLiteral("SmolLM2-135M-Instruct.F16.gguf"));
    if (!QFileInfo::exists(f16)) QSKIP("models/SmolLM2-135M-Instruct.F16.gguf is not here");
    auto quant = engine::Model::load(testing::defaultModelPath());
    QVERIFY2(quant, quant ? "" : quant.error().toString().c_str());
    auto ref = engine::Model::load(f16.toStdString());
    QVERIFY2(ref, ref ? "" : ref.error().toString().c_str());
    m_quant = *quant;
    m_ref = *ref;
    m_view = new ui::PromptDriftView;
    m_view->resize(1000, 700);
    m_view->show();
    QVERIFY(QTest::qWaitForWindowExposed(m_view));
}

void TestPromptDriftView::cleanupTestCase() { delete m_view; }

void TestPromptDriftView::nullReferenceDisablesCompare() {
    m_view->setModels(nullptr, m_quant);
    QVERIFY(!m_view->compareButton()->isEnabled());
    QCOMPARE(m_view->compareButton()->toolTip(),
             QStringLiteral("open a reference model in the Quantization tab first"));
    m_view->setPrompt(kPrompt);
    QVERIFY(!m_view->compare());
    QVERIFY(!m_view->isBusy());
    m_view->setModels(m_ref, m_quant);
    QVERIFY(m_view->compareButton()->isEnabled());
}

void TestPromptDriftView::matchesEngine() {
    m_view->setModels(m_ref, m_quant);
    m_view->setPrompt(kPrompt);
    QElapsedTimer timer;
    timer.start();
    QSignalSpy finished(m_view, &ui::PromptDriftView::finished);
    QVERIFY(m_view->compare());
    QVERIFY(m_view->isBusy());  // off the UI thread
    QVERIFY(m_view->cancelButton()->isEnabled());
    QVERIFY(waitIdle());
    qInfo("prompt comparison from the view: %lld ms", timer.elapsed());
    QCOMPARE(finished.count(), 1);
    QVERIFY2(m_view->lastError().isEmpty(), qPrintable(m_view->lastError()));
    QVERIFY(m_view->drift());

    const auto tokens = m_quant->tokenizer().encode(kPrompt.toStdString(), true, true);
    auto expected = engine::comparePrompt(m_ref, m_quant, tokens);
    QVERIFY2(expected, expected ? "" : expected.error().toString().c_str());
    const engine::PromptDrift& d = *m_view->drift();
    QCOMPARE(d.tokens, tokens);
    QCOMPARE(d.perToken.index, expected->perToken.index);
    QCOMPARE(d.perToken.kld, expected->perToken.kld);
    QCOMPARE(d.perToken.topRef, expected->perToken.topRef);
    QCOMPARE(d.perToken.topQuant, expected->perToken.topQuant);
    QCOMPARE(d.flips, expected->flips);
    QCOMPARE(d.meanCosine, expected->meanCosine);
    QCOMPARE(d.firstDriftPoint, expected->firstDriftPoint);
    QCOMPARE(d.points, int(m_quant->config().nLayers) + 1);

    // Chips: one per scored position, flips marked, colour by KL.
    const ui::PromptDriftChips* chips = m_view->chips();
    QCOMPARE(chips->chipCount(), int(d.perToken.size()));
    QCOMPARE(chips->flipCount(), d.flips);
    for (int i = 0; i < chips->chipCount(); ++i) {
        QCOMPARE(chips->chip(i).flip, !d.perToken.sameTop(size_t(i)));
        QCOMPARE(chips->chip(i).kld, double(d.perToken.kld[size_t(i)]));
        QVERIFY(chips->chipRect(i).width() > 0 && chips->chipRect(i).bottom() <= chips->height());
        if (chips->chip(i).flip) QVERIFY(chips->chip(i).toolTip.contains(QStringLiteral("→ quantized")));
    }
    QCOMPARE(ui::PromptDriftChips::colorFor(0, 1), QColor(255, 255, 255));
    QCOMPARE(ui::PromptDriftChips::colorFor(chips->scaleMax(), chips->scaleMax()), QColor(255, 0, 0));

    // Chart: mean cosine per point, the threshold, the first drift point.
    QCustomPlot* chart = m_view->chart();
    QCOMPARE(chart->graphCount(), 3);
    QCOMPARE(chart->graph(0)->dataCount(), d.points);
    for (int p = 0; p < d.points; ++p) {
        QCOMPARE(chart->graph(0)->data()->at(p)->key, double(p));
        QCOMPARE(chart->graph(0)->data()->at(p)->value, double(d.meanCosine[size_t(p)]));
    }
    QCOMPARE(chart->graph(1)->data()->at(0)->value, d.threshold);
    if (d.firstDriftPoint >= 0) {
        QCOMPARE(chart->graph(2)->dataCount(), 1);
        QCOMPARE(chart->graph(2)->data()->at(0)->key, double(d.firstDriftPoint));
        QVERIFY(m_view->driftPointText().startsWith(QStringLiteral("first below 0.99")));
    } else {
        QCOMPARE(chart->graph(2)->dataCount(), 0);
        QCOMPARE(m_view->driftPointText(), QStringLiteral("no layer below 0.99"));
    }
    qInfo("%zu positions, %d flips, first drift point %d", d.perToken.size(), d.flips, d.firstDriftPoint);
}

void TestPromptDriftView::secondCompareSupersedes() {
    QSignalSpy finished(m_view, &ui::PromptDriftView::finished);
    m_view->setPrompt(QStringLiteral("Once upon a time there was a long and winding road that led"));
    QVERIFY(m_view->compare());
    QTest::qWait(5);
    const QString second = QStringLiteral("Hello world");
    m_view->setPrompt(second);
    QVERIFY(m_view->compare());  // supersedes the first
    QVERIFY(m_view->isBusy());
    QVERIFY(waitIdle());
    QTest::qWait(200);  // a stale result arriving late must not replace this one
    QCOMPARE(finished.count(), 1);
    QVERIFY(m_view->drift());
    QCOMPARE(m_view->drift()->tokens, m_quant->tokenizer().encode(second.toStdString(), true, true));
    QCOMPARE(m_view->chips()->chipCount(), int(m_view->drift()->perToken.size()));
}

void TestPromptDriftView::thresholdMarksFirstDriftPoint() {
    engine::PromptDriftOptions strict;
    strict.cosineThreshold = 0.999999;  // every quantized stream drifts below this somewhere
    m_view->setOptions(strict);
    m_view->setPrompt(kPrompt);
    QVERIFY(m_view->compare());
    QVERIFY(waitIdle());
    QVERIFY2(m_view->drift(), qPrintable(m_view->lastError()));
    const engine::PromptDrift& d = *m_view->drift();
    QVERIFY(d.firstDriftPoint >= 0);
    QCOMPARE(d.threshold, strict.cosineThreshold);
    QCOMPARE(m_view->chart()->graph(2)->dataCount(), 1);
    QCOMPARE(m_view->chart()->graph(2)->data()->at(0)->key, double(d.firstDriftPoint));
    QCOMPARE(m_view->chart()->graph(2)->data()->at(0)->value, double(d.meanCosine[size_t(d.firstDriftPoint)]));
    QVERIFY(m_view->driftPointText().startsWith(QStringLiteral("first below 0.999999")));
    if (qEnvironmentVariable("GLASSBOX_WRITE_SCREENSHOTS") == QLatin1String("1"))
        QVERIFY(m_view->grab().save(uitest::scratch(QStringLiteral("prompt_drift.png"))));
    m_view->setOptions({});
}

void TestPromptDriftView::cancelLeavesIdle() {
    m_view->setPrompt(kPrompt);
    QVERIFY(m_view->compare());
    m_view->cancel();
    QVERIFY(!m_view->isBusy());
    QVERIFY(!m_view->drift());
    QCOMPARE(m_view->statusText(), QStringLiteral("Cancelled"));
    QTest::qWait(300);
    QVERIFY(!m_view->drift());  // the cancelled result never lands
    QCOMPARE(m_view->chips()->chipCount(), 0);
}

void TestPromptDriftView::errorShowsInStatus() {
    engine::PromptDriftOptions tiny;
    tiny.maxCaptureBytes = 16;  // far below one prompt's residual streams
    m_view->setOptions(tiny);
    m_view->setPrompt(kPrompt);
    QVERIFY(m_view->compare());
    QVERIFY(waitIdle());
    QVERIFY(!m_view->drift());
    QVERIFY(!m_view->lastError().isEmpty());
    QCOMPARE(m_view->statusText(), m_view->lastError());
    QCOMPARE(m_view->chart()->graphCount(), 0);
    m_view->setOptions({});
    m_view->setPrompt(QString());
    QVERIFY(!m_view->compare());
    QCOMPARE(m_view->statusText(), QStringLiteral("Type a prompt first"));
}

QTEST_MAIN(TestPromptDriftView)
#include "tst_prompt_drift_view.moc"
