// The quantization lab panel's views: the tensor table for the selected
// type, the layer × kind heatmap, the selected tensor's outliers and its
// weight / error histograms (computed on the pool, applied when current).
#include <QComboBox>
#include <QLabel>
#include <QTableWidget>
#include <cmath>
#include <qcustomplot.h>

#include "engine/model.h"
#include "ui/quant_lab_panel.h"
#include "viz/quant_heatmap.h"

namespace glassbox::ui {

namespace {

QString typeName(engine::TensorType t) { return QString::fromUtf8(engine::tensorTypeName(t).data()); }

QString number(double v) {
    if (std::isinf(v)) return v > 0 ? QStringLiteral("∞") : QStringLiteral("-∞");
    return QString::number(v, 'g', 6);
}

QTableWidgetItem* valueItem(double v) {
    auto* item = new QTableWidgetItem(number(v));
    item->setData(Qt::UserRole, v);
    item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
    return item;
}

// Makes the type box list the report's types (signals blocked), keeping the choice.
void syncTypeBox(QComboBox* box, const std::optional<engine::QuantErrorReport>& report) {
    std::vector<engine::TensorType> want = report ? report->types : std::vector<engine::TensorType>{};
    bool same = box->count() == int(want.size());
    for (int i = 0; same && i < box->count(); ++i) same = box->itemData(i).toUInt() == uint(want[size_t(i)]);
    if (same) return;
    const QVariant keep = box->currentData();
    const QSignalBlocker block(box);
    box->clear();
    for (engine::TensorType t : want) box->addItem(typeName(t), uint(t));
    const int i = box->findData(keep);
    box->setCurrentIndex(i >= 0 ? i : 0);
}

}  // namespace

engine::TensorType QuantLabPanel::selectedType() const {
    return m_typeBox->count() ? engine::TensorType(m_typeBox->currentData().toUInt()) : engine::TensorType::Q8_0;
}

engine::QuantMetric QuantLabPanel::selectedMetric() const {
    return engine::QuantMetric(m_metricBox->currentData().toInt());
}

void QuantLabPanel::selectType(engine::TensorType type) {
    const int i = m_typeBox->findData(uint(type));
    if (i >= 0) m_typeBox->setCurrentIndex(i);
}

void QuantLabPanel::selectMetric(engine::QuantMetric metric) {
    const int i = m_metricBox->findData(int(metric));
    if (i >= 0) m_metricBox->setCurrentIndex(i);
}

const engine::QuantHeatmap& QuantLabPanel::heatmapShown() const { return m_heatmap->heatmap(); }

bool QuantLabPanel::selectTensor(const QString& name) {
    for (int r = 0; r < m_table->rowCount(); ++r)
        if (m_table->item(r, ColTensor)->text() == name) {
            m_table->selectRow(r);
            return true;
        }
    return false;
}

QString QuantLabPanel::selectedTensor() const {
    const auto rows = m_table->selectionModel()->selectedRows();
    return rows.isEmpty() ? QString() : m_table->item(rows.first().row(), ColTensor)->text();
}

void QuantLabPanel::applyReport(uint64_t generation, engine::QuantErrorReport report) {
    if (generation != m_generation) return;
    m_report = std::move(report);
    m_status = tr("Analysed %L1 weights × %2 types in %3 s")
                   .arg(m_report->elements)
                   .arg(m_report->types.size())
                   .arg(m_report->seconds, 0, 'f', 1);
    refreshResults();
    emit reportReady();
}

void QuantLabPanel::refreshResults() {
    syncTypeBox(m_typeBox, m_report);
    fillHeatmap();
    fillTable();
}

void QuantLabPanel::fillTable() {
    const QString keep = selectedTensor();
    {
        const QSignalBlocker block(m_table);
        m_table->clearSelection();
        m_table->setRowCount(0);
    }
    if (!m_report) {
        fillOutliers();
        startHistograms();
        return;
    }
    const auto& types = m_report->types;
    const size_t ti = size_t(std::find(types.begin(), types.end(), selectedType()) - types.begin());
    {
        const QSignalBlocker block(m_table);
        m_table->setRowCount(int(m_report->tensors.size()));
        for (int r = 0; r < m_table->rowCount(); ++r) {
            const engine::TensorQuantError& t = m_report->tensors[size_t(r)];
            const engine::QuantErrorStats& s = t.stats[ti];
            m_table->setItem(r, ColTensor, new QTableWidgetItem(QString::fromStdString(t.name)));
            m_table->setItem(r, ColLayer, new QTableWidgetItem(t.layer < 0 ? QString() : QString::number(t.layer)));
            m_table->setItem(r, ColKind, new QTableWidgetItem(QString::fromUtf8(engine::weightKindName(t.kind))));
            auto* used = new QTableWidgetItem(typeName(s.used) + (s.fallback() ? tr(" (fallback)") : QString()));
            m_table->setItem(r, ColUsed, used);
            m_table->setItem(r, ColRmse, valueItem(s.rmse));
            m_table->setItem(r, ColMaxAbs, valueItem(s.maxAbsError));
            m_table->setItem(r, ColSnr, valueItem(s.snrDb));
            m_table->setItem(r, ColCosine, valueItem(s.cosine));
            m_table->setItem(r, ColBpw, valueItem(s.bitsPerWeight));
        }
    }
    m_table->resizeColumnToContents(ColTensor);
    if (keep.isEmpty() || !selectTensor(keep)) m_table->selectRow(0);
}

void QuantLabPanel::fillHeatmap() {
    if (!m_report) {
        m_heatmap->clear();
        m_summary->setText(tr("No analysis yet. %1.").arg(referenceText()));
        return;
    }
    auto map = engine::quantErrorHeatmap(*m_report, selectedType(), selectedMetric());
    if (map) m_heatmap->setHeatmap(std::move(*map));
    else m_heatmap->clear();
    const auto& types = m_report->types;
    const size_t ti = size_t(std::find(types.begin(), types.end(), selectedType()) - types.begin());
    QString text = tr("reference: %1").arg(m_report->tensors.empty()
                                               ? QString()
                                               : QString::fromStdString(m_report->tensors.front().reference));
    if (ti < m_report->totals.size()) {
        const engine::QuantErrorStats& s = m_report->totals[ti];
        text += tr(" · all tensors as %1: %2 bits/weight, SNR %3 dB, RMSE %4, cosine %5")
                    .arg(typeName(s.requested), number(s.bitsPerWeight), number(s.snrDb), number(s.rmse),
                         number(s.cosine));
    }
    m_summary->setText(text);
}

void QuantLabPanel::fillOutliers() {
    m_outliers->setRowCount(0);
    if (!m_report) return;
    const engine::QuantErrorStats* s = m_report->find(selectedTensor().toStdString(), selectedType());
    if (!s) return;
    m_outliers->setRowCount(int(s->outliers.size()));
    for (int r = 0; r < m_outliers->rowCount(); ++r) {
        const engine::QuantOutlier& o = s->outliers[size_t(r)];
        m_outliers->setItem(r, 0, valueItem(double(o.row)));
        m_outliers->setItem(r, 1, valueItem(double(o.col)));
        m_outliers->setItem(r, 2, valueItem(o.reference));
        m_outliers->setItem(r, 3, valueItem(o.quantized));
        m_outliers->setItem(r, 4, valueItem(o.error()));
    }
}

void QuantLabPanel::startHistograms() {
    m_histStop.request_stop();
    ++m_histGeneration;
    m_histograms.reset();
    const QString tensor = selectedTensor();
    m_histogramBusy = m_report && m_model && !tensor.isEmpty();
    drawHistograms();
    if (!m_histogramBusy) return;
    m_histStop = std::stop_source();
    const uint64_t gen = m_histGeneration;
    engine::QuantHistogramOptions options;
    options.types = {selectedType()};
    options.bins = kHistogramBins;
    m_pool.start([this, gen, options, stop = m_histStop.get_token(), model = m_model, ref = m_reportReference,
                  name = tensor.toStdString()]() mutable {
        options.reference = ref.get();
        auto h = engine::quantErrorHistograms(*model, name, options, stop);
        if (!h) return;  // cancelled, or the tensor is gone: nothing to show
        QMetaObject::invokeMethod(this, [this, gen, h = std::move(*h)]() mutable {
            applyHistograms(gen, std::move(h));
        }, Qt::QueuedConnection);
    });
}

void QuantLabPanel::applyHistograms(uint64_t generation, engine::TensorQuantHistograms h) {
    if (generation != m_histGeneration) return;
    m_histograms = std::move(h);
    m_histogramBusy = false;
    drawHistograms();
    emit histogramsReady();
}

void QuantLabPanel::drawHistograms() {
    m_histPlot->clearGraphs();
    m_histPlot->legend->setVisible(false);
    if (m_histograms && !m_histograms->errors.empty()) {
        const auto add = [&](const engine::QuantHistogram& hist, QCPAxis* x, QCPAxis* y, const QColor& color,
                             const QString& name) {
            QCPGraph* g = m_histPlot->addGraph(x, y);
            g->setName(name);
            g->setPen(QPen(color, 1.5));
            g->setLineStyle(QCPGraph::lsStepCenter);
            for (size_t i = 0; i < hist.counts.size(); ++i)
                g->addData(hist.binLow(i) + hist.binWidth() / 2, double(hist.counts[i]));
            g->rescaleAxes();
        };
        m_histPlot->xAxis2->setVisible(true);
        m_histPlot->yAxis2->setVisible(true);
        add(m_histograms->weights, m_histPlot->xAxis, m_histPlot->yAxis, QColor(40, 110, 200),
            tr("weights (bottom axis)"));
        add(m_histograms->errors.front(), m_histPlot->xAxis2, m_histPlot->yAxis2, QColor(210, 60, 40),
            tr("%1 error (top axis)").arg(typeName(m_histograms->used.front())));
        m_histPlot->legend->setVisible(true);
    }
    m_histPlot->replot();
}

}  // namespace glassbox::ui
