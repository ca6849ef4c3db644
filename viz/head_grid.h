// HeadGrid: every query head of one layer as a small attention thumbnail,
// so patterns (diagonal, sink, previous token, broad) can be compared at a
// glance. Heads that share a KV head (grouped-query attention) sit in one
// framed group labelled with that KV head. Clicking a thumbnail selects
// its head. Thumbnails arrive one by one as their maps are computed.
#pragma once

#include <QImage>
#include <QWidget>
#include <vector>

namespace glassbox::viz {

class HeadGrid : public QWidget {
    Q_OBJECT
public:
    explicit HeadGrid(QWidget* parent = nullptr);

    // Lay out heads for `layer`; kvOf[h] is the KV head query head h reads.
    // Clears the thumbnails.
    void setHeads(int layer, std::vector<int> kvOf);
    void setThumbnail(int head, const QImage& image);
    void clear();
    int layer() const { return m_layer; }
    int headCount() const { return int(m_kvOf.size()); }
    int thumbnailCount() const;
    bool hasThumbnail(int head) const;

    void setSelectedHead(int head);  // -1: none (mean / max shown)
    int selectedHead() const { return m_selected; }
    // Where a head's thumbnail is, and which head is at a point (-1: none).
    QRect thumbnailRect(int head) const;
    int headAt(const QPoint& pos) const;

    // Paint into `target` as on screen (image and SVG export).
    void paintTo(QPainter& painter, const QRect& target) const;

    QSize sizeHint() const override { return {560, 480}; }

signals:
    void headSelected(int head);

protected:
    void paintEvent(QPaintEvent* event) override;
    void mouseReleaseEvent(QMouseEvent* event) override;

private:
    struct Group {
        int kv = 0;
        std::vector<int> heads;
        QRect frame;
    };
    struct Layout {
        std::vector<Group> groups;
        std::vector<QRect> cells;  // per head
    };
    Layout layoutFor(const QRect& target) const;
    bool tryLayout(const QRect& target, int side, Layout& out) const;

    int m_layer = -1;
    std::vector<int> m_kvOf;
    std::vector<QImage> m_thumbs;
    int m_selected = -1;
};

}  // namespace glassbox::viz
