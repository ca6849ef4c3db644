// HeadGrid: grouping heads by KV head, choosing the largest thumbnail size
// that fits every group, and painting frames, thumbnails and captions.
#include "viz/head_grid.h"

#include <QMouseEvent>
#include <QPainter>
#include <algorithm>
#include <cmath>
#include <map>

namespace glassbox::viz {
namespace {

constexpr int kGap = 6;
constexpr int kPad = 6;
constexpr int kMaxSide = 220;
constexpr int kMinSide = 16;

}  // namespace

HeadGrid::HeadGrid(QWidget* parent) : QWidget(parent) {
    setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Expanding);
}

void HeadGrid::setHeads(int layer, std::vector<int> kvOf) {
    m_layer = layer;
    m_kvOf = std::move(kvOf);
    m_thumbs.assign(m_kvOf.size(), QImage());
    if (m_selected >= headCount()) m_selected = -1;
    update();
}

void HeadGrid::setThumbnail(int head, const QImage& image) {
    if (head < 0 || head >= headCount()) return;
    m_thumbs[size_t(head)] = image;
    update(thumbnailRect(head).adjusted(-2, -2, 2, 2));
}

void HeadGrid::clear() { setHeads(-1, {}); }

int HeadGrid::thumbnailCount() const {
    return int(std::count_if(m_thumbs.begin(), m_thumbs.end(), [](const QImage& i) { return !i.isNull(); }));
}

bool HeadGrid::hasThumbnail(int head) const {
    return head >= 0 && head < headCount() && !m_thumbs[size_t(head)].isNull();
}

void HeadGrid::setSelectedHead(int head) {
    if (head >= headCount()) head = -1;
    if (head == m_selected) return;
    m_selected = head;
    update();
}

bool HeadGrid::tryLayout(const QRect& target, int side, Layout& out) const {
    const int caption = fontMetrics().height();
    out.cells.assign(m_kvOf.size(), QRect());
    int x = target.left(), y = target.top(), rowH = 0;
    for (Group& g : out.groups) {
        const int n = int(g.heads.size());
        const int cols = n <= 4 ? n : int(std::ceil(std::sqrt(double(n))));
        const int rows = (n + cols - 1) / cols;
        const int w = 2 * kPad + cols * side + (cols - 1) * kGap;
        const int h = caption + kPad + rows * (side + caption + 2) + (rows - 1) * kGap + kPad;
        if (w > target.width()) return false;
        if (x + w > target.right() + 1) {
            x = target.left();
            y += rowH + kGap;
            rowH = 0;
        }
        g.frame = QRect(x, y, w, h);
        for (int i = 0; i < n; ++i) {
            const int cx = x + kPad + (i % cols) * (side + kGap);
            const int cy = y + caption + kPad + (i / cols) * (side + caption + 2 + kGap);
            out.cells[size_t(g.heads[size_t(i)])] = QRect(cx, cy, side, side);
        }
        x += w + kGap;
        rowH = std::max(rowH, h);
    }
    return y + rowH <= target.bottom() + 1;
}

HeadGrid::Layout HeadGrid::layoutFor(const QRect& target) const {
    Layout l;
    std::map<int, std::vector<int>> byKv;
    for (int h = 0; h < headCount(); ++h) byKv[m_kvOf[size_t(h)]].push_back(h);
    for (auto& [kv, heads] : byKv) l.groups.push_back({kv, heads, {}});
    const QRect inner = target.adjusted(4, 4, -4, -4);
    for (int side = kMaxSide; side >= kMinSide; side -= side > 64 ? 8 : 2) {
        if (tryLayout(inner, side, l)) return l;
    }
    tryLayout(QRect(inner.topLeft(), QSize(std::max(inner.width(), 200), 1 << 20)), kMinSide, l);
    return l;
}

QRect HeadGrid::thumbnailRect(int head) const {
    if (head < 0 || head >= headCount()) return {};
    return layoutFor(rect()).cells[size_t(head)];
}

int HeadGrid::headAt(const QPoint& pos) const {
    const Layout l = layoutFor(rect());
    for (size_t h = 0; h < l.cells.size(); ++h)
        if (l.cells[h].adjusted(0, 0, 0, fontMetrics().height() + 2).contains(pos)) return int(h);
    return -1;
}

void HeadGrid::paintEvent(QPaintEvent*) {
    QPainter p(this);
    paintTo(p, rect());
}

void HeadGrid::paintTo(QPainter& p, const QRect& target) const {
    p.save();
    p.fillRect(target, palette().color(QPalette::Window));
    if (m_kvOf.empty()) {
        p.setPen(palette().color(QPalette::PlaceholderText));
        p.drawText(target, Qt::AlignCenter, tr("No attention captured"));
        p.restore();
        return;
    }
    const Layout l = layoutFor(target);
    const int caption = fontMetrics().height();
    const bool grouped = l.groups.size() < m_kvOf.size();
    for (const Group& g : l.groups) {
        p.setPen(QPen(palette().color(QPalette::Mid), 1));
        p.setBrush(palette().color(QPalette::AlternateBase));
        p.drawRoundedRect(g.frame.adjusted(0, 0, -1, -1), 4, 4);
        p.setPen(palette().color(QPalette::WindowText));
        const QString title = grouped ? tr("KV head %1").arg(g.kv) : tr("head %1 (own KV)").arg(g.heads.front());
        p.drawText(QRect(g.frame.left() + kPad, g.frame.top() + 2, g.frame.width() - 2 * kPad, caption),
                   Qt::AlignLeft | Qt::AlignVCenter, title);
    }
    for (int h = 0; h < headCount(); ++h) {
        const QRect r = l.cells[size_t(h)];
        const QImage& img = m_thumbs[size_t(h)];
        if (img.isNull())
            p.fillRect(r, palette().color(QPalette::Base));
        else
            p.drawImage(r, img);
        p.setPen(palette().color(QPalette::WindowText));
        p.drawText(QRect(r.left(), r.bottom() + 1, r.width(), caption + 1), Qt::AlignCenter, tr("head %1").arg(h));
        if (h == m_selected) {
            p.setPen(QPen(palette().color(QPalette::Highlight), 3));
            p.setBrush(Qt::NoBrush);
            p.drawRect(r.adjusted(-2, -2, 1, 1));
        }
    }
    p.restore();
}

void HeadGrid::mouseReleaseEvent(QMouseEvent* event) {
    if (event->button() != Qt::LeftButton) return;
    const int head = headAt(event->position().toPoint());
    if (head < 0) return;
    setSelectedHead(head);
    emit headSelected(head);
}

}  // namespace glassbox::viz
