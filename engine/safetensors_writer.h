// Writes safetensors files: tensors (name, dtype, shape, bytes) and string
// metadata. The header is compact JSON padded with spaces to a multiple of 8
// bytes, as the reference writer does; the data is laid out largest element
// size first, then by name, so every tensor is aligned to its element size.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "engine/result.h"
#include "engine/safetensors_file.h"

namespace glassbox::engine {

struct SafetensorsWriteTensor {
    std::string name;
    SafetensorsDtype dtype = SafetensorsDtype::F32;
    std::vector<uint64_t> shape;    // row-major
    std::span<const uint8_t> data;  // exactly product(shape) elements
};

using SafetensorsMetadata = std::vector<std::pair<std::string, std::string>>;

// The bytes of a safetensors file. Errors: InvalidArgument when a name is
// "__metadata__" or repeated, a shape has more than kSafetensorsMaxDims
// dimensions, a size overflows, or the data size does not match the shape.
Result<std::vector<uint8_t>> serializeSafetensors(std::span<const SafetensorsWriteTensor> tensors,
                                                  const SafetensorsMetadata& metadata = {});

// Serialize and write to `path` (through a temporary file renamed into
// place). Errors: those of serializeSafetensors; Io when writing fails.
Status writeSafetensorsFile(const std::string& path,
                            std::span<const SafetensorsWriteTensor> tensors,
                            const SafetensorsMetadata& metadata = {});

}  // namespace glassbox::engine
