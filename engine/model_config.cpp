// Reading and validating model hyper-parameters.
#include "engine/model_config.h"

#include <cmath>

#include "engine/gguf_file.h"
#include "engine/hf_config.h"

namespace glassbox::engine {
namespace {

constexpr int kMaxDim = 1 << 20;

Result<int> requireInt(const GgufFile& f, const std::string& key, int lo, int hi) {
    auto v = f.getInt(key);
    if (!v) return makeError(ErrorCode::NotFound, "missing metadata key", key);
    if (*v < lo || *v > hi)
        return makeError(ErrorCode::Malformed,
                         "value " + std::to_string(*v) + " outside [" + std::to_string(lo) + ", " +
                             std::to_string(hi) + "]",
                         key);
    return int(*v);
}

}  // namespace

bool isSupportedArchitecture(const std::string& arch) {
    return arch == "llama" || arch == "qwen2" || arch == "mistral";
}

Status ModelConfig::validate() const {
    auto bad = [](const char* field, const std::string& why) {
        return makeError(ErrorCode::Malformed, why, field);
    };
    if (nLayers <= 0 || nLayers > 1024) return bad("n_layers", "layer count out of range");
    if (nEmbd <= 0 || nEmbd > kMaxDim) return bad("n_embd", "embedding size out of range");
    if (nHead <= 0 || nHead > 4096) return bad("n_head", "head count out of range");
    if (nHeadKv <= 0 || nHeadKv > nHead || nHead % nHeadKv != 0)
        return bad("n_head_kv", "KV head count must divide the head count");
    if (headDim <= 0 || headDim > 4096 || headDim % 2 != 0) return bad("head_dim", "head size must be even and positive");
    if (nFf <= 0 || nFf > kMaxDim) return bad("n_ff", "feed-forward size out of range");
    if (nVocab <= 0 || nVocab > 4 * kMaxDim) return bad("n_vocab", "vocabulary size out of range");
    if (ropeDims <= 0 || ropeDims > headDim || ropeDims % 2 != 0) return bad("rope_dims", "RoPE dimensions out of range");
    if (!(rmsEps > 0.0f) || !std::isfinite(rmsEps)) return bad("rms_eps", "epsilon must be positive");
    if (!(ropeTheta > 0.0f) || !std::isfinite(ropeTheta)) return bad("rope_theta", "RoPE base must be positive");
    if (!(ropeFreqScale > 0.0f) || !std::isfinite(ropeFreqScale)) return bad("rope_freq_scale", "RoPE scale must be positive");
    return {};
}

Result<ModelConfig> configFromGguf(const GgufFile& f) {
    ModelConfig c;
    auto arch = f.getString("general.architecture");
    if (!arch) return makeError(ErrorCode::NotFound, "missing metadata key", "general.architecture");
    if (!isSupportedArchitecture(*arch))
        return makeError(ErrorCode::Unsupported,
                         "architecture '" + *arch + "' is not supported (supported: llama, mistral, qwen2)",
                         "general.architecture");
    c.architecture = *arch;
    const std::string p = *arch + ".";
    GB_ASSIGN_OR_RETURN(c.nLayers, requireInt(f, p + "block_count", 1, 1024));
    GB_ASSIGN_OR_RETURN(c.nEmbd, requireInt(f, p + "embedding_length", 1, kMaxDim));
    GB_ASSIGN_OR_RETURN(c.nFf, requireInt(f, p + "feed_forward_length", 1, kMaxDim));
    GB_ASSIGN_OR_RETURN(c.nHead, requireInt(f, p + "attention.head_count", 1, 4096));
    c.nHeadKv = c.nHead;
    if (f.find(p + "attention.head_count_kv")) {
        GB_ASSIGN_OR_RETURN(c.nHeadKv, requireInt(f, p + "attention.head_count_kv", 1, 4096));
    }
    c.headDim = c.nEmbd / c.nHead;
    if (f.find(p + "attention.key_length")) {
        GB_ASSIGN_OR_RETURN(c.headDim, requireInt(f, p + "attention.key_length", 2, 4096));
    }
    c.nCtxTrain = int(f.getInt(p + "context_length").value_or(2048));
    if (c.nCtxTrain <= 0) c.nCtxTrain = 2048;
    c.ropeDims = int(f.getInt(p + "rope.dimension_count").value_or(c.headDim));
    c.rmsEps = float(f.getFloat(p + "attention.layer_norm_rms_epsilon").value_or(1e-5));
    c.ropeTheta = float(f.getFloat(p + "rope.freq_base").value_or(10000.0));
    auto scaling = f.getString(p + "rope.scaling.type");
    if (scaling && *scaling == "linear") {
        double factor = f.getFloat(p + "rope.scaling.factor").value_or(1.0);
        if (!(factor > 0)) return makeError(ErrorCode::Malformed, "scaling factor must be positive", p + "rope.scaling.factor");
        c.ropeFreqScale = float(1.0 / factor);
    } else if (scaling && *scaling != "none") {
        return makeError(ErrorCode::Unsupported, "RoPE scaling '" + *scaling + "' is not supported", p + "rope.scaling.type");
    } else if (auto s = f.getFloat(p + "rope.scale_linear")) {
        if (!(*s > 0)) return makeError(ErrorCode::Malformed, "scale must be positive", p + "rope.scale_linear");
        c.ropeFreqScale = float(1.0 / *s);
    }
    c.ropeType = (*arch == "qwen2") ? RopeType::Neox : RopeType::Normal;
    c.qkvBias = (*arch == "qwen2");
    c.tiedEmbeddings = (f.findTensor("output.weight") == nullptr);
    const GgufTensorInfo* embd = f.findTensor("token_embd.weight");
    if (!embd) return makeError(ErrorCode::NotFound, "missing tensor", "token_embd.weight");
    c.nVocab = int(embd->ne[1]);
    GB_TRY(c.validate());
    return c;
}

}  // namespace glassbox::engine

namespace glassbox::engine {

Result<ModelConfig> configFromHf(const HfConfig& hf) {
    ModelConfig c;
    std::string arch = hf.modelType;
    if (arch.empty() && !hf.architectures.empty()) arch = hf.architectures[0];
    if (arch != "llama" && arch != "mistral" && arch != "qwen2")
        return makeError(ErrorCode::Unsupported,
                         "architecture '" + arch + "' is not supported (supported: llama, mistral, qwen2)",
                         "model_type");
    if (!hf.ropeScalingType.empty() && hf.ropeScalingType != "linear")
        return makeError(ErrorCode::Unsupported, "RoPE scaling '" + hf.ropeScalingType + "' is not supported",
                         "rope_scaling.type");
    c.architecture = arch;
    c.nLayers = int(hf.numHiddenLayers);
    c.nEmbd = int(hf.hiddenSize);
    c.nHead = int(hf.numAttentionHeads);
    c.nHeadKv = int(hf.numKeyValueHeads);
    c.headDim = int(hf.effectiveHeadDim());
    c.nFf = int(hf.intermediateSize);
    c.nVocab = int(hf.vocabSize);
    c.nCtxTrain = int(hf.maxPositionEmbeddings);
    c.ropeDims = c.headDim;
    c.rmsEps = float(hf.rmsNormEps);
    c.ropeTheta = float(hf.ropeTheta);
    c.ropeFreqScale = hf.ropeScalingType == "linear" ? float(1.0 / hf.ropeScalingFactor) : 1.0f;
    c.ropeType = RopeType::Neox;  // Hugging Face checkpoints rotate halves
    c.qkvBias = hf.attentionBias || arch == "qwen2";
    c.tiedEmbeddings = hf.tieWordEmbeddings;
    GB_TRY(c.validate());
    return c;
}

}  // namespace glassbox::engine
