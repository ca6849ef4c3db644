// Whole-matrix dequantization on the device (F32 bit-exact with the CPU's
// dequantizeRow; F16 is that value rounded to nearest even) and float ->
// half conversion. Quantized types: one thread per 8 consecutive outputs
// (two float4 or one 16-byte half store); plain floats: one per element.
#include "kernels/cuda/dequantize.cuh"

#include "kernels/cuda/cuda_util.cuh"
#include "kernels/cuda/quant_blocks.cuh"

namespace glassbox::kernels::cuda {
namespace {

using engine::TensorType;

constexpr int kThreads = 256;

__device__ __forceinline__ void store8(float* out, int64_t at, const float (&v)[8]) {
    auto* p = reinterpret_cast<float4*>(out + at);
    p[0] = make_float4(v[0], v[1], v[2], v[3]);
    p[1] = make_float4(v[4], v[5], v[6], v[7]);
}

__device__ __forceinline__ void store8(uint16_t* out, int64_t at, const float (&v)[8]) {
    uint32_t w[4];
#pragma unroll
    for (int i = 0; i < 4; ++i)
        w[i] = uint32_t(detail::toHalfBits(v[2 * i])) | (uint32_t(detail::toHalfBits(v[2 * i + 1])) << 16);
    *reinterpret_cast<uint4*>(out + at) = make_uint4(w[0], w[1], w[2], w[3]);
}

__device__ __forceinline__ void store1(float* out, int64_t at, float v) { out[at] = v; }
__device__ __forceinline__ void store1(uint16_t* out, int64_t at, float v) { out[at] = detail::toHalfBits(v); }

template <TensorType T, typename Out>
__global__ void dequantQuant(const uint8_t* __restrict__ w, int64_t rows, int64_t cols, Out* __restrict__ out) {
    const int64_t perRow = cols / 8;
    const int64_t total = rows * perRow;
    const uint64_t rowBytes = detail::typeRowBytes(T, cols);
    for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < total; i += int64_t(gridDim.x) * blockDim.x) {
        const int64_t r = i / perRow, c = i % perRow;
        float v[8];
        detail::decode8<T>(w + uint64_t(r) * rowBytes, c, v);
        store8(out, r * cols + 8 * c, v);
    }
}

template <TensorType T, typename Out>
__global__ void dequantFloat(const uint8_t* __restrict__ w, int64_t total, Out* __restrict__ out) {
    for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < total; i += int64_t(gridDim.x) * blockDim.x)
        store1(out, i, detail::decodeFloat<T>(w, i));
}

template <TensorType T, typename Out>
void launch(const void* w, int64_t rows, int64_t cols, Out* out, cudaStream_t stream) {
    const auto* src = static_cast<const uint8_t*>(w);
    if constexpr (detail::isFloatType(T)) {
        const int64_t total = rows * cols;
        dequantFloat<T, Out><<<detail::gridFor(total, kThreads), kThreads, 0, stream>>>(src, total, out);
    } else {
        const int64_t total = rows * (cols / 8);
        dequantQuant<T, Out><<<detail::gridFor(total, kThreads), kThreads, 0, stream>>>(src, rows, cols, out);
    }
}

template <typename Out>
cudaError_t dequantize(TensorType type, const void* w, int64_t rows, int64_t cols, Out* out, cudaStream_t stream) {
    const int be = detail::blockElems(type);
    if (be == 0 || rows < 0 || cols <= 0 || cols % be != 0) return cudaErrorInvalidValue;
    if (rows == 0) return cudaSuccess;
    if (!w || !out) return cudaErrorInvalidValue;
    const bool wideOut = !detail::isFloatType(type);  // 8 outputs per 16/32-byte store
    if ((wideOut && !detail::aligned(out, 16)) || !detail::aligned(w, type == TensorType::F32 ? 4 : 2))
        return cudaErrorMisalignedAddress;
    switch (type) {
    case TensorType::F32: launch<TensorType::F32>(w, rows, cols, out, stream); break;
    case TensorType::F16: launch<TensorType::F16>(w, rows, cols, out, stream); break;
    case TensorType::BF16: launch<TensorType::BF16>(w, rows, cols, out, stream); break;
    case TensorType::Q4_0: launch<TensorType::Q4_0>(w, rows, cols, out, stream); break;
    case TensorType::Q4_1: launch<TensorType::Q4_1>(w, rows, cols, out, stream); break;
    case TensorType::Q5_0: launch<TensorType::Q5_0>(w, rows, cols, out, stream); break;
    case TensorType::Q5_1: launch<TensorType::Q5_1>(w, rows, cols, out, stream); break;
    case TensorType::Q8_0: launch<TensorType::Q8_0>(w, rows, cols, out, stream); break;
    case TensorType::Q4_K: launch<TensorType::Q4_K>(w, rows, cols, out, stream); break;
    case TensorType::Q5_K: launch<TensorType::Q5_K>(w, rows, cols, out, stream); break;
    case TensorType::Q6_K: launch<TensorType::Q6_K>(w, rows, cols, out, stream); break;
    default: return cudaErrorInvalidValue;
    }
    return cudaGetLastError();
}

__global__ void f32ToF16(const float* __restrict__ x, int64_t n, uint16_t* __restrict__ out) {
    for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
        out[i] = detail::toHalfBits(x[i]);
}

}  // namespace

cudaError_t dequantizeToF16(TensorType type, const void* w, int64_t rows, int64_t cols, uint16_t* out,
                            cudaStream_t stream) {
    return dequantize(type, w, rows, cols, out, stream);
}

cudaError_t dequantizeToF32(TensorType type, const void* w, int64_t rows, int64_t cols, float* out,
                            cudaStream_t stream) {
    return dequantize(type, w, rows, cols, out, stream);
}

cudaError_t convertF32ToF16(const float* x, int64_t n, uint16_t* out, cudaStream_t stream) {
    if (n < 0) return cudaErrorInvalidValue;
    if (n == 0) return cudaSuccess;
    if (!x || !out) return cudaErrorInvalidValue;
    f32ToF16<<<detail::gridFor(n, kThreads), kThreads, 0, stream>>>(x, n, out);
    return cudaGetLastError();
}

}  // namespace glassbox::kernels::cuda
