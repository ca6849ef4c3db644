// Tiny Llama-shaped GGUF models with random weights, written by the
// project's own GGUF writer: fast inputs for op-level and forward-pass
// tests, for any weight type, GQA layout, RoPE ordering and bias setting.
#pragma once

#include <cstdint>
#include <string>

#include "engine/result.h"
#include "engine/tensor_types.h"

namespace glassbox::testing {

struct SyntheticModelSpec {
    std::string architecture = "llama";  // "qwen2" gives NeoX RoPE and QKV biases
    int nLayers = 2;
    int nEmbd = 64;
    int nHead = 4;
    int nHeadKv = 2;
    int nFf = 128;
    int nCtxTrain = 256;
    float ropeTheta = 10000.0f;
    float rmsEps = 1e-5f;
    engine::TensorType weightType = engine::TensorType::F32;
    engine::TensorType embeddingType = engine::TensorType::F32;
    bool tiedEmbeddings = true;
    uint32_t seed = 1;
};

// Vocabulary: the 256 byte-level symbols, one merge ("Ġt") and an
// "<|endoftext|>" control token (id 257) used as BOS/EOS.
inline constexpr int kSyntheticVocab = 258;

engine::Status writeSyntheticModel(const std::string& path, const SyntheticModelSpec& spec);

}  // namespace glassbox::testing
