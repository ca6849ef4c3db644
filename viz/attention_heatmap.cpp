// AttentionHeatmap: layout, painting and mouse handling. The view is a
// square window onto the matrix in cell coordinates; painting copies the
// visible part of the frame's image with nearest-neighbour scaling.
#include "viz/attention_heatmap.h"

#include <QMouseEvent>
#include <QPaintEngine>
#include <QPainter>
#include <QToolTip>
#include <QWheelEvent>
#include <algorithm>
#include <cmath>
#include <limits>

#include "viz/probability_palette.h"

namespace glassbox::viz {
namespace {

constexpr double kMaxLabelWidth = 96;
constexpr double kMinVisibleCells = 4;
constexpr double kScaleBarWidth = 200;

// 1, 2 or 5 × 10^k positions between ticks, so ticks stay `minPx` apart.
int tickStep(double cellPx, double minPx) {
    for (int base = 1;; base *= 10) {
        for (int m : {1, 2, 5}) {
            if (double(base * m) * cellPx >= minPx) return base * m;
        }
        if (base > 100000000) return base;
    }
}

QString oneLine(QString s) {
    s.replace(QLatin1Char('\n'), QStringLiteral("↵"));
    s.replace(QLatin1Char('\t'), QStringLiteral("→"));
    return s;
}

}  // namespace

AttentionHeatmap::AttentionHeatmap(QWidget* parent) : QWidget(parent) {
    setMouseTracking(true);
    setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Expanding);
    setAttribute(Qt::WA_OpaquePaintEvent);
}

void AttentionHeatmap::setFrame(AttentionFrame frame) {
    const bool resized = frame.n != m_frame.n;
    m_frame = std::move(frame);
    if (resized) resetView();
    if (m_hover.y() >= m_frame.n || m_hover.x() >= m_frame.n) m_hover = {-1, -1};
    if (m_selected >= m_frame.n) m_selected = -1;
    update();
}

void AttentionHeatmap::clear() { setFrame({}); }

void AttentionHeatmap::setLabels(const QStringList& labels) {
    m_labels = labels;
    update();
}

void AttentionHeatmap::setLogScale(bool log) {
    if (m_frame.isNull() || m_frame.scale.log == (log && m_frame.scale.probabilities)) return;
    setFrame(rerenderAttentionFrame(m_frame, log, m_frame.scale.dark));
}

void AttentionHeatmap::setSelectedRow(int row) {
    if (row < -1 || row >= m_frame.n) row = -1;
    if (row == m_selected) return;
    m_selected = row;
    update();
}

float AttentionHeatmap::value(int row, int col) const {
    if (m_frame.isNull() || row < 0 || col < 0 || row >= m_frame.n || col >= m_frame.n)
        return std::numeric_limits<float>::quiet_NaN();
    return m_frame.at(row, col);
}

QString AttentionHeatmap::label(int pos) const {
    return pos >= 0 && pos < m_labels.size() ? oneLine(m_labels[pos]) : QString();
}

QString AttentionHeatmap::cellText(int row, int col) const {
    if (m_frame.isNull() || row < 0 || col < 0 || row >= m_frame.n || col >= m_frame.n) return {};
    const QString head = tr("query %1 “%2” → key %3 “%4”").arg(row).arg(label(row)).arg(col).arg(label(col));
    if (col > row) return head + tr(": masked (a later position)");
    const float v = m_frame.at(row, col);
    QString text = head + QStringLiteral(": ") + QString::number(double(v), 'g', 7);
    if (m_frame.scale.probabilities) text += QStringLiteral(" (%1%)").arg(double(v) * 100.0, 0, 'f', 2);
    return text;
}

bool AttentionHeatmap::dark() const { return palette().color(QPalette::Window).lightness() < 128; }

AttentionHeatmap::Layout AttentionHeatmap::layoutFor(const QRectF& target) const {
    Layout l;
    const QFontMetricsF fm(font());
    const double barH = fm.height() + 10;
    const double tickLeft = fm.horizontalAdvance(QStringLiteral("00000")) + 6;
    const double tickTop = fm.height() + 6;
    const double cells = std::max(1.0, m_view.width());
    auto sideFor = [&](double left, double top) {
        return std::max(10.0, std::min(target.width() - left - 6, target.height() - top - barH - 6));
    };
    double left = tickLeft, top = tickTop;
    double side = sideFor(left, top);
    if (!m_labels.isEmpty() && side / cells >= fm.height()) {
        double widest = 0;
        const int first = int(m_view.top()), last = std::min(m_frame.n, int(std::ceil(m_view.bottom())));
        for (int i = first; i < last; ++i) widest = std::max(widest, fm.horizontalAdvance(label(i)));
        const double margin = std::min(kMaxLabelWidth, widest) + 8;
        const double labelled = sideFor(margin, margin);
        if (labelled / cells >= fm.height()) {
            l.labels = true;
            left = top = margin;
            side = labelled;
        }
    }
    l.plot = QRectF(target.left() + left, target.top() + top, side, side);
    l.cell = side / cells;
    l.leftAxis = QRectF(target.left(), l.plot.top(), left - 4, side);
    l.topAxis = QRectF(l.plot.left(), target.top(), side, top - 4);
    l.bar = QRectF(l.plot.left(), l.plot.bottom() + 6, l.plot.width(), fm.height() + 2);
    return l;
}

void AttentionHeatmap::paintEvent(QPaintEvent*) {
    QPainter p(this);
    paintTo(p, rect());
}

void AttentionHeatmap::paintTo(QPainter& p, const QRect& target) const {
    p.save();
    p.fillRect(target, palette().color(QPalette::Window));
    p.setFont(font());
    if (m_frame.isNull()) {
        p.setPen(palette().color(QPalette::PlaceholderText));
        p.drawText(target, Qt::AlignCenter, tr("No attention map"));
        p.restore();
        return;
    }
    const Layout l = layoutFor(target);
    paintMatrix(p, l);
    paintMarks(p, l);
    paintAxes(p, l);
    paintScale(p, l);
    p.restore();
}

void AttentionHeatmap::paintMatrix(QPainter& p, const Layout& l) const {
    const QRect src = m_view.toAlignedRect().intersected(m_frame.image.rect());
    if (src.isEmpty()) return;
    const QRectF dst(l.plot.left() + (src.x() - m_view.x()) * l.cell, l.plot.top() + (src.y() - m_view.y()) * l.cell,
                     src.width() * l.cell, src.height() * l.cell);
    p.save();
    p.setClipRect(l.plot);
    p.setRenderHint(QPainter::SmoothPixmapTransform, false);
    if (p.paintEngine() && p.paintEngine()->type() == QPaintEngine::SVG)
        p.drawImage(dst, m_frame.image.copy(src));  // the SVG engine ignores source rectangles
    else
        p.drawImage(dst, m_frame.image, QRectF(src));
    p.restore();
}

QRectF AttentionHeatmap::cellRect(int row, int col) const {
    if (m_frame.isNull() || row < 0 || col < 0 || row >= m_frame.n || col >= m_frame.n) return {};
    const Layout l = layoutFor(rect());
    const QRectF r(l.plot.left() + (col - m_view.x()) * l.cell, l.plot.top() + (row - m_view.y()) * l.cell, l.cell,
                   l.cell);
    return r.intersected(l.plot);
}

void AttentionHeatmap::paintMarks(QPainter& p, const Layout& l) const {
    p.save();
    p.setClipRect(l.plot.adjusted(-2, -2, 2, 2));
    p.setBrush(Qt::NoBrush);
    const QColor accent = palette().color(QPalette::Highlight);
    if (m_selected >= 0) {
        const double y = l.plot.top() + (m_selected - m_view.y()) * l.cell;
        const double x0 = l.plot.left() - m_view.x() * l.cell;
        QRectF row(x0, y, (m_selected + 1) * l.cell, l.cell);
        if (row.height() < 3) row.adjust(0, -1.5, 0, 1.5);
        p.setPen(QPen(accent, 1.5));
        p.drawRect(row.intersected(l.plot.adjusted(-1, -1, 1, 1)));
    }
    if (m_hover.x() >= 0 && l.cell >= 4) {
        const QRectF cell(l.plot.left() + (m_hover.x() - m_view.x()) * l.cell,
                          l.plot.top() + (m_hover.y() - m_view.y()) * l.cell, l.cell, l.cell);
        p.setPen(QPen(palette().color(QPalette::WindowText), 1));
        p.drawRect(cell);
    }
    p.setPen(QPen(palette().color(QPalette::Mid), 1));
    p.drawRect(l.plot);
    p.restore();
}

void AttentionHeatmap::paintAxes(QPainter& p, const Layout& l) const {
    const int first = std::max(0, int(std::floor(m_view.top())));
    const int last = std::min(m_frame.n, int(std::ceil(m_view.bottom())));
    const int firstCol = std::max(0, int(std::floor(m_view.left())));
    const int lastCol = std::min(m_frame.n, int(std::ceil(m_view.right())));
    const QFontMetricsF fm(font());
    const int step = l.labels ? 1 : tickStep(l.cell, fm.height() * 2.2);
    p.save();
    p.setPen(palette().color(QPalette::WindowText));
    paintLeftAxis(p, l, first, last, step);
    paintTopAxis(p, l, firstCol, lastCol, step);
    p.restore();
}

void AttentionHeatmap::paintLeftAxis(QPainter& p, const Layout& l, int first, int last, int step) const {
    const QFontMetricsF fm(font());
    QFont bold = font();
    bold.setBold(true);
    for (int r = (first + step - 1) / step * step; r < last; r += step) {
        const double y = l.plot.top() + (r + 0.5 - m_view.y()) * l.cell;
        if (y < l.plot.top() || y > l.plot.bottom()) continue;
        const QString text = l.labels ? fm.elidedText(label(r), Qt::ElideRight, l.leftAxis.width()) : QString::number(r);
        p.setFont(r == m_selected ? bold : font());
        p.drawText(QRectF(l.leftAxis.left(), y - fm.height() / 2, l.leftAxis.width(), fm.height()),
                   Qt::AlignRight | Qt::AlignVCenter, text);
    }
    p.setFont(font());
}

void AttentionHeatmap::paintTopAxis(QPainter& p, const Layout& l, int first, int last, int step) const {
    const QFontMetricsF fm(font());
    for (int c = (first + step - 1) / step * step; c < last; c += step) {
        const double x = l.plot.left() + (c + 0.5 - m_view.x()) * l.cell;
        if (x < l.plot.left() || x > l.plot.right()) continue;
        if (!l.labels) {
            const double w = fm.horizontalAdvance(QString::number(c)) + 4;
            p.drawText(QRectF(x - w / 2, l.topAxis.top(), w, l.topAxis.height()), Qt::AlignHCenter | Qt::AlignBottom,
                       QString::number(c));
            continue;
        }
        p.save();
        p.translate(x, l.topAxis.bottom());
        p.rotate(-90);
        const QString text = fm.elidedText(label(c), Qt::ElideRight, l.topAxis.height());
        p.drawText(QRectF(0, -fm.height() / 2, l.topAxis.height(), fm.height()), Qt::AlignLeft | Qt::AlignVCenter, text);
        p.restore();
    }
}

void AttentionHeatmap::paintScale(QPainter& p, const Layout& l) const {
    const QFontMetricsF fm(font());
    const QString low = m_frame.scale.lowText();
    const QString high = m_frame.scale.highText() + (m_frame.scale.log ? tr(" (log)") : QString());
    const QString what = m_frame.scale.probabilities ? tr("probability") : tr("score (pre-softmax)");
    double x = l.bar.left();
    p.save();
    p.setPen(palette().color(QPalette::WindowText));
    const double lowW = fm.horizontalAdvance(low);
    p.drawText(QRectF(x, l.bar.top(), lowW, l.bar.height()), Qt::AlignVCenter | Qt::AlignLeft, low);
    x += lowW + 6;
    const double barW = std::max(40.0, std::min(kScaleBarWidth, l.bar.width() / 2));
    const QRectF bar(x, l.bar.top() + 2, barW, l.bar.height() - 4);
    QLinearGradient g(bar.topLeft(), bar.topRight());
    for (int i = 0; i <= 16; ++i) g.setColorAt(i / 16.0, ProbabilityPalette::forWeight(i / 16.0, m_frame.scale.dark));
    p.fillRect(bar, g);
    x += barW + 6;
    p.drawText(QRectF(x, l.bar.top(), l.bar.right() - x, l.bar.height()), Qt::AlignVCenter | Qt::AlignLeft,
               high + QStringLiteral("   ") + what);
    p.restore();
}

QPoint AttentionHeatmap::cellAt(const QPoint& pos) const {
    if (m_frame.isNull()) return {-1, -1};
    const Layout l = layoutFor(rect());
    if (!l.plot.contains(pos)) return {-1, -1};
    const int col = int(std::floor(m_view.x() + (pos.x() - l.plot.left()) / l.cell));
    const int row = int(std::floor(m_view.y() + (pos.y() - l.plot.top()) / l.cell));
    if (row < 0 || col < 0 || row >= m_frame.n || col >= m_frame.n) return {-1, -1};
    return {col, row};
}

void AttentionHeatmap::resetView() {
    m_view = QRectF(0, 0, m_frame.n, m_frame.n);
    update();
}

void AttentionHeatmap::clampView() {
    const double n = m_frame.n;
    const double s = std::clamp(m_view.width(), std::min(n, kMinVisibleCells), n);
    const double x = std::clamp(m_view.x(), 0.0, n - s);
    const double y = std::clamp(m_view.y(), 0.0, n - s);
    m_view = QRectF(x, y, s, s);
}

void AttentionHeatmap::zoomBy(double factor, const QPointF& anchor) {
    if (m_frame.isNull() || factor <= 0) return;
    const Layout l = layoutFor(rect());
    const QPointF at = l.plot.contains(anchor) ? anchor : l.plot.center();
    const QPointF rel((at.x() - l.plot.left()) / l.plot.width(), (at.y() - l.plot.top()) / l.plot.height());
    const QPointF cell(m_view.x() + rel.x() * m_view.width(), m_view.y() + rel.y() * m_view.height());
    const double s = std::clamp(m_view.width() / factor, std::min<double>(m_frame.n, kMinVisibleCells), double(m_frame.n));
    m_view = QRectF(cell.x() - rel.x() * s, cell.y() - rel.y() * s, s, s);
    clampView();
    update();
}

void AttentionHeatmap::wheelEvent(QWheelEvent* event) {
    const double steps = event->angleDelta().y() / 120.0;
    if (steps == 0) return;
    zoomBy(std::pow(1.25, steps), event->position());
    event->accept();
}

void AttentionHeatmap::mousePressEvent(QMouseEvent* event) {
    if (event->button() != Qt::LeftButton) return;
    m_pressed = true;
    m_dragged = false;
    m_pressPos = event->position().toPoint();
    m_pressView = m_view;
}

void AttentionHeatmap::mouseMoveEvent(QMouseEvent* event) {
    const QPoint pos = event->position().toPoint();
    if (m_pressed && (m_dragged || (pos - m_pressPos).manhattanLength() > 3)) {
        m_dragged = true;
        const Layout l = layoutFor(rect());
        const QPointF delta = QPointF(pos - m_pressPos) / l.cell;
        m_view = m_pressView.translated(-delta);
        clampView();
        setCursor(Qt::ClosedHandCursor);
        update();
        return;
    }
    const QPoint cell = cellAt(pos);
    if (cell == m_hover) return;
    m_hover = cell;
    const QString text = cellText(cell.y(), cell.x());
    if (text.isEmpty())
        QToolTip::hideText();
    else
        QToolTip::showText(event->globalPosition().toPoint(), text, this);
    emit cellHovered(cell.y(), cell.x(), text);
    update();
}

void AttentionHeatmap::mouseReleaseEvent(QMouseEvent* event) {
    if (event->button() != Qt::LeftButton || !m_pressed) return;
    m_pressed = false;
    unsetCursor();
    if (m_dragged) return;
    const QPoint cell = cellAt(event->position().toPoint());
    if (cell.y() < 0) return;
    setSelectedRow(cell.y());
    emit rowSelected(cell.y());
}

void AttentionHeatmap::leaveEvent(QEvent*) {
    if (m_hover.x() < 0) return;
    m_hover = {-1, -1};
    emit cellHovered(-1, -1, {});
    update();
}

}  // namespace glassbox::viz
