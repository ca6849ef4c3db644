// The output head's last steps on the device: gathering logits rows (one
// contiguous device copy) and a per-row argmax with the top value, the lowest
// index winning ties as in Sampler::argmaxWork.
#include "kernels/cuda/logits.cuh"

#include <climits>

#include "kernels/cuda/cuda_util.cuh"

namespace glassbox::kernels::cuda {
namespace {

constexpr int kThreads = 256;

__device__ __forceinline__ void better(float v, int j, float& best, int& at) {
    if (v > best || (v == best && j < at)) {
        best = v;
        at = j;
    }
}

__global__ void __launch_bounds__(kThreads)
    argmaxKernel(const float* __restrict__ x, int n, int* __restrict__ index, float* __restrict__ value) {
    __shared__ float sv[kThreads / 32];
    __shared__ int si[kThreads / 32];
    const float* row = x + int64_t(blockIdx.x) * n;
    float best = -INFINITY;
    int at = INT_MAX;
    for (int j = threadIdx.x; j < n; j += kThreads) better(row[j], j, best, at);
#pragma unroll
    for (int o = 16; o > 0; o >>= 1)
        better(__shfl_xor_sync(detail::kFullMask, best, o), __shfl_xor_sync(detail::kFullMask, at, o), best, at);
    const int lane = int(threadIdx.x) & 31, warp = int(threadIdx.x) >> 5;
    if (lane == 0) {
        sv[warp] = best;
        si[warp] = at;
    }
    __syncthreads();
    if (threadIdx.x != 0) return;
    for (int k = 1; k < kThreads / 32; ++k) better(sv[k], si[k], best, at);
    if (at == INT_MAX) at = 0;  // nothing comparable (every value NaN)
    if (index) index[blockIdx.x] = at;
    if (value) value[blockIdx.x] = row[at];
}

}  // namespace

cudaError_t gatherRows(const float* src, int first, int count, int dim, float* dst, cudaStream_t stream) {
    if (first < 0 || count < 0 || dim < 0) return cudaErrorInvalidValue;
    const size_t bytes = size_t(count) * size_t(dim) * sizeof(float);
    if (bytes == 0) return cudaSuccess;
    if (!src || !dst) return cudaErrorInvalidValue;
    return cudaMemcpyAsync(dst, src + size_t(first) * size_t(dim), bytes, cudaMemcpyDeviceToDevice, stream);
}

cudaError_t argmaxRows(const float* x, int rows, int n, int* index, float* value, cudaStream_t stream) {
    if (rows < 0 || n <= 0) return cudaErrorInvalidValue;
    if (rows == 0) return cudaSuccess;
    if (!x) return cudaErrorInvalidValue;
    argmaxKernel<<<unsigned(rows), kThreads, 0, stream>>>(x, n, index, value);
    return cudaGetLastError();
}

}  // namespace glassbox::kernels::cuda
