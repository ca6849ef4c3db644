// LogitLensPanel: what the model would predict if it stopped after each
// layer. A grid of layers × positions (viz::LensGrid: top token per cell,
// coloured by its probability, top-k on hover) and, for the selected
// position, a chart of the final prediction's probability and rank at
// every layer.
//
// The panel only displays. The lens needs the session's output head, so
// its owner computes it on the engine thread for a window of positions and
// hands it over with setLens(); the panel asks for the window the user
// scrolls to with lensWindowRequested() and shows progress with a cancel
// button while the owner computes (setComputing). A new capture makes the
// lens shown stale: it stays on screen until its replacement arrives.
#pragma once

#include <QStringList>
#include <QWidget>
#include <functional>
#include <memory>
#include <vector>

#include "engine/capture.h"
#include "engine/logit_lens.h"

class QCustomPlot;
class QLabel;
class QProgressBar;
class QPushButton;
class QTimer;

namespace glassbox::viz {
class LensGrid;
}

namespace glassbox::ui {

class LogitLensPanel : public QWidget {
    Q_OBJECT
public:
    explicit LogitLensPanel(QWidget* parent = nullptr);

    // The run whose positions the grid spans (null clears everything).
    void setCapture(std::shared_ptr<const engine::Capture> capture, const QStringList& tokenLabels);
    // A computed lens for [lens.firstPos, lens.firstPos + lens.nPos);
    // tokenText names token ids.
    void setLens(const engine::LogitLens& lens, const QStringList& tokenLabels,
                 std::function<QString(int32_t)> tokenText);
    // Follows the playground's selected token. Does not emit positionSelected.
    void setSelectedPosition(int position);
    int selectedPosition() const { return m_position; }
    // Shows or hides the progress bar and the cancel button; fraction in [0, 1].
    void setComputing(bool computing, float fraction = 0);
    bool isComputing() const { return m_computing; }
    // Whether the lens shown belongs to the current capture.
    bool isStale() const { return m_stale; }

    viz::LensGrid* grid() const { return m_grid; }
    QCustomPlot* chart() const { return m_chart; }
    QProgressBar* progressBar() const { return m_progress; }
    QPushButton* cancelButton() const { return m_cancel; }
    // Chart series for the selected position, one value per point (empty
    // when the lens does not cover it): probability and 1-based rank of the
    // final prediction.
    const std::vector<double>& chartProbabilities() const { return m_chartProb; }
    const std::vector<double>& chartRanks() const { return m_chartRank; }

    // PNG or SVG of the grid over the lens's positions (at most 400
    // columns). Errors: no lens, unsupported suffix, write failure.
    bool exportImage(const QString& path, QString* error);
    // CSV or JSON: top-k per point and position with the final prediction's
    // rank and probability; NPY: that probability as a float32
    // [points, positions] array. Errors: no lens, unsupported suffix, write failure.
    bool exportData(const QString& path, QString* error);

signals:
    // The user clicked a position in the grid.
    void positionSelected(int position);
    // The visible positions are not covered by the lens shown.
    void lensWindowRequested(int firstPos, int nPos);
    void cancelRequested();

private:
    void buildUi();
    void buildChart();
    void updateChart();
    void updateSummary();
    void requestVisibleWindow();
    QStringList columnLabels(const QStringList& labels) const;
    QByteArray dataCsv() const;
    QByteArray dataJson() const;

    std::shared_ptr<const engine::Capture> m_capture;
    QStringList m_labels;
    int m_position = -1;
    bool m_computing = false;
    bool m_stale = false;
    std::pair<int, int> m_lastRequest{-1, -1};
    std::vector<double> m_chartProb, m_chartRank;

    QLabel* m_summary = nullptr;
    viz::LensGrid* m_grid = nullptr;
    QCustomPlot* m_chart = nullptr;
    QWidget* m_progressRow = nullptr;
    QProgressBar* m_progress = nullptr;
    QPushButton* m_cancel = nullptr;
    QTimer* m_requestTimer = nullptr;
};

}  // namespace glassbox::ui
