// PromptDriftView: the quantization lab "on your prompt". One prompt goes
// through a reference model and the quantized (loaded) model
// (engine::comparePrompt); the view shows the prompt's tokens as chips
// coloured by the KL divergence of each position's prediction, marks the
// positions whose top-1 tokens differ, and plots the mean cosine similarity
// of the two residual streams at every point of the network (embedding,
// then after each layer) against the drift threshold.
//
// Invariants: the UI thread never waits. A comparison runs on the view's
// pool with a std::stop_source; each comparison has a generation id, and a
// newer comparison, Cancel or new models make older results stale (they
// are dropped when they arrive). Errors show in the status label; the view
// then holds no drift.
#pragma once

#include <QThreadPool>
#include <QWidget>
#include <memory>
#include <optional>
#include <stop_token>

#include "engine/kl_compare.h"

class QCustomPlot;
class QLabel;
class QPlainTextEdit;
class QProgressBar;
class QPushButton;

namespace glassbox::engine {
class Model;
}

namespace glassbox::ui {

class PromptDriftChips;

class PromptDriftView : public QWidget {
    Q_OBJECT
public:
    explicit PromptDriftView(QWidget* parent = nullptr);
    ~PromptDriftView() override;

    // The models to compare: `quantized` is the loaded model, `reference`
    // the higher-precision one (null: Compare is disabled). Changing either
    // cancels a running comparison and clears the result.
    void setModels(std::shared_ptr<const engine::Model> reference, std::shared_ptr<const engine::Model> quantized);
    // Options of the next comparison (threshold, threads, capture limit).
    void setOptions(const engine::PromptDriftOptions& options) { m_options = options; }
    const engine::PromptDriftOptions& options() const { return m_options; }

    void setPrompt(const QString& text);
    QString prompt() const;
    // Starts a comparison of the prompt (superseding a running one). False,
    // with the reason in the status, without both models or with an empty prompt.
    bool compare();
    // Stops the running comparison; the view turns idle at once.
    void cancel();

    // The last comparison's result; empty while busy, after an error or a cancel.
    const std::optional<engine::PromptDrift>& drift() const { return m_drift; }
    bool isBusy() const { return m_busy; }
    // The status line as shown (errors included).
    QString statusText() const;
    // Empty after a success, else the error of the last comparison.
    QString lastError() const { return m_lastError; }
    // "first below 0.99: …" or "no layer below 0.99" (empty without a drift).
    QString driftPointText() const;

    PromptDriftChips* chips() const { return m_chips; }
    // Graph 0: mean cosine per point; graph 1: the threshold; graph 2: the
    // first drift point (empty when none).
    QCustomPlot* chart() const { return m_chart; }
    QPushButton* compareButton() const { return m_compare; }
    QPushButton* cancelButton() const { return m_cancel; }

signals:
    // A comparison finished (successfully or not); not emitted for stale ones.
    void finished();

private:
    void buildUi();
    QWidget* buildChart();
    void apply(uint64_t generation, engine::Result<engine::PromptDrift> result);
    void stopRunning();
    void fillChips();
    void fillChart();
    void setStatus(const QString& text, bool error);
    void updateControls();

    std::shared_ptr<const engine::Model> m_reference;
    std::shared_ptr<const engine::Model> m_quantized;
    engine::PromptDriftOptions m_options;
    std::optional<engine::PromptDrift> m_drift;
    uint64_t m_generation = 0;
    bool m_busy = false;
    std::stop_source m_stop;
    QString m_lastError;
    QThreadPool m_pool;

    QPlainTextEdit* m_prompt = nullptr;
    QPushButton* m_compare = nullptr;
    QPushButton* m_cancel = nullptr;
    QProgressBar* m_busyBar = nullptr;
    QLabel* m_status = nullptr;
    QLabel* m_driftLabel = nullptr;
    PromptDriftChips* m_chips = nullptr;
    QCustomPlot* m_chart = nullptr;
};

}  // namespace glassbox::ui
