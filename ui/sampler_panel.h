// SamplerPanel: every sampling knob of the engine (temperature, top-k,
// top-p, min-p, the three penalties and their window, seed, max tokens,
// stop strings, alternatives per token) as form controls, each with a
// tooltip explaining what it does. Invalid combinations are reported inline
// with the engine's own validation message.
#pragma once

#include <QWidget>

#include "engine/sampler_settings.h"

class QDoubleSpinBox;
class QFormLayout;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QSpinBox;

namespace glassbox::ui {

class SamplerPanel : public QWidget {
    Q_OBJECT
public:
    explicit SamplerPanel(QWidget* parent = nullptr);

    // The settings as shown (captureStages on, stage candidates set).
    engine::SamplerSettings settings() const;
    void setSettings(const engine::SamplerSettings& settings);
    // Ok, or the first invalid field.
    engine::Status validate() const;

    // Compact mode shows only temperature, top-k, top-p, min-p and seed (the
    // comparison lanes; they share one max-tokens setting).
    void setCompact(bool compact);

    QDoubleSpinBox* temperatureBox() const { return m_temperature; }
    QSpinBox* topKBox() const { return m_topK; }
    QSpinBox* maxTokensBox() const { return m_maxTokens; }
    QLineEdit* seedEdit() const { return m_seed; }

signals:
    void settingsChanged();

private:
    void build();
    void buildRows(QFormLayout* form);
    void onEdited();

    QDoubleSpinBox* m_temperature = nullptr;
    QSpinBox* m_topK = nullptr;
    QDoubleSpinBox* m_topP = nullptr;
    QDoubleSpinBox* m_minP = nullptr;
    QDoubleSpinBox* m_repeatPenalty = nullptr;
    QSpinBox* m_penaltyLastN = nullptr;
    QDoubleSpinBox* m_presence = nullptr;
    QDoubleSpinBox* m_frequency = nullptr;
    QLineEdit* m_seed = nullptr;
    QSpinBox* m_maxTokens = nullptr;
    QPlainTextEdit* m_stops = nullptr;
    QSpinBox* m_topLogprobs = nullptr;
    QLabel* m_problem = nullptr;
    QList<QWidget*> m_advanced;
    bool m_updating = false;
};

}  // namespace glassbox::ui
