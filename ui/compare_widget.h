// CompareWidget: the same prompt run with two to four sampler settings (or
// on a second model) and shown side by side, aligned by step. Each lane has
// its own compact sampler controls and model choice; the prompt comes from
// the Playground.
#pragma once

#include <QWidget>
#include <vector>

#include "engine/tokenizer.h"
#include "ui/engine_messages.h"

class QLabel;
class QPushButton;
class QSpinBox;
class QTableView;
class QHBoxLayout;

namespace glassbox::ui {

class CompareModel;
class SamplerPanel;

class CompareWidget : public QWidget {
    Q_OBJECT
public:
    static constexpr int kMinLanes = 2;
    static constexpr int kMaxLanes = 4;

    explicit CompareWidget(QWidget* parent = nullptr);

    int laneCount() const { return int(m_lanes.size()); }
    void setLaneCount(int count);
    SamplerPanel* laneSettings(int lane) const;
    // A lane's model: empty for the loaded model, else a model file.
    QString laneModelPath(int lane) const;
    void setLaneModelPath(int lane, const QString& path);
    int maxTokens() const;
    void setMaxTokens(int tokens);

    // The lanes of a comparison for a prompt; extraStops are added to each.
    // `text` is the prompt before tokenization, for lanes on another model.
    std::vector<GenerationLane> buildLanes(const std::vector<int32_t>& prompt, const std::string& text,
                                           bool chat, const std::vector<std::string>& extraStops,
                                           std::shared_ptr<const engine::Model> model) const;
    // Start showing a new comparison.
    void begin(std::shared_ptr<const engine::Model> model);
    void appendTokens(int lane, const TokenBatch& tokens);
    void finishLane(int lane, const LaneOutcome& outcome);
    void setRunning(bool running);
    void setDark(bool dark);

    CompareModel* model() const { return m_model; }
    QTableView* table() const { return m_table; }
    QPushButton* compareButton() const { return m_run; }
    QString divergenceText() const;
    QString laneTitle(int lane) const;

signals:
    void compareRequested();
    void stopRequested();
    // A token cell was clicked (to inspect it).
    void tokenSelected(int lane, int step);

private:
    struct Lane {
        QWidget* box = nullptr;
        SamplerPanel* settings = nullptr;
        QLabel* modelLabel = nullptr;
        QString modelPath;
    };
    void addLane();
    void removeLane();
    void updateDivergence();
    QString settingsSummary(int lane) const;

    std::vector<Lane> m_lanes;
    QHBoxLayout* m_laneLayout = nullptr;
    QSpinBox* m_maxTokens = nullptr;
    QPushButton* m_run = nullptr;
    QPushButton* m_stop = nullptr;
    QPushButton* m_add = nullptr;
    QPushButton* m_remove = nullptr;
    QLabel* m_divergence = nullptr;
    QTableView* m_table = nullptr;
    CompareModel* m_model = nullptr;
    std::shared_ptr<const engine::Model> m_tokensModel;  // names the loaded model's tokens
};

}  // namespace glassbox::ui
