// LogitLensPanel: the grid, the per-position chart, progress and the
// requests for the window of positions the user scrolled to.
#include "ui/logit_lens_panel.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QProgressBar>
#include <QPushButton>
#include <QSplitter>
#include <QTimer>
#include <QVBoxLayout>
#include <algorithm>
#include <qcustomplot.h>

#include "ui/panel_export.h"
#include "viz/lens_grid.h"

namespace glassbox::ui {
namespace {

constexpr int kRequestDelayMs = 150;

}  // namespace

LogitLensPanel::LogitLensPanel(QWidget* parent) : QWidget(parent) { buildUi(); }

void LogitLensPanel::buildUi() {
    m_summary = new QLabel;
    m_summary->setObjectName(QStringLiteral("lensSummary"));
    m_summary->setWordWrap(true);
    auto* top = new QHBoxLayout;
    top->addWidget(m_summary, 1);
    top->addWidget(PanelExport::makeButtons(this, QStringLiteral("logit_lens"), true,
                                            [this](const QString& p, QString* e) { return exportImage(p, e); },
                                            [this](const QString& p, QString* e) { return exportData(p, e); }));
    m_progressRow = new QWidget;
    auto* progressLayout = new QHBoxLayout(m_progressRow);
    progressLayout->setContentsMargins(0, 0, 0, 0);
    m_progress = new QProgressBar;
    m_progress->setObjectName(QStringLiteral("lensProgress"));
    m_progress->setRange(0, 1000);
    m_progress->setFormat(tr("computing the logit lens… %p%"));
    m_cancel = new QPushButton(tr("Cancel"));
    m_cancel->setObjectName(QStringLiteral("lensCancel"));
    progressLayout->addWidget(m_progress, 1);
    progressLayout->addWidget(m_cancel);
    m_progressRow->hide();

    m_grid = new viz::LensGrid;
    m_grid->setObjectName(QStringLiteral("lensGrid"));
    buildChart();
    auto* split = new QSplitter(Qt::Vertical);
    split->addWidget(m_grid);
    split->addWidget(m_chart);
    split->setStretchFactor(0, 3);
    split->setStretchFactor(1, 2);
    split->setSizes({480, 280});
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addLayout(top);
    layout->addWidget(m_progressRow);
    layout->addWidget(split, 1);

    m_requestTimer = new QTimer(this);
    m_requestTimer->setSingleShot(true);
    m_requestTimer->setInterval(kRequestDelayMs);
    connect(m_requestTimer, &QTimer::timeout, this, &LogitLensPanel::requestVisibleWindow);
    connect(m_grid, &viz::LensGrid::visibleColumnsChanged, m_requestTimer, qOverload<>(&QTimer::start));
    connect(m_grid, &viz::LensGrid::columnSelected, this, [this](int pos) {
        m_position = pos;
        updateChart();
        emit positionSelected(pos);
    });
    connect(m_cancel, &QPushButton::clicked, this, &LogitLensPanel::cancelRequested);
    updateSummary();
}

void LogitLensPanel::buildChart() {
    m_chart = new QCustomPlot;
    m_chart->setObjectName(QStringLiteral("lensChart"));
    m_chart->setMinimumHeight(220);
    m_chart->plotLayout()->insertRow(0);
    m_chart->plotLayout()->addElement(0, 0, new QCPTextElement(m_chart, QString()));
    m_chart->xAxis->setLabel(tr("layer"));
    m_chart->yAxis->setLabel(tr("probability"));
    m_chart->yAxis->setRange(0, 1.02);
    m_chart->yAxis2->setVisible(true);
    m_chart->yAxis2->setLabel(tr("rank (log)"));
    m_chart->yAxis2->setScaleType(QCPAxis::stLogarithmic);
    m_chart->yAxis2->setTicker(QSharedPointer<QCPAxisTickerLog>::create());
    m_chart->yAxis2->setRangeReversed(true);
    auto* prob = m_chart->addGraph(m_chart->xAxis, m_chart->yAxis);
    prob->setName(tr("probability of the final prediction"));
    prob->setPen(QPen(QColor(0x1a, 0x98, 0x50), 2));
    prob->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, 5));
    auto* rank = m_chart->addGraph(m_chart->xAxis, m_chart->yAxis2);
    rank->setName(tr("its rank"));
    rank->setPen(QPen(QColor(0x3f, 0x6f, 0xd8), 1.5, Qt::DashLine));
    rank->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssSquare, 4));
    // The legend gets its own row under the title, clear of the data.
    m_chart->legend->setVisible(true);
    m_chart->legend->setFillOrder(QCPLegend::foColumnsFirst);
    m_chart->legend->setBorderPen(Qt::NoPen);
    m_chart->legend->setBrush(Qt::NoBrush);
    m_chart->plotLayout()->insertRow(1);
    m_chart->plotLayout()->addElement(1, 0, m_chart->legend);
    m_chart->plotLayout()->setRowStretchFactor(1, 0.001);
}

QStringList LogitLensPanel::columnLabels(const QStringList& labels) const {
    const int positions = m_capture ? m_capture->positions() : int(labels.size());
    QStringList columns;
    columns.reserve(positions);
    for (int i = 0; i < positions; ++i) columns << (i < labels.size() ? labels[i] : QString());
    return columns;
}

void LogitLensPanel::setCapture(std::shared_ptr<const engine::Capture> capture, const QStringList& tokenLabels) {
    const bool changed = capture != m_capture;
    m_capture = std::move(capture);
    m_labels = tokenLabels;
    if (!m_capture) {
        m_grid->clear();
        m_grid->setColumns({}, 0);
        m_position = -1;
        m_stale = false;
    } else {
        if (changed && m_grid->hasLens()) m_stale = true;
        m_grid->setColumns(columnLabels(tokenLabels), m_capture->geometry().nLayers + 1);
        if (m_position >= m_capture->positions()) m_position = m_capture->positions() - 1;
    }
    if (changed) m_lastRequest = {-1, -1};
    updateChart();
    updateSummary();
    if (m_capture) m_requestTimer->start();
}

void LogitLensPanel::setLens(const engine::LogitLens& lens, const QStringList& tokenLabels,
                             std::function<QString(int32_t)> tokenText) {
    m_labels = tokenLabels;
    m_grid->setLens(lens, std::move(tokenText));
    m_grid->setColumns(columnLabels(tokenLabels), lens.nPoints);
    m_stale = false;
    if (m_position >= 0) m_grid->setSelectedColumn(m_position);
    updateChart();
    updateSummary();
}

void LogitLensPanel::setSelectedPosition(int position) {
    if (position < 0 || position >= m_grid->columnCount()) return;
    m_position = position;
    m_grid->setSelectedColumn(position);
    updateChart();
}

void LogitLensPanel::setComputing(bool computing, float fraction) {
    m_computing = computing;
    m_progressRow->setVisible(computing);
    m_progress->setValue(int(std::clamp(fraction, 0.0f, 1.0f) * 1000.0f));
    updateSummary();
    // A finished computation may have left the visible window uncovered.
    if (!computing) m_requestTimer->start();
}

void LogitLensPanel::requestVisibleWindow() {
    const int total = m_grid->columnCount();
    if (!m_capture || total == 0) return;
    const auto [first, count] = m_grid->visibleColumns();
    if (count <= 0) return;
    const bool covered = !m_stale && m_grid->covers(first) && m_grid->covers(first + count - 1);
    if (covered) return;
    // Half a screen of margin each side, so short scrolls need no new lens.
    const int begin = std::max(0, first - count / 2);
    const int end = std::min(total, first + count + count / 2);
    const std::pair<int, int> window{begin, end - begin};
    if (window == m_lastRequest) return;
    m_lastRequest = window;
    emit lensWindowRequested(window.first, window.second);
}

void LogitLensPanel::updateSummary() {
    if (!m_capture && !m_grid->hasLens()) {
        m_summary->setText(tr("The logit lens applies the model's final norm and output head to the residual stream "
                              "after every layer: what would it predict if it stopped there?"));
        return;
    }
    if (!m_grid->hasLens()) {
        m_summary->setText(m_computing ? tr("Computing…") : tr("No lens computed yet."));
        return;
    }
    const engine::LogitLens& lens = m_grid->lens();
    QString text = tr("Positions %1–%2 of %3 · top %4 per cell · colour: probability of the top token · bold: "
                      "already the final prediction")
                       .arg(lens.firstPos)
                       .arg(lens.firstPos + lens.nPos - 1)
                       .arg(m_grid->columnCount())
                       .arg(lens.topK);
    if (m_stale) text += tr(" · out of date, updating");
    m_summary->setText(text);
}

void LogitLensPanel::updateChart() {
    m_chartProb.clear();
    m_chartRank.clear();
    auto* title = qobject_cast<QCPTextElement*>(m_chart->plotLayout()->element(0, 0));
    const int pos = m_position;
    if (pos < 0 || !m_grid->covers(pos)) {
        m_chart->graph(0)->data()->clear();
        m_chart->graph(1)->data()->clear();
        if (title) title->setText(pos < 0 ? tr("Select a position") : tr("Position %1 is outside the lens").arg(pos));
        m_chart->replot();
        return;
    }
    const engine::LogitLens& lens = m_grid->lens();
    QVector<double> x, prob, rank;
    for (int point = 0; point < lens.nPoints; ++point) {
        const engine::LensCell& c = lens.cell(point, pos);
        x << point;
        prob << double(c.targetProb);
        rank << double(c.targetRank + 1);
    }
    m_chartProb.assign(prob.begin(), prob.end());
    m_chartRank.assign(rank.begin(), rank.end());
    m_chart->graph(0)->setData(x, prob, true);
    m_chart->graph(1)->setData(x, rank, true);
    auto ticker = QSharedPointer<QCPAxisTickerText>::create();
    const int step = std::max(1, (lens.nPoints + 11) / 12);
    for (int point = 0; point < lens.nPoints; point += step)
        ticker->addTick(point, point == 0 ? tr("emb") : QString::number(point - 1));
    m_chart->xAxis->setTicker(ticker);
    m_chart->xAxis->setRange(-0.5, lens.nPoints - 0.5);
    m_chart->yAxis2->setRange(1, std::max(10.0, *std::max_element(rank.begin(), rank.end()) * 2));
    const int32_t target = lens.target[size_t(pos - lens.firstPos)];
    const QString label = pos < m_labels.size() ? m_labels[pos] : QString();
    if (title)
        title->setText(tr("Position %1 “%2” → final prediction “%3”: probability and rank after each layer")
                           .arg(pos)
                           .arg(label, m_grid->tokenText(target)));
    m_chart->replot();
}

}  // namespace glassbox::ui
