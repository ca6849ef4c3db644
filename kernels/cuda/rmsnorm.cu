// RMSNorm on the device, one row per block, with the CPU backend's
// arithmetic (engine/cpu_backend.cpp rmsNormRow): the squares are rounded to
// float and summed in double, scale = 1 / sqrtf(float(sum / n) + eps), and
// out = (x · scale) · w without fused multiply-adds.
#include "kernels/cuda/rmsnorm.cuh"

#include "kernels/cuda/cuda_util.cuh"

namespace glassbox::kernels::cuda {
namespace {

constexpr int kThreads = 256;

__global__ void __launch_bounds__(kThreads)
    rmsNormRows(const float* x, const float* __restrict__ w, int dim, float eps, float* out) {
    __shared__ double scratch[32];
    const float* xr = x + int64_t(blockIdx.x) * dim;
    float* o = out + int64_t(blockIdx.x) * dim;
    double sum = 0.0;
    for (int i = threadIdx.x; i < dim; i += kThreads) {
        const float v = xr[i];
        sum += double(__fmul_rn(v, v));
    }
    sum = detail::blockSum(sum, scratch);
    const float scale = __fdiv_rn(1.0f, __fsqrt_rn(__fadd_rn(float(sum / dim), eps)));
    // Each thread rewrites only the elements it read, so x may alias out.
    for (int i = threadIdx.x; i < dim; i += kThreads) o[i] = __fmul_rn(__fmul_rn(xr[i], scale), w[i]);
}

}  // namespace

cudaError_t rmsNorm(const float* x, const float* w, int rows, int dim, float eps, float* out, cudaStream_t stream) {
    if (rows < 0 || dim <= 0) return cudaErrorInvalidValue;
    if (rows == 0) return cudaSuccess;
    if (!x || !w || !out) return cudaErrorInvalidValue;
    rmsNormRows<<<unsigned(rows), kThreads, 0, stream>>>(x, w, dim, eps, out);
    return cudaGetLastError();
}

}  // namespace glassbox::kernels::cuda
