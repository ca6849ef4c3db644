// config.json reading: typed field access with JSON-path errors, defaults
// matching the transformers configuration classes, and range checks.
#include "engine/hf_config.h"

#include <algorithm>
#include <cmath>

#include "engine/json.h"
#include "engine/mapped_file.h"

namespace glassbox::engine {
namespace {

constexpr uint64_t kMaxConfigBytes = uint64_t(16) << 20;
constexpr int64_t kMaxHidden = int64_t(1) << 20;
constexpr int64_t kMaxLayers = 16384;
constexpr int64_t kMaxHeads = 16384;
constexpr int64_t kMaxHeadDim = 16384;
constexpr int64_t kMaxIntermediate = int64_t(1) << 22;
constexpr int64_t kMaxVocab = int64_t(1) << 24;
constexpr int64_t kMaxPositions = int64_t(1) << 26;

// Typed access to the members of one JSON object, errors naming the path.
class Fields {
public:
    Fields(const JsonValue& object, std::string path) : m_object(object), m_path(std::move(path)) {}

    // nullptr when absent or null.
    const JsonValue* get(std::string_view key) const {
        const JsonValue* v = m_object.find(key);
        return v && !v->isNull() ? v : nullptr;
    }
    std::string path(std::string_view key) const { return jsonPathKey(m_path, key); }

    Error wrongType(std::string_view key, const JsonValue& v, const char* wanted) const {
        return makeError(
            ErrorCode::Malformed,
            std::string(key) + " must be " + wanted + ", not " + jsonTypeName(v.type()), path(key),
            v.offset());
    }
    Error outOfRange(std::string_view key, const std::string& message) const {
        const JsonValue* v = m_object.find(key);
        return makeError(ErrorCode::Malformed, std::string(key) + " " + message, path(key),
                         v ? v->offset() : m_object.offset());
    }
    Error missing(std::string_view key) const {
        return makeError(ErrorCode::NotFound, "required key " + std::string(key) + " is missing",
                         path(key), m_object.offset());
    }

    Result<std::optional<int64_t>> optInt(std::string_view key) const {
        const JsonValue* v = get(key);
        if (!v) return std::optional<int64_t>();
        const auto i = v->asInt();
        if (!i) return wrongType(key, *v, "an integer");
        return std::optional<int64_t>(*i);
    }
    // A required integer in [lo, hi].
    Result<int64_t> reqInt(std::string_view key, int64_t lo, int64_t hi) const {
        GB_ASSIGN_OR_RETURN(const auto i, optInt(key));
        if (!i) return missing(key);
        GB_TRY(checkRange(key, *i, lo, hi));
        return *i;
    }
    Status checkRange(std::string_view key, int64_t i, int64_t lo, int64_t hi) const {
        if (i < lo || i > hi)
            return outOfRange(key, "is " + std::to_string(i) + ", outside [" + std::to_string(lo) +
                                       ", " + std::to_string(hi) + "]");
        return {};
    }
    Result<std::optional<double>> optDouble(std::string_view key) const {
        const JsonValue* v = get(key);
        if (!v) return std::optional<double>();
        const auto d = v->asDouble();
        if (!d) return wrongType(key, *v, "a number");
        return std::optional<double>(*d);
    }
    Result<std::optional<bool>> optBool(std::string_view key) const {
        const JsonValue* v = get(key);
        if (!v) return std::optional<bool>();
        const auto b = v->asBool();
        if (!b) return wrongType(key, *v, "a boolean");
        return std::optional<bool>(*b);
    }
    Result<std::optional<std::string>> optString(std::string_view key) const {
        const JsonValue* v = get(key);
        if (!v) return std::optional<std::string>();
        const auto s = v->asString();
        if (!s) return wrongType(key, *v, "a string");
        return std::optional<std::string>(std::string(*s));
    }

private:
    const JsonValue& m_object;
    std::string m_path;
};

Status readSizes(const Fields& f, HfConfig& c) {
    GB_ASSIGN_OR_RETURN(c.hiddenSize, f.reqInt("hidden_size", 1, kMaxHidden));
    GB_ASSIGN_OR_RETURN(c.numHiddenLayers, f.reqInt("num_hidden_layers", 1, kMaxLayers));
    GB_ASSIGN_OR_RETURN(c.numAttentionHeads, f.reqInt("num_attention_heads", 1, kMaxHeads));
    GB_ASSIGN_OR_RETURN(c.intermediateSize, f.reqInt("intermediate_size", 1, kMaxIntermediate));
    GB_ASSIGN_OR_RETURN(c.vocabSize, f.reqInt("vocab_size", 1, kMaxVocab));
    GB_ASSIGN_OR_RETURN(const auto kvHeads, f.optInt("num_key_value_heads"));
    c.numKeyValueHeads = kvHeads.value_or(c.numAttentionHeads);
    GB_TRY(f.checkRange("num_key_value_heads", c.numKeyValueHeads, 1, c.numAttentionHeads));
    if (c.numAttentionHeads % c.numKeyValueHeads != 0)
        return f.outOfRange("num_key_value_heads", "(" + std::to_string(c.numKeyValueHeads) +
                                                       ") does not divide " +
                                                       "num_attention_heads (" +
                                                       std::to_string(c.numAttentionHeads) + ")");
    GB_ASSIGN_OR_RETURN(c.headDim, f.optInt("head_dim"));
    if (c.headDim) {
        GB_TRY(f.checkRange("head_dim", *c.headDim, 1, kMaxHeadDim));
    } else if (c.hiddenSize % c.numAttentionHeads != 0) {
        return f.outOfRange("num_attention_heads", "(" + std::to_string(c.numAttentionHeads) +
                                                       ") does not divide " + "hidden_size (" +
                                                       std::to_string(c.hiddenSize) +
                                                       ") and there is no head_dim");
    }
    GB_ASSIGN_OR_RETURN(const auto maxPos, f.optInt("max_position_embeddings"));
    if (maxPos) {
        GB_TRY(f.checkRange("max_position_embeddings", *maxPos, 1, kMaxPositions));
        c.maxPositionEmbeddings = *maxPos;
    }
    return {};
}

Status checkPositive(const Fields& f, std::string_view key, double v, double below) {
    if (!std::isfinite(v) || v <= 0.0 || v >= below)
        return f.outOfRange(
            key, "must be a positive number" +
                     std::string(std::isinf(below) ? "" : " below " + std::to_string(below)));
    return {};
}

// rope_scaling {"type"|"rope_type", "factor"}, or transformers' newer
// rope_parameters {"rope_type", "rope_theta", "factor"}.
Status readRope(const Fields& f, const std::string& key, HfConfig& c) {
    const JsonValue* rope = f.get(key);
    if (!rope) return {};
    if (!rope->isObject()) return f.wrongType(key, *rope, "an object");
    const Fields r(*rope, f.path(key));
    GB_ASSIGN_OR_RETURN(const auto theta, r.optDouble("rope_theta"));
    if (theta) {
        GB_TRY(checkPositive(r, "rope_theta", *theta, INFINITY));
        c.ropeTheta = *theta;
    }
    GB_ASSIGN_OR_RETURN(auto type, r.optString("rope_type"));
    if (!type) {
        GB_ASSIGN_OR_RETURN(type, r.optString("type"));
    }
    if (!type || *type == "default") return {};
    c.ropeScalingType = *type;
    GB_ASSIGN_OR_RETURN(const auto factor, r.optDouble("factor"));
    if (factor) {
        GB_TRY(checkPositive(r, "factor", *factor, INFINITY));
        c.ropeScalingFactor = *factor;
    } else if (*type == "linear") {
        return r.missing("factor");
    }
    if (!c.ropeScalingSupported())
        c.warnings.push_back("RoPE scaling \"" + *type +
                             "\" is not supported; positions use plain RoPE");
    return {};
}

Status readTokens(const Fields& f, HfConfig& c) {
    GB_ASSIGN_OR_RETURN(c.bosTokenId, f.optInt("bos_token_id"));
    if (c.bosTokenId) GB_TRY(f.checkRange("bos_token_id", *c.bosTokenId, 0, INT32_MAX));
    if (const JsonValue* eos = f.get("eos_token_id")) {
        if (eos->isArray()) {
            for (size_t i = 0; i < eos->size(); ++i) {
                const auto id = eos->items()[i].asInt();
                if (!id || *id < 0 || *id > INT32_MAX)
                    return makeError(ErrorCode::Malformed, "eos_token_id items must be token ids",
                                     jsonPathIndex(f.path("eos_token_id"), i),
                                     eos->items()[i].offset());
                c.eosTokenIds.push_back(*id);
            }
        } else {
            GB_ASSIGN_OR_RETURN(const auto id, f.optInt("eos_token_id"));
            GB_TRY(f.checkRange("eos_token_id", *id, 0, INT32_MAX));
            c.eosTokenIds.push_back(*id);
        }
    }
    auto outside = [&](int64_t id) { return id >= c.vocabSize; };
    if ((c.bosTokenId && outside(*c.bosTokenId)) ||
        std::any_of(c.eosTokenIds.begin(), c.eosTokenIds.end(), outside))
        c.warnings.push_back("a bos/eos token id is outside the vocabulary");
    return {};
}

Status readStrings(const Fields& f, HfConfig& c) {
    if (const JsonValue* archs = f.get("architectures")) {
        if (!archs->isArray()) return f.wrongType("architectures", *archs, "an array");
        for (size_t i = 0; i < archs->size(); ++i) {
            const auto s = archs->items()[i].asString();
            if (!s)
                return makeError(ErrorCode::Malformed, "architectures items must be strings",
                                 jsonPathIndex(f.path("architectures"), i),
                                 archs->items()[i].offset());
            c.architectures.emplace_back(*s);
        }
    }
    GB_ASSIGN_OR_RETURN(const auto modelType, f.optString("model_type"));
    if (!modelType) return f.missing("model_type");
    c.modelType = *modelType;
    GB_ASSIGN_OR_RETURN(auto dtype, f.optString("torch_dtype"));
    if (!dtype) {
        GB_ASSIGN_OR_RETURN(dtype, f.optString("dtype"));
    }
    c.torchDtype = dtype.value_or("");
    GB_ASSIGN_OR_RETURN(const auto act, f.optString("hidden_act"));
    if (act) c.hiddenAct = *act;
    return {};
}

Status readFlags(const Fields& f, HfConfig& c) {
    GB_ASSIGN_OR_RETURN(const auto eps, f.optDouble("rms_norm_eps"));
    if (eps) {
        GB_TRY(checkPositive(f, "rms_norm_eps", *eps, 1.0));
        c.rmsNormEps = *eps;
    }
    GB_ASSIGN_OR_RETURN(const auto theta, f.optDouble("rope_theta"));
    if (theta) {
        GB_TRY(checkPositive(f, "rope_theta", *theta, INFINITY));
        c.ropeTheta = *theta;
    }
    GB_TRY(readRope(f, "rope_parameters", c));
    if (theta) c.ropeTheta = *theta;  // the top-level key wins
    GB_TRY(readRope(f, "rope_scaling", c));
    GB_ASSIGN_OR_RETURN(const auto tie, f.optBool("tie_word_embeddings"));
    c.tieWordEmbeddings = tie.value_or(false);
    GB_ASSIGN_OR_RETURN(const auto bias, f.optBool("attention_bias"));
    c.attentionBias = bias.value_or(false) || c.modelType == "qwen2";
    GB_ASSIGN_OR_RETURN(const auto useWindow, f.optBool("use_sliding_window"));
    GB_ASSIGN_OR_RETURN(const auto window, f.optInt("sliding_window"));
    if (window && useWindow.value_or(true)) {
        GB_TRY(f.checkRange("sliding_window", *window, 1, kMaxPositions));
        if (*window < c.maxPositionEmbeddings) {
            c.slidingWindow = *window;
            c.warnings.push_back("sliding-window attention (" + std::to_string(*window) +
                                 " tokens) is not applied; contexts up to that length are exact");
        }
    }
    return {};
}

}  // namespace

int64_t HfConfig::effectiveHeadDim() const {
    if (headDim) return *headDim;
    return numAttentionHeads > 0 ? hiddenSize / numAttentionHeads : 0;
}

bool HfConfig::ropeScalingSupported() const {
    return ropeScalingType.empty() || ropeScalingType == "linear";
}

Result<HfConfig> parseHfConfig(std::string_view json) {
    JsonLimits limits;
    limits.maxBytes = kMaxConfigBytes;
    limits.maxDepth = 32;
    GB_ASSIGN_OR_RETURN(const JsonValue root, parseJson(json, limits));
    if (!root.isObject())
        return makeError(
            ErrorCode::Malformed,
            std::string("config must be a JSON object, not ") + jsonTypeName(root.type()), "$",
            root.offset());
    const Fields f(root, "$");
    HfConfig c;
    GB_TRY(readStrings(f, c));
    GB_TRY(readSizes(f, c));
    GB_TRY(readFlags(f, c));
    GB_TRY(readTokens(f, c));
    return c;
}

Result<HfConfig> readHfConfigFile(const std::string& path) {
    GB_ASSIGN_OR_RETURN(const MappedFile file, MappedFile::open(path));
    if (file.size() > kMaxConfigBytes)
        return makeError(ErrorCode::Overflow, "config file '" + path + "' is larger than 16 MiB");
    const auto bytes = file.bytes();
    return parseHfConfig(
        std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

}  // namespace glassbox::engine
