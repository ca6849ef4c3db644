// HeadStatsChart: one per-head statistic across the whole model as a
// layers × heads heatmap (x = layer, y = head), e.g. the mean attention
// entropy or the mean attention to the first token ("sink"). The current
// layer and head are framed; clicking a cell selects that layer and head.
#pragma once

#include <QString>
#include <qcustomplot.h>
#include <vector>

namespace glassbox::viz {

class HeadStatsChart : public QCustomPlot {
    Q_OBJECT
public:
    explicit HeadStatsChart(QWidget* parent = nullptr);

    // values[layer * heads + head]; `unit` names the value in tooltips.
    void setValues(const QString& title, const QString& unit, int layers, int heads, std::vector<double> values);
    void clearValues();
    // Frame a cell; head < 0 frames the whole layer column.
    void setCurrent(int layer, int head);
    void setDark(bool dark);

    int layers() const { return m_layers; }
    int heads() const { return m_heads; }
    double valueAt(int layer, int head) const;
    const QString& title() const { return m_title; }

signals:
    void cellClicked(int layer, int head);

private:
    void styleAxes();
    void placeMarker();
    bool cellUnder(const QPointF& pos, int& layer, int& head) const;
    void onMove(QMouseEvent* event);
    void onClick(QMouseEvent* event);

    QCPColorMap* m_map = nullptr;
    QCPColorScale* m_scale = nullptr;
    QCPItemRect* m_marker = nullptr;
    QCPLayer* m_markerLayer = nullptr;
    QCPTextElement* m_titleElement = nullptr;
    QString m_title, m_unit;
    int m_layers = 0, m_heads = 0;
    int m_layer = -1, m_head = -1;
    std::vector<double> m_values;
    bool m_dark = false;
};

}  // namespace glassbox::viz
