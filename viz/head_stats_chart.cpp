// HeadStatsChart: a QCPColorMap with a colour scale, a frame marker and
// hover/click handling in cell coordinates.
#include "viz/head_stats_chart.h"

#include <QToolTip>
#include <cmath>

#include "viz/probability_palette.h"

namespace glassbox::viz {

HeadStatsChart::HeadStatsChart(QWidget* parent) : QCustomPlot(parent) {
    setMinimumHeight(150);
    m_titleElement = new QCPTextElement(this, QString(), QFont(font().family(), font().pointSize(), QFont::Bold));
    plotLayout()->insertRow(0);
    plotLayout()->addElement(0, 0, m_titleElement);
    m_map = new QCPColorMap(xAxis, yAxis);
    m_scale = new QCPColorScale(this);
    plotLayout()->addElement(1, 1, m_scale);
    m_scale->setType(QCPAxis::atRight);
    m_scale->setBarWidth(10);
    m_map->setColorScale(m_scale);
    m_map->setInterpolate(false);
    auto* margins = new QCPMarginGroup(this);
    axisRect()->setMarginGroup(QCP::msBottom | QCP::msTop, margins);
    m_scale->setMarginGroup(QCP::msBottom | QCP::msTop, margins);
    // The frame sits on its own buffered layer, so moving it repaints only
    // that layer instead of the whole chart.
    addLayer(QStringLiteral("marker"), layer(QStringLiteral("main")), QCustomPlot::limAbove);
    m_markerLayer = layer(QStringLiteral("marker"));
    m_markerLayer->setMode(QCPLayer::lmBuffered);
    m_marker = new QCPItemRect(this);
    m_marker->setLayer(m_markerLayer);
    m_marker->setBrush(Qt::NoBrush);
    m_marker->setVisible(false);
    xAxis->setLabel(tr("layer"));
    yAxis->setLabel(tr("head"));
    yAxis->setRangeReversed(true);
    connect(this, &QCustomPlot::mouseMove, this, &HeadStatsChart::onMove);
    connect(this, &QCustomPlot::mouseRelease, this, &HeadStatsChart::onClick);
    setDark(false);
}

void HeadStatsChart::setValues(const QString& title, const QString& unit, int layers, int heads,
                               std::vector<double> values) {
    m_title = title;
    m_unit = unit;
    m_titleElement->setText(title);
    if (layers <= 0 || heads <= 0 || values.size() != size_t(layers) * size_t(heads)) {
        clearValues();
        return;
    }
    m_layers = layers;
    m_heads = heads;
    m_values = std::move(values);
    m_map->data()->setSize(layers, heads);
    m_map->data()->setRange(QCPRange(0, layers - 1), QCPRange(0, heads - 1));
    for (int l = 0; l < layers; ++l)
        for (int h = 0; h < heads; ++h) m_map->data()->setCell(l, h, m_values[size_t(l) * size_t(heads) + size_t(h)]);
    m_map->rescaleDataRange(true);
    xAxis->setRange(-0.5, layers - 0.5);
    yAxis->setRange(-0.5, heads - 0.5);
    placeMarker();
    replot(QCustomPlot::rpQueuedReplot);
}

void HeadStatsChart::clearValues() {
    m_layers = m_heads = 0;
    m_values.clear();
    m_map->data()->clear();
    m_marker->setVisible(false);
    replot(QCustomPlot::rpQueuedReplot);
}

double HeadStatsChart::valueAt(int layer, int head) const {
    if (layer < 0 || head < 0 || layer >= m_layers || head >= m_heads) return std::nan("");
    return m_values[size_t(layer) * size_t(m_heads) + size_t(head)];
}

void HeadStatsChart::setCurrent(int layer, int head) {
    if (layer == m_layer && head == m_head) return;
    m_layer = layer;
    m_head = head;
    placeMarker();
    m_markerLayer->replot();
}

void HeadStatsChart::placeMarker() {
    if (m_layer < 0 || m_layer >= m_layers) {
        m_marker->setVisible(false);
        return;
    }
    const bool column = m_head < 0 || m_head >= m_heads;
    m_marker->topLeft->setCoords(m_layer - 0.5, column ? -0.5 : m_head - 0.5);
    m_marker->bottomRight->setCoords(m_layer + 0.5, column ? m_heads - 0.5 : m_head + 0.5);
    m_marker->setVisible(true);
}

void HeadStatsChart::setDark(bool dark) {
    m_dark = dark;
    styleAxes();
    QCPColorGradient g;
    g.clearColorStops();
    for (int i = 0; i <= 8; ++i) g.setColorStopAt(i / 8.0, ProbabilityPalette::forWeight(i / 8.0, dark));
    m_map->setGradient(g);
    m_marker->setPen(QPen(dark ? QColor(0xff, 0xff, 0xff) : QColor(0xe0, 0x30, 0x30), 2));
    replot(QCustomPlot::rpQueuedReplot);
}

void HeadStatsChart::styleAxes() {
    const QColor fg = m_dark ? QColor(0xd8, 0xdb, 0xe0) : QColor(0x30, 0x33, 0x38);
    setBackground(m_dark ? QColor(0x23, 0x25, 0x29) : QColor(0xfd, 0xfd, 0xfe));
    axisRect()->setBackground(Qt::NoBrush);
    m_titleElement->setTextColor(fg);
    for (QCPAxis* axis : {xAxis, yAxis, m_scale->axis()}) {
        axis->setBasePen(QPen(fg));
        axis->setTickPen(QPen(fg));
        axis->setSubTickPen(QPen(fg));
        axis->setTickLabelColor(fg);
        axis->setLabelColor(fg);
        axis->grid()->setVisible(false);
    }
    xAxis->setSubTicks(false);
    yAxis->setSubTicks(false);
}

bool HeadStatsChart::cellUnder(const QPointF& pos, int& layer, int& head) const {
    if (!axisRect()->rect().contains(pos.toPoint()) || m_layers == 0) return false;
    layer = int(std::lround(xAxis->pixelToCoord(pos.x())));
    head = int(std::lround(yAxis->pixelToCoord(pos.y())));
    return layer >= 0 && head >= 0 && layer < m_layers && head < m_heads;
}

void HeadStatsChart::onMove(QMouseEvent* event) {
    int layer = 0, head = 0;
    if (!cellUnder(event->position(), layer, head)) {
        QToolTip::hideText();
        return;
    }
    QToolTip::showText(event->globalPosition().toPoint(),
                       tr("layer %1, head %2: %3 %4").arg(layer).arg(head).arg(valueAt(layer, head), 0, 'f', 3).arg(m_unit),
                       this);
}

void HeadStatsChart::onClick(QMouseEvent* event) {
    int layer = 0, head = 0;
    if (event->button() == Qt::LeftButton && cellUnder(event->position(), layer, head)) emit cellClicked(layer, head);
}

}  // namespace glassbox::viz
