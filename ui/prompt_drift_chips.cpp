// The chip row of the "on your prompt" view: flow layout, painting, the KL
// legend and per-chip tooltips.
#include "ui/prompt_drift_chips.h"

#include <QHelpEvent>
#include <QPainter>
#include <QToolTip>
#include <algorithm>
#include <cmath>

namespace glassbox::ui {

namespace {

constexpr int kPadX = 5, kPadY = 3, kGap = 4, kMargin = 4;

}  // namespace

PromptDriftChips::PromptDriftChips(QWidget* parent) : QWidget(parent) {
    setObjectName(QStringLiteral("promptDriftChips"));
    setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Preferred);
    setMouseTracking(true);
}

void PromptDriftChips::setChips(std::vector<Chip> chips, double scaleMax) {
    m_chips = std::move(chips);
    m_scaleMax = scaleMax > 0 && std::isfinite(scaleMax) ? scaleMax : 1.0;
    relayout();
    updateGeometry();
    update();
}

int PromptDriftChips::flipCount() const {
    return int(std::count_if(m_chips.begin(), m_chips.end(), [](const Chip& c) { return c.flip; }));
}

QColor PromptDriftChips::colorFor(double kld, double scaleMax) {
    double t = scaleMax > 0 && std::isfinite(kld) ? kld / scaleMax : 0.0;
    t = std::clamp(t, 0.0, 1.0);
    const int gb = int(std::lround(255.0 * (1.0 - t)));
    return QColor(255, gb, gb);
}

std::vector<QRect> PromptDriftChips::layoutFor(int width, int* height) const {
    const QFontMetrics fm(font());
    const int rowH = fm.height() + 2 * kPadY;
    std::vector<QRect> rects;
    rects.reserve(m_chips.size());
    int x = kMargin, y = kLegendHeight + kMargin;
    for (const Chip& c : m_chips) {
        const int w = std::max(fm.horizontalAdvance(c.text), 6) + 2 * kPadX;
        if (x > kMargin && x + w > width - kMargin) {
            x = kMargin;
            y += rowH + kGap;
        }
        rects.emplace_back(x, y, w, rowH);
        x += w + kGap;
    }
    if (height) *height = (m_chips.empty() ? y : y + rowH) + kMargin;
    return rects;
}

void PromptDriftChips::relayout() {
    int h = 0;
    m_rects = layoutFor(width(), &h);
    if (minimumHeight() != h) setMinimumHeight(h);
}

int PromptDriftChips::heightForWidth(int width) const {
    int h = 0;
    layoutFor(width, &h);
    return h;
}

QSize PromptDriftChips::sizeHint() const { return QSize(400, heightForWidth(400)); }

void PromptDriftChips::resizeEvent(QResizeEvent* e) {
    QWidget::resizeEvent(e);
    relayout();
}

void PromptDriftChips::paintLegend(QPainter& p) const {
    const QFontMetrics fm(font());
    const QString left = QStringLiteral("KL (nats)  0");
    const QString right = QString::number(m_scaleMax, 'g', 3);
    const int barW = 160, barH = 12, y = (kLegendHeight - barH) / 2;
    int x = kMargin;
    p.setPen(palette().color(QPalette::WindowText));
    p.drawText(QRect(x, 0, fm.horizontalAdvance(left), kLegendHeight), Qt::AlignVCenter, left);
    x += fm.horizontalAdvance(left) + 6;
    QLinearGradient g(x, 0, x + barW, 0);
    g.setColorAt(0, colorFor(0, 1));
    g.setColorAt(1, colorFor(1, 1));
    p.fillRect(QRect(x, y, barW, barH), g);
    p.setPen(palette().color(QPalette::Mid));
    p.drawRect(QRect(x, y, barW, barH));
    x += barW + 6;
    p.setPen(palette().color(QPalette::WindowText));
    const QString tail = right + QStringLiteral("   red border: top-1 token differs");
    p.drawText(QRect(x, 0, fm.horizontalAdvance(tail) + 4, kLegendHeight), Qt::AlignVCenter, tail);
}

void PromptDriftChips::paintEvent(QPaintEvent*) {
    QPainter p(this);
    p.setRenderHint(QPainter::Antialiasing);
    paintLegend(p);
    for (size_t i = 0; i < m_chips.size() && i < m_rects.size(); ++i) {
        const Chip& c = m_chips[i];
        const QRectF r = QRectF(m_rects[i]).adjusted(1, 1, -1, -1);
        p.setBrush(colorFor(c.kld, m_scaleMax));
        p.setPen(c.flip ? QPen(QColor(200, 0, 0), 2.5) : QPen(QColor(160, 160, 160), 1));
        p.drawRoundedRect(r, 4, 4);
        p.setPen(Qt::black);  // chips are light whatever the theme
        p.drawText(r, Qt::AlignCenter, c.text);
    }
}

bool PromptDriftChips::event(QEvent* e) {
    if (e->type() == QEvent::ToolTip) {
        auto* help = static_cast<QHelpEvent*>(e);
        for (size_t i = 0; i < m_rects.size(); ++i)
            if (m_rects[i].contains(help->pos())) {
                QToolTip::showText(help->globalPos(), m_chips[i].toolTip, this, m_rects[i]);
                return true;
            }
        QToolTip::hideText();
        e->ignore();
        return true;
    }
    return QWidget::event(e);
}

}  // namespace glassbox::ui
