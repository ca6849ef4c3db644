// Writing a GGUF model of a given shape with random weights: the inputs for
// measuring speed on models too large to ship (an 8B model is written in
// seconds to minutes instead of downloaded) and for forward-pass tests.
//
// Invariants: the file is a valid model for Model::load (a byte-level
// vocabulary from setByteLevelVocab); weights are approximately N(0, std²)
// (a sum of four uniforms), norm weights 1 + N(0, normStd²); the bytes
// depend only on the shape, the options' type, seed and scales — not on the
// thread count. Tensors are generated and quantized on a thread pool one at
// a time and streamed to the file, so memory holds at most one tensor.
#pragma once

#include <cstdint>
#include <functional>
#include <stop_token>
#include <string>

#include "engine/model_config.h"
#include "engine/result.h"
#include "engine/tensor_types.h"

namespace glassbox::engine {

struct RandomModelOptions {
    // Every 2-D matrix (token embedding and output head included); a matrix
    // whose rows do not fit the type's blocks takes quantFallbackType().
    TensorType weightType = TensorType::Q4_0;
    uint64_t seed = 1;
    float weightStd = 0.02f;
    float normStd = 0.02f;
    int threads = 0;     // 0: all hardware threads
    std::string name;    // general.name; empty: "random <arch>"
};

// fraction of all weights written in [0, 1], the tensor just written, and
// the bytes written so far.
using RandomModelProgress = std::function<void(double fraction, const std::string& tensor, uint64_t bytes)>;

// The size of the file writeRandomModel() would write.
// Errors: those of setShapeMetadata, InvalidArgument for a type that cannot
// be written.
Result<uint64_t> randomModelFileBytes(const ModelConfig& shape, const RandomModelOptions& options);

// Writes the model to `path` (through a temporary file renamed into place).
// Errors: those of randomModelFileBytes, Io, OutOfMemory, Cancelled.
Status writeRandomModel(const std::string& path, const ModelConfig& shape, const RandomModelOptions& options,
                        std::stop_token stop = {}, const RandomModelProgress& progress = {});

}  // namespace glassbox::engine
