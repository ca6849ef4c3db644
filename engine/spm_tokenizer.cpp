// SentencePiece-style BPE (Llama 2 family): spaces become "▁" (with one
// prepended when the vocabulary asks for a space prefix), the text starts as
// one symbol per UTF-8 character, and among adjacent pairs of tokens whose
// concatenation is a token, the one making the highest-scoring token is
// merged, until no pair is left (ties go to the leftmost pair). This equals
// Hugging Face's BPE over the merges a converted Llama tokenizer.json lists.
// When the vocabulary comes with its own merge list (tokenizer.json), only
// those merges apply, ranked by position, exactly as in Hugging Face's BPE.
// Characters that are not tokens fall back to <0xNN> byte tokens, or to unk
// when the vocabulary has no byte tokens.
#include <cstdio>
#include <queue>

#include "engine/tokenizer_impl.h"
#include "engine/unicode_data.h"

namespace glassbox::engine {

namespace {

constexpr std::string_view kSpaceMarker = "\xE2\x96\x81";  // U+2581 "▁"

struct SpmSymbol {
    uint32_t begin;
    uint32_t len;  // 0 once merged into its left neighbour
    int32_t id;    // the token this symbol is, or kNoToken
    int32_t prev;
    int32_t next;
};

struct Bigram {
    float score;
    int32_t left;
    int32_t right;
    int32_t leftId;
    int32_t rightId;
    int32_t result;
    bool operator<(const Bigram& o) const {
        return score != o.score ? score < o.score : left > o.left;
    }
};

class SpmSession {
public:
    SpmSession(const TokenizerImpl& impl, std::string_view text) : m_impl(impl), m_text(text) {}

    // Merging is local: two neighbouring characters that never appear side
    // by side inside a token can never end up in one token, so the text is
    // cut there and each chunk is merged on its own (same result, small heaps).
    void run(std::vector<int32_t>& out) {
        m_chars.clear();
        uint32_t chunkStart = 0;
        uint32_t prevCp = kInvalidByteBase;
        for (uint32_t pos = 0; pos < m_text.size();) {
            size_t len = 0;
            const uint32_t cp = decodeUtf8(m_text, pos, len);
            if (pos > chunkStart && cp < kInvalidByteBase && prevCp < kInvalidByteBase &&
                !m_impl.spmPairs.count(codepointPair(prevCp, cp))) {
                runChunk(out);
                chunkStart = pos;
            }
            m_chars.push_back(SpmSymbol{pos, uint32_t(len), charToken(cp, pos, len), -1, -1});
            prevCp = cp;
            pos += uint32_t(len);
        }
        runChunk(out);
    }

private:
    int32_t charToken(uint32_t cp, uint32_t pos, size_t len) const {
        if (cp < m_impl.spmCharIds.size()) return m_impl.spmCharIds[cp];
        const auto it = m_impl.index.find(m_text.substr(pos, len));
        return it == m_impl.index.end() ? kNoToken : it->second;
    }

    // Merges the symbols collected in m_chars, emits them and clears m_chars.
    void runChunk(std::vector<int32_t>& out) {
        auto& syms = m_chars;
        const auto n = static_cast<int32_t>(syms.size());
        for (int32_t i = 0; i < n; ++i) {
            syms[i].prev = i - 1;
            syms[i].next = i + 1 < n ? i + 1 : -1;
        }
        for (int32_t i = 1; i < n; ++i) tryAdd(i - 1, i);
        while (!m_heap.empty()) {
            const Bigram b = m_heap.top();
            m_heap.pop();
            SpmSymbol& left = syms[b.left];
            SpmSymbol& right = syms[b.right];
            if (left.len == 0 || right.len == 0 || left.next != b.right || left.id != b.leftId ||
                right.id != b.rightId) {
                continue;
            }
            left.len += right.len;
            left.id = b.result;
            right.len = 0;
            left.next = right.next;
            if (right.next >= 0) syms[right.next].prev = b.left;
            tryAdd(left.prev, b.left);
            tryAdd(b.left, left.next);
        }
        for (const SpmSymbol& s : syms) {
            if (s.len > 0) emit(s, out);
        }
        syms.clear();
    }

    void tryAdd(int32_t left, int32_t right) {
        if (left < 0 || right < 0) return;
        const int32_t a = m_chars[left].id;
        const int32_t b = m_chars[right].id;
        if (a == kNoToken || b == kNoToken) return;
        const auto it = m_impl.spmMerges.find(pairKey(a, b));
        if (it == m_impl.spmMerges.end()) return;
        m_heap.push(Bigram{it->second.score, left, right, a, b, it->second.result});
    }

    void emit(const SpmSymbol& s, std::vector<int32_t>& out) const {
        if (s.id != kNoToken) {
            out.push_back(s.id);
            return;
        }
        for (char c : m_text.substr(s.begin, s.len)) {
            const int32_t id = m_impl.byteFallback[static_cast<uint8_t>(c)];
            if (id != kNoToken) {
                out.push_back(id);
            } else if (m_impl.vocab.unk != kNoToken) {
                out.push_back(m_impl.vocab.unk);
                return;  // one unk for the whole character
            }
        }
    }

    const TokenizerImpl& m_impl;
    std::string_view m_text;
    std::vector<SpmSymbol> m_chars;
    std::priority_queue<Bigram> m_heap;
};

// "<0xNN>" -> NN, or -1.
int parseByteToken(std::string_view piece) {
    if (piece.size() != 6 || piece.substr(0, 3) != "<0x" || piece[5] != '>') return -1;
    int v = 0;
    for (size_t i = 3; i < 5; ++i) {
        const char c = piece[i];
        int d = -1;
        if (c >= '0' && c <= '9') d = c - '0';
        else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
        else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
        if (d < 0) return -1;
        v = v * 16 + d;
    }
    return v;
}

std::string unescapeSpaces(std::string_view piece) {
    std::string out;
    out.reserve(piece.size());
    size_t pos = 0;
    while (pos < piece.size()) {
        if (piece.substr(pos, kSpaceMarker.size()) == kSpaceMarker) {
            out += ' ';
            pos += kSpaceMarker.size();
        } else {
            out += piece[pos++];
        }
    }
    return out;
}

// Merges listed in the vocabulary (tokenizer.json): ranked by position.
Status buildListedMerges(TokenizerImpl& impl) {
    const auto& merges = impl.vocab.merges;
    for (size_t i = 0; i < merges.size(); ++i) {
        const auto& [a, b] = merges[i];
        const auto ia = impl.index.find(std::string_view(a));
        const auto ib = impl.index.find(std::string_view(b));
        const auto ic = impl.index.find(a + b);
        if (ia == impl.index.end() || ib == impl.index.end() || ic == impl.index.end()) {
            return makeError(ErrorCode::Malformed, "merge '" + a + " " + b + "' names a string that is not a token",
                             "merges[" + std::to_string(i) + "]");
        }
        impl.spmMerges.emplace(pairKey(ia->second, ib->second), SpmMerge{ic->second, -float(i)});
    }
    return {};
}

// Without a merge list (GGUF), every way to split a token into two tokens,
// at a character boundary, is a merge ranked by the token's score. Either
// way, every pair of neighbouring characters inside a token is recorded.
Status buildSpmMerges(TokenizerImpl& impl) {
    const auto& tokens = impl.vocab.tokens;
    const auto& scores = impl.vocab.scores;
    const bool listed = !impl.vocab.merges.empty();
    if (listed) GB_TRY(buildListedMerges(impl));
    for (size_t id = 0; id < tokens.size(); ++id) {
        const std::string& t = tokens[id];
        if (impl.types[id] == TokenType::Byte) continue;
        const auto self = impl.index.find(std::string_view(t));
        if (self == impl.index.end() || size_t(self->second) != id) continue;  // a duplicate text
        uint32_t prev = kInvalidByteBase;
        for (size_t pos = 0, len = 0; pos < t.size(); pos += len) {
            const uint32_t cp = decodeUtf8(t, pos, len);
            if (pos == 0) {
                prev = cp;
                continue;
            }
            impl.spmPairs.insert(codepointPair(prev, cp));
            prev = cp;
            if (listed) continue;
            const auto a = impl.index.find(std::string_view(t).substr(0, pos));
            const auto b = impl.index.find(std::string_view(t).substr(pos));
            if (a == impl.index.end() || b == impl.index.end()) continue;
            const float score = scores.empty() ? 0.0f : scores[id];
            impl.spmMerges.emplace(pairKey(a->second, b->second), SpmMerge{int32_t(id), score});
        }
    }
    return {};
}

}  // namespace

Status buildSpmTables(TokenizerImpl& impl) {
    for (int b = 0; b < 256; ++b) {
        char name[8];
        std::snprintf(name, sizeof name, "<0x%02X>", b);
        const auto it = impl.index.find(std::string_view(name));
        impl.byteFallback[size_t(b)] = it == impl.index.end() ? kNoToken : it->second;
    }
    const auto& tokens = impl.vocab.tokens;
    GB_TRY(buildSpmMerges(impl));
    impl.spmCharIds.assign(0x10000, kNoToken);
    for (uint32_t cp = 0; cp < 0x10000; ++cp) {
        if (cp >= 0xD800 && cp <= 0xDFFF) continue;
        std::string s;
        appendUtf8(s, cp);
        const auto it = impl.index.find(std::string_view(s));
        if (it != impl.index.end()) impl.spmCharIds[cp] = it->second;
    }
    impl.texts.resize(tokens.size());
    for (size_t i = 0; i < tokens.size(); ++i) {
        const TokenType t = impl.types[i];
        if (t == TokenType::Control || t == TokenType::UserDefined || t == TokenType::Unknown) {
            impl.texts[i] = tokens[i];
        } else if (t == TokenType::Byte && parseByteToken(tokens[i]) >= 0) {
            impl.texts[i] = std::string(1, static_cast<char>(parseByteToken(tokens[i])));
        } else {
            impl.texts[i] = unescapeSpaces(tokens[i]);
        }
    }
    return {};
}

void encodeSpmFragment(const TokenizerImpl& impl, std::string_view text, bool afterSpecial,
                       std::vector<int32_t>& out) {
    if (text.empty()) return;
    std::string escaped;
    escaped.reserve(text.size() + 8);
    if (impl.vocab.addSpacePrefix && afterSpecial) escaped += kSpaceMarker;
    for (char c : text) {
        if (c == ' ') {
            escaped += kSpaceMarker;
        } else {
            escaped += c;
        }
    }
    if (escaped.size() > UINT32_MAX / 2) return;  // symbol offsets are 32-bit
    SpmSession(impl, escaped).run(out);
}

}  // namespace glassbox::engine
