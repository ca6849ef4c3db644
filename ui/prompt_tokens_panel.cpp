// PromptTokensPanel: token chips and counts for the prompt being edited.
#include "ui/prompt_tokens_panel.h"

#include <QLabel>
#include <QVBoxLayout>

#include "ui/token_cells.h"
#include "viz/token_view.h"

namespace glassbox::ui {

PromptTokensPanel::PromptTokensPanel(QWidget* parent) : QWidget(parent) {
    m_summary = new QLabel;
    m_summary->setObjectName(QStringLiteral("promptTokenSummary"));
    m_view = new viz::TokenView;
    m_view->setObjectName(QStringLiteral("promptTokens"));
    m_view->setPlaceholder(tr("The prompt's tokens appear here as you type. Hover a token to see its id."));
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addWidget(m_summary);
    layout->addWidget(m_view, 1);
}

void PromptTokensPanel::setTokens(std::span<const int32_t> ids, const engine::Tokenizer* tokenizer,
                                  int characters, int contextSize) {
    m_view->setCells(TokenCells::forPrompt(tokenizer, ids));
    QString text = (ids.size() == 1 ? tr("1 token") : tr("%1 tokens").arg(ids.size())) +
                   (characters == 1 ? tr(" · 1 character") : tr(" · %1 characters").arg(characters));
    if (contextSize > 0) text += tr(" · %1% of the context").arg(100.0 * double(ids.size()) / contextSize, 0, 'f', 1);
    m_summary->setText(text);
}

void PromptTokensPanel::setMessage(const QString& text) {
    m_view->clear();
    m_summary->setText(text);
}

QString PromptTokensPanel::summary() const { return m_summary->text(); }

}  // namespace glassbox::ui
