// AttentionHeatmap: one attention matrix as a query × key heatmap (rows =
// query positions, columns = key positions) with token labels on both axes
// when there is room for them, position ticks when there is not, and the
// colour scale underneath. The matrix arrives as a rendered AttentionFrame,
// so a repaint only scales a cached image: cheap even at 1,024 × 1,024.
// Wheel (with or without Ctrl) zooms around the cursor, dragging pans,
// hovering names the exact weight and clicking selects a query row.
#pragma once

#include <QStringList>
#include <QWidget>

#include "viz/attention_render.h"

namespace glassbox::viz {

class AttentionHeatmap : public QWidget {
    Q_OBJECT
public:
    explicit AttentionHeatmap(QWidget* parent = nullptr);

    // Show a matrix. The zoom and pan are kept when the size is unchanged.
    void setFrame(AttentionFrame frame);
    const AttentionFrame& frame() const { return m_frame; }
    void clear();
    // Display text of each position (shorter lists leave positions unnamed).
    void setLabels(const QStringList& labels);
    const QStringList& labels() const { return m_labels; }

    // Re-render the current matrix on a log or linear scale (synchronous).
    void setLogScale(bool log);
    bool logScale() const { return m_frame.scale.log; }

    void setSelectedRow(int row);
    int selectedRow() const { return m_selected; }

    // The value at (query row, key column); NaN outside the matrix.
    float value(int row, int col) const;
    // "query 12 “cat” → key 3 “the”: 0.1234567" (empty outside the matrix).
    QString cellText(int row, int col) const;
    // The cell under a widget point, (-1, -1) when none. x = key, y = query.
    QPoint cellAt(const QPoint& pos) const;
    // The widget rectangle a cell occupies (empty when not visible).
    QRectF cellRect(int row, int col) const;

    // Cells visible across the plot (n when the whole matrix shows).
    double visibleCells() const { return m_view.width(); }
    QRectF viewRect() const { return m_view; }
    // Zoom by `factor` (> 1 zooms in) around a widget point.
    void zoomBy(double factor, const QPointF& anchor);
    void resetView();

    // Paint the current view, labels and scale into `target` as on screen
    // (image and SVG export).
    void paintTo(QPainter& painter, const QRect& target) const;

    QSize sizeHint() const override { return {640, 640}; }
    QSize minimumSizeHint() const override { return {200, 200}; }

signals:
    void rowSelected(int row);
    // The cell under the mouse and its text; row -1 when the mouse left.
    void cellHovered(int row, int col, const QString& text);

protected:
    void paintEvent(QPaintEvent* event) override;
    void wheelEvent(QWheelEvent* event) override;
    void mousePressEvent(QMouseEvent* event) override;
    void mouseMoveEvent(QMouseEvent* event) override;
    void mouseReleaseEvent(QMouseEvent* event) override;
    void leaveEvent(QEvent* event) override;

private:
    struct Layout {
        QRectF plot;       // the matrix
        double cell = 0;   // pixels per cell
        bool labels = false;
        QRectF leftAxis, topAxis;
        QRectF bar;        // colour scale
    };
    Layout layoutFor(const QRectF& target) const;
    void paintMatrix(QPainter& p, const Layout& l) const;
    void paintAxes(QPainter& p, const Layout& l) const;
    void paintLeftAxis(QPainter& p, const Layout& l, int first, int last, int step) const;
    void paintTopAxis(QPainter& p, const Layout& l, int first, int last, int step) const;
    void paintScale(QPainter& p, const Layout& l) const;
    void paintMarks(QPainter& p, const Layout& l) const;
    QString label(int pos) const;
    bool dark() const;
    void clampView();

    AttentionFrame m_frame;
    QStringList m_labels;
    int m_selected = -1;
    QRectF m_view;          // visible cells (x = key, y = query), always square
    QPoint m_hover{-1, -1};
    QPoint m_pressPos;
    QRectF m_pressView;
    bool m_pressed = false;
    bool m_dragged = false;
};

}  // namespace glassbox::viz
