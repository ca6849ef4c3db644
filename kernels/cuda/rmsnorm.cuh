// RMSNorm on the device: out = x / sqrt(mean(x²) + eps) * w, one row per
// block, with the CPU backend's arithmetic (squares rounded to float, summed
// in double; no fused multiply-adds).
#pragma once
#include <cuda_runtime_api.h>

namespace glassbox::kernels::cuda {

// x, out: rows × dim floats (may alias); w: dim floats.
cudaError_t rmsNorm(const float* x, const float* w, int rows, int dim, float eps, float* out, cudaStream_t stream);

}  // namespace glassbox::kernels::cuda
