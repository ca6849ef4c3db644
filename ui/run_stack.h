// RunStack: the playground's output — the current run and every branch made
// from it, one card each (a header line and a TokenView), stacked in a
// vertical splitter so the original stays visible next to its branches.
// Selecting a token in any card selects it for the inspector.
#pragma once

#include <QSplitter>
#include <vector>

#include "engine/tokenizer.h"
#include "ui/engine_messages.h"
#include "ui/playground_run.h"
#include "viz/token_view.h"

class QLabel;

namespace glassbox::ui {

class RunStack : public QSplitter {
    Q_OBJECT
public:
    explicit RunStack(QWidget* parent = nullptr);

    // Adds a card; the run's existing tokens are shown (inherited ones
    // faded), named by `model`'s tokenizer (kept for the tooltips).
    int addRun(PlaygroundRun run, std::shared_ptr<const engine::Model> model);
    void appendTokens(int index, const TokenBatch& tokens);
    // Marks the run finished and refreshes its header.
    void finishRun(int index);
    void clear();

    int count() const { return int(m_cards.size()); }
    PlaygroundRun& run(int index) { return m_cards[size_t(index)].run; }
    const PlaygroundRun& run(int index) const { return m_cards[size_t(index)].run; }
    viz::TokenView* view(int index) const { return m_cards[size_t(index)].view; }
    // The model whose tokenizer names a card's tokens.
    std::shared_ptr<const engine::Model> modelOf(int index) const { return m_cards[size_t(index)].model; }
    QString headerText(int index) const;
    // The index of the card showing the run with this project id, or -1.
    int indexOfRunId(int64_t id) const;
    void refreshHeader(int index);

    void setColorMode(viz::ColorMode mode);
    // Selects a token (and clears the other cards' selections); emits tokenSelected.
    void selectToken(int runIndex, int tokenIndex);
    int selectedRun() const { return m_selectedRun; }
    int selectedToken() const;

signals:
    void tokenSelected(int runIndex, int tokenIndex);

private:
    struct Card {
        QWidget* frame = nullptr;
        QLabel* header = nullptr;
        viz::TokenView* view = nullptr;
        PlaygroundRun run;
        std::shared_ptr<const engine::Model> model;
    };
    void onViewSelected(viz::TokenView* view, int tokenIndex);

    std::vector<Card> m_cards;
    viz::ColorMode m_mode = viz::ColorMode::Probability;
    int m_selectedRun = -1;
};

}  // namespace glassbox::ui
