// ShapesPanel: tensor shapes per layer. Shows one layer of one recorded
// forward pass as a flow of blocks with the real shape on every edge (see
// viz::ShapeFlow), a pass selector (each prefill micro-batch and each decode
// step is a pass; selecting a token picks the pass that computed it) and a
// layer selector labelled with the layer's weight types. Selecting a block
// shows the weight it read and the activation statistics at that point for
// the selected token, with a histogram of the residual stream after the
// layer.
//
// Everything shown comes from the Capture: shapes from its recorded passes
// (so they change as the prompt grows), statistics from its activation
// records. The work per update is bounded by one pass's op list and one
// residual vector, so it runs on the UI thread.
#pragma once

#include <QStringList>
#include <QWidget>
#include <memory>
#include <optional>
#include <vector>

#include "engine/capture.h"

class QComboBox;
class QCustomPlot;
class QLabel;
class QSpinBox;
class QTableWidget;

namespace glassbox::viz {
class ShapeFlow;
}

namespace glassbox::ui {

class ShapesPanel : public QWidget {
    Q_OBJECT
public:
    explicit ShapesPanel(QWidget* parent = nullptr);

    // The capture to show (null clears) and a display label per position.
    void setCapture(std::shared_ptr<const engine::Capture> capture, const QStringList& tokenLabels);
    // Follows the playground's selected token; picks the pass that computed
    // it. Does not emit positionSelected.
    void setSelectedPosition(int position);
    int selectedPosition() const { return m_position; }

    void setLayer(int layer);
    int layer() const { return m_layer; }
    // Index into Capture::passes(); moves the selected token into the pass.
    void setPassIndex(int index);
    int passIndex() const { return m_pass; }
    int passCount() const;
    // "prefill tokens 0–255", "decode token 40".
    static QString passLabel(const engine::ExecutedPass& pass);
    QString passLabel(int index) const;
    // The newest pass whose tokens include `position` (-1: none).
    static int passForPosition(const std::vector<engine::ExecutedPass>& passes, int position);

    // Selects the block of `op` in the flow (as a click would) and shows its details.
    void selectOp(engine::OpKind op);
    std::optional<engine::OpKind> selectedOp() const;
    // The statistics shown for the selected block, if any.
    std::optional<engine::ActivationStats> shownStats() const { return m_shownStats; }
    QString statsText() const;
    QString layerLabel(int layer) const;
    // Histogram bin counts of the residual stream shown (empty when none).
    const std::vector<int>& histogramCounts() const { return m_histCounts; }

    viz::ShapeFlow* flow() const { return m_flow; }
    QTableWidget* weightsTable() const { return m_weights; }
    QCustomPlot* histogram() const { return m_histogram; }

    // PNG or SVG of the flow. Errors: nothing shown, unsupported suffix, write failure.
    bool exportImage(const QString& path, QString* error);
    // CSV or JSON of the selected pass's ops (every layer) and the weights
    // they read. Errors: nothing shown, .npy (the data is a table, not an
    // array), unsupported suffix, write failure.
    bool exportData(const QString& path, QString* error);

signals:
    // The user picked a token (token box or pass selector).
    void positionSelected(int position);

private:
    void buildUi();
    QWidget* buildDetails();
    void rebuildPasses();
    void rebuildLayers();
    void rebuildFlow();
    void showDetails();
    void showWeight(const engine::OpRecord* record);
    void showStats(int layer, engine::OpKind op);
    void showHistogram(int layer);
    void updateTokenLabel();
    void userPickedPosition(int position);
    void userPickedPass(int index);
    QByteArray dataCsv() const;
    QByteArray dataJson() const;

    std::shared_ptr<const engine::Capture> m_capture;
    QStringList m_labels;
    int m_position = -1;
    int m_pass = -1;
    int m_layer = 0;
    std::optional<engine::OpKind> m_op = engine::OpKind::QProj;
    std::optional<engine::ActivationStats> m_shownStats;
    QString m_statsSource;
    std::vector<int> m_histCounts;
    bool m_updating = false;

    QComboBox* m_passBox = nullptr;
    QComboBox* m_layerBox = nullptr;
    QSpinBox* m_tokenBox = nullptr;
    QLabel* m_tokenText = nullptr;
    QLabel* m_summary = nullptr;
    viz::ShapeFlow* m_flow = nullptr;
    QLabel* m_blockTitle = nullptr;
    QTableWidget* m_weights = nullptr;
    QLabel* m_stats = nullptr;
    QCustomPlot* m_histogram = nullptr;
};

}  // namespace glassbox::ui
