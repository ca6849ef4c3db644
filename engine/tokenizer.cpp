// Tokenizer front end: vocabulary validation, special-token matching
// (leftmost-longest, before any pre-tokenization), dispatch to the BPE or Spm
// encoder for the plain text between special tokens, and decoding.
#include "engine/tokenizer.h"

#include <algorithm>
#include <climits>

#include "engine/tokenizer_impl.h"
#include "engine/unicode_data.h"

namespace glassbox::engine {

namespace {

Status checkSpecialId(int32_t id, int32_t n, const char* field) {
    if (id == kNoToken || (id >= 0 && id < n)) return {};
    return makeError(ErrorCode::InvalidArgument,
                     "special token id " + std::to_string(id) + " is outside the vocabulary of " +
                         std::to_string(n) + " tokens",
                     field);
}

Status validate(const VocabData& v) {
    if (v.tokens.empty()) return makeError(ErrorCode::InvalidArgument, "the vocabulary has no tokens", "tokens");
    if (v.tokens.size() > size_t(INT32_MAX)) {
        return makeError(ErrorCode::InvalidArgument, "the vocabulary has too many tokens", "tokens");
    }
    const auto n = static_cast<int32_t>(v.tokens.size());
    if (!v.scores.empty() && v.scores.size() != v.tokens.size()) {
        return makeError(ErrorCode::InvalidArgument,
                         std::to_string(v.scores.size()) + " scores for " + std::to_string(n) + " tokens", "scores");
    }
    if (!v.types.empty() && v.types.size() != v.tokens.size()) {
        return makeError(ErrorCode::InvalidArgument,
                         std::to_string(v.types.size()) + " token types for " + std::to_string(n) + " tokens",
                         "types");
    }
    for (size_t i = 0; i < v.types.size(); ++i) {
        const auto t = static_cast<int32_t>(v.types[i]);
        if (t < 0 || t > static_cast<int32_t>(TokenType::Byte)) {
            return makeError(ErrorCode::InvalidArgument,
                             "token " + std::to_string(i) + " has type " + std::to_string(t) + ", not 0..6",
                             "types");
        }
    }
    GB_TRY(checkSpecialId(v.bos, n, "bos"));
    GB_TRY(checkSpecialId(v.eos, n, "eos"));
    GB_TRY(checkSpecialId(v.eot, n, "eot"));
    GB_TRY(checkSpecialId(v.eom, n, "eom"));
    GB_TRY(checkSpecialId(v.unk, n, "unk"));
    GB_TRY(checkSpecialId(v.pad, n, "pad"));
    if (v.model == VocabModel::Bpe && !preTokenizerKindFromName(v.pre)) {
        return makeError(ErrorCode::InvalidArgument, "unknown pre-tokenizer '" + v.pre + "'", "pre");
    }
    return {};
}

void buildSpecials(TokenizerImpl& impl) {
    const auto& tokens = impl.vocab.tokens;
    for (size_t i = 0; i < tokens.size(); ++i) {
        const TokenType t = impl.types[i];
        if (tokens[i].empty()) continue;
        if (t != TokenType::Control && t != TokenType::UserDefined && t != TokenType::Unknown) continue;
        impl.specials.push_back(SpecialToken{tokens[i], int32_t(i), t == TokenType::UserDefined});
    }
    std::stable_sort(impl.specials.begin(), impl.specials.end(), [](const SpecialToken& a, const SpecialToken& b) {
        const auto fa = static_cast<uint8_t>(a.text[0]);
        const auto fb = static_cast<uint8_t>(b.text[0]);
        return fa != fb ? fa < fb : a.text.size() > b.text.size();
    });
    size_t k = 0;
    for (uint32_t b = 0; b <= 256; ++b) {
        while (k < impl.specials.size() && static_cast<uint8_t>(impl.specials[k].text[0]) < b) ++k;
        impl.specialStart[b] = uint32_t(k);
    }
}

void buildEndOfGeneration(TokenizerImpl& impl) {
    static constexpr std::string_view kNames[] = {
        "<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|eom_id|>",
        "<EOT>", "<|end_of_text|>", "<end_of_utterance>", "<|return|>", "<|call|>",
    };
    auto& eog = impl.endOfGeneration;
    for (int32_t id : {impl.vocab.eos, impl.vocab.eot, impl.vocab.eom}) {
        if (id != kNoToken) eog.push_back(id);
    }
    for (std::string_view name : kNames) {
        const auto it = impl.index.find(name);
        if (it == impl.index.end()) continue;
        const TokenType t = impl.types[size_t(it->second)];
        if (t == TokenType::Control || t == TokenType::UserDefined) eog.push_back(it->second);
    }
    std::sort(eog.begin(), eog.end());
    eog.erase(std::unique(eog.begin(), eog.end()), eog.end());
}

// The longest special token starting at text[pos], or nullptr.
const SpecialToken* matchSpecial(const TokenizerImpl& impl, std::string_view text, size_t pos, bool parseSpecial) {
    const auto b = static_cast<uint8_t>(text[pos]);
    for (uint32_t k = impl.specialStart[b]; k < impl.specialStart[b + 1]; ++k) {
        const SpecialToken& s = impl.specials[k];
        if (!parseSpecial && !s.always) continue;
        if (text.compare(pos, s.text.size(), s.text) == 0) return &s;
    }
    return nullptr;
}

void encodeFragment(const TokenizerImpl& impl, std::string_view text, bool afterSpecial, std::vector<int32_t>& out) {
    if (impl.vocab.model == VocabModel::Bpe) {
        encodeBpeFragment(impl, text, out);
    } else {
        encodeSpmFragment(impl, text, afterSpecial, out);
    }
}

}  // namespace

const char* vocabModelName(VocabModel model) {
    return model == VocabModel::Bpe ? "bpe" : "spm";
}

Result<Tokenizer> Tokenizer::create(VocabData vocab) {
    GB_TRY(validate(vocab));
    auto impl = std::make_shared<TokenizerImpl>();
    impl->vocab = std::move(vocab);
    const auto& tokens = impl->vocab.tokens;
    impl->types = impl->vocab.types;
    if (impl->types.empty()) impl->types.assign(tokens.size(), TokenType::Normal);
    impl->index.reserve(tokens.size());
    for (size_t i = 0; i < tokens.size(); ++i) impl->index.emplace(tokens[i], int32_t(i));
    if (impl->vocab.model == VocabModel::Bpe) {
        impl->pre = *preTokenizerKindFromName(impl->vocab.pre);
        GB_TRY(buildBpeTables(*impl));
    } else {
        GB_TRY(buildSpmTables(*impl));
    }
    buildSpecials(*impl);
    buildEndOfGeneration(*impl);
    return Tokenizer(std::move(impl));
}

std::vector<int32_t> Tokenizer::encode(std::string_view text, bool addSpecial, bool parseSpecial) const {
    const TokenizerImpl& impl = *m_impl;
    std::vector<int32_t> out;
    out.reserve(text.size() / 3 + 4);
    if (addSpecial && impl.vocab.addBos && impl.vocab.bos != kNoToken) out.push_back(impl.vocab.bos);
    bool afterSpecial = true;
    size_t start = 0;
    if (!impl.specials.empty()) {
        for (size_t pos = 0; pos < text.size();) {
            const SpecialToken* s = matchSpecial(impl, text, pos, parseSpecial);
            if (!s) {
                ++pos;
                continue;
            }
            if (pos > start) encodeFragment(impl, text.substr(start, pos - start), afterSpecial, out);
            out.push_back(s->id);
            afterSpecial = true;
            pos += s->text.size();
            start = pos;
        }
    }
    if (start < text.size()) encodeFragment(impl, text.substr(start), afterSpecial, out);
    if (addSpecial && impl.vocab.addEos && impl.vocab.eos != kNoToken) out.push_back(impl.vocab.eos);
    return out;
}

std::string Tokenizer::decode(std::span<const int32_t> ids, bool skipControl) const {
    TokenStreamDecoder stream(*this, skipControl);
    std::string out;
    for (int32_t id : ids) out += stream.push(id);
    out += stream.flush();
    return out;
}

std::string Tokenizer::tokenPiece(int32_t id) const {
    return m_impl->valid(id) ? m_impl->vocab.tokens[size_t(id)] : std::string();
}

std::string Tokenizer::tokenText(int32_t id) const {
    return m_impl->valid(id) ? m_impl->texts[size_t(id)] : std::string();
}

std::string_view Tokenizer::textView(int32_t id) const {
    return m_impl->valid(id) ? std::string_view(m_impl->texts[size_t(id)]) : std::string_view();
}

std::optional<int32_t> Tokenizer::tokenId(std::string_view piece) const {
    const auto it = m_impl->index.find(piece);
    if (it == m_impl->index.end()) return std::nullopt;
    return it->second;
}

int32_t Tokenizer::nVocab() const { return m_impl->nVocab(); }
int32_t Tokenizer::bos() const { return m_impl->vocab.bos; }
int32_t Tokenizer::eos() const { return m_impl->vocab.eos; }
int32_t Tokenizer::eot() const { return m_impl->vocab.eot; }
int32_t Tokenizer::unk() const { return m_impl->vocab.unk; }
int32_t Tokenizer::pad() const { return m_impl->vocab.pad; }
bool Tokenizer::addBos() const { return m_impl->vocab.addBos; }
VocabModel Tokenizer::model() const { return m_impl->vocab.model; }
const VocabData& Tokenizer::vocab() const { return m_impl->vocab; }

TokenType Tokenizer::tokenType(int32_t id) const {
    return m_impl->valid(id) ? m_impl->types[size_t(id)] : TokenType::Undefined;
}

bool Tokenizer::isEndOfGeneration(int32_t id) const {
    const auto& eog = m_impl->endOfGeneration;
    return std::binary_search(eog.begin(), eog.end(), id);
}

bool Tokenizer::isControl(int32_t id) const { return tokenType(id) == TokenType::Control; }

TokenStreamDecoder::TokenStreamDecoder(const Tokenizer& tokenizer, bool skipControl)
    : m_tokenizer(&tokenizer), m_skipControl(skipControl) {}

std::string TokenStreamDecoder::push(int32_t id) {
    const TokenType type = m_tokenizer->tokenType(id);
    if (type == TokenType::Undefined && (id < 0 || id >= m_tokenizer->nVocab())) return {};
    if (m_skipControl && type == TokenType::Control) return {};
    std::string_view text = m_tokenizer->textView(id);
    if (!m_started && !text.empty()) {
        m_started = true;
        const bool stripPrefix = m_tokenizer->model() == VocabModel::Spm && m_tokenizer->vocab().addSpacePrefix &&
                                 type != TokenType::Control && type != TokenType::UserDefined;
        if (stripPrefix && text.front() == ' ') text.remove_prefix(1);
    }
    m_pending.append(text);
    const size_t ready = completeUtf8Prefix(m_pending);
    std::string out = m_pending.substr(0, ready);
    m_pending.erase(0, ready);
    return out;
}

std::string TokenStreamDecoder::flush() {
    std::string out;
    out.swap(m_pending);
    return out;
}

void TokenStreamDecoder::reset() {
    m_pending.clear();
    m_started = false;
}

}  // namespace glassbox::engine
