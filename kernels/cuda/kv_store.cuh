// Writing new K/V rows into the device KV cache (float32 or half).
#pragma once
#include <cuda_runtime_api.h>

namespace glassbox::kernels::cuda {

// src: n × kvDim floats; dst: the cache row of the first position (n rows of
// kvDim elements follow contiguously).
cudaError_t storeKv(const float* src, int n, int kvDim, void* dst, bool f16, cudaStream_t stream);
// The same into cacheBase + (*devPos0) rows, the position read from device
// memory at run time (for CUDA-graph replay).
cudaError_t storeKvAt(const float* src, int n, int kvDim, void* cacheBase, const int* devPos0, bool f16,
                      cudaStream_t stream);

}  // namespace glassbox::kernels::cuda
