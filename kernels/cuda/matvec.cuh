// Matrix-vector products for decode, reading quantized weights in their
// file layout (no dequantized copy): y[v][r] = dot(W row r, x[v]) for up to
// kMaxMatVecColumns activation vectors. Every tensor type of the engine is
// supported (F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K, Q5_K, Q6_K).
#pragma once
#include <cuda_runtime_api.h>

#include <cstdint>

#include "engine/tensor_types.h"

namespace glassbox::kernels::cuda {

inline constexpr int kMaxMatVecColumns = 8;

bool matVecSupports(engine::TensorType type);

// w: rows × cols in `type` (row stride = rowBytes(type, cols)); y: nVec × rows
// floats; cols is a multiple of the type's block size. `xq` holds the
// activations as quantizeActivations() left them for this weight type
// (quantize_activations.cuh), or nVec × cols floats for the types that take
// float activations (quantizedActivationBytes() == 0). Products follow the
// CPU backend's kernels (integer dot products on the 8-bit blocks, then the
// scales), so results agree with it to float rounding.
// Quantized types need w and xq 16-byte aligned (cudaErrorMisalignedAddress
// otherwise); nVec outside [1, kMaxMatVecColumns], cols not a multiple of the
// block size or rows > 2^31 - 1 give cudaErrorInvalidValue.
cudaError_t matVec(engine::TensorType type, const void* w, int64_t rows, int64_t cols, const void* xq, int nVec,
                   float* y, cudaStream_t stream);

}  // namespace glassbox::kernels::cuda
