// BudgetPanel: the memory budget planner. "Will this model fit, and at what
// context?" for the loaded model or any file opened in the panel (a GGUF, a
// safetensors checkpoint file or folder, or a bare config.json with an
// assumed weight type), answered from metadata by engine::planMemory.
//
// Controls: weight type (as in the file, or a what-if type estimated from
// the shapes), KV type, context (log slider + spin), sequences,
// micro-batch, threads, safety margin and the budget (system RAM, or a
// common GPU). Shown: the weight table, the plan table, a stacked chart of
// weights / KV cache / scratch against the context with the budget line and
// the largest context that fits, MHA vs GQA vs MQA for the same model, and
// the KV formula with the model's numbers.
//
// Files are read on the panel's worker thread; a newer request supersedes
// an older one (generation id). A file that cannot be planned shows its
// typed engine error and leaves the previous plan in place. Replanning after
// a control changes is synchronous: it is arithmetic on the footprint.
#pragma once

#include <QString>
#include <QThreadPool>
#include <QWidget>
#include <memory>
#include <optional>

#include "engine/memory_plan.h"
#include "viz/budget_chart.h"

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QPlainTextEdit;
class QPushButton;
class QSlider;
class QSpinBox;
class QTableWidget;
class QToolButton;

namespace glassbox::engine {
class Model;
}

namespace glassbox::ui {

class BudgetPanel : public QWidget {
    Q_OBJECT
public:
    // Where the footprint came from.
    enum class Source { None, LoadedModel, File };

    explicit BudgetPanel(QWidget* parent = nullptr);
    ~BudgetPanel() override;

    // Plans for the loaded model (null forgets it; the panel clears unless it
    // is showing a file). Switches the panel to the model.
    void setModel(std::shared_ptr<const engine::Model> model);
    // Reads a GGUF, a .safetensors file or checkpoint folder, or a config.json
    // on the worker thread, then plans for it. A shard of a sharded
    // checkpoint (or its model.safetensors.index.json) plans the whole folder.
    void planFile(const QString& path);
    // Back to the loaded model after planning a file (no-op without one).
    void useLoadedModel();

    Source source() const { return m_source; }
    // The file or model path being planned ("" for none).
    QString sourcePath() const { return m_sourcePath; }
    // True while a file is being read.
    bool isBusy() const { return m_busy; }
    // Milliseconds the last replan (plan, chart series and views) took.
    double lastReplanMs() const { return m_lastReplanMs; }

    // The options the controls describe (budget in bytes, 0 when unknown).
    engine::PlanOptions planOptions() const;
    // The footprint planned (with the weight type chosen in the panel).
    const engine::ModelFootprint& footprint() const { return m_footprint; }
    bool hasPlan() const { return m_plan.has_value(); }
    // The current plan; only valid while hasPlan().
    const engine::MemoryPlan& plan() const { return *m_plan; }
    // The chart's series (bytes per context, all sequences).
    const viz::BudgetSeries& chartSeries() const { return m_chart->series(); }
    // "Fits: yes …  Largest context …  Most sequences …" as shown.
    QString fitsText() const;
    // The error shown, or "" when none.
    QString errorText() const;
    // The formula text as shown.
    QString formulaText() const;
    // The largest context on the context controls.
    int contextLimit() const;

    QComboBox* weightTypeBox() const { return m_weightType; }
    QComboBox* kvTypeBox() const { return m_kvType; }
    QSlider* contextSlider() const { return m_contextSlider; }
    QSpinBox* contextSpin() const { return m_contextSpin; }
    QCheckBox* fullRangeBox() const { return m_fullRange; }
    QSpinBox* sequencesSpin() const { return m_sequences; }
    QSpinBox* microBatchSpin() const { return m_microBatch; }
    QSpinBox* threadsSpin() const { return m_threads; }
    QDoubleSpinBox* marginSpin() const { return m_margin; }
    // Item 0: available RAM, 1: total RAM, then commonGpus(); data = bytes.
    QComboBox* budgetBox() const { return m_budget; }
    viz::BudgetChart* chart() const { return m_chart; }
    // Rows: type, tensors, elements, bytes, size.
    QTableWidget* weightTable() const { return m_weightTable; }
    // Rows keyed by Qt::UserRole ("weights", "kv_per_token", ...); columns:
    // item, bytes (thousands separated), size.
    QTableWidget* planTable() const { return m_planTable; }
    // Rows MHA, (GQA,) MQA; columns: layout, KV heads, per token, at context, "← this model".
    QTableWidget* attentionTable() const { return m_attentionTable; }
    QPlainTextEdit* formulaView() const { return m_formula; }

    // PNG or SVG of the chart. Errors: no plan, unsupported suffix, write failure.
    bool exportImage(const QString& path, QString* error);
    // CSV "section,key,label,bytes,size": one row per plan-table line,
    // weight type, attention layout (per token, at context) and chart point
    // layer; or JSON (options, model shape, weights, plan, fit, attention,
    // chart series).
    // Errors: no plan, unsupported suffix, write failure.
    bool exportData(const QString& path, QString* error);

signals:
    // A plan was (re)computed and is shown.
    void planChanged();
    // Reading or planning a file failed; the message is shown in the panel.
    void planFailed(const QString& message);

protected:
    void changeEvent(QEvent* event) override;

private:
    // Controls (budget_panel.cpp).
    void buildUi();
    QWidget* buildControls();
    QWidget* buildResults();
    void fillBudgetBox();
    // The budget's short name for sentences ("available RAM").
    QString budgetName() const;
    void connectControls();
    void setContext(int context);
    void updateContextRange();
    void askForFile(bool folder);
    // Sources and planning.
    void applyFootprint(uint64_t generation, const QString& path, engine::Result<engine::ModelFootprint> result);
    void setSourceFootprint(Source source, const QString& path, engine::ModelFootprint footprint);
    void rebuildFootprint();
    void replan();
    void showError(const QString& text);
    // Views (budget_panel_view.cpp).
    void showSource();
    void fillWeightTable();
    void fillPlanTable();
    void fillAttentionTable();
    void fillFormula();
    void fillFits();
    void clearViews();
    // Exports (budget_panel_export.cpp).
    QByteArray dataCsv() const;
    QByteArray dataJson() const;

    std::shared_ptr<const engine::Model> m_model;
    Source m_source = Source::None;
    QString m_sourcePath;
    std::optional<engine::ModelFootprint> m_fileFootprint;  // as the source describes it
    engine::ModelFootprint m_footprint;                     // with the chosen weight type
    std::optional<engine::MemoryPlan> m_plan;
    uint64_t m_generation = 0;
    bool m_busy = false;
    bool m_optionsError = false;  // the error shown is about the options, not a file
    int m_weightIndex = 0;        // the weight type selector's entry in effect
    double m_lastReplanMs = 0;
    QThreadPool m_pool;

    QLabel* m_sourceLabel = nullptr;
    QLabel* m_error = nullptr;
    QToolButton* m_openButton = nullptr;
    QPushButton* m_modelButton = nullptr;
    QComboBox* m_weightType = nullptr;
    QComboBox* m_kvType = nullptr;
    QSlider* m_contextSlider = nullptr;
    QSpinBox* m_contextSpin = nullptr;
    QCheckBox* m_fullRange = nullptr;
    QSpinBox* m_sequences = nullptr;
    QSpinBox* m_microBatch = nullptr;
    QSpinBox* m_threads = nullptr;
    QDoubleSpinBox* m_margin = nullptr;
    QComboBox* m_budget = nullptr;
    QLabel* m_fits = nullptr;
    viz::BudgetChart* m_chart = nullptr;
    QTableWidget* m_weightTable = nullptr;
    QTableWidget* m_planTable = nullptr;
    QTableWidget* m_attentionTable = nullptr;
    QPlainTextEdit* m_formula = nullptr;
};

}  // namespace glassbox::ui
