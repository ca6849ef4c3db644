// MainWindow, inside the model: the Attention, Shapes, Logit Lens and
// Residual Stream tabs, and the Memory (budget planner) and Quantization tabs. Every playground run records a capture (unless
// "Record Inside the Model" is off); when the run ends its snapshot goes to
// all four panels, and the selected token moves their selection. The logit
// lens is computed on the engine thread for a window of positions.
#include <QAction>
#include <QSettings>
#include <QTabWidget>

#include "engine/tokenizer.h"
#include "ui/attention_panel.h"
#include "ui/budget_panel.h"
#include "ui/prompt_drift_view.h"
#include "ui/quant_lab_panel.h"
#include "ui/engine_client.h"
#include "ui/logit_lens_panel.h"
#include "ui/main_window.h"
#include "ui/residual_panel.h"
#include "ui/run_stack.h"
#include "ui/shapes_panel.h"

namespace glassbox::ui {
namespace {

constexpr int kLensWindow = 48;  // positions per lens request

QString labelFor(const engine::Tokenizer& tok, int32_t id) {
    QString s = QString::fromStdString(tok.tokenText(id));
    s.replace(QLatin1Char('\n'), QStringLiteral("↵"));
    s.replace(QLatin1Char('\t'), QStringLiteral("⇥"));
    return s;
}

}  // namespace

void MainWindow::buildInsidePanels() {
    m_attentionPanel = new AttentionPanel;
    m_shapesPanel = new ShapesPanel;
    m_lensPanel = new LogitLensPanel;
    m_residualPanel = new ResidualPanel;
    m_tabs->addTab(m_attentionPanel, tr("Attention"));
    m_tabs->addTab(m_shapesPanel, tr("Shapes"));
    m_tabs->addTab(m_lensPanel, tr("Logit Lens"));
    m_tabs->addTab(m_residualPanel, tr("Residual Stream"));
    m_budgetPanel = new BudgetPanel;
    m_tabs->addTab(m_budgetPanel, tr("Memory"));
    m_quantLabPanel = new QuantLabPanel;
    m_promptDrift = new PromptDriftView;
    auto* quant = new QTabWidget;
    quant->setDocumentMode(true);
    quant->addTab(m_quantLabPanel, tr("Every tensor"));
    quant->addTab(m_promptDrift, tr("On your prompt"));
    m_tabs->addTab(quant, tr("Quantization"));
    // The prompt view compares the loaded model with the lab's reference.
    connect(m_quantLabPanel, &QuantLabPanel::jobFinished, this, [this] { updatePromptDriftModels(); });
    for (QWidget* panel : std::initializer_list<QWidget*>{m_attentionPanel, m_shapesPanel, m_lensPanel, m_residualPanel})
        panel->setEnabled(false);
}

void MainWindow::connectInsidePanels() {
    auto follow = [this](int pos) { setInsidePosition(pos); };
    connect(m_attentionPanel, &AttentionPanel::positionSelected, this, follow);
    connect(m_shapesPanel, &ShapesPanel::positionSelected, this, follow);
    connect(m_lensPanel, &LogitLensPanel::positionSelected, this, follow);
    connect(m_residualPanel, &ResidualPanel::positionSelected, this, follow);
    connect(m_lensPanel, &LogitLensPanel::lensWindowRequested, this, &MainWindow::requestLens);
    connect(m_lensPanel, &LogitLensPanel::cancelRequested, m_engine, &EngineClient::cancelLens);
    connect(m_engine, &EngineClient::lensProgress, this, [this](float f) { m_lensPanel->setComputing(true, f); });
    connect(m_engine, &EngineClient::lensReady, this, [this](const engine::LogitLens& lens) {
        m_lensPanel->setComputing(false, 1.0f);
        if (!m_captureModel) return;
        const engine::Tokenizer* tok = &m_captureModel->tokenizer();
        m_lensPanel->setLens(lens, m_captureLabels, [tok](int32_t id) { return labelFor(*tok, id); });
    });
    connect(m_engine, &EngineClient::lensFailed, this, [this](const QString& message, bool cancelled) {
        m_lensPanel->setComputing(false, 0.0f);
        if (!cancelled) showMessage(MessageBanner::Level::Warning, tr("Logit lens: %1").arg(message));
    });
}

void MainWindow::updatePromptDriftModels() {
    const ModelInfo* model = m_engine->model();
    m_promptDrift->setModels(m_quantLabPanel->referenceModel(), model ? model->model : nullptr);
}

bool MainWindow::recordsInside() const {
    const QAction* a = action(QStringLiteral("recordInside"));
    return !a || a->isChecked();
}

void MainWindow::showCapture(std::shared_ptr<const engine::Capture> capture,
                             std::shared_ptr<const engine::Model> model, int promptTokens) {
    m_capture = std::move(capture);
    m_captureModel = std::move(model);
    m_capturePromptTokens = promptTokens;
    m_captureLabels.clear();
    if (m_capture && m_captureModel) {
        for (int32_t id : m_capture->tokens()) m_captureLabels << labelFor(m_captureModel->tokenizer(), id);
        if (!m_capture->limitMessage().empty())
            showMessage(MessageBanner::Level::Info,
                        tr("Inside the model: %1").arg(QString::fromStdString(m_capture->limitMessage())));
    }
    const bool have = m_capture && m_capture->positions() > 0;
    for (QWidget* panel : std::initializer_list<QWidget*>{m_attentionPanel, m_shapesPanel, m_lensPanel, m_residualPanel})
        panel->setEnabled(have);
    m_attentionPanel->setCapture(m_capture, m_captureLabels);
    m_shapesPanel->setCapture(m_capture, m_captureLabels);
    m_lensPanel->setCapture(m_capture, m_captureLabels);
    m_residualPanel->setCapture(m_capture, m_captureLabels);
    if (have) {
        const int last = m_capture->positions() - 1;
        setInsidePosition(last);
        requestLens(std::max(0, last + 1 - kLensWindow), std::min(kLensWindow, last + 1));
    }
}

void MainWindow::requestLens(int firstPos, int nPos) {
    if (!m_capture || !m_captureModel || nPos <= 0) return;
    firstPos = std::clamp(firstPos, 0, m_capture->positions() - 1);
    nPos = std::min(nPos, m_capture->positions() - firstPos);
    m_lensPanel->setComputing(true, 0.0f);
    m_engine->computeLens(m_captureModel, m_capture, firstPos, nPos);
}

void MainWindow::setInsidePosition(int pos) {
    if (!m_capture || pos < 0 || pos >= m_capture->positions() || pos == m_insidePosition) return;
    m_insidePosition = pos;
    m_attentionPanel->setSelectedPosition(pos);
    m_shapesPanel->setSelectedPosition(pos);
    m_lensPanel->setSelectedPosition(pos);
    m_residualPanel->setSelectedPosition(pos);
}

// Generated token t of the run was produced by the step at position
// prompt + t - 1: that step's query row is what the panels show.
void MainWindow::followTokenInside(int tokenIndex) {
    if (!m_capture) return;
    setInsidePosition(std::min(m_capture->positions() - 1, m_capturePromptTokens + tokenIndex - 1));
}

}  // namespace glassbox::ui
