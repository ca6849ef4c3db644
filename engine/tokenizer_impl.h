// Private to the tokenizer: the shared, immutable tables behind a Tokenizer
// and the per-algorithm encoders (bpe_tokenizer.cpp, spm_tokenizer.cpp).
// Not part of the engine's public API.
#pragma once

#include <array>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "engine/pretokenizer.h"
#include "engine/vocab.h"

namespace glassbox::engine {

struct StringViewHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

using TokenIndex = std::unordered_map<std::string, int32_t, StringViewHash, std::equal_to<>>;

// A string that is matched whole in the input before tokenization.
struct SpecialToken {
    std::string_view text;  // into TokenizerImpl::vocab.tokens
    int32_t id = kNoToken;
    bool always = false;    // user-defined: matched even without parseSpecial
};

struct SpmMerge {
    int32_t result = kNoToken;
    float score = 0.0f;
};

struct BpeMerge {
    int32_t rank = 0;
    int32_t result = kNoToken;
};

// Per-word BPE results, shared between threads.
class BpeWordCache {
public:
    bool find(std::string_view word, std::vector<int32_t>& out) const;
    void store(std::string_view word, const std::vector<int32_t>& ids) const;

private:
    static constexpr size_t kMaxEntries = 1 << 16;
    static constexpr size_t kMaxWordBytes = 256;
    mutable std::mutex m_mutex;
    mutable std::unordered_map<std::string, std::vector<int32_t>, StringViewHash, std::equal_to<>> m_map;
};

struct TokenizerImpl {
    VocabData vocab;
    std::vector<TokenType> types;      // one per token
    std::vector<std::string> texts;    // decoded bytes of each token
    TokenIndex index;                  // vocabulary string -> first id with it
    std::vector<int32_t> endOfGeneration;  // sorted ids

    // Special tokens grouped by first byte, longest first within a group.
    std::vector<SpecialToken> specials;
    std::array<uint32_t, 257> specialStart{};  // specials of byte b: [start[b], start[b+1])

    // Bpe
    PreTokenizerKind pre = PreTokenizerKind::Gpt2;
    std::unordered_map<uint64_t, BpeMerge> merges;  // (left << 32 | right) -> merge
    std::array<int32_t, 256> byteTokens{};          // byte-level char token per byte
    BpeWordCache cache;

    // Spm
    std::array<int32_t, 256> byteFallback{};  // <0xNN> token per byte, or kNoToken
    std::unordered_set<uint64_t> spmPairs;     // codepointPair(a, b) for "ab" inside a token
    std::unordered_map<uint64_t, SpmMerge> spmMerges;  // pairKey(left, right) -> merged token
    std::vector<int32_t> spmCharIds;           // token of each BMP character, or kNoToken

    int32_t nVocab() const { return static_cast<int32_t>(vocab.tokens.size()); }
    bool valid(int32_t id) const { return id >= 0 && id < nVocab(); }
};

inline uint64_t codepointPair(uint32_t a, uint32_t b) { return (uint64_t(a) << 32) | b; }
inline uint64_t pairKey(int32_t left, int32_t right) { return (uint64_t(uint32_t(left)) << 32) | uint32_t(right); }

// GPT-2 byte-level mapping: each byte as a printable codepoint.
uint32_t byteToUnicode(uint8_t byte);
// The byte a byte-level codepoint stands for, or -1.
int unicodeToByte(uint32_t cp);

// Builds the Bpe tables (merges, byte tokens, decoded texts).
Status buildBpeTables(TokenizerImpl& impl);
// Builds the Spm tables (byte fallback, decoded texts).
Status buildSpmTables(TokenizerImpl& impl);

// Appends the ids of one fragment of plain text (no special tokens in it).
// afterSpecial: the fragment starts the text or follows a special token.
void encodeBpeFragment(const TokenizerImpl& impl, std::string_view text, std::vector<int32_t>& out);
void encodeSpmFragment(const TokenizerImpl& impl, std::string_view text, bool afterSpecial,
                       std::vector<int32_t>& out);

}  // namespace glassbox::engine
