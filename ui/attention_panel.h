// AttentionPanel: the attention of one captured run. A layer and head (or
// the mean / max over a layer's heads) is shown as a query × key heatmap,
// as lines from the selected query token to its strongest keys, or as a
// grid of every head of the layer grouped by shared KV head; probabilities
// or pre-softmax scores, linear or log. Under it, per-head entropy and
// "sink" (attention to the first token) across all layers. Maps are
// computed and rendered off the UI thread (AttentionMaps); the panel only
// swaps finished images in, and measures how long each switch took.
#pragma once

#include <QElapsedTimer>
#include <QStringList>
#include <QWidget>
#include <memory>

#include "engine/capture.h"
#include "ui/attention_maps.h"

class QCheckBox;
class QComboBox;
class QLabel;
class QSpinBox;
class QStackedWidget;
class QToolButton;

namespace glassbox::viz {
class AttentionHeatmap;
class AttentionLines;
class HeadGrid;
class HeadStatsChart;
}  // namespace glassbox::viz

namespace glassbox::ui {

class AttentionPanel : public QWidget {
    Q_OBJECT
public:
    enum class View { Map = 0, Lines = 1, Heads = 2 };

    explicit AttentionPanel(QWidget* parent = nullptr);

    // Show a new run's capture (null clears). tokenLabels[i] = display text of token i.
    void setCapture(std::shared_ptr<const engine::Capture> capture, const QStringList& tokenLabels);
    std::shared_ptr<const engine::Capture> capture() const { return m_maps->capture(); }
    // Follows the playground's selected token (the query row); -1 = none.
    void setSelectedPosition(int pos);
    int selectedPosition() const { return m_position; }
    void setLayer(int layer);
    void setHead(int head);  // >= 0, or kMeanOverHeads (-1) / kMaxOverHeads (-2)
    int layer() const { return m_key.layer; }
    int head() const { return m_key.head; }
    void setProbabilities(bool probabilities);  // false: scores before the softmax
    bool probabilities() const { return m_key.probabilities; }
    void setLogScale(bool log);
    bool logScale() const { return m_log; }
    void setView(View view);
    View view() const;

    // .png or .svg by suffix: the current view as on screen.
    // Errors (false, *error set): nothing to export, unknown suffix, write failure.
    bool exportImage(const QString& path, QString* error);
    // .csv, .json or .npy by suffix: the current map. Errors as exportImage.
    bool exportData(const QString& path, QString* error);

    // Time from the last setLayer / setHead (or other change) to the new map
    // painted, in milliseconds; and whether a map is still on its way.
    double lastRedrawMs() const { return m_lastRedrawMs; }
    bool redrawPending() const { return m_pending; }
    // "head 5 reads KV head 1 (with heads 3–5)".
    QString gqaText() const;
    QString statusText() const;

    viz::AttentionHeatmap* heatmap() const { return m_heatmap; }
    viz::AttentionLines* lines() const { return m_lines; }
    viz::HeadGrid* headGrid() const { return m_grid; }
    viz::HeadStatsChart* entropyChart() const { return m_entropy; }
    viz::HeadStatsChart* sinkChart() const { return m_sink; }
    AttentionMaps* maps() const { return m_maps; }

signals:
    void positionSelected(int pos);
    void mapUpdated();  // a new map is on screen

protected:
    void changeEvent(QEvent* event) override;

private:
    QWidget* buildControls();
    QWidget* buildCharts();
    void connectViews();
    void fillHeadChoices();
    void fillSummaries();
    void requestMap();
    void prefetch();
    void onFrame(const AttentionKey& key, const viz::AttentionFrame& frame);
    void updateLines();
    void updateInfo();
    void chooseExport(bool image);
    void selectPosition(int pos);
    bool dark() const;
    int nHeads() const;
    int queryRow() const;

    AttentionMaps* m_maps = nullptr;
    QStringList m_labels;
    AttentionKey m_key{0, 0, true};
    bool m_log = false;
    int m_position = -1;
    int m_gridLayer = -1;        // layer (and mode) the head grid shows
    bool m_gridProbabilities = true;
    bool m_gridLog = false;
    QElapsedTimer m_clock;
    double m_lastRedrawMs = 0;
    bool m_pending = false;
    QString m_status;

    QSpinBox* m_layerBox = nullptr;
    QComboBox* m_headBox = nullptr;
    QComboBox* m_valuesBox = nullptr;
    QCheckBox* m_logBox = nullptr;
    QToolButton* m_viewButtons[3] = {};
    QLabel* m_info = nullptr;
    QLabel* m_statusLabel = nullptr;
    QStackedWidget* m_stack = nullptr;
    viz::AttentionHeatmap* m_heatmap = nullptr;
    viz::AttentionLines* m_lines = nullptr;
    viz::HeadGrid* m_grid = nullptr;
    viz::HeadStatsChart* m_entropy = nullptr;
    viz::HeadStatsChart* m_sink = nullptr;
};

}  // namespace glassbox::ui
