// TokenInspector: everything about one generated token — its probability,
// the step's entropy, the top alternatives the model considered (with
// probabilities) and the sampler's stages as a chart. Choosing an
// alternative and pressing "Branch here" asks to continue generation from
// that step with the alternative in place of the chosen token.
#pragma once

#include <QWidget>
#include <optional>

#include "engine/generator.h"
#include "engine/model.h"
#include "engine/tokenizer.h"

class QComboBox;
class QLabel;
class QPushButton;
class QTableWidget;

namespace glassbox::viz {
class StagesChart;
}

namespace glassbox::ui {

class TokenInspector : public QWidget {
    Q_OBJECT
public:
    explicit TokenInspector(QWidget* parent = nullptr);

    // Show a token; `step` is its index among the run's generated tokens.
    void showToken(const engine::GeneratedToken& token, int step, std::shared_ptr<const engine::Model> model);
    void clear();
    void setDark(bool dark);
    // Branching is offered only where it makes sense (a finished run, a model loaded).
    void setBranchEnabled(bool enabled);

    bool hasToken() const { return m_token.has_value(); }
    int step() const { return m_step; }
    // Alternatives as listed (best first).
    int alternativeCount() const;
    int32_t alternativeId(int row) const;
    double alternativeProbability(int row) const;
    // Select an alternative row (as a click would).
    void selectAlternative(int row);
    int32_t selectedAlternative() const;

    QTableWidget* alternativesTable() const { return m_table; }
    viz::StagesChart* chart() const { return m_chart; }
    QPushButton* branchButton() const { return m_branch; }
    QString summaryText() const;

signals:
    // Continue generation from `step` with token `alternative`.
    void branchRequested(int step, int32_t alternative);

private:
    void updateBranchButton();
    void requestBranch();

    QLabel* m_summary = nullptr;
    QTableWidget* m_table = nullptr;
    QComboBox* m_scale = nullptr;
    viz::StagesChart* m_chart = nullptr;
    QPushButton* m_branch = nullptr;
    std::optional<engine::GeneratedToken> m_token;
    std::shared_ptr<const engine::Model> m_model;  // names the tokens
    int m_step = -1;
    bool m_branchAllowed = false;
};

}  // namespace glassbox::ui
