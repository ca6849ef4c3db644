// Device and pinned allocations with per-category accounting and fault
// injection (see device_allocator.h).
#include "engine/cuda/device_allocator.h"

#include <cuda_runtime_api.h>

#include <utility>

#include "engine/cuda/cuda_check.h"
#include "engine/cuda_faults.h"

namespace glassbox::engine::cuda {

const char* memoryKindName(MemoryKind kind) {
    switch (kind) {
        case MemoryKind::Weights: return "weights";
        case MemoryKind::KvCache: return "KV cache";
        case MemoryKind::Scratch: return "scratch";
        case MemoryKind::PinnedHost: return "pinned host staging";
    }
    return "?";
}

DeviceBuffer& DeviceBuffer::operator=(DeviceBuffer&& o) noexcept {
    if (this == &o) return *this;
    reset();
    m_owner = std::exchange(o.m_owner, nullptr);
    m_ptr = std::exchange(o.m_ptr, nullptr);
    m_bytes = std::exchange(o.m_bytes, 0);
    m_kind = o.m_kind;
    return *this;
}

void DeviceBuffer::reset() {
    if (m_ptr && m_owner) m_owner->release(m_kind, m_ptr, m_bytes);
    m_owner = nullptr;
    m_ptr = nullptr;
    m_bytes = 0;
}

Error DeviceAllocator::outOfMemory(MemoryKind kind, size_t bytes, std::string_view what,
                                   const std::string& cause) const {
    const bool pinned = kind == MemoryKind::PinnedHost;
    std::string msg = "cannot allocate " + formatBytes(bytes) + (pinned ? " of pinned host memory" : " of GPU memory") +
                      " for the " + memoryKindName(kind);
    if (!what.empty()) msg += " (" + std::string(what) + ")";
    msg += ": " + cause;
    size_t freeBytes = 0, totalBytes = 0;
    if (!pinned && cudaMemGetInfo(&freeBytes, &totalBytes) == cudaSuccess)
        msg += "; " + formatBytes(freeBytes) + " free of " + formatBytes(totalBytes);
    (void)cudaGetLastError();
    return makeError(ErrorCode::OutOfMemory, msg, memoryKindName(kind));
}

Result<DeviceBuffer> DeviceAllocator::allocate(MemoryKind kind, size_t bytes, std::string_view what) {
    if (const int n = consumeDeviceAllocation())
        return outOfMemory(kind, bytes, what, "injected fault at device allocation #" + std::to_string(n));
    if (bytes == 0) bytes = 1;  // a valid, distinct pointer for empty parts
    void* p = nullptr;
    const cudaError_t e = kind == MemoryKind::PinnedHost ? cudaMallocHost(&p, bytes) : cudaMalloc(&p, bytes);
    if (e != cudaSuccess) {
        (void)cudaGetLastError();
        if (e == cudaErrorMemoryAllocation) return outOfMemory(kind, bytes, what, "out of memory");
        return makeError(ErrorCode::Device, "allocating " + formatBytes(bytes) + " for the " + memoryKindName(kind) +
                                                " (" + std::string(what) + ") failed: " + describe(e));
    }
    DeviceBuffer b;
    b.m_owner = this;
    b.m_ptr = p;
    b.m_bytes = bytes;
    b.m_kind = kind;
    m_bytes[size_t(kind)] += bytes;
    return b;
}

Status DeviceAllocator::admit(MemoryKind kind, size_t bytes, std::string_view what) {
    if (const int n = consumeDeviceAllocation())
        return outOfMemory(kind, bytes, what, "injected fault at device allocation #" + std::to_string(n));
    return {};
}

void DeviceAllocator::release(MemoryKind kind, void* ptr, size_t bytes) {
    int current = -1;
    const bool switchDevice = cudaGetDevice(&current) == cudaSuccess && current != m_device;
    if (switchDevice) (void)cudaSetDevice(m_device);
    if (kind == MemoryKind::PinnedHost)
        (void)cudaFreeHost(ptr);
    else
        (void)cudaFree(ptr);
    (void)cudaGetLastError();
    if (switchDevice) (void)cudaSetDevice(current);
    m_bytes[size_t(kind)] -= bytes;
}

BackendMemory DeviceAllocator::deviceMemory() const {
    BackendMemory m;
    m.weights = m_bytes[size_t(MemoryKind::Weights)];
    m.kvCache = m_bytes[size_t(MemoryKind::KvCache)];
    m.scratch = m_bytes[size_t(MemoryKind::Scratch)];
    return m;
}

}  // namespace glassbox::engine::cuda
