// ResidualPanel: the heatmap, per-token chart and outlier table, fed by a
// summary computed on the panel's own worker thread.
#include "ui/residual_panel.h"

#include <QCheckBox>
#include <QElapsedTimer>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPointer>
#include <QSplitter>
#include <QTableWidget>
#include <QVBoxLayout>
#include <cmath>
#include <qcustomplot.h>

#include "ui/panel_export.h"
#include "viz/residual_heatmap.h"

namespace glassbox::ui {

ResidualPanel::ResidualPanel(QWidget* parent) : QWidget(parent) {
    m_pool.setMaxThreadCount(1);
    buildUi();
}

ResidualPanel::~ResidualPanel() {
    m_stop.request_stop();
    m_pool.waitForDone();
}

void ResidualPanel::buildUi() {
    m_status = new QLabel;
    m_status->setObjectName(QStringLiteral("residualStatus"));
    m_status->setWordWrap(true);
    m_log = new QCheckBox(tr("Log scale"));
    m_log->setObjectName(QStringLiteral("residualLogScale"));
    m_log->setChecked(true);
    m_log->setToolTip(tr("A few tokens (often the first) carry norms far above the rest"));
    auto* top = new QHBoxLayout;
    top->addWidget(m_status, 1);
    top->addWidget(m_log);
    top->addWidget(PanelExport::makeButtons(this, QStringLiteral("residual"), true,
                                            [this](const QString& p, QString* e) { return exportImage(p, e); },
                                            [this](const QString& p, QString* e) { return exportData(p, e); }));
    m_heatmap = new viz::ResidualHeatmap;
    m_heatmap->setObjectName(QStringLiteral("residualHeatmap"));
    m_chart = new QCustomPlot;
    m_chart->setObjectName(QStringLiteral("residualChart"));
    m_chart->setMinimumHeight(160);
    m_chart->xAxis->setLabel(tr("layer"));
    m_chart->yAxis->setLabel(tr("‖x‖₂"));
    auto* token = m_chart->addGraph();
    token->setName(tr("selected token"));
    token->setPen(QPen(QColor(0xd0, 0x5f, 0x3b), 2));
    token->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, 5));
    auto* mean = m_chart->addGraph();
    mean->setName(tr("mean over tokens"));
    mean->setPen(QPen(QColor(0x80, 0x80, 0x80), 1.5, Qt::DashLine));
    m_chart->legend->setVisible(true);
    m_chart->axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignLeft | Qt::AlignTop);
    m_outliers = new QTableWidget(0, 5);
    m_outliers->setObjectName(QStringLiteral("residualOutliers"));
    m_outliers->setHorizontalHeaderLabels(
        {tr("Dim"), tr("Times in top %1").arg(engine::kTopDims), tr("Max |value|"), tr("At"), tr("Layers")});
    m_outliers->horizontalHeader()->setSectionResizeMode(4, QHeaderView::Stretch);
    m_outliers->verticalHeader()->hide();
    m_outliers->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_outliers->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_outliers->horizontalHeader()->setSortIndicator(1, Qt::DescendingOrder);  // most frequent first
    m_chart->setMinimumWidth(320);
    auto* bottom = new QSplitter(Qt::Horizontal);
    bottom->addWidget(m_chart);
    bottom->addWidget(m_outliers);
    bottom->setStretchFactor(0, 1);
    bottom->setStretchFactor(1, 1);
    bottom->setSizes({500, 500});
    auto* split = new QSplitter(Qt::Vertical);
    split->addWidget(m_heatmap);
    split->addWidget(bottom);
    split->setStretchFactor(0, 3);
    split->setStretchFactor(1, 2);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addLayout(top);
    layout->addWidget(split, 1);

    connect(m_log, &QCheckBox::toggled, this, [this](bool on) {
        m_heatmap->setLogScale(on);
        updateChart();
    });
    connect(m_heatmap, &viz::ResidualHeatmap::columnSelected, this, [this](int pos) {
        m_position = pos;
        updateChart();
        emit positionSelected(pos);
    });
    updateStatus();
}

void ResidualPanel::setCapture(std::shared_ptr<const engine::Capture> capture, const QStringList& tokenLabels) {
    m_capture = std::move(capture);
    m_labels = tokenLabels;
    m_stop.request_stop();
    ++m_generation;
    if (!m_capture) {
        m_busy = false;
        m_summary = {};
        m_position = -1;
        m_heatmap->clearValues();
        m_heatmap->setSelectedColumn(-1);
        updateChart();
        fillOutliers();
        updateStatus();
        return;
    }
    if (m_position >= m_capture->positions()) m_position = m_capture->positions() - 1;
    startSummary();
}

void ResidualPanel::startSummary() {
    m_stop = std::stop_source();
    m_busy = true;
    updateStatus();
    const uint64_t generation = m_generation;
    QPointer<ResidualPanel> self(this);
    m_pool.start([self, capture = m_capture, stop = m_stop.get_token(), generation] {
        QElapsedTimer timer;
        timer.start();
        viz::ResidualSummary summary = viz::summariseResidual(*capture, kOutliers, stop);
        const double ms = double(timer.nsecsElapsed()) / 1e6;
        if (stop.stop_requested()) return;
        // The panel waits for this thread in its destructor, so it is alive here.
        QMetaObject::invokeMethod(self.data(), [self, generation, summary = std::move(summary), ms]() mutable {
            if (self) self->applySummary(generation, std::move(summary), ms);
        }, Qt::QueuedConnection);
    });
}

void ResidualPanel::applySummary(uint64_t generation, viz::ResidualSummary summary, double ms) {
    if (generation != m_generation) return;  // a newer capture superseded it
    m_busy = false;
    m_summary = std::move(summary);
    m_lastMs = ms;
    m_heatmap->setValues(m_summary.nPoints, m_summary.nPositions, m_summary.norms, m_labels);
    m_heatmap->setSelectedColumn(m_position);
    updateChart();
    fillOutliers();
    updateStatus();
    emit summaryReady();
}

void ResidualPanel::setSelectedPosition(int position) {
    if (!m_capture || position < 0 || position >= m_capture->positions()) return;
    m_position = position;
    m_heatmap->setSelectedColumn(position);
    updateChart();
}

void ResidualPanel::updateChart() {
    m_chartNorms.clear();
    const int pos = m_position;
    const viz::ResidualSummary& s = m_summary;
    QVector<double> x, token, mean;
    for (int point = 0; point < s.nPoints; ++point) {
        double sum = 0;
        int n = 0;
        for (int p = 0; p < s.nPositions; ++p) {
            const float v = s.norm(point, p);
            if (!std::isnan(v)) sum += v, ++n;
        }
        x << point;
        mean << (n ? sum / n : qQNaN());
        if (pos >= 0 && pos < s.nPositions) token << double(s.norm(point, pos));
    }
    m_chartNorms.assign(token.begin(), token.end());
    m_chart->graph(0)->setData(token.isEmpty() ? QVector<double>() : x, token, true);
    m_chart->graph(1)->setData(x, mean, true);
    m_chart->graph(0)->setName(pos >= 0 && pos < m_labels.size()
                                   ? tr("token %1 “%2”").arg(pos).arg(m_labels[pos])
                                   : tr("selected token"));
    const bool log = m_log->isChecked();
    m_chart->yAxis->setScaleType(log ? QCPAxis::stLogarithmic : QCPAxis::stLinear);
    m_chart->yAxis->setTicker(log ? QSharedPointer<QCPAxisTicker>(new QCPAxisTickerLog)
                                  : QSharedPointer<QCPAxisTicker>(new QCPAxisTicker));
    auto ticker = QSharedPointer<QCPAxisTickerText>::create();
    const int step = std::max(1, (s.nPoints + 7) / 8);
    for (int point = 0; point < s.nPoints; point += step)
        ticker->addTick(point, point == 0 ? tr("emb") : QString::number(point - 1));
    m_chart->xAxis->setTicker(ticker);
    m_chart->rescaleAxes();
    m_chart->xAxis->setRange(-0.5, std::max(0.5, s.nPoints - 0.5));
    m_chart->replot();
}

void ResidualPanel::fillOutliers() {
    m_outliers->setSortingEnabled(false);
    m_outliers->setRowCount(int(m_summary.outliers.size()));
    for (int row = 0; row < int(m_summary.outliers.size()); ++row) {
        const viz::OutlierDim& o = m_summary.outliers[size_t(row)];
        auto numeric = [](double v) {
            auto* item = new QTableWidgetItem;
            item->setData(Qt::DisplayRole, v);
            item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
            return item;
        };
        m_outliers->setItem(row, 0, numeric(o.dim));
        auto* count = numeric(o.count);
        count->setToolTip(tr("%1 of %2 (layer, token) pairs").arg(o.count).arg(m_summary.samples));
        m_outliers->setItem(row, 1, count);
        m_outliers->setItem(row, 2, numeric(std::round(double(o.maxAbs) * 1000.0) / 1000.0));
        const QString token = o.maxPos >= 0 && o.maxPos < m_labels.size() ? m_labels[o.maxPos] : QString();
        m_outliers->setItem(row, 3, new QTableWidgetItem(o.maxLayer < 0 ? QString()
                                                             : tr("layer %1, token %2 “%3”")
                                                                   .arg(o.maxLayer)
                                                                   .arg(o.maxPos)
                                                                   .arg(token)));
        const QString layers = viz::rangesText(o.layers);
        auto* layersItem = new QTableWidgetItem(layers);
        layersItem->setToolTip(layers);
        m_outliers->setItem(row, 4, layersItem);
    }
    m_outliers->resizeColumnsToContents();
    m_outliers->setSortingEnabled(true);
}

void ResidualPanel::updateStatus() {
    if (!m_capture) {
        m_status->setText(tr("Run a prompt with capture on to see the residual stream: how large it grows through "
                             "the layers, and which dimensions dominate it."));
        return;
    }
    if (!m_capture->options().residuals && !m_capture->options().activations) {
        m_status->setText(tr("This run recorded neither the residual stream nor activation statistics."));
        return;
    }
    if (m_busy) {
        m_status->setText(tr("Summarising %1 tokens × %2 layers…")
                              .arg(m_capture->positions())
                              .arg(m_capture->geometry().nLayers));
        return;
    }
    m_status->setText(tr("L2 norm of the residual stream: %1 tokens × %2 layers (+ the embedding). Click a column "
                         "to select its token.")
                          .arg(m_summary.nPositions)
                          .arg(m_summary.nPoints - 1));
}

}  // namespace glassbox::ui
