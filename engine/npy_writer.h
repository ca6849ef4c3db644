// Writes float32 arrays as NumPy .npy files (format version 1.0, C order),
// for logits dumps and probe exports.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "engine/result.h"

namespace glassbox::engine {

// Errors: InvalidArgument when shape does not match data.size(), Io on write failure.
Status writeNpyF32(const std::string& path, std::span<const float> data, const std::vector<int64_t>& shape);

}  // namespace glassbox::engine
