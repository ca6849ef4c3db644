// The CUDA backend's only way to allocate: device memory and pinned host
// buffers, owned by move-only DeviceBuffer values and accounted per category
// (weights, KV cache, scratch, pinned host staging). Allocations made
// inside libraries (the cuBLAS handle, CUDA graph instantiation) are
// admitted through the same counter first, so that fault injection
// (engine/cuda_faults.h) reaches every allocation on the load and
// first-token path. A failure is an OutOfMemory error naming the category,
// the purpose and the bytes; nothing leaks on any path.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "engine/backend.h"
#include "engine/result.h"

namespace glassbox::engine::cuda {

enum class MemoryKind : uint8_t { Weights, KvCache, Scratch, PinnedHost };
inline constexpr int kMemoryKinds = 4;
const char* memoryKindName(MemoryKind kind);  // "weights", "KV cache", "scratch", "pinned host staging"

class DeviceAllocator;

// Owns one allocation; frees it (and returns its bytes to the account) on
// destruction. Device memory for every kind but PinnedHost.
class DeviceBuffer {
public:
    DeviceBuffer() = default;
    ~DeviceBuffer() { reset(); }
    DeviceBuffer(DeviceBuffer&& o) noexcept { *this = std::move(o); }
    DeviceBuffer& operator=(DeviceBuffer&& o) noexcept;
    DeviceBuffer(const DeviceBuffer&) = delete;
    DeviceBuffer& operator=(const DeviceBuffer&) = delete;

    void* data() const { return m_ptr; }
    template <class T>
    T* as(size_t byteOffset = 0) const {
        return reinterpret_cast<T*>(static_cast<unsigned char*>(m_ptr) + byteOffset);
    }
    size_t bytes() const { return m_bytes; }
    explicit operator bool() const { return m_ptr != nullptr; }
    void reset();

private:
    friend class DeviceAllocator;
    DeviceAllocator* m_owner = nullptr;
    void* m_ptr = nullptr;
    size_t m_bytes = 0;
    MemoryKind m_kind = MemoryKind::Scratch;
};

// One per backend; must outlive every buffer it hands out.
class DeviceAllocator {
public:
    explicit DeviceAllocator(int device) : m_device(device) {}
    DeviceAllocator(const DeviceAllocator&) = delete;
    DeviceAllocator& operator=(const DeviceAllocator&) = delete;

    // `what` says what the bytes are for ("K and V for 30 layers × 4096
    // positions"). Errors: OutOfMemory (device or pinned memory exhausted,
    // or an injected fault), Device (any other CUDA failure).
    Result<DeviceBuffer> allocate(MemoryKind kind, size_t bytes, std::string_view what);
    // Counts an allocation a library is about to make (about `bytes`,
    // accounted to no category). Errors: OutOfMemory when a fault is injected.
    Status admit(MemoryKind kind, size_t bytes, std::string_view what);

    uint64_t bytes(MemoryKind kind) const { return m_bytes[size_t(kind)]; }
    // Device bytes by category (pinned host memory is not on the device).
    BackendMemory deviceMemory() const;

private:
    friend class DeviceBuffer;
    void release(MemoryKind kind, void* ptr, size_t bytes);
    Error outOfMemory(MemoryKind kind, size_t bytes, std::string_view what, const std::string& cause) const;

    int m_device = 0;
    std::array<uint64_t, kMemoryKinds> m_bytes{};
};

}  // namespace glassbox::engine::cuda
