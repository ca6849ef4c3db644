// SentencePiece-style BPE (Llama 2 family): spaces become "▁" (with one
// prepended when the vocabulary asks for a space prefix), the text starts as
// one symbol per UTF-8 character, and the adjacent pair whose concatenation
// is the highest-scoring token is merged until none is a token (ties go to
// the leftmost pair). Symbols that are not tokens fall back to <0xNN> byte
// tokens, or to unk when the vocabulary has no byte tokens.
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
    int32_t prev;
    int32_t next;
};

struct Bigram {
    float score;
    int32_t left;
    int32_t right;
    uint32_t size;
    bool operator<(const Bigram& o) const {
        return score != o.score ? score < o.score : left > o.left;
    }
};

class SpmSession {
public:
    SpmSession(const TokenizerImpl& impl, std::string_view text) : m_impl(impl), m_text(text) {}

    void run(std::vector<int32_t>& out) {
        for (uint32_t pos = 0; pos < m_text.size();) {
            size_t len = 0;
            decodeUtf8(m_text, pos, len);
            const auto index = static_cast<int32_t>(m_syms.size());
            m_syms.push_back(SpmSymbol{pos, uint32_t(len), index - 1, -1});
            if (index > 0) m_syms[index - 1].next = index;
            pos += uint32_t(len);
        }
        for (int32_t i = 1; i < static_cast<int32_t>(m_syms.size()); ++i) tryAdd(i - 1, i);
        while (!m_heap.empty()) {
            const Bigram b = m_heap.top();
            m_heap.pop();
            SpmSymbol& left = m_syms[b.left];
            SpmSymbol& right = m_syms[b.right];
            if (left.len == 0 || right.len == 0 || left.next != b.right || left.len + right.len != b.size) {
                continue;
            }
            left.len += right.len;
            right.len = 0;
            left.next = right.next;
            if (right.next >= 0) m_syms[right.next].prev = b.left;
            tryAdd(left.prev, b.left);
            tryAdd(b.left, left.next);
        }
        for (const SpmSymbol& s : m_syms) {
            if (s.len > 0) emit(m_text.substr(s.begin, s.len), out);
        }
    }

private:
    void tryAdd(int32_t left, int32_t right) {
        if (left < 0 || right < 0) return;
        const uint32_t size = m_syms[left].len + m_syms[right].len;
        const auto it = m_impl.index.find(m_text.substr(m_syms[left].begin, size));
        if (it == m_impl.index.end()) return;
        const auto& scores = m_impl.vocab.scores;
        const float score = scores.empty() ? 0.0f : scores[size_t(it->second)];
        m_heap.push(Bigram{score, left, right, size});
    }

    void emit(std::string_view piece, std::vector<int32_t>& out) const {
        const auto it = m_impl.index.find(piece);
        if (it != m_impl.index.end()) {
            out.push_back(it->second);
            return;
        }
        for (char c : piece) {
            const int32_t id = m_impl.byteFallback[static_cast<uint8_t>(c)];
            if (id != kNoToken) {
                out.push_back(id);
            } else if (m_impl.vocab.unk != kNoToken) {
                out.push_back(m_impl.vocab.unk);
                return;  // one unk for the whole piece
            }
        }
    }

    const TokenizerImpl& m_impl;
    std::string_view m_text;
    std::vector<SpmSymbol> m_syms;
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

}  // namespace

Status buildSpmTables(TokenizerImpl& impl) {
    for (int b = 0; b < 256; ++b) {
        char name[8];
        std::snprintf(name, sizeof name, "<0x%02X>", b);
        const auto it = impl.index.find(std::string_view(name));
        impl.byteFallback[size_t(b)] = it == impl.index.end() ? kNoToken : it->second;
    }
    const auto& tokens = impl.vocab.tokens;
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
