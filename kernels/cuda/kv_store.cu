// Writing new K/V rows into the device KV cache: float copies, or halves
// rounded to nearest even (the CPU's storeRowF16). The *At variant reads the
// first position from device memory so a captured CUDA graph can replay it.
#include "kernels/cuda/kv_store.cuh"

#include "kernels/cuda/cuda_util.cuh"

namespace glassbox::kernels::cuda {
namespace {

__global__ void storeKernel(const float* __restrict__ src, int64_t total, int kvDim, void* dstBase,
                            const int* __restrict__ devPos0, bool f16) {
    const int64_t offset = devPos0 ? int64_t(*devPos0) * kvDim : 0;
    for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < total; i += int64_t(gridDim.x) * blockDim.x) {
        if (f16) {
            static_cast<uint16_t*>(dstBase)[offset + i] = detail::toHalfBits(src[i]);
        } else {
            static_cast<float*>(dstBase)[offset + i] = src[i];
        }
    }
}

cudaError_t store(const float* src, int n, int kvDim, void* dst, const int* devPos0, bool f16, cudaStream_t s) {
    if (n < 0 || kvDim < 0) return cudaErrorInvalidValue;
    const int64_t total = int64_t(n) * kvDim;
    if (total == 0) return cudaSuccess;
    if (!src || !dst) return cudaErrorInvalidValue;
    storeKernel<<<detail::gridFor(total, 256, 4096), 256, 0, s>>>(src, total, kvDim, dst, devPos0, f16);
    return cudaGetLastError();
}

}  // namespace

cudaError_t storeKv(const float* src, int n, int kvDim, void* dst, bool f16, cudaStream_t stream) {
    return store(src, n, kvDim, dst, nullptr, f16, stream);
}

cudaError_t storeKvAt(const float* src, int n, int kvDim, void* cacheBase, const int* devPos0, bool f16,
                      cudaStream_t stream) {
    if (!devPos0) return cudaErrorInvalidValue;
    return store(src, n, kvDim, cacheBase, devPos0, f16, stream);
}

}  // namespace glassbox::kernels::cuda
