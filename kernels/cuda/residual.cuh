// Element-wise adds on the device: the residual connection (x += y) and
// per-row bias (rows × dim += b).
#pragma once
#include <cuda_runtime_api.h>

#include <cstdint>

namespace glassbox::kernels::cuda {

cudaError_t addInPlace(float* x, const float* y, int64_t n, cudaStream_t stream);
cudaError_t addBias(float* rows, const float* bias, int n, int dim, cudaStream_t stream);

}  // namespace glassbox::kernels::cuda
