// Architecture shapes of well-known models (their real dimensions, no
// weights) and the GGUF metadata that describes a shape: the hyper-parameter
// keys and a minimal byte-level BPE vocabulary that the engine's tokenizer
// accepts. Used to write synthetic models with random weights
// (random_model.h), which measure speed and exercise the forward pass on
// shapes whose real checkpoints are too large to ship.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "engine/model_config.h"
#include "engine/result.h"

namespace glassbox::engine {

class GgufWriter;

// The named shapes: "llama3-8b", "llama2-7b", "smollm2-135m" and "tiny"
// (4 layers of width 256 whose rows fit every block size, K-quants included).
std::span<const std::string_view> modelShapeNames();

// Errors: NotFound for an unknown name (the message lists the known ones).
Result<ModelConfig> modelShape(std::string_view name);

// The same shape with the head count, KV head count, embedding width and
// FFN width divided by `divisor` (head size unchanged), for tests that want
// a model's proportions at a fraction of its cost.
// Errors: InvalidArgument when a count is not divisible by `divisor`.
Result<ModelConfig> narrowShape(const ModelConfig& shape, int divisor);

// Weights of a model of this shape: embedding, output head unless tied,
// the layers' matrices, norms and biases.
uint64_t shapeParameters(const ModelConfig& shape);

// The fewest tokens setByteLevelVocab() writes: 256 byte symbols, one
// merged token and the end-of-text token.
inline constexpr int kMinByteLevelVocab = 258;

// general.architecture, general.name and the <arch>.* hyper-parameters of
// `shape` (the vocabulary size is implied by the embedding tensor). Any
// architecture name is written, also one the engine does not run.
// Errors: Malformed from ModelConfig::validate().
Status setShapeMetadata(GgufWriter& w, const ModelConfig& shape, std::string_view name);

// tokenizer.ggml.*: a GPT-2 style vocabulary of `nVocab` tokens — the 256
// byte-level symbols (ids 0..255), "Ġt" with its one merge (256), unused
// filler tokens, and "<|endoftext|>" (the last id) as a control token used
// as BOS and EOS. Errors: InvalidArgument when nVocab < kMinByteLevelVocab.
Status setByteLevelVocab(GgufWriter& w, int nVocab);

}  // namespace glassbox::engine
