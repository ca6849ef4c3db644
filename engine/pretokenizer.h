// Pre-tokenizers for byte-level BPE vocabularies: hand-written matchers
// equivalent to the splitting regexes used by GPT-2, Llama 3, Qwen2 and the
// StarCoder / SmolLM family (GPT-2 plus every digit on its own). They split
// text into word spans; BPE then runs inside each span.
//
// Input need not be valid UTF-8: a byte that does not start a valid sequence
// is one "other" character (neither letter, number nor whitespace), so the
// spans always cover the input exactly, in order, without gaps.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace glassbox::engine {

enum class PreTokenizerKind {
    // 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
    Gpt2,
    // every \p{N} alone, then Gpt2 on the rest (starcoder, smollm, refact, ...)
    Gpt2Digits,
    // (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|
    //  ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
    Llama3,
    // as Llama3 but \p{N} one digit at a time
    Qwen2,
};

// Maps a GGUF "tokenizer.ggml.pre" name (llama.cpp's names) to a kind.
// An empty name means "default" (Gpt2). nullopt for names not handled.
std::optional<PreTokenizerKind> preTokenizerKindFromName(std::string_view name);
const char* preTokenizerKindName(PreTokenizerKind kind);
// Whether the vocabularies using this pre-tokenizer name take a word that is
// itself a token as that token without running BPE merges (Llama 3 style).
bool preTokenizerIgnoresMerges(std::string_view name);

// A byte range [begin, end) of the input text.
struct TextSpan {
    size_t begin = 0;
    size_t end = 0;
};

// Appends the pre-token spans of `text` to `out`. Never fails.
void preTokenize(PreTokenizerKind kind, std::string_view text, std::vector<TextSpan>& out);

}  // namespace glassbox::engine
