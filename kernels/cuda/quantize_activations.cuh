// Activation quantization on the device, bit-identical to the CPU
// backend's kernels::quantizeActivations: before a product with a quantized
// weight type the activations are rounded to the same 8-bit rows the CPU's
// matmul uses (its "A8" format, kernels/cpu/matmul_impl.h: int8 q[cols], one
// float scale amax/127 per 32 values, then per weight-scale group the term
// its zero point or min needs; rows padded to 64 bytes), so that GPU and CPU
// compute the same products and agree to float rounding.
#pragma once
#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>

#include "engine/tensor_types.h"

namespace glassbox::kernels::cuda {

// Bytes of quantized activations for n rows of `cols` values before a
// product with `weightType` (0 when that type takes float activations).
size_t quantizedActivationBytes(engine::TensorType weightType, int n, int64_t cols);

// x: n × cols floats -> out: the blocks the CPU would produce, row after row.
cudaError_t quantizeActivations(engine::TensorType weightType, const float* x, int n, int64_t cols, void* out,
                                cudaStream_t stream);
// The values the CPU's integer products effectively multiply by (q × d),
// as halves: n × cols, for the prefill GEMM.
cudaError_t quantizedActivationsToF16(engine::TensorType weightType, const void* q, int n, int64_t cols,
                                      uint16_t* out, cudaStream_t stream);

}  // namespace glassbox::kernels::cuda
