// AttentionLines: where one query token looks, as lines. Two columns list
// the same tokens; a line runs from the selected query (left) to each key
// (right), its opacity and width growing with the weight. Long contexts
// show only the query and its top-N keys, in position order, with a gap
// mark where positions were skipped. Clicking a token makes it the query.
#pragma once

#include <QStringList>
#include <QWidget>
#include <vector>

namespace glassbox::viz {

class AttentionLines : public QWidget {
    Q_OBJECT
public:
    explicit AttentionLines(QWidget* parent = nullptr);

    // One attention row: weights[k] for keys 0..query (extra values ignored).
    // probabilities=false: raw scores, ranked and scaled over their range.
    void setRow(int query, std::vector<float> weights, bool probabilities, bool dark);
    void setLabels(const QStringList& labels);
    void clear();

    // How many of the strongest keys to draw (2..200).
    void setTopN(int n);
    int topN() const { return m_topN; }
    int query() const { return m_query; }
    // Positions listed in the columns, ascending (keys plus the query).
    const std::vector<int>& shownPositions() const { return m_shown; }
    // Keys a line is drawn to, strongest first.
    const std::vector<int>& linkedKeys() const { return m_linked; }

    // Paint into `target` as on screen (image and SVG export).
    void paintTo(QPainter& painter, const QRect& target) const;

    QSize sizeHint() const override { return {520, 640}; }

signals:
    void positionClicked(int pos);

protected:
    void paintEvent(QPaintEvent* event) override;
    void mouseMoveEvent(QMouseEvent* event) override;
    void mouseReleaseEvent(QMouseEvent* event) override;

private:
    struct Geometry {
        double rowH = 0, top = 0;
        QRectF left, right;  // the two token columns
    };
    Geometry geometryFor(const QRect& target) const;
    void choose();
    double strength(float v) const;  // 0..1 relative to the row's strongest key
    QString label(int pos) const;
    int positionAt(const QPoint& p) const;

    int m_query = -1;
    std::vector<float> m_weights;
    bool m_probabilities = true;
    bool m_dark = false;
    QStringList m_labels;
    int m_topN = 20;
    std::vector<int> m_shown;
    std::vector<int> m_linked;
    float m_lo = 0, m_hi = 1;
};

}  // namespace glassbox::viz
