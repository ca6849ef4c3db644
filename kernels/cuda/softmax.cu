// Row-wise softmax on the device with the CPU's arithmetic (vec_ops.cpp
// softmax): max over the valid columns, e = expf(x - max) summed in double,
// then e · float(1 / sum); an all -inf row becomes zeros, and columns past a
// row's causal limit are written as 0. One block per row.
#include "kernels/cuda/softmax.cuh"

#include "kernels/cuda/cuda_util.cuh"

namespace glassbox::kernels::cuda {
namespace {

constexpr int kThreads = 256;

__global__ void __launch_bounds__(kThreads) softmaxKernel(float* __restrict__ x, int cols, int firstValid) {
    __shared__ float fScratch[32];
    __shared__ double dScratch[32];
    float* row = x + int64_t(blockIdx.x) * cols;
    int valid = cols;
    if (firstValid > 0) {
        const int64_t v = int64_t(firstValid) + blockIdx.x;
        valid = v < cols ? int(v) : cols;
    }
    float m = -INFINITY;
    for (int j = threadIdx.x; j < valid; j += kThreads) m = fmaxf(m, row[j]);
    m = detail::blockMax(m, fScratch);
    double sum = 0.0;
    if (m != -INFINITY) {
        for (int j = threadIdx.x; j < valid; j += kThreads) {
            const float e = expf(__fsub_rn(row[j], m));
            row[j] = e;
            sum += double(e);
        }
    }
    sum = detail::blockSum(sum, dScratch);  // every thread calls it
    const bool any = m != -INFINITY;
    const float inv = any ? float(1.0 / sum) : 0.0f;
    for (int j = threadIdx.x; j < cols; j += kThreads) row[j] = any && j < valid ? __fmul_rn(row[j], inv) : 0.0f;
}

}  // namespace

cudaError_t softmaxRows(float* x, int rows, int cols, int firstValid, cudaStream_t stream) {
    if (rows < 0 || cols < 0) return cudaErrorInvalidValue;
    if (rows == 0 || cols == 0) return cudaSuccess;
    if (!x) return cudaErrorInvalidValue;
    softmaxKernel<<<unsigned(rows), kThreads, 0, stream>>>(x, cols, firstValid);
    return cudaGetLastError();
}

}  // namespace glassbox::kernels::cuda
