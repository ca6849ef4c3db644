// SwiGLU on the device with the CPU backend's arithmetic:
// gate = (g / (1 + exp(-g))) · up, each operation rounded on its own.
#include "kernels/cuda/swiglu.cuh"

#include "kernels/cuda/cuda_util.cuh"

namespace glassbox::kernels::cuda {
namespace {

__global__ void swiGluKernel(float* __restrict__ gate, const float* __restrict__ up, int64_t n) {
    for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
        const float g = gate[i];
        gate[i] = __fmul_rn(__fdiv_rn(g, __fadd_rn(1.0f, expf(-g))), up[i]);
    }
}

}  // namespace

cudaError_t swiGlu(float* gate, const float* up, int64_t n, cudaStream_t stream) {
    if (n < 0) return cudaErrorInvalidValue;
    if (n == 0) return cudaSuccess;
    if (!gate || !up) return cudaErrorInvalidValue;
    swiGluKernel<<<detail::gridFor(n, 256), 256, 0, stream>>>(gate, up, n);
    return cudaGetLastError();
}

}  // namespace glassbox::kernels::cuda
