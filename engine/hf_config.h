// Hugging Face config.json of Llama-family checkpoints (llama, mistral,
// qwen2, ...): the hyper-parameters as written, with the library's defaults
// for absent keys, checked for types and plausible ranges. Turning them into
// the engine's ModelConfig is model_config's job.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/result.h"

namespace glassbox::engine {

struct HfConfig {
    std::vector<std::string> architectures;  // "LlamaForCausalLM", ...
    std::string modelType;                   // "llama", "mistral", "qwen2", ...
    int64_t hiddenSize = 0;
    int64_t numHiddenLayers = 0;
    int64_t numAttentionHeads = 0;
    int64_t numKeyValueHeads = 0;  // num_attention_heads when absent or null
    int64_t intermediateSize = 0;
    int64_t vocabSize = 0;
    int64_t maxPositionEmbeddings = 2048;  // default when absent
    double rmsNormEps = 1e-6;              // default when absent
    double ropeTheta = 10000.0;            // default when absent
    // rope_scaling (or rope_parameters): "" when absent, null or "default";
    // else its rope_type / type as written ("linear", "dynamic", "yarn", ...).
    std::string ropeScalingType;
    double ropeScalingFactor = 1.0;
    bool tieWordEmbeddings = false;
    std::optional<int64_t> headDim;  // head_dim when present and not null
    std::string torchDtype;          // torch_dtype (or dtype): "bfloat16", ...
    std::optional<int64_t> bosTokenId;
    std::vector<int64_t> eosTokenIds;  // eos_token_id: one id or a list
    std::string hiddenAct = "silu";
    // attention_bias; always true for qwen2, whose q/k/v projections have
    // biases without the key saying so.
    bool attentionBias = false;
    // sliding_window when set and in use (use_sliding_window not false).
    std::optional<int64_t> slidingWindow;
    // Features read but not handled by the engine, for the user to see.
    std::vector<std::string> warnings;

    // head_dim, or hidden_size / num_attention_heads.
    int64_t effectiveHeadDim() const;
    // No RoPE scaling, or linear scaling.
    bool ropeScalingSupported() const;
};

// Parse and validate config.json text. Errors (field = JSON path such as
// "$.hidden_size", offset = byte offset of the value):
//   the errors of parseJson for text that is not JSON;
//   Malformed  the root is not an object; a key has the wrong type; a value
//              is out of range (zero or negative sizes, sizes beyond sane
//              limits, heads not dividing hidden_size without head_dim, kv
//              heads not dividing heads, eps/theta/factor not positive)
//   NotFound   a required key is absent: model_type, hidden_size,
//              num_hidden_layers, num_attention_heads, intermediate_size,
//              vocab_size, or factor for linear RoPE scaling
Result<HfConfig> parseHfConfig(std::string_view json);

// Read and parse a config.json file. Errors: Io when it cannot be read,
// Overflow when it is larger than 16 MiB, and those of parseHfConfig.
Result<HfConfig> readHfConfigFile(const std::string& path);

}  // namespace glassbox::engine
