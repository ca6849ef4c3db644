// matVec: the decode-time product y[v] = W · x[v] for up to kMaxMatVecColumns
// vectors, straight from the weights' file layout.
//
// Layout: a block of 4 warps owns R consecutive rows (R = 2, or 4 with more
// than 4 vectors); its 128 threads stride over the rows' 32-weight units
// (matvec_units.cuh), so consecutive threads read consecutive blocks and a
// warp's loads cover one contiguous stretch of each row. Each thread decodes
// a unit of every row once, then streams each vector's matching activations
// through it (activations are read once per unit and block, weights once).
// Partial sums are reduced by warp shuffles and then across the 4 warps in
// shared memory. Q4_0, Q5_0, Q8_0 and Q6_K rows that are 16-byte aligned are
// first staged through shared memory (matVecStaged). Float weights use the
// same shape with 8-element units (rows 16-byte aligned, cols % 8 == 0) or
// 1-element units.
#include "kernels/cuda/matvec.cuh"

#include "kernels/cuda/cuda_util.cuh"
#include "kernels/cuda/matvec_units.cuh"
#include "kernels/cuda/quant_blocks.cuh"

namespace glassbox::kernels::cuda {
namespace {

using detail::ActUnit;
using detail::WeightUnit;
using engine::TensorType;

constexpr int kThreads = 128;
constexpr int kWarps = kThreads / 32;

// acc[r][v] of every thread summed into y[v * rows + row0 + r].
template <int NV, int R>
__device__ __forceinline__ void reduceStore(float (&acc)[R][NV], int64_t row0, int nr, int nVec, int64_t rows,
                                            float* y) {
    __shared__ float red[kWarps][R * NV];
    const int lane = int(threadIdx.x) & 31, warp = int(threadIdx.x) >> 5;
#pragma unroll
    for (int r = 0; r < R; ++r)
#pragma unroll
        for (int v = 0; v < NV; ++v) {
            const float s = detail::warpSum(acc[r][v]);
            if (lane == 0) red[warp][r * NV + v] = s;
        }
    __syncthreads();
    const int t = int(threadIdx.x);
    if (t < R * NV) {
        const int r = t / NV, v = t % NV;
        if (r < nr && v < nVec) {
            float s = 0.0f;
#pragma unroll
            for (int k = 0; k < kWarps; ++k) s += red[k][t];
            y[int64_t(v) * rows + row0 + r] = s;
        }
    }
}

template <TensorType T, int NV, int R>
__global__ void __launch_bounds__(kThreads)
    matVecQuant(const uint8_t* __restrict__ w, uint64_t rowBytes, int64_t rows, int64_t cols,
                const uint8_t* __restrict__ xq, uint64_t xStride, int nVec, float* __restrict__ y) {
    const int64_t row0 = int64_t(blockIdx.x) * R;
    const int nr = rows - row0 < R ? int(rows - row0) : R;
    const int units = int(cols / 32);
    float acc[R][NV];
#pragma unroll
    for (int r = 0; r < R; ++r)
#pragma unroll
        for (int v = 0; v < NV; ++v) acc[r][v] = 0.0f;

    for (int u = int(threadIdx.x); u < units; u += kThreads) {
        WeightUnit wu[R];
#pragma unroll
        for (int r = 0; r < R; ++r) {
            const int64_t row = r < nr ? row0 + r : row0;  // stay inside W
            detail::loadWeights<T>(w + uint64_t(row) * rowBytes, u, wu[r]);
        }
#pragma unroll
        for (int v = 0; v < NV; ++v) {
            if (v >= nVec) break;
            ActUnit a;
            detail::loadAct<T>(xq + uint64_t(v) * xStride, cols, u, a);
#pragma unroll
            for (int r = 0; r < R; ++r) acc[r][v] += detail::unitDot<T>(wu[r], a);
        }
    }
    reduceStore<NV, R>(acc, row0, nr, nVec, rows, y);
}

// Block types that are only 2-byte aligned (18, 22, 34, 210 bytes) make the
// per-thread loads above touch many cache lines per warp instruction. When
// their rows are 16-byte aligned, matVecStaged instead copies each tile of
// kThreads units per row into shared memory with coalesced 16-byte loads and
// decodes from there. A tile starts at a multiple of 16 bytes inside a row
// (128 blocks of 18/22/34 bytes, 16 super-blocks of 210), and the last tile
// ends at the row end, so every copy is whole 16-byte chunks.
template <TensorType T>
constexpr bool stagedType() {
    return T == TensorType::Q4_0 || T == TensorType::Q5_0 || T == TensorType::Q8_0 || T == TensorType::Q6_K;
}

template <TensorType T>
constexpr int unitsPerBlock() {
    return T == TensorType::Q6_K ? 8 : 1;
}

template <TensorType T, int NV, int R>
__global__ void __launch_bounds__(kThreads)
    matVecStaged(const uint8_t* __restrict__ w, uint64_t rowBytes, int64_t rows, int64_t cols,
                 const uint8_t* __restrict__ xq, uint64_t xStride, int nVec, float* __restrict__ y) {
    constexpr int kTileBytes = kThreads / unitsPerBlock<T>() * detail::blockBytes(T);
    __shared__ __align__(16) uint8_t tile[R][kTileBytes];
    const int64_t row0 = int64_t(blockIdx.x) * R;
    const int nr = rows - row0 < R ? int(rows - row0) : R;
    const int units = int(cols / 32);
    const int t = int(threadIdx.x);
    float acc[R][NV];
#pragma unroll
    for (int r = 0; r < R; ++r)
#pragma unroll
        for (int v = 0; v < NV; ++v) acc[r][v] = 0.0f;

    for (int start = 0; start < units; start += kThreads) {
        const int tileUnits = units - start < kThreads ? units - start : kThreads;
        const int chunks = tileUnits / unitsPerBlock<T>() * detail::blockBytes(T) / 16;
        const uint64_t offset = uint64_t(start / unitsPerBlock<T>()) * detail::blockBytes(T);
        __syncthreads();  // the previous tile has been read
#pragma unroll
        for (int r = 0; r < R; ++r) {
            const int64_t row = r < nr ? row0 + r : row0;
            const auto* src = reinterpret_cast<const uint4*>(w + uint64_t(row) * rowBytes + offset);
            auto* dst = reinterpret_cast<uint4*>(tile[r]);
            for (int c = t; c < chunks; c += kThreads) dst[c] = __ldg(src + c);
        }
        __syncthreads();
        if (t < tileUnits) {
            WeightUnit wu[R];
#pragma unroll
            for (int r = 0; r < R; ++r) detail::loadWeights<T, false>(tile[r], t, wu[r]);
#pragma unroll
            for (int v = 0; v < NV; ++v) {
                if (v >= nVec) break;
                ActUnit a;
                detail::loadAct<T>(xq + uint64_t(v) * xStride, cols, start + t, a);
#pragma unroll
                for (int r = 0; r < R; ++r) acc[r][v] += detail::unitDot<T>(wu[r], a);
            }
        }
    }
    reduceStore<NV, R>(acc, row0, nr, nVec, rows, y);
}

// VALS consecutive float weights of unit u (VALS 8: one 16/32-byte load).
template <TensorType T, int VALS>
__device__ __forceinline__ void loadFloatUnit(const uint8_t* row, int64_t u, float (&f)[VALS]) {
    if constexpr (VALS == 1) {
        f[0] = detail::decodeFloat<T>(row, u);
    } else if constexpr (T == TensorType::F32) {
        const auto* p = reinterpret_cast<const float4*>(row + 32 * u);
        const float4 a = __ldg(p), b = __ldg(p + 1);
        f[0] = a.x, f[1] = a.y, f[2] = a.z, f[3] = a.w, f[4] = b.x, f[5] = b.y, f[6] = b.z, f[7] = b.w;
    } else {
        const uint4 q = __ldg(reinterpret_cast<const uint4*>(row + 16 * u));
        const uint32_t words[4] = {q.x, q.y, q.z, q.w};
#pragma unroll
        for (int i = 0; i < 4; ++i) {
            if constexpr (T == TensorType::F16) {
                f[2 * i] = detail::halfBits(uint16_t(words[i] & 0xffffu));
                f[2 * i + 1] = detail::halfBits(uint16_t(words[i] >> 16));
            } else {
                f[2 * i] = __uint_as_float(words[i] << 16);
                f[2 * i + 1] = __uint_as_float(words[i] & 0xffff0000u);
            }
        }
    }
}

template <int VALS>
__device__ __forceinline__ void loadFloatX(const float* x, int64_t u, float (&f)[VALS]) {
    if constexpr (VALS == 1) {
        f[0] = __ldg(x + u);
    } else {
        const auto* p = reinterpret_cast<const float4*>(x + 8 * u);
        const float4 a = __ldg(p), b = __ldg(p + 1);
        f[0] = a.x, f[1] = a.y, f[2] = a.z, f[3] = a.w, f[4] = b.x, f[5] = b.y, f[6] = b.z, f[7] = b.w;
    }
}

template <TensorType T, int VALS, int NV, int R>
__global__ void __launch_bounds__(kThreads)
    matVecFloat(const uint8_t* __restrict__ w, uint64_t rowBytes, int64_t rows, int64_t cols,
                const float* __restrict__ x, int nVec, float* __restrict__ y) {
    const int64_t row0 = int64_t(blockIdx.x) * R;
    const int nr = rows - row0 < R ? int(rows - row0) : R;
    const int64_t units = cols / VALS;
    float acc[R][NV];
#pragma unroll
    for (int r = 0; r < R; ++r)
#pragma unroll
        for (int v = 0; v < NV; ++v) acc[r][v] = 0.0f;

    for (int64_t u = threadIdx.x; u < units; u += kThreads) {
        float wf[R][VALS];
#pragma unroll
        for (int r = 0; r < R; ++r) {
            const int64_t row = r < nr ? row0 + r : row0;
            loadFloatUnit<T, VALS>(w + uint64_t(row) * rowBytes, u, wf[r]);
        }
#pragma unroll
        for (int v = 0; v < NV; ++v) {
            if (v >= nVec) break;
            float xv[VALS];
            loadFloatX<VALS>(x + int64_t(v) * cols, u, xv);
#pragma unroll
            for (int r = 0; r < R; ++r)
#pragma unroll
                for (int e = 0; e < VALS; ++e) acc[r][v] += wf[r][e] * xv[e];
        }
    }
    reduceStore<NV, R>(acc, row0, nr, nVec, rows, y);
}

struct Launch {
    const void* w;
    int64_t rows, cols;
    const void* xq;
    int nVec;
    float* y;
    cudaStream_t stream;
};

template <TensorType T, int NV, int R>
void launchQuant(const Launch& l) {
    const auto grid = unsigned(detail::ceilDiv(l.rows, R));
    const uint64_t rowBytes = detail::typeRowBytes(T, l.cols);
    const auto* w = static_cast<const uint8_t*>(l.w);
    const auto* xq = static_cast<const uint8_t*>(l.xq);
    const uint64_t xStride = detail::actRowBytes(T, l.cols);
    if constexpr (stagedType<T>()) {
        if (rowBytes % 16 == 0) {  // w itself is 16-byte aligned (checked by matVec)
            matVecStaged<T, NV, R>
                <<<grid, kThreads, 0, l.stream>>>(w, rowBytes, l.rows, l.cols, xq, xStride, l.nVec, l.y);
            return;
        }
    }
    matVecQuant<T, NV, R><<<grid, kThreads, 0, l.stream>>>(w, rowBytes, l.rows, l.cols, xq, xStride, l.nVec, l.y);
}

template <TensorType T, int VALS, int NV, int R>
void launchFloat(const Launch& l) {
    const auto grid = unsigned(detail::ceilDiv(l.rows, R));
    matVecFloat<T, VALS, NV, R><<<grid, kThreads, 0, l.stream>>>(static_cast<const uint8_t*>(l.w),
                                                                 detail::typeRowBytes(T, l.cols), l.rows, l.cols,
                                                                 static_cast<const float*>(l.xq), l.nVec, l.y);
}

// Compile-time vector capacity: 1, 2, 4 or 8 (unused slots are skipped).
template <TensorType T>
void dispatchQuant(const Launch& l) {
    if (l.nVec == 1) return launchQuant<T, 1, 2>(l);
    if (l.nVec == 2) return launchQuant<T, 2, 2>(l);
    if (l.nVec <= 4) return launchQuant<T, 4, 2>(l);
    launchQuant<T, 8, 4>(l);
}

template <TensorType T, int VALS>
void dispatchFloatVals(const Launch& l) {
    if (l.nVec == 1) return launchFloat<T, VALS, 1, 2>(l);
    if (l.nVec == 2) return launchFloat<T, VALS, 2, 2>(l);
    if (l.nVec <= 4) return launchFloat<T, VALS, 4, 2>(l);
    launchFloat<T, VALS, 8, 4>(l);
}

template <TensorType T>
void dispatchFloat(const Launch& l) {
    const bool wide = l.cols % 8 == 0 && detail::aligned(l.w, 16) && detail::aligned(l.xq, 16);
    if (wide) return dispatchFloatVals<T, 8>(l);
    dispatchFloatVals<T, 1>(l);
}

}  // namespace

bool matVecSupports(TensorType type) { return detail::blockElems(type) != 0; }

cudaError_t matVec(TensorType type, const void* w, int64_t rows, int64_t cols, const void* xq, int nVec, float* y,
                   cudaStream_t stream) {
    if (!matVecSupports(type) || rows < 0 || cols <= 0 || nVec < 1 || nVec > kMaxMatVecColumns) {
        return cudaErrorInvalidValue;
    }
    if (cols % detail::blockElems(type) != 0 || rows > int64_t(0x7fffffff) || cols / 32 > int64_t(0x7fffffff)) {
        return cudaErrorInvalidValue;
    }
    if (rows == 0) return cudaSuccess;
    if (!w || !xq || !y) return cudaErrorInvalidValue;
    const Launch l{w, rows, cols, xq, nVec, y, stream};
    if (!detail::isFloatType(type) && (!detail::aligned(w, 16) || !detail::aligned(xq, 16))) {
        return cudaErrorMisalignedAddress;
    }
    switch (type) {
    case TensorType::F32: dispatchFloat<TensorType::F32>(l); break;
    case TensorType::F16: dispatchFloat<TensorType::F16>(l); break;
    case TensorType::BF16: dispatchFloat<TensorType::BF16>(l); break;
    case TensorType::Q4_0: dispatchQuant<TensorType::Q4_0>(l); break;
    case TensorType::Q4_1: dispatchQuant<TensorType::Q4_1>(l); break;
    case TensorType::Q5_0: dispatchQuant<TensorType::Q5_0>(l); break;
    case TensorType::Q5_1: dispatchQuant<TensorType::Q5_1>(l); break;
    case TensorType::Q8_0: dispatchQuant<TensorType::Q8_0>(l); break;
    case TensorType::Q4_K: dispatchQuant<TensorType::Q4_K>(l); break;
    case TensorType::Q5_K: dispatchQuant<TensorType::Q5_K>(l); break;
    case TensorType::Q6_K: dispatchQuant<TensorType::Q6_K>(l); break;
    default: return cudaErrorInvalidValue;
    }
    return cudaGetLastError();
}

}  // namespace glassbox::kernels::cuda
