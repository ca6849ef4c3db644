// QuantLabPanel: the quantization lab. For the loaded model it measures what
// each GGUF quantization type would do to every weight matrix
// (engine::analyzeQuantError, against the model's own weights dequantized to
// F32 or a chosen higher-precision reference model), and shows a table of
// tensors with RMSE / max |error| / SNR / cosine / bits per weight for the
// selected type, a layer × kind heatmap of the selected metric, histograms
// of the selected tensor's weights and error, and its largest errors. It
// also writes the model re-quantized to one type (engine::requantizeModel).
//
// Invariants: the UI thread never waits. One job (reference load, analysis
// or re-quantization) runs at a time on the panel's pool, with progress
// queued back to the UI thread and Cancel through a std::stop_source; a
// generation id makes the results of a superseded or cancelled job stale.
// A cancelled or failed analysis leaves no report. Histograms are computed
// on the same pool, off the UI thread.
#pragma once

#include <QThreadPool>
#include <QWidget>
#include <memory>
#include <optional>
#include <stop_token>
#include <vector>

#include "engine/quant_error.h"

class QComboBox;
class QCustomPlot;
class QLabel;
class QListWidget;
class QProgressBar;
class QPushButton;
class QTableWidget;

namespace glassbox::engine {
class Model;
}
namespace glassbox::viz {
class QuantHeatmapView;
}

namespace glassbox::ui {

class QuantLabPanel : public QWidget {
    Q_OBJECT
public:
    // Columns of the tensor table (values in Qt::UserRole are the exact doubles).
    enum Column { ColTensor, ColLayer, ColKind, ColUsed, ColRmse, ColMaxAbs, ColSnr, ColCosine, ColBpw, ColCount };
    // What runs on the worker, if anything.
    enum class Job { None, Reference, Analysis, Requantize };
    static constexpr int kHistogramBins = 64;

    explicit QuantLabPanel(QWidget* parent = nullptr);
    ~QuantLabPanel() override;

    // The model to analyse (null clears). Cancels any job and drops the report.
    void setModel(std::shared_ptr<const engine::Model> model);
    // Loads a higher-precision reference model on the worker (empty path:
    // none, the model's own weights dequantized). Errors show in the status.
    void loadReference(const QString& path);
    std::shared_ptr<const engine::Model> referenceModel() const { return m_reference; }
    // "reference: …" as shown.
    QString referenceText() const;

    // The types to analyse (checked in the list), in quantLabTypes() order.
    std::vector<engine::TensorType> checkedTypes() const;
    void setCheckedTypes(const std::vector<engine::TensorType>& types);
    // Restricts the analysis to these tensor names (empty: every weight matrix).
    void setTensorFilter(std::vector<std::string> names) { m_tensorFilter = std::move(names); }
    // Starts an analysis of the checked types. False (and nothing starts)
    // without a model, with no type checked, or while another job runs.
    bool analyse();
    // Writes the model re-quantized to `type` at `path` on the worker. False
    // when it cannot start (no model, busy).
    bool saveRequantized(const QString& path, engine::TensorType type);
    // Requests the running job to stop; the panel turns idle when it has.
    void cancel();

    bool isBusy() const { return m_job != Job::None; }
    Job job() const { return m_job; }
    bool hasReport() const { return m_report.has_value(); }
    // Valid only when hasReport().
    const engine::QuantErrorReport& report() const { return *m_report; }
    // Outcome of the last job: empty on success, else the error ("Cancelled: …").
    QString lastError() const { return m_lastError; }
    QString statusText() const;
    // The type and metric shown by the table and heatmap.
    engine::TensorType selectedType() const;
    engine::QuantMetric selectedMetric() const;
    void selectType(engine::TensorType type);
    void selectMetric(engine::QuantMetric metric);
    // The heatmap as shown (cells[layer][column], NaN where not analysed).
    const engine::QuantHeatmap& heatmapShown() const;
    // Selects a tensor's row (table, histogram, outliers); false if absent.
    bool selectTensor(const QString& name);
    QString selectedTensor() const;
    // Histograms of the selected tensor and type, once computed.
    const std::optional<engine::TensorQuantHistograms>& histograms() const { return m_histograms; }
    bool histogramBusy() const { return m_histogramBusy; }

    QTableWidget* table() const { return m_table; }
    QTableWidget* outlierTable() const { return m_outliers; }
    viz::QuantHeatmapView* heatmap() const { return m_heatmap; }
    QCustomPlot* histogramPlot() const { return m_histPlot; }
    QProgressBar* progressBar() const { return m_progress; }
    QComboBox* typeBox() const { return m_typeBox; }
    QComboBox* metricBox() const { return m_metricBox; }
    QComboBox* requantTypeBox() const { return m_requantBox; }

    // PNG or SVG of the heatmap. Errors: no report, unsupported suffix, write failure.
    bool exportImage(const QString& path, QString* error);
    // CSV (one row per tensor and type) or JSON (the report). Errors: no
    // report, unsupported suffix, write failure.
    bool exportData(const QString& path, QString* error);

signals:
    // An analysis finished and its report is shown.
    void reportReady();
    // A job ended (finished, failed or cancelled).
    void jobFinished();
    // Histograms of the selected tensor arrived.
    void histogramsReady();

private:
    void buildUi();
    QWidget* buildControls();
    QWidget* buildResults();
    std::stop_token beginJob(Job job, const QString& what);
    void endJob(uint64_t generation, const QString& error);
    void onProgress(uint64_t generation, float fraction, const QString& tensor);
    void applyReport(uint64_t generation, engine::QuantErrorReport report);
    void applyReference(uint64_t generation, std::shared_ptr<const engine::Model> model);
    void refreshResults();
    void fillTable();
    void fillHeatmap();
    void fillOutliers();
    void startHistograms();
    void applyHistograms(uint64_t generation, engine::TensorQuantHistograms h);
    void drawHistograms();
    void updateControls();
    void chooseReference();
    void chooseRequantizePath();
    QByteArray csvBytes() const;
    QByteArray jsonBytes() const;

    std::shared_ptr<const engine::Model> m_model;
    std::shared_ptr<const engine::Model> m_reference;
    std::shared_ptr<const engine::Model> m_reportReference;  // the reference the report was measured against
    std::optional<engine::QuantErrorReport> m_report;
    std::optional<engine::TensorQuantHistograms> m_histograms;
    std::vector<std::string> m_tensorFilter;
    Job m_job = Job::None;
    uint64_t m_generation = 0;
    uint64_t m_histGeneration = 0;
    bool m_histogramBusy = false;
    std::stop_source m_stop;
    std::stop_source m_histStop;
    QString m_lastError;
    QString m_status;
    QThreadPool m_pool;

    QLabel* m_referenceLabel = nullptr;
    QLabel* m_statusLabel = nullptr;
    QLabel* m_summary = nullptr;
    QListWidget* m_types = nullptr;
    QPushButton* m_analyse = nullptr;
    QPushButton* m_cancel = nullptr;
    QPushButton* m_referenceButton = nullptr;
    QPushButton* m_saveButton = nullptr;
    QProgressBar* m_progress = nullptr;
    QComboBox* m_typeBox = nullptr;
    QComboBox* m_metricBox = nullptr;
    QComboBox* m_requantBox = nullptr;
    QTableWidget* m_table = nullptr;
    QTableWidget* m_outliers = nullptr;
    viz::QuantHeatmapView* m_heatmap = nullptr;
    QCustomPlot* m_histPlot = nullptr;
};

}  // namespace glassbox::ui
