// TokenCells: token ids and samples to drawable cells.
#include "ui/token_cells.h"

#include <cmath>

#include "viz/probability_palette.h"

namespace glassbox::ui {

const engine::Tokenizer* TokenCells::tokenizerOf(const std::shared_ptr<const engine::Model>& model) {
    return model ? &model->tokenizer() : nullptr;
}

QString TokenCells::tokenText(const engine::Tokenizer* tokenizer, int32_t id, const std::string& fallback) {
    if (!tokenizer || id < 0 || id >= tokenizer->nVocab()) return QString::fromStdString(fallback);
    if (tokenizer->isControl(id)) return QString::fromStdString(tokenizer->tokenPiece(id));
    return QString::fromUtf8(tokenizer->tokenText(id));
}

std::vector<viz::TokenCell> TokenCells::forPrompt(const engine::Tokenizer* tokenizer,
                                                  std::span<const int32_t> ids) {
    std::vector<viz::TokenCell> cells;
    cells.reserve(ids.size());
    for (int32_t id : ids) {
        viz::TokenCell c;
        c.id = id;
        c.text = tokenText(tokenizer, id);
        if (tokenizer && id >= 0 && id < tokenizer->nVocab())
            c.detail = QStringLiteral("piece <code>%1</code>")
                           .arg(QString::fromStdString(tokenizer->tokenPiece(id)).toHtmlEscaped());
        cells.push_back(std::move(c));
    }
    return cells;
}

viz::TokenCell TokenCells::forGenerated(const engine::Tokenizer* tokenizer, const engine::GeneratedToken& token) {
    viz::TokenCell c;
    c.id = token.id;
    c.text = tokenText(tokenizer, token.id, token.text);
    c.probability = viz::ProbabilityPalette::probabilityOf(token.sample);
    c.entropy = viz::ProbabilityPalette::scaledEntropy(token.sample);
    return c;
}

QString TokenCells::detail(const engine::Tokenizer* tokenizer, const engine::GeneratedToken& token) {
    QString detail = QStringLiteral("log-prob %1 · entropy %2 bits")
                         .arg(double(token.sample.logprob), 0, 'f', 3)
                         .arg(viz::ProbabilityPalette::entropyBits(token.sample), 0, 'f', 2);
    if (token.sample.greedy) detail += QStringLiteral(" · greedy");
    else detail += QStringLiteral("<br>drawn with probability %1%").arg(double(token.sample.probability) * 100, 0, 'f', 2);
    int shown = 0;
    for (const auto& alt : token.sample.topAlternatives) {
        if (shown++ == 0) detail += QStringLiteral("<br>alternatives:");
        if (shown > 5) break;
        detail += QStringLiteral("<br>&nbsp;&nbsp;<code>%1</code> %2%")
                      .arg(tokenText(tokenizer, alt.id).toHtmlEscaped())
                      .arg(std::exp(double(alt.logprob)) * 100, 0, 'f', 1);
    }
    return detail;
}

std::vector<viz::TokenCell> TokenCells::forGenerated(const engine::Tokenizer* tokenizer,
                                                     std::span<const engine::GeneratedToken> tokens) {
    std::vector<viz::TokenCell> cells;
    cells.reserve(tokens.size());
    for (const auto& t : tokens) {
        if (t.index < 0) continue;  // trailing text, not a token
        cells.push_back(forGenerated(tokenizer, t));
    }
    return cells;
}

}  // namespace glassbox::ui
