// TokenView: incremental flow layout and painting of token chips.
#include "viz/token_view.h"

#include <QKeyEvent>
#include <QMouseEvent>
#include <QPainter>
#include <QPaintEvent>
#include <QScrollBar>
#include <QToolTip>
#include <algorithm>
#include <cmath>

namespace glassbox::viz {
namespace {

constexpr double kPadX = 1.5;
constexpr double kPadY = 2.0;
constexpr double kLineGap = 3.0;
constexpr int kMargin = 6;

bool isDark(const QWidget* w) { return w->palette().color(QPalette::Base).lightness() < 128; }

}  // namespace

TokenView::TokenView(QWidget* parent) : QAbstractScrollArea(parent) {
    setMouseTracking(true);
    viewport()->setMouseTracking(true);
    setFocusPolicy(Qt::StrongFocus);
    setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    setVerticalScrollBarPolicy(Qt::ScrollBarAsNeeded);
    setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Preferred);
}

void TokenView::setCells(std::vector<TokenCell> cells) {
    m_cells = std::move(cells);
    m_selected = -1;
    m_hovered = -1;
    relayout();
    contentChanged(false);
    verticalScrollBar()->setValue(0);
}

void TokenView::appendCells(const std::vector<TokenCell>& cells) {
    if (cells.empty()) return;
    const QScrollBar* bar = verticalScrollBar();
    const bool atEnd = bar->value() >= bar->maximum() - 4;
    const size_t first = m_cells.size();
    m_cells.insert(m_cells.end(), cells.begin(), cells.end());
    if (m_layoutWidth < 0) return contentChanged(atEnd);
    layoutFrom(first);
    // Repaint only the new chips (scrolling moves the pixels already drawn).
    contentChanged(atEnd, false);
    QRectF dirty;
    for (size_t i = first; i < m_rects.size(); ++i) dirty |= m_rects[i];
    viewport()->update(dirty.translated(0, -verticalScrollBar()->value()).toAlignedRect().adjusted(-3, -3, 3, 3));
}

void TokenView::appendToLast(const QString& text) {
    if (m_cells.empty() || text.isEmpty()) return;
    m_cells.back().text += text;
    relayout();
    contentChanged(true);
}

void TokenView::clear() { setCells({}); }

void TokenView::setColorMode(ColorMode mode) {
    if (m_mode == mode) return;
    m_mode = mode;
    viewport()->update();
}

void TokenView::setSelectedIndex(int index) {
    if (index < -1 || index >= count()) index = -1;
    if (m_selected == index) return;
    m_selected = index;
    if (index >= 0 && size_t(index) < m_rects.size()) {
        const QRectF r = m_rects[size_t(index)];
        QScrollBar* bar = verticalScrollBar();
        if (r.top() < bar->value()) bar->setValue(int(r.top()) - kMargin);
        else if (r.bottom() > bar->value() + viewport()->height())
            bar->setValue(int(r.bottom()) - viewport()->height() + kMargin);
    }
    viewport()->update();
}

int TokenView::contentHeight() const {
    if (m_rects.empty()) return QFontMetrics(font()).height() + 2 * kMargin;
    return int(std::ceil(m_rects.back().bottom())) + kMargin;
}

void TokenView::setMaximumContentHeight(int pixels) {
    m_maxContentHeight = pixels;
    updateGeometry();
}

void TokenView::setPlaceholder(const QString& text) {
    m_placeholder = text;
    viewport()->update();
}

QRect TokenView::cellRect(int index) const {
    if (index < 0 || size_t(index) >= m_rects.size()) return {};
    return m_rects[size_t(index)].translated(0, -verticalScrollBar()->value()).toAlignedRect();
}

int TokenView::indexAt(const QPoint& viewportPos) const {
    const QPointF p(viewportPos.x(), viewportPos.y() + verticalScrollBar()->value());
    // Rects are ordered by line; find the first whose line could hold p.
    auto it = std::lower_bound(m_rects.begin(), m_rects.end(), p.y(),
                               [](const QRectF& r, double y) { return r.bottom() < y; });
    for (; it != m_rects.end() && it->top() <= p.y(); ++it) {
        if (it->contains(p)) return int(it - m_rects.begin());
    }
    return -1;
}

QString TokenView::tooltipFor(int index) const {
    if (index < 0 || index >= count()) return {};
    const TokenCell& c = m_cells[size_t(index)];
    QString shown = displayText(c.text).toHtmlEscaped();
    QString tip = QStringLiteral("<b>%1</b> &nbsp;id %2 &nbsp;(#%3)").arg(shown).arg(c.id).arg(index);
    if (c.probability >= 0)
        tip += QStringLiteral("<br>probability %1%").arg(c.probability * 100.0, 0, 'f', 2);
    const QString detail = m_detail ? m_detail(index) : c.detail;
    if (!detail.isEmpty()) tip += QStringLiteral("<br>") + detail;
    return tip;
}

QSize TokenView::sizeHint() const {
    const int h = std::min(contentHeight() + 2 * frameWidth(), m_maxContentHeight);
    return {400, std::max(h, minimumSizeHint().height())};
}

QSize TokenView::minimumSizeHint() const {
    return {120, QFontMetrics(font()).height() + 2 * kMargin + 2 * frameWidth()};
}

QString TokenView::displayText(const QString& text) {
    if (text.isEmpty()) return QStringLiteral("\u2205");
    QString s = text;
    s.replace(QLatin1Char('\n'), QChar(0x21B5));
    s.replace(QLatin1Char('\t'), QChar(0x2192));
    s.replace(QLatin1Char('\r'), QChar(0x240D));
    return s;
}

void TokenView::relayout() {
    m_rects.clear();
    m_shown.clear();
    m_cursorX = kMargin;
    m_cursorY = kMargin;
    m_layoutWidth = viewport()->width();
    layoutFrom(0);
}

void TokenView::layoutFrom(size_t first) {
    const QFontMetricsF fm(font());
    const double lineH = fm.height() + 2 * kPadY;
    const double right = std::max(60, m_layoutWidth - kMargin);
    m_rects.reserve(m_cells.size());
    m_shown.reserve(m_cells.size());
    for (size_t i = first; i < m_cells.size(); ++i) {
        QStaticText shown(displayText(m_cells[i].text));
        shown.setTextFormat(Qt::PlainText);
        shown.setPerformanceHint(QStaticText::AggressiveCaching);
        shown.prepare(QTransform(), font());
        const double w = shown.size().width() + 2 * kPadX;
        if (m_cursorX > kMargin && m_cursorX + w > right) {
            m_cursorX = kMargin;
            m_cursorY += lineH + kLineGap;
        }
        m_rects.emplace_back(m_cursorX, m_cursorY, w, lineH);
        m_shown.push_back(std::move(shown));
        m_cursorX += w;
        if (m_cells[i].text.contains(QLatin1Char('\n'))) {
            m_cursorX = kMargin;
            m_cursorY += lineH + kLineGap;
        }
    }
}

void TokenView::contentChanged(bool followEnd, bool repaint) {
    QScrollBar* bar = verticalScrollBar();
    bar->setPageStep(viewport()->height());
    bar->setSingleStep(QFontMetrics(font()).height());
    bar->setRange(0, std::max(0, contentHeight() - viewport()->height()));
    if (followEnd) bar->setValue(bar->maximum());
    const int hint = std::min(contentHeight(), m_maxContentHeight);
    if (hint != m_lastHintHeight) {
        m_lastHintHeight = hint;
        updateGeometry();
    }
    if (repaint) viewport()->update();
}

QColor TokenView::backgroundFor(size_t index, bool dark) const {
    const TokenCell& c = m_cells[index];
    if (c.probability < 0) {
        static const QColor light[2] = {QColor(0xdb, 0xe9, 0xf6), QColor(0xf6, 0xe3, 0xc9)};
        static const QColor darkTints[2] = {QColor(0x2c, 0x42, 0x5a), QColor(0x55, 0x43, 0x2a)};
        return dark ? darkTints[index % 2] : light[index % 2];
    }
    return m_mode == ColorMode::Probability ? ProbabilityPalette::forProbability(c.probability, dark)
                                            : ProbabilityPalette::forEntropy(c.entropy, dark);
}

void TokenView::paintEvent(QPaintEvent* event) {
    QPainter p(viewport());
    p.setRenderHint(QPainter::Antialiasing);
    const bool dark = isDark(this);
    if (m_cells.empty()) {
        p.setPen(palette().color(QPalette::PlaceholderText));
        p.drawText(viewport()->rect().adjusted(kMargin, kMargin, -kMargin, -kMargin),
                   Qt::AlignLeft | Qt::AlignTop | Qt::TextWordWrap, m_placeholder);
        return;
    }
    const int dy = verticalScrollBar()->value();
    const QRectF visible = QRectF(event->rect()).translated(0, dy);
    auto it = std::lower_bound(m_rects.begin(), m_rects.end(), visible.top(),
                               [](const QRectF& r, double y) { return r.bottom() < y; });
    const QColor accent = palette().color(QPalette::Highlight);
    for (; it != m_rects.end() && it->top() <= visible.bottom(); ++it) {
        const size_t i = size_t(it - m_rects.begin());
        const TokenCell& c = m_cells[i];
        const QRectF r = it->translated(0, -dy);
        const QColor bg = backgroundFor(i, dark);
        p.setOpacity(c.muted ? 0.45 : 1.0);
        p.setPen(Qt::NoPen);
        p.setBrush(bg);
        p.drawRoundedRect(r.adjusted(0.5, 0.5, -0.5, -0.5), 3, 3);
        p.setPen(ProbabilityPalette::textOn(bg));
        const QSizeF textSize = m_shown[i].size();
        p.drawStaticText(QPointF(r.left() + (r.width() - textSize.width()) / 2,
                                 r.top() + (r.height() - textSize.height()) / 2),
                         m_shown[i]);
        p.setOpacity(1.0);
        if (c.marked) {
            p.setPen(QPen(accent, 2.5));
            p.drawLine(r.bottomLeft() + QPointF(1, -1), r.bottomRight() + QPointF(-1, -1));
        }
        if (int(i) == m_selected || int(i) == m_hovered) {
            QColor ring = int(i) == m_selected ? accent : palette().color(QPalette::Text);
            if (int(i) != m_selected) ring.setAlphaF(0.45f);
            p.setPen(QPen(ring, int(i) == m_selected ? 2.0 : 1.0));
            p.setBrush(Qt::NoBrush);
            p.drawRoundedRect(r.adjusted(0.5, 0.5, -0.5, -0.5), 3, 3);
        }
    }
}

void TokenView::resizeEvent(QResizeEvent* event) {
    QAbstractScrollArea::resizeEvent(event);
    if (viewport()->width() != m_layoutWidth) {
        relayout();
        contentChanged(false);
    } else {
        contentChanged(false);
    }
}

void TokenView::selectAndNotify(int index) {
    if (index < 0 || index >= count()) return;
    setSelectedIndex(index);
    emit tokenSelected(index);
}

void TokenView::mousePressEvent(QMouseEvent* event) {
    const int index = indexAt(event->position().toPoint());
    if (index >= 0) selectAndNotify(index);
    QAbstractScrollArea::mousePressEvent(event);
}

void TokenView::mouseMoveEvent(QMouseEvent* event) {
    const int index = indexAt(event->position().toPoint());
    if (index != m_hovered) {
        m_hovered = index;
        viewport()->update();
        if (index >= 0) emit tokenHovered(index);
    }
    QAbstractScrollArea::mouseMoveEvent(event);
}

void TokenView::leaveEvent(QEvent* event) {
    m_hovered = -1;
    viewport()->update();
    QAbstractScrollArea::leaveEvent(event);
}

void TokenView::keyPressEvent(QKeyEvent* event) {
    if (m_cells.empty()) return QAbstractScrollArea::keyPressEvent(event);
    int next = m_selected;
    switch (event->key()) {
        case Qt::Key_Left: next = std::max(0, m_selected - 1); break;
        case Qt::Key_Right: next = std::min(count() - 1, m_selected + 1); break;
        case Qt::Key_Home: next = 0; break;
        case Qt::Key_End: next = count() - 1; break;
        default: return QAbstractScrollArea::keyPressEvent(event);
    }
    selectAndNotify(next);
}

bool TokenView::viewportEvent(QEvent* event) {
    if (event->type() == QEvent::ToolTip) {
        auto* help = static_cast<QHelpEvent*>(event);
        const int index = indexAt(help->pos());
        if (index >= 0) QToolTip::showText(help->globalPos(), tooltipFor(index), viewport(), cellRect(index));
        else QToolTip::hideText();
        return true;
    }
    return QAbstractScrollArea::viewportEvent(event);
}

void TokenView::scrollContentsBy(int dx, int dy) { viewport()->scroll(dx, dy); }

void TokenView::changeEvent(QEvent* event) {
    QAbstractScrollArea::changeEvent(event);
    if (event->type() == QEvent::FontChange) {
        relayout();
        contentChanged(false);
    } else if (event->type() == QEvent::PaletteChange) {
        viewport()->update();
    }
}

}  // namespace glassbox::viz
