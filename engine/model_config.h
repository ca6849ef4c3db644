// Hyper-parameters of a Llama-family model, read from GGUF metadata or a
// Hugging Face config.json, validated so the forward pass can trust them.
#pragma once

#include <cstdint>
#include <string>

#include "engine/result.h"

namespace glassbox::engine {

class GgufFile;
struct HfConfig;

// How RoPE pairs dimensions: Normal rotates (2i, 2i+1); Neox rotates
// (i, i + dims/2) — the "rotate_half" form of Hugging Face checkpoints.
enum class RopeType { Normal, Neox };

struct ModelConfig {
    std::string architecture;  // "llama", "qwen2", "mistral" ...
    int nLayers = 0;
    int nEmbd = 0;
    int nHead = 0;
    int nHeadKv = 0;
    int headDim = 0;
    int nFf = 0;
    int nVocab = 0;
    int nCtxTrain = 0;
    int ropeDims = 0;
    float rmsEps = 1e-5f;
    float ropeTheta = 10000.0f;
    float ropeFreqScale = 1.0f;  // 1 / linear scaling factor
    RopeType ropeType = RopeType::Normal;
    bool qkvBias = false;
    bool tiedEmbeddings = false;

    int qDim() const { return nHead * headDim; }
    int kvDim() const { return nHeadKv * headDim; }
    int gqaGroup() const { return nHeadKv ? nHead / nHeadKv : 0; }
    // Errors: Malformed naming the first inconsistent field.
    Status validate() const;
};

// Architectures the engine runs; everything else is refused by name.
bool isSupportedArchitecture(const std::string& arch);

// Errors: Unsupported (architecture named), NotFound (missing key), Malformed.
Result<ModelConfig> configFromGguf(const GgufFile& file);
Result<ModelConfig> configFromHf(const HfConfig& hf);

}  // namespace glassbox::engine
