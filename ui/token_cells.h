// TokenCells: builds the cells a TokenView draws from prompt token ids and
// generated tokens, naming every token by the model's tokenizer (control
// tokens by their piece, e.g. "<|im_end|>") and attaching probability,
// entropy and the tooltip details. Live runs and reopened runs go through
// the same functions, so both look exactly alike.
#pragma once

#include <memory>
#include <span>
#include <vector>

#include "engine/generator.h"
#include "engine/model.h"
#include "engine/tokenizer.h"
#include "viz/token_view.h"

namespace glassbox::ui {

class TokenCells {
public:
    // The model's tokenizer, or null without a model.
    static const engine::Tokenizer* tokenizerOf(const std::shared_ptr<const engine::Model>& model);
    // Display text of one token; `fallback` when there is no tokenizer.
    static QString tokenText(const engine::Tokenizer* tokenizer, int32_t id, const std::string& fallback = {});
    static std::vector<viz::TokenCell> forPrompt(const engine::Tokenizer* tokenizer, std::span<const int32_t> ids);
    static viz::TokenCell forGenerated(const engine::Tokenizer* tokenizer, const engine::GeneratedToken& token);
    // Tooltip lines for a generated token: log-prob, entropy, top alternatives.
    static QString detail(const engine::Tokenizer* tokenizer, const engine::GeneratedToken& token);
    static std::vector<viz::TokenCell> forGenerated(const engine::Tokenizer* tokenizer,
                                                    std::span<const engine::GeneratedToken> tokens);
};

}  // namespace glassbox::ui
