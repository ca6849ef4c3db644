// Element-wise adds on the device: the residual connection and per-row bias.
#include "kernels/cuda/residual.cuh"

#include "kernels/cuda/cuda_util.cuh"

namespace glassbox::kernels::cuda {
namespace {

__global__ void addKernel(float* __restrict__ x, const float* __restrict__ y, int64_t n) {
    for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
        x[i] = __fadd_rn(x[i], y[i]);
}

__global__ void biasKernel(float* __restrict__ rows, const float* __restrict__ bias, int64_t total, int dim) {
    for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < total; i += int64_t(gridDim.x) * blockDim.x)
        rows[i] = __fadd_rn(rows[i], bias[i % dim]);
}

}  // namespace

cudaError_t addInPlace(float* x, const float* y, int64_t n, cudaStream_t stream) {
    if (n < 0) return cudaErrorInvalidValue;
    if (n == 0) return cudaSuccess;
    if (!x || !y) return cudaErrorInvalidValue;
    addKernel<<<detail::gridFor(n, 256), 256, 0, stream>>>(x, y, n);
    return cudaGetLastError();
}

cudaError_t addBias(float* rows, const float* bias, int n, int dim, cudaStream_t stream) {
    if (n < 0 || dim < 0) return cudaErrorInvalidValue;
    const int64_t total = int64_t(n) * dim;
    if (total == 0) return cudaSuccess;
    if (!rows || !bias) return cudaErrorInvalidValue;
    biasKernel<<<detail::gridFor(total, 256), 256, 0, stream>>>(rows, bias, total, dim);
    return cudaGetLastError();
}

}  // namespace glassbox::kernels::cuda
