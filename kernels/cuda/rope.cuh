// Rotary position embedding on the device, in place, for both orderings:
// Normal (pairs 2p, 2p+1, GPT-J / Llama GGUF) and NeoX (pairs p, p+half).
// Angles follow the CPU reference's float recurrence theta *= thetaScale.
#pragma once
#include <cuda_runtime_api.h>

namespace glassbox::kernels::cuda {

struct RopeParams {
    int headDim = 0;
    int ropeDims = 0;          // rotated dimensions per head (<= headDim, even)
    float theta = 10000.0f;    // base
    float freqScale = 1.0f;    // linear scaling (1 / factor)
    bool neox = false;
};

// x: rows × nHeads × headDim floats; row i is at position pos0 + i.
cudaError_t rope(float* x, int rows, int nHeads, int pos0, const RopeParams& p, cudaStream_t stream);
// The same with pos0 read from device memory (for CUDA-graph replay).
cudaError_t ropeAt(float* x, int rows, int nHeads, const int* devPos0, const RopeParams& p, cudaStream_t stream);

}  // namespace glassbox::kernels::cuda
