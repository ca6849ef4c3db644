// The output head's last steps on the device: gathering the rows whose
// logits are wanted, and a device-side argmax with the top logit (used by
// greedy decode without copying the whole row back).
#pragma once
#include <cuda_runtime_api.h>

namespace glassbox::kernels::cuda {

// dst[i] = src[rows[i]] for `count` rows of dim floats (rows on the host side
// is expressed as first + i, contiguous).
cudaError_t gatherRows(const float* src, int first, int count, int dim, float* dst, cudaStream_t stream);
// For each of `rows` rows of n floats: index and value of the maximum.
cudaError_t argmaxRows(const float* x, int rows, int n, int* index, float* value, cudaStream_t stream);

}  // namespace glassbox::kernels::cuda
