// ResidualHeatmap: a QCPColorMap of norms with a colour scale, a column
// marker and click-to-select.
#include "viz/residual_heatmap.h"

#include <QHelpEvent>
#include <QToolTip>
#include <algorithm>
#include <cmath>

namespace glassbox::viz {
namespace {

// A token as an axis label: line breaks and tabs made visible, kept short.
QString tickLabel(QString text) {
    text.replace(QLatin1Char('\n'), QChar(0x21B5));
    text.replace(QLatin1Char('\t'), QChar(0x2192));
    return text.trimmed().isEmpty() && !text.isEmpty() ? QStringLiteral("␣") : text.left(10);
}

}  // namespace

ResidualHeatmap::ResidualHeatmap(QWidget* parent) : QCustomPlot(parent) {
    setMinimumHeight(220);
    m_map = new QCPColorMap(xAxis, yAxis);
    m_map->setInterpolate(false);
    m_map->setTightBoundary(false);
    m_scale = new QCPColorScale(this);
    plotLayout()->addElement(0, 1, m_scale);
    m_scale->setType(QCPAxis::atRight);
    m_scale->axis()->setLabel(tr("‖x‖₂"));
    m_map->setColorScale(m_scale);
    QCPColorGradient gradient(QCPColorGradient::gpThermal);
    gradient.setNanHandling(QCPColorGradient::nhTransparent);
    m_map->setGradient(gradient);
    auto* margins = new QCPMarginGroup(this);
    axisRect()->setMarginGroup(QCP::msBottom | QCP::msTop, margins);
    m_scale->setMarginGroup(QCP::msBottom | QCP::msTop, margins);
    xAxis->setLabel(tr("token position"));
    yAxis->setLabel(tr("layer"));
    yAxis->setRangeReversed(true);
    m_marker = new QCPItemRect(this);
    m_marker->setBrush(Qt::NoBrush);
    m_marker->setVisible(false);
    setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
    axisRect()->setRangeDrag(Qt::Horizontal);
    axisRect()->setRangeZoom(Qt::Horizontal);
    setLogScale(true);
}

void ResidualHeatmap::setValues(int nPoints, int nPositions, const std::vector<float>& values,
                                const QStringList& tokenLabels) {
    m_points = nPoints;
    m_positions = nPositions;
    m_labels = tokenLabels;
    m_map->data()->setSize(std::max(1, nPositions), std::max(1, nPoints));
    m_map->data()->setRange(QCPRange(0, std::max(0, nPositions - 1)), QCPRange(0, std::max(0, nPoints - 1)));
    double lo = INFINITY, hi = -INFINITY;
    for (int point = 0; point < nPoints; ++point) {
        for (int pos = 0; pos < nPositions; ++pos) {
            const double v = values[size_t(point) * size_t(nPositions) + size_t(pos)];
            m_map->data()->setCell(pos, point, v);
            if (std::isfinite(v) && v > 0) {
                lo = std::min(lo, v);
                hi = std::max(hi, v);
            }
        }
    }
    if (nPoints == 0 || nPositions == 0) m_map->data()->fill(std::nan(""));
    if (lo <= hi) m_map->setDataRange(QCPRange(lo, std::max(hi, lo * 1.0001)));
    if (m_selected >= nPositions) m_selected = -1;
    updateAxes();
    updateSelection();
    replot();
}

void ResidualHeatmap::clearValues() { setValues(0, 0, {}, {}); }

void ResidualHeatmap::setLogScale(bool on) {
    m_log = on;
    m_map->setDataScaleType(on ? QCPAxis::stLogarithmic : QCPAxis::stLinear);
    m_scale->axis()->setTicker(on ? QSharedPointer<QCPAxisTicker>(new QCPAxisTickerLog)
                                  : QSharedPointer<QCPAxisTicker>(new QCPAxisTicker));
    replot();
}

void ResidualHeatmap::setSelectedColumn(int position) {
    m_selected = position >= 0 && position < m_positions ? position : -1;
    updateSelection();
    replot();
}

double ResidualHeatmap::value(int point, int position) const {
    if (point < 0 || point >= m_points || position < 0 || position >= m_positions) return std::nan("");
    return m_map->data()->cell(position, point);
}

QString ResidualHeatmap::tooltipFor(int point, int position) const {
    if (point < 0 || point >= m_points || position < 0 || position >= m_positions) return {};
    const QString where = point == 0 ? tr("embedding") : tr("after layer %1").arg(point - 1);
    const QString token = position < m_labels.size() ? m_labels[position].toHtmlEscaped() : QString();
    const double v = value(point, position);
    return tr("<b>%1</b> · position %2 “%3”<br>‖x‖₂ = %4")
        .arg(where)
        .arg(position)
        .arg(token)
        .arg(std::isnan(v) ? tr("not recorded") : QString::number(v, 'g', 5));
}

std::pair<int, int> ResidualHeatmap::cellAt(const QPoint& pos) const {
    if (!axisRect()->rect().contains(pos) || m_points == 0 || m_positions == 0) return {-1, -1};
    const int column = int(std::lround(xAxis->pixelToCoord(pos.x())));
    const int row = int(std::lround(yAxis->pixelToCoord(pos.y())));
    if (column < 0 || column >= m_positions || row < 0 || row >= m_points) return {-1, -1};
    return {row, column};
}

QPoint ResidualHeatmap::cellCenter(int point, int position) const {
    return QPoint(int(xAxis->coordToPixel(position)), int(yAxis->coordToPixel(point)));
}

void ResidualHeatmap::updateAxes() {
    auto rows = QSharedPointer<QCPAxisTickerText>::create();
    const int rowStep = std::max(1, (m_points + 9) / 10);
    for (int point = 0; point < m_points; point += rowStep)
        rows->addTick(point, point == 0 ? tr("emb") : QString::number(point - 1));
    yAxis->setTicker(rows);
    yAxis->setRange(-0.5, std::max(0.5, m_points - 0.5));
    if (m_positions > 0 && m_positions <= 24 && !m_labels.isEmpty()) {
        auto columns = QSharedPointer<QCPAxisTickerText>::create();
        for (int pos = 0; pos < m_positions; ++pos)
            columns->addTick(pos, pos < m_labels.size() ? tickLabel(m_labels[pos]) : QString::number(pos));
        xAxis->setTicker(columns);
        xAxis->setTickLabelRotation(-40);
    } else {
        auto columns = QSharedPointer<QCPAxisTickerFixed>::create();
        columns->setTickStep(1);
        columns->setScaleStrategy(QCPAxisTickerFixed::ssMultiples);
        xAxis->setTicker(columns);
        xAxis->setTickLabelRotation(0);
    }
    xAxis->setRange(-0.5, std::max(0.5, m_positions - 0.5));
}

void ResidualHeatmap::updateSelection() {
    m_marker->setVisible(m_selected >= 0);
    if (m_selected < 0) return;
    m_marker->setPen(QPen(palette().color(QPalette::Highlight), 2));
    m_marker->topLeft->setCoords(m_selected - 0.5, -0.5);
    m_marker->bottomRight->setCoords(m_selected + 0.5, m_points - 0.5);
}

void ResidualHeatmap::mousePressEvent(QMouseEvent* event) {
    m_pressAt = event->position().toPoint();
    QCustomPlot::mousePressEvent(event);
}

void ResidualHeatmap::mouseReleaseEvent(QMouseEvent* event) {
    const QPoint at = event->position().toPoint();
    QCustomPlot::mouseReleaseEvent(event);
    if ((at - m_pressAt).manhattanLength() > 3) return;  // a drag, not a click
    const auto [point, position] = cellAt(at);
    if (position < 0) return;
    setSelectedColumn(position);
    emit columnSelected(position);
}

bool ResidualHeatmap::event(QEvent* event) {
    if (event->type() == QEvent::ToolTip) {
        auto* help = static_cast<QHelpEvent*>(event);
        const auto [point, position] = cellAt(help->pos());
        const QString tip = tooltipFor(point, position);
        if (!tip.isEmpty()) QToolTip::showText(help->globalPos(), tip, this);
        else QToolTip::hideText();
        return true;
    }
    return QCustomPlot::event(event);
}

}  // namespace glassbox::viz
