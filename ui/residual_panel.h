// ResidualPanel: the residual stream of a run. A heatmap of its L2 norm
// per layer (rows; the embedding first) and token (columns), a chart of the
// norm after each layer for the selected token against the mean over
// tokens, and a table of outlier dimensions — those that most often rank
// among a token's largest |values| — with their largest |value| and the
// layers where they stand out.
//
// The summary is computed on a worker thread (it reads every recorded
// vector when statistics are missing, and scales with layers × tokens); a
// newer capture cancels and supersedes an older computation.
#pragma once

#include <QStringList>
#include <QThreadPool>
#include <QWidget>
#include <memory>
#include <stop_token>
#include <vector>

#include "engine/capture.h"
#include "viz/residual_summary.h"

class QCheckBox;
class QCustomPlot;
class QLabel;
class QTableWidget;

namespace glassbox::viz {
class ResidualHeatmap;
}

namespace glassbox::ui {

class ResidualPanel : public QWidget {
    Q_OBJECT
public:
    // Outlier dimensions listed.
    static constexpr int kOutliers = 24;

    explicit ResidualPanel(QWidget* parent = nullptr);
    ~ResidualPanel() override;

    // The capture to show (null clears) and a display label per position.
    void setCapture(std::shared_ptr<const engine::Capture> capture, const QStringList& tokenLabels);
    // Follows the playground's selected token. Does not emit positionSelected.
    void setSelectedPosition(int position);
    int selectedPosition() const { return m_position; }

    // True while a summary is being computed.
    bool isBusy() const { return m_busy; }
    const viz::ResidualSummary& summary() const { return m_summary; }
    // Milliseconds the last summary took on the worker thread.
    double lastSummaryMs() const { return m_lastMs; }
    // Norms after each point for the selected token, as charted.
    const std::vector<double>& chartNorms() const { return m_chartNorms; }

    viz::ResidualHeatmap* heatmap() const { return m_heatmap; }
    QCustomPlot* chart() const { return m_chart; }
    QTableWidget* outlierTable() const { return m_outliers; }
    QCheckBox* logScaleBox() const { return m_log; }

    // PNG or SVG of the heatmap. Errors: nothing shown, unsupported suffix, write failure.
    bool exportImage(const QString& path, QString* error);
    // CSV or JSON of the norms (with tokens) and the outlier dimensions; NPY:
    // the norms as a float32 [points, positions] array. Errors: nothing
    // shown, unsupported suffix, write failure.
    bool exportData(const QString& path, QString* error);

signals:
    // The user clicked a token's column.
    void positionSelected(int position);
    // A summary arrived and is shown.
    void summaryReady();

private:
    void buildUi();
    void startSummary();
    void applySummary(uint64_t generation, viz::ResidualSummary summary, double ms);
    void updateChart();
    void fillOutliers();
    void updateStatus();
    QByteArray dataCsv() const;
    QByteArray dataJson() const;

    std::shared_ptr<const engine::Capture> m_capture;
    QStringList m_labels;
    int m_position = -1;
    viz::ResidualSummary m_summary;
    std::vector<double> m_chartNorms;
    uint64_t m_generation = 0;
    bool m_busy = false;
    double m_lastMs = 0;
    std::stop_source m_stop;
    QThreadPool m_pool;

    QLabel* m_status = nullptr;
    QCheckBox* m_log = nullptr;
    viz::ResidualHeatmap* m_heatmap = nullptr;
    QCustomPlot* m_chart = nullptr;
    QTableWidget* m_outliers = nullptr;
};

}  // namespace glassbox::ui
