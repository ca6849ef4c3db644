// Dequantization on the device into half precision, the first half of the
// prefill path (dequantize + cuBLAS GEMM), plus float <-> half conversion
// of activations.
#pragma once
#include <cuda_runtime_api.h>

#include <cstdint>

#include "engine/tensor_types.h"

namespace glassbox::kernels::cuda {

// w: rows × cols in `type`; out: rows × cols IEEE halves (as uint16_t).
// Bit-exact with kernels::dequantizeRow (then rounded to nearest even for
// halves). For the block types out must be 16-byte aligned.
cudaError_t dequantizeToF16(engine::TensorType type, const void* w, int64_t rows, int64_t cols, uint16_t* out,
                            cudaStream_t stream);
// w as above; out: rows × cols floats (used by tests and the F32 paths).
cudaError_t dequantizeToF32(engine::TensorType type, const void* w, int64_t rows, int64_t cols, float* out,
                            cudaStream_t stream);
cudaError_t convertF32ToF16(const float* x, int64_t n, uint16_t* out, cudaStream_t stream);

}  // namespace glassbox::kernels::cuda
