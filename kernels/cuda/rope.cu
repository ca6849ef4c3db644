// Rotary position embedding on the device, one block per row: the block
// first computes the row's angles with the CPU backend's float recurrence
// (theta = pos; per pair t = freqScale · theta, theta *= thetaScale, where
// thetaScale = powf(base, -2 / ropeDims) is computed on the host exactly as
// CpuBackend::applyRope does), then rotates every head's pairs in place.
#include "kernels/cuda/rope.cuh"

#include <cmath>

#include "kernels/cuda/cuda_util.cuh"

namespace glassbox::kernels::cuda {
namespace {

constexpr int kThreads = 128;

struct RopeDev {
    int headDim, half;
    float thetaScale, freqScale;
    bool neox;
};

__global__ void __launch_bounds__(kThreads)
    ropeRows(float* __restrict__ x, int nHeads, int pos0, const int* __restrict__ devPos0, RopeDev p) {
    extern __shared__ float angles[];  // cos[half], sin[half]
    float* cs = angles;
    float* sn = angles + p.half;
    const int pos = (devPos0 ? *devPos0 : pos0) + int(blockIdx.x);
    for (int k = threadIdx.x; k < p.half; k += kThreads) {
        float theta = float(pos);
        for (int j = 0; j < k; ++j) theta = __fmul_rn(theta, p.thetaScale);
        sincosf(__fmul_rn(p.freqScale, theta), &sn[k], &cs[k]);
    }
    __syncthreads();
    float* row = x + int64_t(blockIdx.x) * nHeads * p.headDim;
    for (int i = threadIdx.x; i < nHeads * p.half; i += kThreads) {
        const int h = i / p.half, k = i % p.half;
        float* v = row + int64_t(h) * p.headDim;
        const int a = p.neox ? k : 2 * k;
        const int b = p.neox ? k + p.half : 2 * k + 1;
        const float x0 = v[a], x1 = v[b];
        v[a] = __fsub_rn(__fmul_rn(x0, cs[k]), __fmul_rn(x1, sn[k]));
        v[b] = __fadd_rn(__fmul_rn(x0, sn[k]), __fmul_rn(x1, cs[k]));
    }
}

cudaError_t launch(float* x, int rows, int nHeads, int pos0, const int* devPos0, const RopeParams& p,
                   cudaStream_t stream) {
    if (rows < 0 || nHeads < 0 || p.headDim <= 0 || p.ropeDims < 0 || p.ropeDims > p.headDim || p.ropeDims % 2)
        return cudaErrorInvalidValue;
    if (rows == 0 || nHeads == 0 || p.ropeDims == 0) return cudaSuccess;
    if (!x) return cudaErrorInvalidValue;
    RopeDev d;
    d.headDim = p.headDim;
    d.half = p.ropeDims / 2;
    d.thetaScale = std::pow(p.theta, -2.0f / float(p.ropeDims));
    d.freqScale = p.freqScale;
    d.neox = p.neox;
    const size_t shared = size_t(2 * d.half) * sizeof(float);
    ropeRows<<<unsigned(rows), kThreads, shared, stream>>>(x, nHeads, pos0, devPos0, d);
    return cudaGetLastError();
}

}  // namespace

cudaError_t rope(float* x, int rows, int nHeads, int pos0, const RopeParams& p, cudaStream_t stream) {
    return launch(x, rows, nHeads, pos0, nullptr, p, stream);
}

cudaError_t ropeAt(float* x, int rows, int nHeads, const int* devPos0, const RopeParams& p, cudaStream_t stream) {
    if (!devPos0) return cudaErrorInvalidValue;
    return launch(x, rows, nHeads, 0, devPos0, p, stream);
}

}  // namespace glassbox::kernels::cuda
