// The device measurements of engine/device_bench.h with the CUDA runtime and
// the backend's own helpers: errors through cuda::check, memory through a
// DeviceAllocator (so every allocation is accounted and freed on any path),
// the stream through cuda::Stream, and GEMMs through the backend's cuBLAS
// wrapper (kernels/cuda/gemm.cuh).
#include "engine/device_bench.h"

#include <cuda_runtime_api.h>

#include <algorithm>
#include <limits>
#include <vector>

#include "engine/cuda/cuda_check.h"
#include "engine/cuda/device_allocator.h"
#include "engine/rng.h"
#include "engine/tensor_types.h"
#include "kernels/cuda/gemm.cuh"

namespace glassbox::engine {
namespace {

using cuda::check;
using cuda::MemoryKind;

// GEMMs per timed batch: long enough that launch gaps do not dominate a
// small shape, short enough to repeat.
constexpr int kGemmBatch = 8;

// A start and a stop event; elapsedSeconds() waits for the stop.
class EventPair {
public:
    ~EventPair() {
        if (m_start) cudaEventDestroy(m_start);
        if (m_stop) cudaEventDestroy(m_stop);
    }
    Status create() {
        GB_CUDA_TRY(cudaEventCreate(&m_start), "creating a timing event");
        GB_CUDA_TRY(cudaEventCreate(&m_stop), "creating a timing event");
        return {};
    }
    Status start(cudaStream_t s) { return check(cudaEventRecord(m_start, s), "recording a timing event"); }
    Status stop(cudaStream_t s) { return check(cudaEventRecord(m_stop, s), "recording a timing event"); }
    Result<double> elapsedSeconds() {
        GB_CUDA_TRY(cudaEventSynchronize(m_stop), "the timed work");
        float ms = 0.0f;
        GB_CUDA_TRY(cudaEventElapsedTime(&ms, m_start, m_stop), "reading a timing event");
        return double(ms) * 1e-3;
    }

private:
    cudaEvent_t m_start = nullptr, m_stop = nullptr;
};

// The name of `device`, which must exist.
Result<std::string> deviceName(int device) {
    int count = 0;
    const cudaError_t e = cudaGetDeviceCount(&count);
    if (e != cudaSuccess) {
        cudaGetLastError();
        return makeError(ErrorCode::Device, "no usable CUDA device: " + cuda::describe(e));
    }
    if (device < 0 || device >= count)
        return makeError(ErrorCode::Device,
                         "CUDA device " + std::to_string(device) + " does not exist (" + std::to_string(count) +
                             " present)");
    cudaDeviceProp prop{};
    GB_CUDA_TRY(cudaGetDeviceProperties(&prop, device), "reading the device's properties");
    return std::string(prop.name);
}

// Random halves in [-1, 1] copied into the first `count` halves of `dst`.
Status uploadRandomHalves(uint16_t* dst, size_t count, uint64_t seed, cudaStream_t stream) {
    std::vector<uint16_t> host(count);
    Rng rng(seed);
    for (uint16_t& h : host) h = floatToFp16(rng.nextFloat() * 2.0f - 1.0f);
    GB_CUDA_TRY(cudaMemcpyAsync(dst, host.data(), count * sizeof(uint16_t), cudaMemcpyHostToDevice, stream),
                "uploading GEMM inputs");
    return check(cudaStreamSynchronize(stream), "uploading GEMM inputs");
}

// Best time of one GEMM of `s` over `repeats` batches.
Result<double> timeShape(kernels::cuda::Cublas& blas, const MatmulShape& s, int n, int repeats, const uint16_t* w,
                         const uint16_t* x, float* y, cudaStream_t stream, EventPair& events) {
    const int rows = int(s.rows), cols = int(s.cols);
    for (int i = 0; i < 2; ++i)  // warm-up: cuBLAS picks and loads its kernel
        if (std::string err = blas.gemmF16(w, x, y, rows, cols, n); !err.empty())
            return makeError(ErrorCode::Device, "cuBLAS GEMM failed: " + err, s.names);
    double best = std::numeric_limits<double>::infinity();
    for (int r = 0; r < repeats; ++r) {
        GB_TRY(events.start(stream));
        for (int i = 0; i < kGemmBatch; ++i)
            if (std::string err = blas.gemmF16(w, x, y, rows, cols, n); !err.empty())
                return makeError(ErrorCode::Device, "cuBLAS GEMM failed: " + err, s.names);
        GB_TRY(events.stop(stream));
        GB_ASSIGN_OR_RETURN(double seconds, events.elapsedSeconds());
        best = std::min(best, seconds / kGemmBatch);
    }
    return best;
}

}  // namespace

Result<CopyBandwidth> measureCopyBandwidth(int device, uint64_t bufferBytes, int repeats) {
    if (bufferBytes == 0 || repeats < 1)
        return makeError(ErrorCode::InvalidArgument, "buffer size and repeats must be positive");
    CopyBandwidth r;
    GB_ASSIGN_OR_RETURN(r.device, deviceName(device));
    cuda::DeviceGuard guard(device);
    GB_TRY(guard.status());
    cuda::DeviceAllocator alloc(device);
    const size_t bytes = size_t(bufferBytes);
    GB_ASSIGN_OR_RETURN(cuda::DeviceBuffer src, alloc.allocate(MemoryKind::Scratch, bytes, "copy source"));
    GB_ASSIGN_OR_RETURN(cuda::DeviceBuffer dst, alloc.allocate(MemoryKind::Scratch, bytes, "copy destination"));
    cuda::Stream stream;
    GB_TRY(stream.create());
    EventPair events;
    GB_TRY(events.create());
    GB_CUDA_TRY(cudaMemsetAsync(src.data(), 0x5A, bytes, stream.get()), "filling the copy source");
    GB_CUDA_TRY(cudaMemcpyAsync(dst.data(), src.data(), bytes, cudaMemcpyDeviceToDevice, stream.get()),
                "device-to-device copy");
    double best = std::numeric_limits<double>::infinity();
    for (int i = 0; i < repeats; ++i) {
        GB_TRY(events.start(stream.get()));
        GB_CUDA_TRY(cudaMemcpyAsync(dst.data(), src.data(), bytes, cudaMemcpyDeviceToDevice, stream.get()),
                    "device-to-device copy");
        GB_TRY(events.stop(stream.get()));
        GB_ASSIGN_OR_RETURN(double seconds, events.elapsedSeconds());
        best = std::min(best, seconds);
    }
    r.bufferBytes = bufferBytes;
    r.repeats = repeats;
    r.bestSeconds = best;
    r.bytesPerSecond = best > 0.0 ? 2.0 * double(bufferBytes) / best : 0.0;
    return r;
}

Result<GemmRate> measureGemmRate(int device, std::span<const MatmulShape> shapes, int tokens, int repeats) {
    if (shapes.empty() || tokens < 1 || repeats < 1)
        return makeError(ErrorCode::InvalidArgument, "no shapes, or tokens or repeats not positive");
    size_t maxW = 0, maxX = 0, maxY = 0;
    for (const MatmulShape& s : shapes) {
        if (s.rows < 1 || s.cols < 1 || s.count < 1 || s.rows > INT32_MAX || s.cols > INT32_MAX)
            return makeError(ErrorCode::InvalidArgument, "bad GEMM shape", s.names);
        maxW = std::max(maxW, size_t(s.rows * s.cols));
        maxX = std::max(maxX, size_t(s.cols) * size_t(tokens));
        maxY = std::max(maxY, size_t(s.rows) * size_t(tokens));
    }
    GemmRate r;
    GB_ASSIGN_OR_RETURN(r.device, deviceName(device));
    r.tokens = tokens;
    cuda::DeviceGuard guard(device);
    GB_TRY(guard.status());
    cuda::DeviceAllocator alloc(device);
    GB_ASSIGN_OR_RETURN(cuda::DeviceBuffer w, alloc.allocate(MemoryKind::Scratch, maxW * 2, "GEMM weights"));
    GB_ASSIGN_OR_RETURN(cuda::DeviceBuffer x, alloc.allocate(MemoryKind::Scratch, maxX * 2, "GEMM activations"));
    GB_ASSIGN_OR_RETURN(cuda::DeviceBuffer y, alloc.allocate(MemoryKind::Scratch, maxY * 4, "GEMM output"));
    cuda::Stream stream;
    GB_TRY(stream.create());
    EventPair events;
    GB_TRY(events.create());
    GB_TRY(uploadRandomHalves(w.as<uint16_t>(), maxW, 1, stream.get()));
    GB_TRY(uploadRandomHalves(x.as<uint16_t>(), maxX, 2, stream.get()));
    std::string error;
    auto blas = kernels::cuda::Cublas::create(stream.get(), &error);
    if (!blas) return makeError(ErrorCode::Device, "cuBLAS is not usable: " + error);
    for (const MatmulShape& s : shapes) {
        GB_ASSIGN_OR_RETURN(double seconds, timeShape(*blas, s, tokens, repeats, w.as<uint16_t>(), x.as<uint16_t>(),
                                                      y.as<float>(), stream.get(), events));
        const double flops = 2.0 * double(s.rows) * double(s.cols) * double(tokens);
        r.shapes.push_back({s, seconds, seconds > 0.0 ? flops / seconds : 0.0});
        r.flops += flops * s.count;
        r.seconds += seconds * s.count;
    }
    r.flopsPerSecond = r.seconds > 0.0 ? r.flops / r.seconds : 0.0;
    return r;
}

}  // namespace glassbox::engine
