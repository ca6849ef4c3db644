// The quantization-error heatmap: layout, colour scale and painting.
#include "viz/quant_heatmap.h"

#include <QMouseEvent>
#include <QPainter>
#include <algorithm>
#include <cmath>

namespace glassbox::viz {

namespace {

constexpr int kLeft = 48;    // layer labels
constexpr int kTop = 24;     // title
constexpr int kBottom = 40;  // kind labels and scale
constexpr int kRight = 12;

bool higherIsBetter(engine::QuantMetric m) {
    return m == engine::QuantMetric::SnrDb || m == engine::QuantMetric::Cosine;
}

// Dark blue (small error) -> teal -> yellow -> red (large error).
QColor ramp(double t) {
    static const QColor stops[] = {QColor(20, 30, 80), QColor(30, 130, 140), QColor(240, 210, 60),
                                   QColor(215, 50, 40)};
    t = std::clamp(t, 0.0, 1.0) * 3.0;
    const int i = std::min(2, int(t));
    const double f = t - i;
    const QColor& a = stops[i];
    const QColor& b = stops[i + 1];
    return QColor(int(a.red() + (b.red() - a.red()) * f), int(a.green() + (b.green() - a.green()) * f),
                  int(a.blue() + (b.blue() - a.blue()) * f));
}

}  // namespace

QuantHeatmapView::QuantHeatmapView(QWidget* parent) : QWidget(parent) {
    setObjectName(QStringLiteral("quantHeatmap"));
    setMinimumSize(240, 240);
}

void QuantHeatmapView::setHeatmap(engine::QuantHeatmap heatmap) {
    m_heatmap = std::move(heatmap);
    m_min = 0.0;
    m_max = 0.0;
    bool any = false;
    for (const auto& row : m_heatmap.cells)
        for (double v : row) {
            if (!std::isfinite(v)) continue;
            m_min = any ? std::min(m_min, v) : v;
            m_max = any ? std::max(m_max, v) : v;
            any = true;
        }
    update();
}

void QuantHeatmapView::clear() { setHeatmap({}); }

double QuantHeatmapView::value(int layer, int column) const {
    if (layer < 0 || layer >= layers() || column < 0 || column >= columns()) return std::nan("");
    const auto& row = m_heatmap.cells[size_t(layer)];
    return size_t(column) < row.size() ? row[size_t(column)] : std::nan("");
}

QRect QuantHeatmapView::gridRect(const QSize& size) const {
    return QRect(kLeft, kTop, std::max(1, size.width() - kLeft - kRight),
                 std::max(1, size.height() - kTop - kBottom));
}

QPoint QuantHeatmapView::cellAt(const QPoint& pos) const {
    const QRect g = gridRect(size());
    if (isEmpty() || !g.contains(pos)) return {-1, -1};
    const int column = std::min(columns() - 1, (pos.x() - g.left()) * columns() / g.width());
    const int layer = std::min(layers() - 1, (pos.y() - g.top()) * layers() / g.height());
    return {column, layer};
}

QColor QuantHeatmapView::colorFor(double v) const {
    const double span = m_max - m_min;
    double t = span > 0.0 ? (v - m_min) / span : 0.0;
    if (higherIsBetter(m_heatmap.metric)) t = 1.0 - t;
    return ramp(t);
}

void QuantHeatmapView::render(QPainter& p, const QSize& size) const {
    p.fillRect(QRect(QPoint(0, 0), size), palette().color(QPalette::Base));
    p.setPen(palette().color(QPalette::Text));
    if (isEmpty()) {
        p.drawText(QRect(QPoint(0, 0), size), Qt::AlignCenter, tr("Run an analysis to see the error map"));
        return;
    }
    const QRect g = gridRect(size);
    p.drawText(QRect(0, 0, size.width(), kTop), Qt::AlignCenter,
               tr("%1 · %2 (layer × kind)")
                   .arg(QString::fromUtf8(engine::tensorTypeName(m_heatmap.type).data()),
                        QString::fromUtf8(engine::quantMetricName(m_heatmap.metric))));
    const double cw = double(g.width()) / columns();
    const double ch = double(g.height()) / layers();
    for (int l = 0; l < layers(); ++l) {
        for (int c = 0; c < columns(); ++c) {
            const QRectF cell(g.left() + c * cw, g.top() + l * ch, cw, ch);
            const double v = value(l, c);
            if (std::isfinite(v)) p.fillRect(cell, colorFor(v));
            else p.fillRect(cell, QColor(200, 200, 200));  // not analysed
        }
        if (ch >= 9 || l % 5 == 0)
            p.drawText(QRectF(0, g.top() + l * ch, kLeft - 4, ch), Qt::AlignRight | Qt::AlignVCenter,
                       QString::number(l));
    }
    for (int c = 0; c < columns(); ++c)
        p.drawText(QRectF(g.left() + c * cw, g.bottom() + 2, cw, 16), Qt::AlignCenter,
                   QString::fromUtf8(engine::weightKindName(m_heatmap.columns[size_t(c)])));
    // The colour scale: a bar with its two ends.
    const QRect bar(g.left() + 60, g.bottom() + 22, std::max(10, g.width() - 120), 12);
    for (int x = 0; x < bar.width(); ++x) {
        const double v = m_min + (m_max - m_min) * x / std::max(1, bar.width() - 1);
        p.fillRect(QRect(bar.left() + x, bar.top(), 1, bar.height()), colorFor(v));
    }
    p.drawText(QRect(g.left(), bar.top() - 2, 58, 16), Qt::AlignRight | Qt::AlignVCenter,
               QString::number(m_min, 'g', 4));
    p.drawText(QRect(bar.right() + 4, bar.top() - 2, 60, 16), Qt::AlignLeft | Qt::AlignVCenter,
               QString::number(m_max, 'g', 4));
}

void QuantHeatmapView::paintEvent(QPaintEvent*) {
    QPainter p(this);
    render(p, size());
}

void QuantHeatmapView::mousePressEvent(QMouseEvent* event) {
    const QPoint cell = cellAt(event->position().toPoint());
    if (cell.y() >= 0) emit cellClicked(cell.y(), cell.x());
}

}  // namespace glassbox::viz
