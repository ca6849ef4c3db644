// Activation quantization to the CPU matmul's A8 rows (quant_blocks.cuh),
// byte for byte: per 32 values q = x · (127 / amax) rounded to nearest even,
// d = amax / 127 (rounded to F16 for ggmlBlocks), then the per-group aux
// words (d·Σq from the unrounded d, rounded to F16 for ggmlBlocks). One warp
// per 32-value block, lane j owns value j.
#include "kernels/cuda/quantize_activations.cuh"

#include "kernels/cuda/cuda_util.cuh"
#include "kernels/cuda/quant_blocks.cuh"

namespace glassbox::kernels::cuda {
namespace {

using engine::TensorType;

constexpr int kWarpsPerBlock = 8;

// Block b of one row (the calling warp's); lane j owns value j.
__device__ void quantizeBlock(const float* __restrict__ xRow, int64_t cols, int64_t b, const detail::ActLayout& f,
                              uint8_t* __restrict__ dst) {
    const int lane = int(threadIdx.x) & 31;
    const float v = xRow[32 * b + lane];
    const float amax = detail::warpMax(fabsf(v));
    const float d = __fdiv_rn(amax, 127.0f);
    const float mul = amax != 0.0f ? __fdiv_rn(127.0f, amax) : 0.0f;
    const int q = int(rintf(__fmul_rn(v, mul)));
    dst[32 * b + lane] = uint8_t(int8_t(q));
    if (lane == 0) reinterpret_cast<float*>(dst + cols)[b] = f.ggmlBlocks ? detail::roundThroughHalf(d) : d;

    uint8_t* aux = dst + cols + 4 * (cols / 32);
    if (f.group == 16) {
        int s = q;
#pragma unroll
        for (int o = 8; o > 0; o >>= 1) s += __shfl_xor_sync(detail::kFullMask, s, o);
        if ((lane & 15) == 0) reinterpret_cast<int32_t*>(aux)[2 * b + (lane >> 4)] = f.zeroPoint * s;
        return;
    }
    const int s = detail::warpSum(q);
    if (lane != 0) return;
    if (f.minTerm) {
        const float sum = __fmul_rn(d, float(s));
        reinterpret_cast<float*>(aux)[b] = f.ggmlBlocks ? detail::roundThroughHalf(sum) : sum;
    } else {
        reinterpret_cast<int32_t*>(aux)[b] = f.zeroPoint * s;
    }
}

// grid.x covers the blocks of a row (8 per thread block), grid.y strides rows.
__global__ void __launch_bounds__(kWarpsPerBlock * 32)
    quantizeA8(const float* __restrict__ x, int n, int64_t cols, detail::ActLayout f, uint64_t stride, uint64_t used,
               uint8_t* __restrict__ out) {
    const int64_t b = int64_t(blockIdx.x) * kWarpsPerBlock + (int(threadIdx.x) >> 5);
    for (int64_t row = blockIdx.y; row < n; row += gridDim.y) {
        uint8_t* dst = out + uint64_t(row) * stride;
        if (blockIdx.x == 0 && used + threadIdx.x < stride) dst[used + threadIdx.x] = 0;  // padding (< 64 bytes)
        if (b < cols / 32) quantizeBlock(x + row * cols, cols, b, f, dst);                // warp-uniform test
    }
}

__global__ void a8ToHalf(const uint8_t* __restrict__ q, int64_t cols, uint64_t stride, int64_t total,
                         uint16_t* __restrict__ out) {
    for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < total; i += int64_t(gridDim.x) * blockDim.x) {
        const int64_t row = i / cols, j = i % cols;
        const uint8_t* src = q + uint64_t(row) * stride;
        const float d = reinterpret_cast<const float*>(src + cols)[j / 32];
        out[i] = detail::toHalfBits(__fmul_rn(float(int8_t(src[j])), d));
    }
}

__global__ void floatToHalf(const float* __restrict__ x, int64_t n, uint16_t* __restrict__ out) {
    for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
        out[i] = detail::toHalfBits(x[i]);
}

bool validActivationArgs(TensorType t, int n, int64_t cols) {
    if (detail::blockElems(t) == 0 || n < 0 || cols <= 0) return false;
    return !detail::actLayout(t).quantized || cols % 32 == 0;
}

}  // namespace

size_t quantizedActivationBytes(TensorType weightType, int n, int64_t cols) {
    if (!validActivationArgs(weightType, n, cols) || !detail::actLayout(weightType).quantized) return 0;
    return size_t(detail::actRowBytes(weightType, cols)) * size_t(n);
}

cudaError_t quantizeActivations(TensorType weightType, const float* x, int n, int64_t cols, void* out,
                                cudaStream_t stream) {
    if (!validActivationArgs(weightType, n, cols)) return cudaErrorInvalidValue;
    const detail::ActLayout f = detail::actLayout(weightType);
    if (!f.quantized || n == 0) return cudaSuccess;
    if (!x || !out || !detail::aligned(out, 4)) return cudaErrorInvalidValue;
    const dim3 grid(unsigned(detail::ceilDiv(cols / 32, kWarpsPerBlock)), unsigned(n < 65535 ? n : 65535));
    quantizeA8<<<grid, kWarpsPerBlock * 32, 0, stream>>>(x, n, cols, f, detail::actRowBytes(weightType, cols),
                                                         detail::actUsedBytes(weightType, cols),
                                                         static_cast<uint8_t*>(out));
    return cudaGetLastError();
}

cudaError_t quantizedActivationsToF16(TensorType weightType, const void* q, int n, int64_t cols, uint16_t* out,
                                      cudaStream_t stream) {
    if (!validActivationArgs(weightType, n, cols)) return cudaErrorInvalidValue;
    if (n == 0) return cudaSuccess;
    if (!q || !out || !detail::aligned(q, 4) || !detail::aligned(out, 2)) return cudaErrorInvalidValue;
    const int64_t total = int64_t(n) * cols;
    if (!detail::actLayout(weightType).quantized) {
        floatToHalf<<<detail::gridFor(total, 256), 256, 0, stream>>>(static_cast<const float*>(q), total, out);
    } else {
        a8ToHalf<<<detail::gridFor(total, 256), 256, 0, stream>>>(static_cast<const uint8_t*>(q), cols,
                                                                  detail::actRowBytes(weightType, cols), total, out);
    }
    return cudaGetLastError();
}

}  // namespace glassbox::kernels::cuda
