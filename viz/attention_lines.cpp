// AttentionLines: choosing the keys, laying out the two columns, painting.
#include "viz/attention_lines.h"

#include <QMouseEvent>
#include <QPainter>
#include <QToolTip>
#include <algorithm>
#include <cmath>
#include <numeric>

#include "viz/probability_palette.h"

namespace glassbox::viz {
namespace {

constexpr double kColumnWidth = 170;
constexpr double kMinRowHeight = 9;

}  // namespace

AttentionLines::AttentionLines(QWidget* parent) : QWidget(parent) {
    setMouseTracking(true);
    setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Expanding);
}

void AttentionLines::setRow(int query, std::vector<float> weights, bool probabilities, bool dark) {
    m_query = query;
    weights.resize(query >= 0 ? size_t(query) + 1 : 0);
    m_weights = std::move(weights);
    m_probabilities = probabilities;
    m_dark = dark;
    choose();
    update();
}

void AttentionLines::setLabels(const QStringList& labels) {
    m_labels = labels;
    update();
}

void AttentionLines::clear() { setRow(-1, {}, true, m_dark); }

void AttentionLines::setTopN(int n) {
    m_topN = std::clamp(n, 2, 200);
    choose();
    update();
}

void AttentionLines::choose() {
    m_shown.clear();
    m_linked.clear();
    if (m_query < 0) return;
    std::vector<int> order(m_weights.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return m_weights[size_t(a)] > m_weights[size_t(b)]; });
    order.resize(std::min(order.size(), size_t(m_topN)));
    m_linked = order;
    m_lo = m_hi = m_weights.empty() ? 0.0f : m_weights[size_t(order.front())];
    for (float v : m_weights)
        if (std::isfinite(v)) m_lo = std::min(m_lo, v);
    m_shown = order;
    m_shown.push_back(m_query);
    std::sort(m_shown.begin(), m_shown.end());
    m_shown.erase(std::unique(m_shown.begin(), m_shown.end()), m_shown.end());
}

double AttentionLines::strength(float v) const {
    if (!std::isfinite(v)) return 0.0;
    if (m_probabilities) return m_hi > 0 ? std::clamp(double(v / m_hi), 0.0, 1.0) : 0.0;
    return m_hi > m_lo ? std::clamp(double((v - m_lo) / (m_hi - m_lo)), 0.0, 1.0) : 1.0;
}

QString AttentionLines::label(int pos) const {
    QString s = pos < m_labels.size() ? m_labels[pos] : QString();
    s.replace(QLatin1Char('\n'), QStringLiteral("↵"));
    return s;
}

AttentionLines::Geometry AttentionLines::geometryFor(const QRect& target) const {
    Geometry g;
    const QFontMetricsF fm(font());
    const double rows = std::max<size_t>(1, m_shown.size());
    g.rowH = std::max(kMinRowHeight, std::min(fm.height() + 6, (target.height() - 40) / rows));
    g.top = target.top() + 30;
    const double colW = std::min(kColumnWidth, target.width() / 3.0);
    g.left = QRectF(target.left() + 8, g.top, colW, rows * g.rowH);
    g.right = QRectF(target.right() - 8 - colW, g.top, colW, rows * g.rowH);
    return g;
}

void AttentionLines::paintEvent(QPaintEvent*) {
    QPainter p(this);
    paintTo(p, rect());
}

void AttentionLines::paintTo(QPainter& p, const QRect& target) const {
    p.save();
    p.fillRect(target, palette().color(QPalette::Window));
    p.setRenderHint(QPainter::Antialiasing);
    const QColor text = palette().color(QPalette::WindowText);
    if (m_query < 0) {
        p.setPen(palette().color(QPalette::PlaceholderText));
        p.drawText(target, Qt::AlignCenter, tr("Select a query token"));
        p.restore();
        return;
    }
    const Geometry g = geometryFor(target);
    const QFontMetricsF fm(font());
    p.setPen(text);
    p.drawText(QRectF(g.left.left(), target.top() + 4, g.left.width(), 22), Qt::AlignLeft | Qt::AlignVCenter,
               tr("query"));
    p.drawText(QRectF(g.right.left(), target.top() + 4, g.right.width(), 22), Qt::AlignRight | Qt::AlignVCenter,
               tr("keys (top %1)").arg(m_topN));
    const QColor line = ProbabilityPalette::forWeight(0.85, m_dark);
    const auto rowOf = [&](int pos) { return int(std::lower_bound(m_shown.begin(), m_shown.end(), pos) - m_shown.begin()); };
    const double qy = g.top + (rowOf(m_query) + 0.5) * g.rowH;
    for (auto it = m_linked.rbegin(); it != m_linked.rend(); ++it) {
        const double s = strength(m_weights[size_t(*it)]);
        QColor c = line;
        c.setAlphaF(float(0.08 + 0.92 * s));
        p.setPen(QPen(c, 0.5 + 5.5 * s, Qt::SolidLine, Qt::RoundCap));
        const double ky = g.top + (rowOf(*it) + 0.5) * g.rowH;
        p.drawLine(QPointF(g.left.right() + 4, qy), QPointF(g.right.left() - 4, ky));
    }
    QFont bold = font();
    bold.setBold(true);
    for (size_t i = 0; i < m_shown.size(); ++i) {
        const int pos = m_shown[i];
        const double y = g.top + double(i) * g.rowH;
        if (i > 0 && m_shown[i - 1] + 1 != pos) {
            p.setPen(palette().color(QPalette::Mid));
            p.drawLine(QPointF(g.left.left(), y), QPointF(g.left.right(), y));
            p.drawLine(QPointF(g.right.left(), y), QPointF(g.right.right(), y));
        }
        p.setPen(text);
        p.setFont(pos == m_query ? bold : font());
        const QString name = QStringLiteral("%1  %2").arg(pos).arg(label(pos));
        p.drawText(QRectF(g.left.left(), y, g.left.width(), g.rowH), Qt::AlignRight | Qt::AlignVCenter,
                   fm.elidedText(name, Qt::ElideRight, g.left.width()));
        p.setFont(font());
        QString right = name;
        if (pos <= m_query) {
            const float v = m_weights[size_t(pos)];
            right += m_probabilities ? QStringLiteral("  %1%").arg(double(v) * 100.0, 0, 'f', 1)
                                     : QStringLiteral("  %1").arg(double(v), 0, 'f', 2);
        }
        p.drawText(QRectF(g.right.left(), y, g.right.width(), g.rowH), Qt::AlignLeft | Qt::AlignVCenter,
                   fm.elidedText(right, Qt::ElideRight, g.right.width()));
    }
    p.restore();
}

int AttentionLines::positionAt(const QPoint& pt) const {
    if (m_query < 0) return -1;
    const Geometry g = geometryFor(rect());
    if (!g.left.contains(pt) && !g.right.contains(pt)) return -1;
    const int row = int((pt.y() - g.top) / g.rowH);
    return row >= 0 && row < int(m_shown.size()) ? m_shown[size_t(row)] : -1;
}

void AttentionLines::mouseMoveEvent(QMouseEvent* event) {
    const int pos = positionAt(event->position().toPoint());
    if (pos < 0 || pos > m_query) {
        QToolTip::hideText();
        return;
    }
    const float v = m_weights[size_t(pos)];
    QToolTip::showText(event->globalPosition().toPoint(),
                       tr("%1 → %2 “%3”: %4").arg(m_query).arg(pos).arg(label(pos)).arg(double(v), 0, 'g', 7), this);
}

void AttentionLines::mouseReleaseEvent(QMouseEvent* event) {
    const int pos = positionAt(event->position().toPoint());
    if (event->button() == Qt::LeftButton && pos >= 0) emit positionClicked(pos);
}

}  // namespace glassbox::viz
