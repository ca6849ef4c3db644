// The "on your prompt" view: its widgets, the comparison job on the pool
// (with stale-result checks) and filling the chips and the cosine chart.
#include "ui/prompt_drift_view.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QScrollArea>
#include <QSplitter>
#include <QVBoxLayout>
#include <algorithm>
#include <cmath>
#include <qcustomplot.h>

#include "engine/model.h"
#include "ui/prompt_drift_chips.h"
#include "ui/token_cells.h"

namespace glassbox::ui {

namespace {

QString shown(const engine::Tokenizer& tok, int32_t id) {
    return QStringLiteral("'%1'").arg(TokenCells::tokenText(&tok, id).toHtmlEscaped());
}

QString chipText(const engine::Tokenizer& tok, int32_t id) {
    QString s = TokenCells::tokenText(&tok, id);
    s.replace(QLatin1Char('\n'), QStringLiteral("\u21b5"));
    s.replace(QLatin1Char('\t'), QStringLiteral("\u21e5"));
    s.replace(QLatin1Char(' '), QStringLiteral("\u00b7"));
    return s;
}

QString pointName(int point) {
    return point == 0 ? QStringLiteral("the embedding") : QStringLiteral("layer %1").arg(point);
}

}  // namespace

PromptDriftView::PromptDriftView(QWidget* parent) : QWidget(parent) {
    setObjectName(QStringLiteral("promptDriftView"));
    m_pool.setMaxThreadCount(2);  // a superseded comparison may still be stopping beside the new one
    buildUi();
    setStatus(tr("Open a model and a reference model"), false);
    updateControls();
}

PromptDriftView::~PromptDriftView() {
    m_stop.request_stop();
    m_pool.waitForDone();
}

void PromptDriftView::buildUi() {
    m_prompt = new QPlainTextEdit;
    m_prompt->setObjectName(QStringLiteral("promptDriftPrompt"));
    m_prompt->setPlaceholderText(tr("A prompt to run through both models"));
    m_prompt->setMaximumHeight(72);
    m_compare = new QPushButton(tr("Compare"));
    m_cancel = new QPushButton(tr("Cancel"));
    m_busyBar = new QProgressBar;
    m_busyBar->setRange(0, 0);
    m_busyBar->setMaximumWidth(120);
    m_busyBar->setVisible(false);
    m_status = new QLabel;
    m_status->setWordWrap(true);
    m_status->setTextInteractionFlags(Qt::TextSelectableByMouse);
    connect(m_compare, &QPushButton::clicked, this, [this] { compare(); });
    connect(m_cancel, &QPushButton::clicked, this, &PromptDriftView::cancel);

    auto* buttons = new QHBoxLayout;
    buttons->addWidget(m_compare);
    buttons->addWidget(m_cancel);
    buttons->addWidget(m_busyBar);
    buttons->addWidget(m_status, 1);

    m_chips = new PromptDriftChips;
    auto* scroll = new QScrollArea;
    scroll->setWidget(m_chips);
    scroll->setWidgetResizable(true);
    scroll->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);

    auto* split = new QSplitter(Qt::Vertical);
    split->addWidget(scroll);
    split->addWidget(buildChart());
    split->setStretchFactor(1, 1);
    split->setSizes({180, 400});
    scroll->setMinimumHeight(90);

    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addWidget(m_prompt);
    layout->addLayout(buttons);
    layout->addWidget(split, 1);
}

QWidget* PromptDriftView::buildChart() {
    m_chart = new QCustomPlot;
    m_chart->setObjectName(QStringLiteral("promptDriftChart"));
    m_chart->setMinimumHeight(180);
    m_chart->xAxis->setLabel(tr("point (0 = embedding, l = after layer l)"));
    m_chart->yAxis->setLabel(tr("mean cosine, reference vs quantized"));
    m_driftLabel = new QLabel;
    m_driftLabel->setObjectName(QStringLiteral("promptDriftPoint"));
    auto* box = new QWidget;
    auto* layout = new QVBoxLayout(box);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_driftLabel);
    layout->addWidget(m_chart, 1);
    return box;
}

void PromptDriftView::setModels(std::shared_ptr<const engine::Model> reference,
                                std::shared_ptr<const engine::Model> quantized) {
    if (reference == m_reference && quantized == m_quantized) return;
    stopRunning();
    m_reference = std::move(reference);
    m_quantized = std::move(quantized);
    m_drift.reset();
    m_lastError.clear();
    fillChips();
    fillChart();
    setStatus(m_reference && m_quantized ? tr("Ready") : tr("Open a model and a reference model"), false);
    updateControls();
}

void PromptDriftView::setPrompt(const QString& text) { m_prompt->setPlainText(text); }

QString PromptDriftView::prompt() const { return m_prompt->toPlainText(); }

QString PromptDriftView::statusText() const { return m_status->text(); }

QString PromptDriftView::driftPointText() const { return m_driftLabel->text(); }

void PromptDriftView::stopRunning() {
    m_stop.request_stop();
    ++m_generation;  // whatever is running is stale now
    m_busy = false;
}

bool PromptDriftView::compare() {
    if (!m_reference || !m_quantized) {
        setStatus(tr("Open a model and a reference model first"), true);
        return false;
    }
    const std::string text = prompt().toStdString();
    if (text.empty()) {
        setStatus(tr("Type a prompt first"), true);
        return false;
    }
    stopRunning();
    m_stop = std::stop_source();
    m_busy = true;
    m_drift.reset();
    m_lastError.clear();
    fillChips();
    fillChart();
    setStatus(tr("Comparing…"), false);
    updateControls();
    const uint64_t gen = m_generation;
    m_pool.start([this, gen, text, options = m_options, stop = m_stop.get_token(), ref = m_reference,
                  quant = m_quantized] {
        const std::vector<int32_t> tokens = quant->tokenizer().encode(text, true, true);
        auto result = engine::comparePrompt(ref, quant, tokens, options, stop);
        QMetaObject::invokeMethod(this, [this, gen, result = std::move(result)]() mutable {
            apply(gen, std::move(result));
        }, Qt::QueuedConnection);
    });
    return true;
}

void PromptDriftView::cancel() {
    if (!m_busy) return;
    stopRunning();
    setStatus(tr("Cancelled"), false);
    updateControls();
}

void PromptDriftView::apply(uint64_t generation, engine::Result<engine::PromptDrift> result) {
    if (generation != m_generation) return;  // superseded or cancelled
    m_busy = false;
    if (result) {
        m_drift = std::move(*result);
        const auto& kld = m_drift->perToken.kld;
        double mean = 0;
        for (float k : kld) mean += k;
        mean = kld.empty() ? 0 : mean / double(kld.size());
        setStatus(tr("%1 tokens, %2 top-1 flips, mean KL %3 nats")
                      .arg(m_drift->tokens.size())
                      .arg(m_drift->flips)
                      .arg(mean, 0, 'g', 3),
                  false);
    } else {
        m_lastError = QString::fromStdString(result.error().toString());
        setStatus(m_lastError, true);
    }
    fillChips();
    fillChart();
    updateControls();
    emit finished();
}

void PromptDriftView::fillChips() {
    if (!m_drift || !m_quantized) {
        m_chips->clear();
        return;
    }
    const engine::Tokenizer& tok = m_quantized->tokenizer();
    const engine::KlScoredTokens& s = m_drift->perToken;
    std::vector<PromptDriftChips::Chip> chips;
    chips.reserve(s.size());
    double maxKld = 0;
    for (size_t i = 0; i < s.size(); ++i) {
        const size_t pos = size_t(s.index[i]) - 1;  // the token this position reads
        const int32_t id = pos < m_drift->tokens.size() ? m_drift->tokens[pos] : -1;
        PromptDriftChips::Chip c;
        c.text = chipText(tok, id);
        c.kld = s.kld[i];
        c.flip = !s.sameTop(i);
        QString tip = tr("after %1: KL %2 nats").arg(shown(tok, id)).arg(c.kld, 0, 'g', 4);
        tip += c.flip ? tr("<br><b>top-1 flip:</b> reference %1 → quantized %2")
                            .arg(shown(tok, s.topRef[i]), shown(tok, s.topQuant[i]))
                      : tr("<br>both predict %1").arg(shown(tok, s.topRef[i]));
        c.toolTip = tip;
        if (std::isfinite(c.kld)) maxKld = std::max(maxKld, c.kld);
        chips.push_back(std::move(c));
    }
    m_chips->setChips(std::move(chips), std::max(maxKld, 1e-3));
}

void PromptDriftView::fillChart() {
    m_chart->clearGraphs();
    m_chart->clearItems();
    m_driftLabel->clear();
    if (!m_drift || m_drift->meanCosine.empty()) {
        m_chart->replot();
        return;
    }
    const engine::PromptDrift& d = *m_drift;
    QVector<double> x, y;
    for (size_t p = 0; p < d.meanCosine.size(); ++p) {
        x.push_back(double(p));
        y.push_back(d.meanCosine[p]);
    }
    QCPGraph* cosine = m_chart->addGraph();
    cosine->setData(x, y, true);
    cosine->setPen(QPen(QColor(40, 90, 200), 2));
    cosine->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, 5));
    cosine->setName(tr("mean cosine"));
    QCPGraph* threshold = m_chart->addGraph();
    threshold->setData({0.0, double(x.size() - 1)}, {d.threshold, d.threshold}, true);
    threshold->setPen(QPen(QColor(120, 120, 120), 1, Qt::DashLine));
    threshold->setName(tr("threshold %1").arg(d.threshold));
    QCPGraph* marker = m_chart->addGraph();
    marker->setLineStyle(QCPGraph::lsNone);
    marker->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, QPen(QColor(200, 0, 0), 2), Qt::NoBrush, 12));
    const QString thr = QString::number(d.threshold);
    if (d.firstDriftPoint >= 0 && size_t(d.firstDriftPoint) < d.meanCosine.size()) {
        marker->setData({double(d.firstDriftPoint)}, {double(d.meanCosine[size_t(d.firstDriftPoint)])}, true);
        m_driftLabel->setText(tr("first below %1: %2 (mean cosine %3)")
                                  .arg(thr, pointName(d.firstDriftPoint))
                                  .arg(d.meanCosine[size_t(d.firstDriftPoint)], 0, 'f', 6));
    } else {
        m_driftLabel->setText(tr("no layer below %1").arg(thr));
    }
    double lo = std::min(d.threshold, double(*std::min_element(y.begin(), y.end())));
    double hi = std::max(d.threshold, double(*std::max_element(y.begin(), y.end())));
    const double pad = std::max((hi - lo) * 0.08, 1e-4);
    m_chart->xAxis->setRange(-0.5, double(x.size()) - 0.5);
    m_chart->yAxis->setRange(lo - pad, hi + pad);
    m_chart->replot();
}

void PromptDriftView::setStatus(const QString& text, bool error) {
    m_status->setText(text);
    m_status->setStyleSheet(error ? QStringLiteral("color: #c62828;") : QString());
}

void PromptDriftView::updateControls() {
    const bool ready = m_reference && m_quantized;
    m_compare->setEnabled(ready);
    m_compare->setToolTip(!m_quantized  ? tr("open a model first")
                          : !m_reference ? tr("open a reference model in the Quantization tab first")
                                         : tr("Run the prompt through both models"));
    m_cancel->setEnabled(m_busy);
    m_busyBar->setVisible(m_busy);
}

}  // namespace glassbox::ui
