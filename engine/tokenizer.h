// Text <-> token ids for byte-level BPE (GPT-2 family) and SentencePiece
// (Llama 2 family) vocabularies. A Tokenizer is immutable after create() and
// safe to share between threads; copies share the same tables.
//
// Invariants: encode never fails. Bytes that no token covers become <0xNN>
// byte tokens or unk (Spm), or are dropped (byte-level BPE, as Hugging Face
// tokenizers and llama.cpp do). decode(encode(text)) == text, including
// invalid UTF-8, whenever the vocabulary covers every byte (all 256
// byte-level characters, or all 256 <0xNN> tokens); special-token strings
// in the text come back as the same strings.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/result.h"
#include "engine/vocab.h"

namespace glassbox::engine {

struct TokenizerImpl;

class Tokenizer {
public:
    // Validates the vocabulary and builds the lookup tables.
    // Errors: InvalidArgument (no tokens, more than INT32_MAX tokens, scores
    // or types not empty and not one per token, a special id out of range, a
    // token type outside 0..6, an unknown pre-tokenizer name), Malformed (a
    // merge naming a token that does not exist, or whose concatenation is
    // not a token).
    static Result<Tokenizer> create(VocabData vocab);

    // Token ids for `text`. addSpecial: add bos/eos as the vocabulary asks.
    // parseSpecial: control tokens written in the text (e.g. "<|im_end|>")
    // become their ids; otherwise they are tokenized as plain text.
    // User-defined tokens are always matched.
    std::vector<int32_t> encode(std::string_view text, bool addSpecial, bool parseSpecial) const;

    // The bytes of the tokens, concatenated. Control tokens are written as
    // their text unless skipControl. Ids out of range are skipped. For Spm
    // with a space prefix, the space of the first piece is removed.
    std::string decode(std::span<const int32_t> ids, bool skipControl = false) const;

    // The token as stored in the vocabulary ("Ġworld", "▁world", "<0x0A>").
    // Empty for ids out of range.
    std::string tokenPiece(int32_t id) const;
    // The bytes the token stands for (" world", "\n"); may be partial UTF-8.
    std::string tokenText(int32_t id) const;
    // Exact lookup of a vocabulary string; nullopt when absent.
    std::optional<int32_t> tokenId(std::string_view piece) const;

    int32_t nVocab() const;
    int32_t bos() const;
    int32_t eos() const;
    int32_t eot() const;
    int32_t unk() const;
    int32_t pad() const;
    bool addBos() const;
    VocabModel model() const;
    TokenType tokenType(int32_t id) const;  // Undefined for ids out of range
    // eos, eot, eom, and control tokens such as <|im_end|>, <|eot_id|>, <|end|>.
    bool isEndOfGeneration(int32_t id) const;
    bool isControl(int32_t id) const;
    const VocabData& vocab() const;

private:
    friend class TokenStreamDecoder;
    explicit Tokenizer(std::shared_ptr<const TokenizerImpl> impl) : m_impl(std::move(impl)) {}
    std::string_view textView(int32_t id) const;  // tokenText without a copy
    std::shared_ptr<const TokenizerImpl> m_impl;
};

// Turns a stream of generated ids into text without ever splitting a UTF-8
// sequence: bytes of an incomplete sequence are held back until the next
// token completes it (or flush()). The concatenation of everything returned
// equals tokenizer.decode(ids, skipControl).
class TokenStreamDecoder {
public:
    explicit TokenStreamDecoder(const Tokenizer& tokenizer, bool skipControl = false);

    // Text that became complete with this token (possibly empty).
    std::string push(int32_t id);
    // Whatever is still held back (an incomplete sequence, emitted as is).
    std::string flush();
    // Start a new stream.
    void reset();

private:
    const Tokenizer* m_tokenizer;
    bool m_skipControl;
    bool m_started = false;
    std::string m_pending;
};

}  // namespace glassbox::engine
