// RunStack: cards of runs and branches, their headers and selection.
#include "ui/run_stack.h"

#include <QLabel>
#include <QVBoxLayout>

#include "ui/token_cells.h"

namespace glassbox::ui {

RunStack::RunStack(QWidget* parent) : QSplitter(Qt::Vertical, parent) {
    setChildrenCollapsible(false);
    setHandleWidth(6);
}

int RunStack::addRun(PlaygroundRun run, std::shared_ptr<const engine::Model> model) {
    Card card;
    card.model = std::move(model);
    const engine::Tokenizer* tokenizer = TokenCells::tokenizerOf(card.model);
    card.frame = new QWidget;
    card.frame->setObjectName(QStringLiteral("runCard"));
    auto* layout = new QVBoxLayout(card.frame);
    layout->setContentsMargins(0, 2, 0, 0);
    layout->setSpacing(2);
    card.header = new QLabel;
    card.header->setTextFormat(Qt::RichText);
    card.header->setObjectName(QStringLiteral("runHeader"));
    card.view = new viz::TokenView;
    card.view->setColorMode(m_mode);
    card.view->setPlaceholder(tr("Generating…"));
    layout->addWidget(card.header);
    layout->addWidget(card.view, 1);

    std::vector<viz::TokenCell> cells = TokenCells::forGenerated(tokenizer, run.record.tokens);
    const int inherited = run.inheritedTokens();
    for (int i = 0; i < int(cells.size()); ++i) {
        if (i < inherited) cells[size_t(i)].muted = true;
        if (run.isBranch() && i == run.record.branchTokenIndex) cells[size_t(i)].marked = true;
    }
    card.view->setCells(std::move(cells));
    card.run = std::move(run);
    viz::TokenView* view = card.view;
    const int cardIndex = count();
    view->setDetailProvider([this, cardIndex](int i) {
        const Card& c = m_cards[size_t(cardIndex)];
        const auto& tokens = c.run.record.tokens;
        return i >= 0 && i < int(tokens.size()) ? TokenCells::detail(TokenCells::tokenizerOf(c.model), tokens[size_t(i)])
                                                : QString();
    });
    connect(view, &viz::TokenView::tokenSelected, this, [this, view](int i) { onViewSelected(view, i); });
    addWidget(card.frame);
    m_cards.push_back(std::move(card));
    const int index = count() - 1;
    refreshHeader(index);
    return index;
}

void RunStack::appendTokens(int index, const TokenBatch& tokens) {
    if (index < 0 || index >= count()) return;
    Card& card = m_cards[size_t(index)];
    for (const auto& t : tokens) {
        if (t.index < 0) continue;  // trailing text of the previous token
        card.run.record.tokens.push_back(t);
        card.run.record.tokens.back().index = int(card.run.record.tokens.size()) - 1;
    }
    card.view->appendCells(TokenCells::forGenerated(TokenCells::tokenizerOf(card.model), tokens));
    refreshHeader(index);
}

void RunStack::finishRun(int index) {
    if (index < 0 || index >= count()) return;
    m_cards[size_t(index)].run.running = false;
    m_cards[size_t(index)].view->setPlaceholder(tr("No tokens were generated."));
    refreshHeader(index);
}

void RunStack::clear() {
    for (Card& card : m_cards) delete card.frame;
    m_cards.clear();
    m_selectedRun = -1;
}

int RunStack::indexOfRunId(int64_t id) const {
    for (int i = 0; i < count(); ++i)
        if (m_cards[size_t(i)].run.record.id == id) return i;
    return -1;
}

QString RunStack::headerText(int index) const {
    const PlaygroundRun& run = m_cards[size_t(index)].run;
    const auto& r = run.record;
    QStringList parts;
    const QString name = r.id > 0 ? tr("Run #%1").arg(r.id) : tr("Run");
    if (run.isBranch()) {
        const QString from = r.parentRunId ? tr("#%1").arg(*r.parentRunId) : tr("the run above");
        parts << QStringLiteral("<b>%1</b> — branch of %2 at step %3").arg(name, from).arg(r.branchTokenIndex);
    } else {
        parts << QStringLiteral("<b>%1</b>").arg(name);
    }
    parts << (run.mode == projects::PromptMode::Chat ? tr("chat") : tr("completion"));
    const int generated = int(r.tokens.size()) - run.inheritedTokens();
    parts << (generated == 1 ? tr("1 token") : tr("%1 tokens").arg(generated));
    if (run.running) {
        parts << tr("running…");
    } else if (!run.error.isEmpty()) {
        parts << QStringLiteral("<span style='color:#d04040'>%1</span>").arg(run.error.toHtmlEscaped());
    } else {
        parts << tr("stop: %1").arg(QString::fromLatin1(engine::stopReasonName(r.stopReason)));
        parts << tr("seed %1").arg(r.seed);
        if (r.decodeTokensPerSecond > 0) parts << tr("%1 tok/s").arg(r.decodeTokensPerSecond, 0, 'f', 1);
    }
    return parts.join(QStringLiteral(" · "));
}

void RunStack::refreshHeader(int index) {
    if (index >= 0 && index < count()) m_cards[size_t(index)].header->setText(headerText(index));
}

void RunStack::setColorMode(viz::ColorMode mode) {
    m_mode = mode;
    for (Card& card : m_cards) card.view->setColorMode(mode);
}

void RunStack::selectToken(int runIndex, int tokenIndex) {
    if (runIndex < 0 || runIndex >= count()) return;
    m_cards[size_t(runIndex)].view->setSelectedIndex(tokenIndex);
    onViewSelected(m_cards[size_t(runIndex)].view, tokenIndex);
}

int RunStack::selectedToken() const {
    if (m_selectedRun < 0 || m_selectedRun >= count()) return -1;
    return m_cards[size_t(m_selectedRun)].view->selectedIndex();
}

void RunStack::onViewSelected(viz::TokenView* view, int tokenIndex) {
    for (int i = 0; i < count(); ++i) {
        if (m_cards[size_t(i)].view == view) {
            m_selectedRun = i;
        } else {
            m_cards[size_t(i)].view->setSelectedIndex(-1);
        }
    }
    emit tokenSelected(m_selectedRun, tokenIndex);
}

}  // namespace glassbox::ui
