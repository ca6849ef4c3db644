// Byte-level BPE (GPT-2 family): the text is split into words by the
// pre-tokenizer, each word's bytes start as byte-level symbols, and the
// adjacent pair with the lowest merge rank is merged until none applies
// (ties go to the leftmost pair). Word results are cached.
#include <queue>

#include "engine/tokenizer_impl.h"
#include "engine/unicode_data.h"

namespace glassbox::engine {

namespace {

constexpr uint32_t kByteLevelLimit = 512;  // every byte-level codepoint is below this

struct ByteLevelTables {
    std::array<uint32_t, 256> toUnicode{};
    std::array<int16_t, kByteLevelLimit> toByte{};
};

const ByteLevelTables& byteLevelTables() {
    static const ByteLevelTables tables = [] {
        ByteLevelTables t;
        t.toByte.fill(-1);
        uint32_t next = 256;
        for (uint32_t b = 0; b < 256; ++b) {
            const bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE;
            t.toUnicode[b] = printable ? b : next++;
            t.toByte[t.toUnicode[b]] = static_cast<int16_t>(b);
        }
        return t;
    }();
    return tables;
}

// The bytes a byte-level token string stands for. Codepoints outside the
// byte-level alphabet are kept as their UTF-8 bytes.
std::string byteLevelDecode(std::string_view piece) {
    std::string out;
    out.reserve(piece.size());
    size_t pos = 0;
    while (pos < piece.size()) {
        size_t len = 0;
        const uint32_t cp = decodeUtf8(piece, pos, len);
        const int b = unicodeToByte(cp);
        if (b >= 0) {
            out += static_cast<char>(b);
        } else {
            out.append(piece.substr(pos, len));
        }
        pos += len;
    }
    return out;
}

struct Symbol {
    int32_t id;
    int32_t prev;
    int32_t next;
    bool alive;
};

struct Candidate {
    int32_t rank;
    int32_t left;  // symbol index
    int32_t leftId;
    int32_t rightId;
    int32_t result;
    bool operator>(const Candidate& o) const {
        return rank != o.rank ? rank > o.rank : left > o.left;
    }
};

void pushCandidate(const TokenizerImpl& impl, const std::vector<Symbol>& syms, int32_t left,
                   std::priority_queue<Candidate, std::vector<Candidate>, std::greater<>>& heap) {
    if (left < 0) return;
    const int32_t right = syms[left].next;
    if (right < 0) return;
    const auto it = impl.merges.find(pairKey(syms[left].id, syms[right].id));
    if (it == impl.merges.end()) return;
    heap.push(Candidate{it->second.rank, left, syms[left].id, syms[right].id, it->second.result});
}

// BPE over one word's bytes.
void mergeWord(const TokenizerImpl& impl, std::string_view word, std::vector<int32_t>& out) {
    std::vector<Symbol> syms;
    syms.reserve(word.size());
    for (char c : word) {
        // A byte the vocabulary has no token for is dropped, as the reference
        // implementations do for byte-level vocabularies.
        const int32_t id = impl.byteTokens[static_cast<uint8_t>(c)];
        if (id != kNoToken) syms.push_back(Symbol{id, 0, 0, true});
    }
    const auto n = static_cast<int32_t>(syms.size());
    for (int32_t i = 0; i < n; ++i) {
        syms[i].prev = i - 1;
        syms[i].next = i + 1 < n ? i + 1 : -1;
    }
    std::priority_queue<Candidate, std::vector<Candidate>, std::greater<>> heap;
    for (int32_t i = 0; i + 1 < n; ++i) pushCandidate(impl, syms, i, heap);
    while (!heap.empty()) {
        const Candidate c = heap.top();
        heap.pop();
        Symbol& left = syms[c.left];
        if (!left.alive || left.id != c.leftId || left.next < 0) continue;
        Symbol& right = syms[left.next];
        if (right.id != c.rightId) continue;
        left.id = c.result;
        right.alive = false;
        left.next = right.next;
        if (right.next >= 0) syms[right.next].prev = c.left;
        pushCandidate(impl, syms, left.prev, heap);
        pushCandidate(impl, syms, c.left, heap);
    }
    for (int32_t i = 0; i < n; ++i) {
        if (syms[i].alive) out.push_back(syms[i].id);
    }
}

void encodeWord(const TokenizerImpl& impl, std::string_view word, std::vector<int32_t>& out) {
    if (impl.vocab.ignoreMerges) {
        std::string mapped;
        for (char c : word) appendUtf8(mapped, byteToUnicode(static_cast<uint8_t>(c)));
        const auto it = impl.index.find(std::string_view(mapped));
        if (it != impl.index.end()) {
            out.push_back(it->second);
            return;
        }
    }
    if (word.size() == 1) {
        const int32_t id = impl.byteTokens[static_cast<uint8_t>(word[0])];
        if (id != kNoToken) {
            out.push_back(id);
            return;
        }
    }
    thread_local std::vector<int32_t> ids;
    ids.clear();
    if (impl.cache.find(word, ids)) {
        out.insert(out.end(), ids.begin(), ids.end());
        return;
    }
    mergeWord(impl, word, ids);
    impl.cache.store(word, ids);
    out.insert(out.end(), ids.begin(), ids.end());
}

}  // namespace

uint32_t byteToUnicode(uint8_t byte) { return byteLevelTables().toUnicode[byte]; }

int unicodeToByte(uint32_t cp) {
    return cp < kByteLevelLimit ? byteLevelTables().toByte[cp] : -1;
}

bool BpeWordCache::find(std::string_view word, std::vector<int32_t>& out) const {
    if (word.size() > kMaxWordBytes) return false;
    std::lock_guard lock(m_mutex);
    const auto it = m_map.find(word);
    if (it == m_map.end()) return false;
    out = it->second;
    return true;
}

void BpeWordCache::store(std::string_view word, const std::vector<int32_t>& ids) const {
    if (word.size() > kMaxWordBytes) return;
    std::lock_guard lock(m_mutex);
    if (m_map.size() >= kMaxEntries) m_map.clear();
    m_map.emplace(std::string(word), ids);
}

Status buildBpeTables(TokenizerImpl& impl) {
    const auto& tokens = impl.vocab.tokens;
    for (uint32_t b = 0; b < 256; ++b) {
        std::string s;
        appendUtf8(s, byteToUnicode(static_cast<uint8_t>(b)));
        const auto it = impl.index.find(std::string_view(s));
        impl.byteTokens[b] = it == impl.index.end() ? kNoToken : it->second;
    }
    impl.merges.reserve(impl.vocab.merges.size());
    for (size_t i = 0; i < impl.vocab.merges.size(); ++i) {
        const auto& [a, b] = impl.vocab.merges[i];
        const auto ia = impl.index.find(std::string_view(a));
        const auto ib = impl.index.find(std::string_view(b));
        const std::string field = "merges[" + std::to_string(i) + "]";
        if (ia == impl.index.end() || ib == impl.index.end()) {
            return makeError(ErrorCode::Malformed,
                             "merge '" + a + " " + b + "' names a token that is not in the vocabulary", field);
        }
        const auto ic = impl.index.find(a + b);
        if (ic == impl.index.end()) {
            return makeError(ErrorCode::Malformed,
                             "merge '" + a + " " + b + "' makes a string that is not in the vocabulary", field);
        }
        if (i > size_t(INT32_MAX)) return makeError(ErrorCode::InvalidArgument, "too many merges", "merges");
        impl.merges.emplace(pairKey(ia->second, ib->second), BpeMerge{int32_t(i), ic->second});
    }
    impl.texts.resize(tokens.size());
    for (size_t i = 0; i < tokens.size(); ++i) {
        const TokenType t = impl.types[i];
        const bool raw = t == TokenType::Control || t == TokenType::UserDefined || t == TokenType::Unknown;
        impl.texts[i] = raw ? tokens[i] : byteLevelDecode(tokens[i]);
    }
    return {};
}

void encodeBpeFragment(const TokenizerImpl& impl, std::string_view text, std::vector<int32_t>& out) {
    std::vector<TextSpan> spans;
    preTokenize(impl.pre, text, spans);
    for (const TextSpan& s : spans) encodeWord(impl, text.substr(s.begin, s.end - s.begin), out);
}

}  // namespace glassbox::engine
