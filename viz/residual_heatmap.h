// ResidualHeatmap: the L2 norm of the residual stream as a heatmap, one
// row per point (the embedding at the top, then after every layer) and one
// column per token, with a colour scale (linear or logarithmic: a few
// tokens, typically the first, carry norms far above the rest). Clicking a
// column selects that token; dragging and the wheel pan and zoom along the
// tokens; hovering names the cell.
#pragma once

#include <QStringList>
#include <qcustomplot.h>
#include <vector>

namespace glassbox::viz {

class ResidualHeatmap : public QCustomPlot {
    Q_OBJECT
public:
    explicit ResidualHeatmap(QWidget* parent = nullptr);

    // values: [point * nPositions + pos]; NaN cells are left blank.
    void setValues(int nPoints, int nPositions, const std::vector<float>& values, const QStringList& tokenLabels);
    void clearValues();
    void setLogScale(bool on);
    bool logScale() const { return m_log; }
    // -1 clears. Does not emit columnSelected.
    void setSelectedColumn(int position);
    int selectedColumn() const { return m_selected; }

    int rowCount() const { return m_points; }
    int columnCount() const { return m_positions; }
    // The value drawn in a cell (NaN outside or when blank).
    double value(int point, int position) const;
    QString tooltipFor(int point, int position) const;
    // Cell under a widget position ({-1, -1} outside) and a cell's centre.
    std::pair<int, int> cellAt(const QPoint& pos) const;
    QPoint cellCenter(int point, int position) const;

signals:
    void columnSelected(int position);

protected:
    void mousePressEvent(QMouseEvent* event) override;
    void mouseReleaseEvent(QMouseEvent* event) override;
    bool event(QEvent* event) override;

private:
    void updateAxes();
    void updateSelection();

    QCPColorMap* m_map = nullptr;
    QCPColorScale* m_scale = nullptr;
    QCPItemRect* m_marker = nullptr;
    QStringList m_labels;
    int m_points = 0;
    int m_positions = 0;
    int m_selected = -1;
    bool m_log = true;
    QPoint m_pressAt;
};

}  // namespace glassbox::viz
