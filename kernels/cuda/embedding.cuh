// Embedding lookup on the device: out[i] = dequantized row ids[i] of a token
// table stored in any supported tensor type (the file's own block layout).
#pragma once
#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>

#include "engine/tensor_types.h"

namespace glassbox::kernels::cuda {

// table: rows of `rowBytes` bytes; ids: n device ints (already range-checked
// by the caller); out: n × dim floats.
cudaError_t embedding(engine::TensorType type, const void* table, size_t rowBytes, const int32_t* ids, int n,
                      int dim, float* out, cudaStream_t stream);

}  // namespace glassbox::kernels::cuda
