// Hand-written equivalents of the BPE pre-tokenizer regexes. Each matcher
// walks decoded codepoints and reproduces the leftmost-alternative, greedy
// semantics of the original pattern, including the backtracking behaviour of
// \s+(?!\S) (a whitespace run gives up its last character to a following
// word) and \s*[\r\n]+ (a whitespace run up to its last line break).
#include "engine/pretokenizer.h"

#include <array>

#include "engine/unicode_data.h"

namespace glassbox::engine {

namespace {

constexpr uint8_t kLN = kCpLetter | kCpNumber;
constexpr uint8_t kLNW = kCpLetter | kCpNumber | kCpWhitespace;

// Decoded text: codepoints, their class flags and byte offsets (n + 1).
struct Decoded {
    std::vector<uint32_t> cps;
    std::vector<uint8_t> flags;
    std::vector<size_t> offs;
};

uint8_t flagsFor(uint32_t cp) {
    static const std::array<uint8_t, 128> ascii = [] {
        std::array<uint8_t, 128> t{};
        for (uint32_t c = 0; c < 128; ++c) t[c] = codepointFlags(c);
        return t;
    }();
    return cp < 128 ? ascii[cp] : codepointFlags(cp);
}

void decode(std::string_view text, Decoded& d) {
    d.cps.clear();
    d.flags.clear();
    d.offs.clear();
    d.cps.reserve(text.size());
    d.flags.reserve(text.size());
    d.offs.reserve(text.size() + 1);
    size_t pos = 0;
    while (pos < text.size()) {
        size_t len = 0;
        const uint32_t cp = decodeUtf8(text, pos, len);
        d.cps.push_back(cp);
        d.flags.push_back(flagsFor(cp));
        d.offs.push_back(pos);
        pos += len;
    }
    d.offs.push_back(text.size());
}

bool isLineBreak(uint32_t c) { return c == '\r' || c == '\n'; }

// Folds the letters used by the case-insensitive contractions; U+017F (long
// s) folds to 's' under Unicode case folding.
uint32_t foldContraction(uint32_t c) {
    if (c >= 'A' && c <= 'Z') return c + 32;
    if (c == 0x17F) return 's';
    return c;
}

// Length (0, 2 or 3) of a contraction 's 't 're 've 'm 'll 'd at pos.
size_t contractionLength(const Decoded& d, size_t pos, size_t end, bool ignoreCase) {
    if (d.cps[pos] != '\'' || pos + 1 >= end) return 0;
    auto at = [&](size_t i) { return ignoreCase ? foldContraction(d.cps[i]) : d.cps[i]; };
    const uint32_t c1 = at(pos + 1);
    if (c1 == 's' || c1 == 't' || c1 == 'm' || c1 == 'd') return 2;
    if (pos + 2 >= end) return 0;
    const uint32_t c2 = at(pos + 2);
    if ((c1 == 'r' && c2 == 'e') || (c1 == 'v' && c2 == 'e') || (c1 == 'l' && c2 == 'l')) return 3;
    return 0;
}

// Index past the run of codepoints from `pos` that have any of `want` flags.
size_t runWith(const Decoded& d, size_t pos, size_t end, uint8_t want) {
    while (pos < end && (d.flags[pos] & want)) ++pos;
    return pos;
}

// Index past the run of codepoints from `pos` that have none of `avoid`.
size_t runWithout(const Decoded& d, size_t pos, size_t end, uint8_t avoid) {
    while (pos < end && !(d.flags[pos] & avoid)) ++pos;
    return pos;
}

// \s+(?!\S)|\s+ at a whitespace codepoint: the run, minus its last character
// when a non-space follows and the run is longer than one.
size_t whitespaceEnd(const Decoded& d, size_t pos, size_t end) {
    const size_t k = runWith(d, pos, end, kCpWhitespace);
    if (k == end || k - pos == 1) return k;
    return k - 1;
}

// One GPT-2 regex match starting at pos; returns its end.
size_t matchGpt2(const Decoded& d, size_t pos, size_t end) {
    if (size_t n = contractionLength(d, pos, end, false)) return pos + n;
    const size_t q = (d.cps[pos] == ' ' && pos + 1 < end) ? pos + 1 : pos;
    const uint8_t fq = d.flags[q];
    if (fq & kCpLetter) return runWith(d, q, end, kCpLetter);
    if (fq & kCpNumber) return runWith(d, q, end, kCpNumber);
    if (!(fq & kLNW)) return runWithout(d, q, end, kLNW);
    return whitespaceEnd(d, pos, end);
}

// One Llama-3 / Qwen2 regex match starting at pos; returns its end.
size_t matchLlama3(const Decoded& d, size_t pos, size_t end, size_t maxDigits) {
    if (size_t n = contractionLength(d, pos, end, true)) return pos + n;
    const uint32_t c = d.cps[pos];
    const uint8_t f = d.flags[pos];
    // [^\r\n\p{L}\p{N}]?\p{L}+
    if (!isLineBreak(c) && !(f & kLN) && pos + 1 < end && (d.flags[pos + 1] & kCpLetter)) {
        return runWith(d, pos + 1, end, kCpLetter);
    }
    if (f & kCpLetter) return runWith(d, pos, end, kCpLetter);
    // \p{N}{1,maxDigits}
    if (f & kCpNumber) {
        size_t k = pos;
        while (k < end && k - pos < maxDigits && (d.flags[k] & kCpNumber)) ++k;
        return k;
    }
    // ' ?[^\s\p{L}\p{N}]+[\r\n]*'
    const size_t q = (c == ' ' && pos + 1 < end) ? pos + 1 : pos;
    if (!(d.flags[q] & kLNW)) {
        size_t k = runWithout(d, q, end, kLNW);
        while (k < end && isLineBreak(d.cps[k])) ++k;
        return k;
    }
    // \s*[\r\n]+ : the whitespace run up to and including its last line break.
    const size_t k = runWith(d, pos, end, kCpWhitespace);
    for (size_t j = k; j > pos; --j) {
        if (isLineBreak(d.cps[j - 1])) return j;
    }
    return whitespaceEnd(d, pos, end);
}

void emit(const Decoded& d, size_t from, size_t to, std::vector<TextSpan>& out) {
    if (from < to) out.push_back(TextSpan{d.offs[from], d.offs[to]});
}

void splitRange(PreTokenizerKind kind, const Decoded& d, size_t begin, size_t end,
                std::vector<TextSpan>& out) {
    size_t pos = begin;
    while (pos < end) {
        size_t next = pos;
        switch (kind) {
            case PreTokenizerKind::Gpt2:
            case PreTokenizerKind::Gpt2Digits: next = matchGpt2(d, pos, end); break;
            case PreTokenizerKind::Llama3: next = matchLlama3(d, pos, end, 3); break;
            case PreTokenizerKind::Qwen2: next = matchLlama3(d, pos, end, 1); break;
        }
        if (next <= pos) next = pos + 1;  // cannot happen; guarantees progress
        emit(d, pos, next, out);
        pos = next;
    }
}

}  // namespace

namespace {

struct PreTokenizerName {
    std::string_view name;
    PreTokenizerKind kind;
    bool ignoreMerges;
};

// llama.cpp's pre-tokenizer names for the regex families handled here.
constexpr PreTokenizerName kPreTokenizerNames[] = {
    {"", PreTokenizerKind::Gpt2, false},
    {"default", PreTokenizerKind::Gpt2, false},
    {"gpt2", PreTokenizerKind::Gpt2, false},
    {"gpt-2", PreTokenizerKind::Gpt2, false},
    {"phi-2", PreTokenizerKind::Gpt2, false},
    {"mpt", PreTokenizerKind::Gpt2, false},
    {"olmo", PreTokenizerKind::Gpt2, false},
    {"jais", PreTokenizerKind::Gpt2, false},
    {"exaone4", PreTokenizerKind::Gpt2, false},
    {"roberta-bpe", PreTokenizerKind::Gpt2, false},
    {"smollm", PreTokenizerKind::Gpt2Digits, false},
    {"starcoder", PreTokenizerKind::Gpt2Digits, false},
    {"refact", PreTokenizerKind::Gpt2Digits, false},
    {"command-r", PreTokenizerKind::Gpt2Digits, false},
    {"codeshell", PreTokenizerKind::Gpt2Digits, false},
    {"exaone", PreTokenizerKind::Gpt2Digits, false},
    {"minerva-7b", PreTokenizerKind::Gpt2Digits, false},
    {"llama3", PreTokenizerKind::Llama3, true},
    {"llama-v3", PreTokenizerKind::Llama3, true},
    {"llama-bpe", PreTokenizerKind::Llama3, true},
    {"falcon3", PreTokenizerKind::Llama3, true},
    {"falcon-h1", PreTokenizerKind::Llama3, true},
    {"pixtral", PreTokenizerKind::Llama3, true},
    {"midm-2.0", PreTokenizerKind::Llama3, true},
    {"lfm2", PreTokenizerKind::Llama3, true},
    {"dbrx", PreTokenizerKind::Llama3, false},
    {"smaug-bpe", PreTokenizerKind::Llama3, false},
    {"qwen2", PreTokenizerKind::Qwen2, false},
    {"deepseek-r1-qwen", PreTokenizerKind::Qwen2, false},
    {"stablelm2", PreTokenizerKind::Qwen2, false},
    {"megrez", PreTokenizerKind::Qwen2, false},
};

const PreTokenizerName* findPreTokenizerName(std::string_view name) {
    for (const auto& n : kPreTokenizerNames) {
        if (n.name == name) return &n;
    }
    return nullptr;
}

}  // namespace

std::optional<PreTokenizerKind> preTokenizerKindFromName(std::string_view name) {
    const PreTokenizerName* n = findPreTokenizerName(name);
    if (!n) return std::nullopt;
    return n->kind;
}

bool preTokenizerIgnoresMerges(std::string_view name) {
    const PreTokenizerName* n = findPreTokenizerName(name);
    return n && n->ignoreMerges;
}

const char* preTokenizerKindName(PreTokenizerKind kind) {
    switch (kind) {
        case PreTokenizerKind::Gpt2: return "gpt2";
        case PreTokenizerKind::Gpt2Digits: return "smollm";
        case PreTokenizerKind::Llama3: return "llama3";
        case PreTokenizerKind::Qwen2: return "qwen2";
    }
    return "gpt2";
}

void preTokenize(PreTokenizerKind kind, std::string_view text, std::vector<TextSpan>& out) {
    Decoded d;
    decode(text, d);
    const size_t n = d.cps.size();
    if (kind != PreTokenizerKind::Gpt2Digits) {
        splitRange(kind, d, 0, n, out);
        return;
    }
    // Every number codepoint is its own piece; the regex runs between them.
    size_t start = 0;
    for (size_t i = 0; i < n; ++i) {
        if (d.flags[i] & kCpNumber) {
            splitRange(kind, d, start, i, out);
            emit(d, i, i + 1, out);
            start = i + 1;
        }
    }
    splitRange(kind, d, start, n, out);
}

}  // namespace glassbox::engine
