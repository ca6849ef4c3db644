// CUDA runtime errors as engine errors, and the stream and device guards.
#include "engine/cuda/cuda_check.h"

#include <cstdio>

namespace glassbox::engine::cuda {

std::string describe(cudaError_t e) {
    return std::string(cudaGetErrorName(e)) + ": " + cudaGetErrorString(e);
}

std::string formatBytes(uint64_t bytes) {
    char buf[64];
    if (bytes >= (uint64_t(1) << 30))
        std::snprintf(buf, sizeof buf, "%.2f GiB", double(bytes) / double(uint64_t(1) << 30));
    else if (bytes >= (uint64_t(1) << 20))
        std::snprintf(buf, sizeof buf, "%.1f MiB", double(bytes) / double(uint64_t(1) << 20));
    else
        std::snprintf(buf, sizeof buf, "%llu bytes", static_cast<unsigned long long>(bytes));
    return buf;
}

Status check(cudaError_t e, std::string_view what) {
    if (e == cudaSuccess) return {};
    (void)cudaGetLastError();  // clear it (sticky errors stay regardless)
    const ErrorCode code = e == cudaErrorMemoryAllocation ? ErrorCode::OutOfMemory : ErrorCode::Device;
    return makeError(code, std::string(what) + " failed on the GPU (" + describe(e) + ")");
}

Stream::~Stream() {
    if (m_stream) (void)cudaStreamDestroy(m_stream);
}

Status Stream::create() {
    GB_CUDA_TRY(cudaStreamCreateWithFlags(&m_stream, cudaStreamNonBlocking), "creating a CUDA stream");
    return {};
}

DeviceGuard::DeviceGuard(int device) {
    if (cudaGetDevice(&m_previous) != cudaSuccess) m_previous = -1;
    if (m_previous == device) return;
    m_status = check(cudaSetDevice(device), "selecting CUDA device " + std::to_string(device));
}

DeviceGuard::~DeviceGuard() {
    if (m_previous >= 0 && m_status.ok()) {
        int current = -1;
        if (cudaGetDevice(&current) == cudaSuccess && current != m_previous) (void)cudaSetDevice(m_previous);
    }
}

}  // namespace glassbox::engine::cuda
