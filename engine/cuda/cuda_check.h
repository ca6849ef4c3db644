// CUDA runtime results as engine errors, and small RAII owners for the
// runtime's handles (streams, events). Device memory is owned through
// DeviceAllocator (device_allocator.h), never by raw cudaMalloc.
#pragma once

#include <cuda_runtime_api.h>

#include <string>
#include <string_view>

#include "engine/result.h"

namespace glassbox::engine::cuda {

// Success for cudaSuccess; otherwise OutOfMemory for
// cudaErrorMemoryAllocation and Device for everything else, the message
// naming `what` and the runtime's error. Clears the runtime's last error so
// that a later check does not report this one again.
Status check(cudaError_t e, std::string_view what);

// "cudaErrorInvalidValue: invalid argument"
std::string describe(cudaError_t e);

// "1.5 GiB", "12.0 MiB", "640 bytes"
std::string formatBytes(uint64_t bytes);

// Owns a non-blocking stream.
class Stream {
public:
    Stream() = default;
    ~Stream();
    Stream(const Stream&) = delete;
    Stream& operator=(const Stream&) = delete;
    // Errors: Device.
    Status create();
    cudaStream_t get() const { return m_stream; }

private:
    cudaStream_t m_stream = nullptr;
};

// Makes `device` current for the calling thread for the guard's lifetime
// (the runtime's current device is per thread, and sessions move between
// threads).
class DeviceGuard {
public:
    explicit DeviceGuard(int device);
    ~DeviceGuard();
    DeviceGuard(const DeviceGuard&) = delete;
    DeviceGuard& operator=(const DeviceGuard&) = delete;
    // Errors: Device when the device could not be made current.
    Status status() const { return m_status; }

private:
    int m_previous = -1;
    Status m_status;
};

}  // namespace glassbox::engine::cuda

// Propagates a failed CUDA runtime call as an engine error.
#define GB_CUDA_TRY(expr, what) GB_TRY(::glassbox::engine::cuda::check((expr), (what)))
