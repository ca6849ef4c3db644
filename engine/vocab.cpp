// Vocabulary loaders: GGUF tokenizer.ggml.* metadata, and Hugging Face
// tokenizer.json + tokenizer_config.json. They only gather data and check
// types; Tokenizer::create does the semantic validation.
#include "engine/vocab.h"

#include <algorithm>
#include <climits>

#include "engine/gguf_file.h"
#include "engine/json.h"
#include "engine/pretokenizer.h"
#include "engine/tokenizer_impl.h"

namespace glassbox::engine {

namespace {

Error wrongType(const std::string& key, const char* expected) {
    return makeError(ErrorCode::Malformed, "expected " + std::string(expected), key);
}

// An optional token id: absent -> fallback; present -> must fit an int32.
Result<int32_t> ggufTokenId(const GgufFile& file, const std::string& key, int32_t fallback) {
    const GgufValue* v = file.find(key);
    if (!v) return fallback;
    const auto id = v->asInt();
    if (!id) return wrongType(key, "an integer token id");
    // Some converters write -1, or ~0 as an unsigned value, for "none".
    if (*id < 0 || *id == int64_t(UINT32_MAX)) return kNoToken;
    if (*id < INT32_MIN || *id > INT32_MAX) {
        return makeError(ErrorCode::Malformed, "token id " + std::to_string(*id) + " out of range", key);
    }
    return static_cast<int32_t>(*id);
}

Result<bool> ggufFlag(const GgufFile& file, const std::string& key, bool fallback) {
    if (!file.find(key)) return fallback;
    const auto b = file.getBool(key);
    if (!b) return wrongType(key, "a bool");
    return *b;
}

Result<std::vector<std::pair<std::string, std::string>>> splitGgufMerges(const std::vector<std::string>& merges) {
    std::vector<std::pair<std::string, std::string>> out;
    out.reserve(merges.size());
    for (size_t i = 0; i < merges.size(); ++i) {
        const std::string& m = merges[i];
        const size_t space = m.size() > 1 ? m.find(' ', 1) : std::string::npos;
        if (space == std::string::npos) {
            return makeError(ErrorCode::Malformed, "merge " + std::to_string(i) + " has no separating space",
                             "tokenizer.ggml.merges");
        }
        out.emplace_back(m.substr(0, space), m.substr(space + 1));
    }
    return out;
}

}  // namespace

Result<VocabData> vocabFromGguf(const GgufFile& file) {
    VocabData v;
    const std::string modelKey = "tokenizer.ggml.model";
    const std::string model = file.getString(modelKey).value_or("");
    if (model == "gpt2") {
        v.model = VocabModel::Bpe;
    } else if (model == "llama") {
        v.model = VocabModel::Spm;
    } else if (model.empty()) {
        return makeError(ErrorCode::NotFound, "the file has no tokenizer model", modelKey);
    } else {
        return makeError(ErrorCode::Unsupported, "tokenizer model '" + model + "' is not supported", modelKey);
    }
    const bool spm = v.model == VocabModel::Spm;

    auto tokens = file.getStringArray("tokenizer.ggml.tokens");
    if (!tokens) return makeError(ErrorCode::NotFound, "no token list", "tokenizer.ggml.tokens");
    v.tokens = std::move(*tokens);

    if (file.find("tokenizer.ggml.scores")) {
        auto scores = file.getFloatArray("tokenizer.ggml.scores");
        if (!scores) return wrongType("tokenizer.ggml.scores", "an array of floats");
        v.scores = std::move(*scores);
    }
    if (file.find("tokenizer.ggml.token_type")) {
        auto types = file.getIntArray("tokenizer.ggml.token_type");
        if (!types) return wrongType("tokenizer.ggml.token_type", "an array of integers");
        v.types.reserve(types->size());
        for (int64_t t : *types) {
            if (t < INT32_MIN || t > INT32_MAX) {
                return makeError(ErrorCode::Malformed, "token type out of range", "tokenizer.ggml.token_type");
            }
            v.types.push_back(static_cast<TokenType>(t));
        }
    }
    if (!spm) {
        auto merges = file.getStringArray("tokenizer.ggml.merges");
        if (!merges) return makeError(ErrorCode::NotFound, "a gpt2 tokenizer needs merges", "tokenizer.ggml.merges");
        GB_ASSIGN_OR_RETURN(v.merges, splitGgufMerges(*merges));
        v.pre = file.getString("tokenizer.ggml.pre").value_or("");
        v.ignoreMerges = preTokenizerIgnoresMerges(v.pre);
    }

    GB_ASSIGN_OR_RETURN(v.bos, ggufTokenId(file, "tokenizer.ggml.bos_token_id", spm ? 1 : kNoToken));
    GB_ASSIGN_OR_RETURN(v.eos, ggufTokenId(file, "tokenizer.ggml.eos_token_id", spm ? 2 : kNoToken));
    GB_ASSIGN_OR_RETURN(v.unk, ggufTokenId(file, "tokenizer.ggml.unknown_token_id", spm ? 0 : kNoToken));
    GB_ASSIGN_OR_RETURN(v.eot, ggufTokenId(file, "tokenizer.ggml.eot_token_id", kNoToken));
    GB_ASSIGN_OR_RETURN(v.eom, ggufTokenId(file, "tokenizer.ggml.eom_token_id", kNoToken));
    GB_ASSIGN_OR_RETURN(v.pad, ggufTokenId(file, "tokenizer.ggml.padding_token_id", kNoToken));
    // Defaults that point past a short vocabulary are dropped rather than rejected.
    const auto n = static_cast<int64_t>(v.tokens.size());
    if (spm) {
        if (!file.find("tokenizer.ggml.bos_token_id") && v.bos >= n) v.bos = kNoToken;
        if (!file.find("tokenizer.ggml.eos_token_id") && v.eos >= n) v.eos = kNoToken;
        if (!file.find("tokenizer.ggml.unknown_token_id") && v.unk >= n) v.unk = kNoToken;
    }

    GB_ASSIGN_OR_RETURN(v.addBos, ggufFlag(file, "tokenizer.ggml.add_bos_token",
                                           spm || preTokenizerKindFromName(v.pre) == PreTokenizerKind::Llama3));
    GB_ASSIGN_OR_RETURN(v.addEos, ggufFlag(file, "tokenizer.ggml.add_eos_token", false));
    GB_ASSIGN_OR_RETURN(v.addSpacePrefix, ggufFlag(file, "tokenizer.ggml.add_space_prefix", spm));
    if (file.find("tokenizer.chat_template")) {
        auto tmpl = file.getString("tokenizer.chat_template");
        if (!tmpl) return wrongType("tokenizer.chat_template", "a string");
        v.chatTemplate = std::move(*tmpl);
    }
    return v;
}

// ---- Hugging Face tokenizer.json ----

namespace {

constexpr std::string_view kSpaceMarker = "\xE2\x96\x81";  // U+2581 "▁"
constexpr std::string_view kGpt2Regex =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";
constexpr std::string_view kLlama3Regex =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr std::string_view kQwen2Regex =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

std::string_view typeOf(const JsonValue* v) {
    if (!v) return {};
    const JsonValue* t = v->find("type");
    return t && t->isString() ? *t->asString() : std::string_view();
}

bool flagOf(const JsonValue* v, std::string_view key, bool fallback) {
    const JsonValue* f = v ? v->find(key) : nullptr;
    return f && f->isBool() ? *f->asBool() : fallback;
}

// The components of a Sequence (normalizers / pretokenizers), or the value itself.
std::vector<const JsonValue*> flatten(const JsonValue* v, std::string_view listKey) {
    std::vector<const JsonValue*> out;
    if (!v || v->isNull()) return out;
    if (typeOf(v) == "Sequence") {
        if (const JsonValue* list = v->find(listKey)) {
            for (const JsonValue& item : list->items()) out.push_back(&item);
        }
        return out;
    }
    out.push_back(v);
    return out;
}

// A token given as "text" or {"content": "text"} in tokenizer_config.json.
std::string_view tokenTextOf(const JsonValue* v) {
    if (!v) return {};
    if (v->isString()) return *v->asString();
    const JsonValue* c = v->find("content");
    return c && c->isString() ? *c->asString() : std::string_view();
}

struct HfVocab {
    std::vector<std::string> tokens;
    std::vector<TokenType> types;
    TokenIndex index;
};

Status collectTokens(const JsonValue& model, const JsonValue& root, HfVocab& out) {
    const JsonValue* vocab = model.find("vocab");
    if (!vocab || !vocab->isObject()) return makeError(ErrorCode::NotFound, "no vocabulary object", "$.model.vocab");
    const JsonValue* added = root.find("added_tokens");
    std::vector<std::pair<int64_t, std::string_view>> entries;
    for (const JsonMember& m : vocab->members()) {
        const auto id = m.value.asInt();
        if (!id || *id < 0 || *id > INT32_MAX) {
            return makeError(ErrorCode::Malformed, "token id is not a non-negative int32",
                             jsonPathKey("$.model.vocab", m.key), m.value.offset());
        }
        entries.emplace_back(*id, m.key);
    }
    const size_t nVocabEntries = entries.size();
    if (added) {
        for (size_t i = 0; i < added->size(); ++i) {
            const JsonValue& a = *added->at(i);
            const auto id = a.find("id") ? a.find("id")->asInt() : std::nullopt;
            const std::string_view content = tokenTextOf(&a);
            if (!id || *id < 0 || *id > INT32_MAX || content.empty()) {
                return makeError(ErrorCode::Malformed, "added token needs an id and a content",
                                 jsonPathIndex("$.added_tokens", i), a.offset());
            }
            entries.emplace_back(*id, content);
        }
    }
    int64_t maxId = -1;
    for (const auto& e : entries) maxId = std::max(maxId, e.first);
    if (maxId < 0) return makeError(ErrorCode::NotFound, "the vocabulary is empty", "$.model.vocab");
    if (uint64_t(maxId) >= 2 * uint64_t(entries.size()) + 1024) {
        return makeError(ErrorCode::Malformed, "token ids leave a gap larger than the vocabulary", "$.model.vocab");
    }
    out.tokens.assign(size_t(maxId) + 1, std::string());
    out.types.assign(size_t(maxId) + 1, TokenType::Unused);
    for (size_t i = 0; i < entries.size(); ++i) {
        const auto [id, text] = entries[i];
        const bool isAdded = i >= nVocabEntries;
        if (!isAdded && out.types[size_t(id)] != TokenType::Unused) {
            return makeError(ErrorCode::Malformed, "two tokens share id " + std::to_string(id), "$.model.vocab");
        }
        out.tokens[size_t(id)] = std::string(text);
        TokenType type = TokenType::Normal;
        if (isAdded) {
            const JsonValue* special = added->at(i - nVocabEntries)->find("special");
            type = special && special->asBool().value_or(false) ? TokenType::Control : TokenType::UserDefined;
        }
        out.types[size_t(id)] = type;
    }
    for (size_t id = 0; id < out.tokens.size(); ++id) {
        if (out.tokens[id].empty()) out.tokens[id] = "[PAD" + std::to_string(id) + "]";
        out.index.emplace(out.tokens[id], int32_t(id));
    }
    return {};
}

Result<std::vector<std::pair<std::string, std::string>>> collectMerges(const JsonValue& model) {
    std::vector<std::pair<std::string, std::string>> out;
    const JsonValue* merges = model.find("merges");
    if (!merges) return out;
    if (!merges->isArray()) return makeError(ErrorCode::Malformed, "merges must be an array", "$.model.merges");
    out.reserve(merges->size());
    for (size_t i = 0; i < merges->size(); ++i) {
        const JsonValue& m = *merges->at(i);
        if (m.isString()) {
            const std::string_view s = *m.asString();
            const size_t space = s.find(' ');
            if (space == std::string_view::npos || s.find(' ', space + 1) != std::string_view::npos) {
                return makeError(ErrorCode::Malformed, "a merge must be two tokens separated by one space",
                                 jsonPathIndex("$.model.merges", i), m.offset());
            }
            out.emplace_back(std::string(s.substr(0, space)), std::string(s.substr(space + 1)));
        } else if (m.size() == 2 && m.at(0)->isString() && m.at(1)->isString()) {
            out.emplace_back(std::string(*m.at(0)->asString()), std::string(*m.at(1)->asString()));
        } else {
            return makeError(ErrorCode::Malformed, "a merge must be \"a b\" or [\"a\", \"b\"]",
                             jsonPathIndex("$.model.merges", i), m.offset());
        }
    }
    return out;
}

// The pre-tokenizer name for a byte-level BPE pre_tokenizer, or an error.
Result<std::string> byteLevelPreName(const std::vector<const JsonValue*>& parts) {
    auto unsupported = [] {
        return makeError(ErrorCode::Unsupported, "this pre-tokenizer combination is not supported", "$.pre_tokenizer");
    };
    if (parts.empty() || typeOf(parts.back()) != "ByteLevel") return unsupported();
    const JsonValue* byteLevel = parts.back();
    if (flagOf(byteLevel, "add_prefix_space", false)) return unsupported();
    const bool useRegex = flagOf(byteLevel, "use_regex", true);
    if (parts.size() == 1 && useRegex) return std::string("gpt2");
    if (parts.size() != 2) return unsupported();
    const JsonValue* first = parts[0];
    if (typeOf(first) == "Digits" && flagOf(first, "individual_digits", false) && useRegex) {
        return std::string("smollm");
    }
    if (typeOf(first) == "Split" && !useRegex && !flagOf(first, "invert", false)) {
        const JsonValue* pattern = first->find("pattern");
        const JsonValue* regex = pattern ? pattern->find("Regex") : nullptr;
        const std::string_view r = regex && regex->isString() ? *regex->asString() : std::string_view();
        if (r == kGpt2Regex) return std::string("gpt2");
        if (r == kLlama3Regex) return std::string("llama-bpe");
        if (r == kQwen2Regex) return std::string("qwen2");
        return makeError(ErrorCode::Unsupported, "split regex not recognised", "$.pre_tokenizer");
    }
    return unsupported();
}

// Llama 2 style: spaces replaced by "▁" in the normalizer or a Metaspace
// pre-tokenizer. Sets addSpacePrefix; false when the file is not of that kind.
bool detectSpm(const JsonValue& root, bool& addSpacePrefix) {
    bool replace = false;
    addSpacePrefix = false;
    for (const JsonValue* n : flatten(root.find("normalizer"), "normalizers")) {
        const std::string_view type = typeOf(n);
        const JsonValue* prepend = n->find("prepend");
        const JsonValue* content = n->find("content");
        if (type == "Prepend" && prepend && prepend->asString() == kSpaceMarker) addSpacePrefix = true;
        if (type == "Replace" && content && content->asString() == kSpaceMarker) replace = true;
    }
    for (const JsonValue* p : flatten(root.find("pre_tokenizer"), "pretokenizers")) {
        if (typeOf(p) != "Metaspace") continue;
        replace = true;
        const JsonValue* scheme = p->find("prepend_scheme");
        const std::string_view s = scheme && scheme->isString() ? *scheme->asString() : std::string_view();
        addSpacePrefix = s.empty() ? flagOf(p, "add_prefix_space", true) : s != "never";
    }
    return replace;
}

// Bos/eos a TemplateProcessing post-processor adds around a single sequence.
void templateSpecials(const JsonValue& root, const TokenIndex& index, VocabData& v, bool& bosFound,
                      bool& eosFound) {
    for (const JsonValue* p : flatten(root.find("post_processor"), "processors")) {
        if (typeOf(p) != "TemplateProcessing") continue;
        const JsonValue* single = p->find("single");
        if (!single || single->size() == 0) continue;
        auto specialAt = [&](size_t i) -> int32_t {
            const JsonValue* st = single->at(i)->find("SpecialToken");
            const JsonValue* id = st ? st->find("id") : nullptr;
            if (!id || !id->isString()) return kNoToken;
            const auto it = index.find(*id->asString());
            return it == index.end() ? kNoToken : it->second;
        };
        if (int32_t b = specialAt(0); b != kNoToken) {
            v.addBos = true, v.bos = b, bosFound = true;
        }
        if (int32_t e = specialAt(single->size() - 1); e != kNoToken && single->size() > 1) {
            v.addEos = true, v.eos = e, eosFound = true;
        }
    }
}

void applyConfig(const JsonValue* config, const TokenIndex& index, VocabData& v) {
    auto idOf = [&](std::string_view text) {
        const auto it = index.find(text);
        return it == index.end() ? kNoToken : it->second;
    };
    if (config) {
        for (auto [key, slot] : {std::pair<const char*, int32_t*>{"bos_token", &v.bos}, {"eos_token", &v.eos},
                                 {"unk_token", &v.unk}, {"pad_token", &v.pad}}) {
            const std::string_view text = tokenTextOf(config->find(key));
            if (!text.empty() && idOf(text) != kNoToken) *slot = idOf(text);
        }
        if (const JsonValue* b = config->find("add_bos_token"); b && b->isBool()) v.addBos = *b->asBool();
        if (const JsonValue* e = config->find("add_eos_token"); e && e->isBool()) v.addEos = *e->asBool();
        if (const JsonValue* t = config->find("chat_template")) {
            if (t->isString()) {
                v.chatTemplate = std::string(*t->asString());
            } else if (t->isArray() && t->size() > 0) {
                const JsonValue* pick = t->at(0);
                for (const JsonValue& item : t->items()) {
                    const JsonValue* name = item.find("name");
                    if (name && name->asString() == std::string_view("default")) pick = &item;
                }
                const JsonValue* body = pick->find("template");
                if (body && body->isString()) v.chatTemplate = std::string(*body->asString());
            }
        }
    }
    for (std::string_view eot : {"<|eot_id|>", "<|im_end|>", "<end_of_turn>", "<|end|>"}) {
        if (v.eot == kNoToken && idOf(eot) != kNoToken) v.eot = idOf(eot);
    }
}

}  // namespace

Result<VocabData> vocabFromTokenizerJson(std::string_view tokenizerJson, std::string_view tokenizerConfigJson) {
    GB_ASSIGN_OR_RETURN(JsonValue root, parseJson(tokenizerJson));
    std::optional<JsonValue> config;
    if (tokenizerConfigJson.find_first_not_of(" \t\r\n") != std::string_view::npos) {
        GB_ASSIGN_OR_RETURN(config, parseJson(tokenizerConfigJson));
    }
    const JsonValue* model = root.find("model");
    if (!model || !model->isObject()) return makeError(ErrorCode::NotFound, "no model object", "$.model");
    const std::string_view type = typeOf(model);
    if (type != "BPE" && !(type.empty() && model->find("merges"))) {
        return makeError(ErrorCode::Unsupported, "tokenizer model '" + std::string(type) + "' is not supported",
                         "$.model.type");
    }
    HfVocab hf;
    GB_TRY(collectTokens(*model, root, hf));
    VocabData v;
    GB_ASSIGN_OR_RETURN(v.merges, collectMerges(*model));
    v.ignoreMerges = flagOf(model, "ignore_merges", false);

    bool addSpacePrefix = false;
    const auto preParts = flatten(root.find("pre_tokenizer"), "pretokenizers");
    const bool byteLevel = !preParts.empty() && typeOf(preParts.back()) == "ByteLevel";
    if (byteLevel) {
        v.model = VocabModel::Bpe;
        GB_ASSIGN_OR_RETURN(v.pre, byteLevelPreName(preParts));
    } else if (detectSpm(root, addSpacePrefix)) {
        v.model = VocabModel::Spm;
        v.addSpacePrefix = addSpacePrefix;
        // Merge ranks become scores: a token made by an earlier merge scores higher.
        v.scores.assign(hf.tokens.size(), -1e9f);
        for (size_t i = v.merges.size(); i-- > 0;) {
            const auto it = hf.index.find(v.merges[i].first + v.merges[i].second);
            if (it != hf.index.end()) v.scores[size_t(it->second)] = -float(i);
        }
        for (size_t i = 0; i < hf.tokens.size(); ++i) {
            const std::string& t = hf.tokens[i];
            if (hf.types[i] == TokenType::Normal && t.size() == 6 && t.starts_with("<0x") && t.back() == '>') {
                hf.types[i] = TokenType::Byte;
            }
        }
    } else {
        return makeError(ErrorCode::Unsupported, "neither a byte-level nor a SentencePiece-style BPE tokenizer",
                         "$.pre_tokenizer");
    }

    if (const JsonValue* unk = model->find("unk_token"); unk && unk->isString()) {
        const auto it = hf.index.find(*unk->asString());
        if (it != hf.index.end()) v.unk = it->second;
    }
    bool bosFound = false, eosFound = false;
    templateSpecials(root, hf.index, v, bosFound, eosFound);
    if (v.model == VocabModel::Spm) {
        auto byName = [&](std::string_view text) {
            const auto it = hf.index.find(text);
            return it == hf.index.end() ? kNoToken : it->second;
        };
        if (!bosFound) v.bos = byName("<s>"), v.addBos = v.bos != kNoToken;
        if (!eosFound) v.eos = byName("</s>");
        if (v.unk == kNoToken) v.unk = byName("<unk>");
    }
    applyConfig(config ? &*config : nullptr, hf.index, v);
    if (v.unk != kNoToken && hf.types[size_t(v.unk)] == TokenType::Normal) hf.types[size_t(v.unk)] = TokenType::Unknown;
    v.tokens = std::move(hf.tokens);
    v.types = std::move(hf.types);
    return v;
}

}  // namespace glassbox::engine
