// Exports a loaded (F32/F16/BF16-weight) GGUF model as a Hugging Face style
// checkpoint directory: config.json, tokenizer.json and model.safetensors
// with Q/K rows restored to the rotate-half layout. Loading that directory
// must give the same logits as the GGUF it came from.
#pragma once

#include <string>

#include "engine/result.h"

namespace glassbox::engine {
class Model;
}

namespace glassbox::testing {

engine::Status exportAsHfCheckpoint(const engine::Model& model, const std::string& dir);

}  // namespace glassbox::testing
