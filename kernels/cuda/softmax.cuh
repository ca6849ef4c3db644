// Row-wise softmax on the device (max-subtracted, float32), with an optional
// causal limit: row i uses only its first valid[i] = firstValid + i columns
// and writes 0 after them.
#pragma once
#include <cuda_runtime_api.h>

namespace glassbox::kernels::cuda {

// x: rows × cols floats, in place. firstValid <= 0 means every column is valid.
cudaError_t softmaxRows(float* x, int rows, int cols, int firstValid, cudaStream_t stream);

}  // namespace glassbox::kernels::cuda
