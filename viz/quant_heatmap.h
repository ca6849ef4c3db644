// QuantHeatmapView: a painted grid of one quantization-error metric for one
// type, layers down and weight kinds (q k v o gate up down) across, taken
// from engine::quantErrorHeatmap. Colours run from dark (small error) to
// bright (large error) over the finite values shown, whichever way the
// metric points (SNR and cosine: higher is better). Cells that were not
// analysed (NaN) are drawn light grey. The same painting serves exports.
#pragma once

#include <QWidget>

#include "engine/quant_error.h"

namespace glassbox::viz {

class QuantHeatmapView : public QWidget {
    Q_OBJECT
public:
    explicit QuantHeatmapView(QWidget* parent = nullptr);

    // Shows `heatmap`; an empty one (no layers) clears the view.
    void setHeatmap(engine::QuantHeatmap heatmap);
    void clear();
    const engine::QuantHeatmap& heatmap() const { return m_heatmap; }
    bool isEmpty() const { return m_heatmap.cells.empty(); }
    int layers() const { return int(m_heatmap.cells.size()); }
    int columns() const { return int(m_heatmap.columns.size()); }
    // The value drawn at (layer, column); NaN outside the grid or not analysed.
    double value(int layer, int column) const;
    // The cell under a widget position as (layer, column), or (-1, -1).
    QPoint cellAt(const QPoint& pos) const;
    // Paints the whole view (labels and colour scale) into `size` pixels.
    void render(QPainter& painter, const QSize& size) const;

    QSize sizeHint() const override { return {420, 520}; }

signals:
    // The user clicked a cell.
    void cellClicked(int layer, int column);

protected:
    void paintEvent(QPaintEvent* event) override;
    void mousePressEvent(QMouseEvent* event) override;

private:
    QRect gridRect(const QSize& size) const;
    QColor colorFor(double v) const;

    engine::QuantHeatmap m_heatmap;
    double m_min = 0.0;
    double m_max = 0.0;
};

}  // namespace glassbox::viz
