// LensGrid: scrolling, sticky row/column headers and painting of the
// visible cells of the logit lens.
#include "viz/lens_grid.h"

#include <QHelpEvent>
#include <QKeyEvent>
#include <QMouseEvent>
#include <QPainter>
#include <QScrollBar>
#include <QToolTip>
#include <algorithm>
#include <cmath>

#include "viz/probability_palette.h"

namespace glassbox::viz {
namespace {

constexpr int kRowHeader = 78;
constexpr int kColHeader = 28;
constexpr int kCellW = 74;
constexpr int kCellH = 21;

QString percent(float p) {
    const double v = double(p) * 100.0;
    return QStringLiteral("%1%").arg(v, 0, 'f', v < 0.1 ? 3 : v < 10 ? 2 : 1);
}

}  // namespace

LensGrid::LensGrid(QWidget* parent) : QAbstractScrollArea(parent) {
    setMouseTracking(true);
    viewport()->setMouseTracking(true);
    setFocusPolicy(Qt::StrongFocus);
    setHorizontalScrollBarPolicy(Qt::ScrollBarAsNeeded);
    setVerticalScrollBarPolicy(Qt::ScrollBarAsNeeded);
    setMinimumHeight(120);
}

void LensGrid::setColumns(const QStringList& labels, int nPoints) {
    m_labels = labels;
    m_points = std::max(0, nPoints);
    if (m_selected >= columnCount()) m_selected = -1;
    updateScrollBars();
    viewport()->update();
    notifyVisible();
}

void LensGrid::setLens(const engine::LogitLens& lens, TokenText tokenText) {
    m_lens = lens;
    m_hasLens = true;
    m_points = lens.nPoints;
    m_tokenText = std::move(tokenText);
    m_textCache.clear();
    updateScrollBars();
    viewport()->update();
}

void LensGrid::clear() {
    m_lens = {};
    m_hasLens = false;
    m_textCache.clear();
    viewport()->update();
}

bool LensGrid::covers(int position) const {
    return m_hasLens && position >= m_lens.firstPos && position < m_lens.firstPos + m_lens.nPos;
}

void LensGrid::setSelectedColumn(int position) {
    if (position < -1 || position >= columnCount()) position = -1;
    m_selected = position;
    if (position >= 0) scrollToColumn(position);
    viewport()->update();
}

void LensGrid::scrollToColumn(int position) {
    QScrollBar* bar = horizontalScrollBar();
    const int left = position * kCellW, right = left + kCellW;
    const int width = viewport()->width() - kRowHeader;
    if (left < bar->value()) bar->setValue(left);
    else if (right > bar->value() + width) bar->setValue(right - width);
}

std::pair<int, int> LensGrid::visibleColumns() const {
    if (m_labels.isEmpty()) return {0, 0};
    const int first = std::clamp(horizontalScrollBar()->value() / kCellW, 0, columnCount() - 1);
    const int width = std::max(kCellW, viewport()->width() - kRowHeader);
    const int lastPixel = horizontalScrollBar()->value() + width - 1;
    const int last = std::clamp(lastPixel / kCellW, first, columnCount() - 1);
    return {first, last - first + 1};
}

QString LensGrid::tokenText(int32_t id) const {
    auto it = m_textCache.constFind(id);
    if (it != m_textCache.constEnd()) return *it;
    const QString text = m_tokenText ? m_tokenText(id) : QString::number(id);
    m_textCache.insert(id, text);
    return text;
}

QString LensGrid::shown(const QString& text) {
    if (text.isEmpty()) return QStringLiteral("\u2205");
    QString s = text;
    s.replace(QLatin1Char('\n'), QChar(0x21B5));
    s.replace(QLatin1Char('\t'), QChar(0x2192));
    s.replace(QLatin1Char(' '), QChar(0x2423));
    return s;
}

QString LensGrid::cellText(int point, int position) const {
    if (!covers(position) || point < 0 || point >= m_lens.nPoints) return {};
    const engine::LensCell& c = m_lens.cell(point, position);
    return c.topIds.empty() ? QString() : tokenText(c.topIds.front());
}

QColor LensGrid::cellColor(int point, int position) const {
    if (!covers(position) || point < 0 || point >= m_lens.nPoints) return palette().color(QPalette::Base);
    const engine::LensCell& c = m_lens.cell(point, position);
    return ProbabilityPalette::forProbability(c.topProbs.empty() ? 0.0 : double(c.topProbs.front()), dark());
}

QString LensGrid::rowName(int point) { return point == 0 ? tr("embedding") : tr("layer %1").arg(point - 1); }

QString LensGrid::tooltipFor(int point, int position) const {
    if (!covers(position) || point < 0 || point >= m_lens.nPoints) return {};
    const engine::LensCell& c = m_lens.cell(point, position);
    const QString label = position < m_labels.size() ? m_labels[position] : QString();
    QString tip = tr("<b>%1</b> · position %2 “%3”").arg(rowName(point)).arg(position).arg(shown(label).toHtmlEscaped());
    for (size_t k = 0; k < c.topIds.size(); ++k)
        tip += QStringLiteral("<br>%1. “%2” %3")
                   .arg(k + 1)
                   .arg(shown(tokenText(c.topIds[k])).toHtmlEscaped())
                   .arg(percent(c.topProbs[k]));
    const int32_t target = m_lens.target[size_t(position - m_lens.firstPos)];
    if (target >= 0)
        tip += tr("<br>final prediction “%1”: rank %2, %3")
                   .arg(shown(tokenText(target)).toHtmlEscaped())
                   .arg(c.targetRank + 1)
                   .arg(percent(c.targetProb));
    return tip;
}

QRect LensGrid::cellRect(int point, int position) const {
    if (point < 0 || point >= rowCount() || position < 0 || position >= columnCount()) return {};
    return QRect(kRowHeader + position * kCellW - horizontalScrollBar()->value(),
                 kColHeader + point * kCellH - verticalScrollBar()->value(), kCellW, kCellH);
}

std::pair<int, int> LensGrid::cellAt(const QPoint& pos) const {
    if (pos.x() < kRowHeader || pos.y() < kColHeader) return {-1, -1};
    const int column = (pos.x() - kRowHeader + horizontalScrollBar()->value()) / kCellW;
    const int row = (pos.y() - kColHeader + verticalScrollBar()->value()) / kCellH;
    if (column >= columnCount() || row >= rowCount()) return {-1, -1};
    return {row, column};
}

bool LensGrid::dark() const { return palette().color(QPalette::Base).lightness() < 128; }

void LensGrid::updateScrollBars() {
    QScrollBar* h = horizontalScrollBar();
    const int width = std::max(0, viewport()->width() - kRowHeader);
    h->setRange(0, std::max(0, columnCount() * kCellW - width));
    h->setPageStep(width);
    h->setSingleStep(kCellW);
    QScrollBar* v = verticalScrollBar();
    const int height = std::max(0, viewport()->height() - kColHeader);
    v->setRange(0, std::max(0, rowCount() * kCellH - height));
    v->setPageStep(height);
    v->setSingleStep(kCellH);
}

void LensGrid::notifyVisible() {
    const auto visible = visibleColumns();
    if (visible == m_lastVisible) return;
    m_lastVisible = visible;
    emit visibleColumnsChanged(visible.first, visible.second);
}

void LensGrid::paintCells(QPainter& p, int first, int last, int x0, int y0) const {
    const QFontMetrics fm(font());
    QFont bold = font();
    bold.setBold(true);
    QColor uncovered = palette().color(QPalette::Text);
    uncovered.setAlphaF(0.06f);
    for (int pos = first; pos <= last; ++pos) {
        const int x = x0 + (pos - first) * kCellW;
        const bool covered = covers(pos);
        if (!covered) {
            p.fillRect(QRect(x, y0, kCellW, rowCount() * kCellH), QBrush(uncovered, Qt::BDiagPattern));
            continue;
        }
        const int32_t target = m_lens.target[size_t(pos - m_lens.firstPos)];
        for (int point = 0; point < rowCount(); ++point) {
            const QRect r(x, y0 + point * kCellH, kCellW, kCellH);
            const engine::LensCell& c = m_lens.cell(point, pos);
            const QColor bg = cellColor(point, pos);
            p.fillRect(r.adjusted(0, 0, -1, -1), bg);
            if (c.topIds.empty()) continue;
            // Bold where the point already agrees with the final prediction.
            const bool agrees = c.topIds.front() == target;
            p.setFont(agrees ? bold : font());
            p.setPen(ProbabilityPalette::textOn(bg));
            const QString text = fm.elidedText(shown(tokenText(c.topIds.front())), Qt::ElideRight, kCellW - 6);
            p.drawText(r.adjusted(3, 0, -3, 0), Qt::AlignVCenter | Qt::AlignLeft, text);
        }
    }
    p.setFont(font());
    if (m_selected >= first && m_selected <= last) {
        p.setPen(QPen(palette().color(QPalette::Highlight), 2));
        p.setBrush(Qt::NoBrush);
        p.drawRect(QRect(x0 + (m_selected - first) * kCellW, y0, kCellW, rowCount() * kCellH).adjusted(1, 1, -1, -1));
    }
}

void LensGrid::paintHeaders(QPainter& p, int first, int last, int x0, int width, int height, int yScroll) const {
    const QColor header = palette().color(QPalette::Window);
    const QColor text = palette().color(QPalette::Text);
    const QFontMetrics fm(font());
    // Column headers: position and token.
    p.fillRect(QRect(0, 0, width, kColHeader), header);
    for (int pos = first; pos <= last; ++pos) {
        const QRect r(x0 + (pos - first) * kCellW, 0, kCellW, kColHeader);
        QFont f = font();
        f.setBold(pos == m_selected);
        p.setFont(f);
        p.setPen(text);
        const QString label = pos < m_labels.size() ? shown(m_labels[pos]) : QString();
        p.drawText(r.adjusted(3, 0, -3, 0), Qt::AlignVCenter | Qt::AlignLeft,
                   fm.elidedText(QStringLiteral("%1 %2").arg(pos).arg(label), Qt::ElideRight, kCellW - 6));
    }
    p.setFont(font());
    // Row headers, then the corner over them.
    const int y0 = kColHeader - yScroll;
    p.fillRect(QRect(0, 0, kRowHeader, height), header);
    p.setPen(text);
    for (int point = 0; point < rowCount(); ++point)
        p.drawText(QRect(4, y0 + point * kCellH, kRowHeader - 8, kCellH), Qt::AlignVCenter | Qt::AlignRight,
                   rowName(point));
    p.fillRect(QRect(0, 0, kRowHeader, kColHeader), header);
    p.drawText(QRect(4, 0, kRowHeader - 8, kColHeader), Qt::AlignVCenter | Qt::AlignLeft, tr("position"));
}

void LensGrid::paintEvent(QPaintEvent*) {
    QPainter p(viewport());
    p.fillRect(viewport()->rect(), palette().color(QPalette::Base));
    if (columnCount() == 0 || rowCount() == 0) {
        p.setPen(palette().color(QPalette::PlaceholderText));
        p.drawText(viewport()->rect().adjusted(8, 8, -8, -8), Qt::AlignLeft | Qt::AlignTop | Qt::TextWordWrap,
                   tr("Run a prompt with capture on to see what the model would predict after every layer."));
        return;
    }
    const auto [first, count] = visibleColumns();
    const int last = std::min(columnCount() - 1, first + count);
    const int x0 = kRowHeader + first * kCellW - horizontalScrollBar()->value();
    p.save();
    p.setClipRect(QRect(kRowHeader, kColHeader, viewport()->width(), viewport()->height()));
    paintCells(p, first, last, x0, kColHeader - verticalScrollBar()->value());
    p.restore();
    paintHeaders(p, first, last, x0, viewport()->width(), viewport()->height(), verticalScrollBar()->value());
}

QSize LensGrid::exportSize(int first, int last) const {
    return {kRowHeader + (last - first + 1) * kCellW, kColHeader + rowCount() * kCellH};
}

void LensGrid::paintColumns(QPainter& p, int first, int last) const {
    const QSize size = exportSize(first, last);
    p.fillRect(QRect(QPoint(0, 0), size), palette().color(QPalette::Base));
    paintCells(p, first, last, kRowHeader, kColHeader);
    paintHeaders(p, first, last, kRowHeader, size.width(), size.height(), 0);
}

void LensGrid::resizeEvent(QResizeEvent* event) {
    QAbstractScrollArea::resizeEvent(event);
    updateScrollBars();
    notifyVisible();
}

void LensGrid::scrollContentsBy(int, int) {
    viewport()->update();
    notifyVisible();
}

void LensGrid::mousePressEvent(QMouseEvent* event) {
    const auto [point, pos] = cellAt(event->position().toPoint());
    if (pos >= 0) {
        setSelectedColumn(pos);
        emit columnSelected(pos);
    }
    QAbstractScrollArea::mousePressEvent(event);
}

void LensGrid::keyPressEvent(QKeyEvent* event) {
    if (columnCount() == 0) return QAbstractScrollArea::keyPressEvent(event);
    int next = m_selected;
    switch (event->key()) {
        case Qt::Key_Left: next = std::max(0, m_selected - 1); break;
        case Qt::Key_Right: next = std::min(columnCount() - 1, m_selected + 1); break;
        case Qt::Key_Home: next = 0; break;
        case Qt::Key_End: next = columnCount() - 1; break;
        default: return QAbstractScrollArea::keyPressEvent(event);
    }
    setSelectedColumn(next);
    emit columnSelected(next);
}

bool LensGrid::viewportEvent(QEvent* event) {
    if (event->type() == QEvent::ToolTip) {
        auto* help = static_cast<QHelpEvent*>(event);
        const auto [point, pos] = cellAt(help->pos());
        const QString tip = tooltipFor(point, pos);
        if (!tip.isEmpty()) QToolTip::showText(help->globalPos(), tip, viewport(), cellRect(point, pos));
        else QToolTip::hideText();
        return true;
    }
    return QAbstractScrollArea::viewportEvent(event);
}

}  // namespace glassbox::viz
