// Tokenizer vocabularies as plain data, and the loaders that read them from a
// GGUF file's tokenizer.* metadata or from a Hugging Face tokenizer.json (+
// tokenizer_config.json). A VocabData is unchecked input: Tokenizer::create
// validates it (array lengths, merge references, special ids) before use.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/result.h"

namespace glassbox::engine {

class GgufFile;

// The tokenization algorithm.
enum class VocabModel {
    Bpe,  // GPT-2 style byte-level BPE: merges ranked by position
    Spm,  // SentencePiece BPE: "▁" for spaces, merges by token score, <0xNN> byte fallback
};

const char* vocabModelName(VocabModel model);

// Token types, numbered as in GGUF's tokenizer.ggml.token_type.
enum class TokenType : int32_t {
    Undefined = 0,
    Normal = 1,
    Unknown = 2,
    Control = 3,      // special token, e.g. <|im_start|>; parsed only on request
    UserDefined = 4,  // added token, always matched as a whole in the text
    Unused = 5,
    Byte = 6,         // <0xNN> byte-fallback token
};

inline constexpr int32_t kNoToken = -1;

struct VocabData {
    VocabModel model = VocabModel::Bpe;
    // Pre-tokenizer name for Bpe, as in GGUF tokenizer.ggml.pre ("smollm",
    // "llama-bpe", "qwen2", ...); empty means the GPT-2 default.
    std::string pre;
    std::vector<std::string> tokens;
    std::vector<float> scores;      // empty, or one per token (Spm merge priority)
    std::vector<TokenType> types;   // empty (all Normal), or one per token
    // Merges in rank order (first = applied first), as token texts. Required
    // for Bpe; for Spm optional (without them, any two tokens forming a token
    // merge, by score).
    std::vector<std::pair<std::string, std::string>> merges;

    int32_t bos = kNoToken;
    int32_t eos = kNoToken;
    int32_t eot = kNoToken;  // end of turn
    int32_t eom = kNoToken;  // end of message
    int32_t unk = kNoToken;
    int32_t pad = kNoToken;

    bool addBos = false;          // encode(addSpecial=true) prepends bos
    bool addEos = false;          // encode(addSpecial=true) appends eos
    bool addSpacePrefix = false;  // Spm: a space before the text (and after each special token)
    bool ignoreMerges = false;    // Bpe: a word that is itself a token is taken whole

    std::string chatTemplate;     // Jinja chat template, if the model has one
};

// Reads tokenizer.ggml.* and tokenizer.chat_template.
// Errors: NotFound (no tokenizer.ggml.tokens, no merges for a gpt2 model),
// Unsupported (a tokenizer model other than "gpt2" / "llama"), Malformed
// (a metadata value of the wrong type, a token type or special id out of the
// int32 range, a merge without a separating space).
Result<VocabData> vocabFromGguf(const GgufFile& file);

// Reads a Hugging Face tokenizer.json, plus tokenizer_config.json (may be
// empty) for add_bos/add_eos, the chat template and the special tokens.
// Handled: a BPE model with a ByteLevel pre-tokenizer (optionally preceded by
// a Split regex or Digits, mapped to a known pre-tokenizer), and a BPE model
// with a Metaspace pre-tokenizer or a Prepend/Replace "▁" normalizer (Llama 2
// style, usually with byte_fallback), which becomes Spm keeping its merge
// list (merge ranks also become scores). Not applied: normalizers such as
// NFC, and the lstrip/rstrip/single_word flags of added tokens.
// Errors: Malformed (invalid JSON, or a field of the wrong type; field names
// the JSON path), NotFound (no model.vocab), Unsupported (another model or
// pre-tokenizer, or a split regex not recognised).
Result<VocabData> vocabFromTokenizerJson(std::string_view tokenizerJson,
                                         std::string_view tokenizerConfigJson);

}  // namespace glassbox::engine
