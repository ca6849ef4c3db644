// SwiGLU on the device: gate[i] = silu(gate[i]) * up[i].
#pragma once
#include <cuda_runtime_api.h>

#include <cstdint>

namespace glassbox::kernels::cuda {

cudaError_t swiGlu(float* gate, const float* up, int64_t n, cudaStream_t stream);

}  // namespace glassbox::kernels::cuda
