// Token embedding lookup on the device: block i decodes table row ids[i]
// with the same bit-exact decoders as dequantize.cu (8 values per thread for
// block types, one for plain floats).
#include "kernels/cuda/embedding.cuh"

#include "kernels/cuda/cuda_util.cuh"
#include "kernels/cuda/quant_blocks.cuh"

namespace glassbox::kernels::cuda {
namespace {

using engine::TensorType;

constexpr int kThreads = 256;

template <TensorType T>
__global__ void embedRows(const uint8_t* __restrict__ table, size_t rowBytes, const int32_t* __restrict__ ids, int dim,
                          float* __restrict__ out) {
    const int i = blockIdx.x;
    const uint8_t* row = table + size_t(ids[i]) * rowBytes;
    float* dst = out + int64_t(i) * dim;
    if constexpr (detail::isFloatType(T)) {
        for (int j = threadIdx.x; j < dim; j += blockDim.x) dst[j] = detail::decodeFloat<T>(row, j);
    } else {
        for (int c = threadIdx.x; c < dim / 8; c += blockDim.x) {
            float v[8];
            detail::decode8<T>(row, c, v);
#pragma unroll
            for (int e = 0; e < 8; ++e) dst[8 * c + e] = v[e];
        }
    }
}

template <TensorType T>
void launch(const void* table, size_t rowBytes, const int32_t* ids, int n, int dim, float* out, cudaStream_t s) {
    embedRows<T><<<unsigned(n), kThreads, 0, s>>>(static_cast<const uint8_t*>(table), rowBytes, ids, dim, out);
}

}  // namespace

cudaError_t embedding(TensorType type, const void* table, size_t rowBytes, const int32_t* ids, int n, int dim,
                      float* out, cudaStream_t stream) {
    const int be = detail::blockElems(type);
    if (be == 0 || n < 0 || dim <= 0 || dim % be != 0) return cudaErrorInvalidValue;
    if (rowBytes < detail::typeRowBytes(type, dim)) return cudaErrorInvalidValue;
    if (n == 0) return cudaSuccess;
    if (!table || !ids || !out) return cudaErrorInvalidValue;
    const unsigned align = type == TensorType::F32 ? 4 : 2;  // widest element read
    if (rowBytes % align != 0 || !detail::aligned(table, align)) return cudaErrorMisalignedAddress;
    switch (type) {
    case TensorType::F32: launch<TensorType::F32>(table, rowBytes, ids, n, dim, out, stream); break;
    case TensorType::F16: launch<TensorType::F16>(table, rowBytes, ids, n, dim, out, stream); break;
    case TensorType::BF16: launch<TensorType::BF16>(table, rowBytes, ids, n, dim, out, stream); break;
    case TensorType::Q4_0: launch<TensorType::Q4_0>(table, rowBytes, ids, n, dim, out, stream); break;
    case TensorType::Q4_1: launch<TensorType::Q4_1>(table, rowBytes, ids, n, dim, out, stream); break;
    case TensorType::Q5_0: launch<TensorType::Q5_0>(table, rowBytes, ids, n, dim, out, stream); break;
    case TensorType::Q5_1: launch<TensorType::Q5_1>(table, rowBytes, ids, n, dim, out, stream); break;
    case TensorType::Q8_0: launch<TensorType::Q8_0>(table, rowBytes, ids, n, dim, out, stream); break;
    case TensorType::Q4_K: launch<TensorType::Q4_K>(table, rowBytes, ids, n, dim, out, stream); break;
    case TensorType::Q5_K: launch<TensorType::Q5_K>(table, rowBytes, ids, n, dim, out, stream); break;
    case TensorType::Q6_K: launch<TensorType::Q6_K>(table, rowBytes, ids, n, dim, out, stream); break;
    default: return cudaErrorInvalidValue;
    }
    return cudaGetLastError();
}

}  // namespace glassbox::kernels::cuda
