// PromptTokensPanel: the prompt as the model sees it — every token as a
// chip in alternating tints so the boundaries show, its id on hover, with
// counts of tokens and characters and how much of the context it fills.
#pragma once

#include <QWidget>
#include <span>

#include "engine/tokenizer.h"

class QLabel;

namespace glassbox::viz {
class TokenView;
}

namespace glassbox::ui {

class PromptTokensPanel : public QWidget {
    Q_OBJECT
public:
    explicit PromptTokensPanel(QWidget* parent = nullptr);

    void setTokens(std::span<const int32_t> ids, const engine::Tokenizer* tokenizer, int characters,
                   int contextSize);
    void setMessage(const QString& text);
    viz::TokenView* view() const { return m_view; }
    QString summary() const;

private:
    QLabel* m_summary = nullptr;
    viz::TokenView* m_view = nullptr;
};

}  // namespace glassbox::ui
