// Shared pieces of the CUDA op tests: the "is there a usable device" probe
// (every test skips with its reason when not), guarded device buffers
// (sentinel bytes before and after every allocation, checked after each
// op) and the comparison criterion of ggml's test-backend-ops: normalised
// MSE Σ(a−b)²/Σb², with any NaN or Inf in the result failing.
#pragma once

#include <QString>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#if defined(GLASSBOX_HAVE_CUDA)
#include <cuda_runtime_api.h>
#endif

namespace glassbox::test {

#if defined(GLASSBOX_HAVE_CUDA)

// True when a CUDA device is present; otherwise *why says why not.
inline bool cudaUsable(QString* why) {
    int count = 0;
    const cudaError_t e = cudaGetDeviceCount(&count);
    if (e != cudaSuccess) {
        *why = QStringLiteral("no CUDA device: %1").arg(QString::fromUtf8(cudaGetErrorString(e)));
        return false;
    }
    if (count == 0) {
        *why = QStringLiteral("no CUDA device: cudaGetDeviceCount reported 0 devices");
        return false;
    }
    return true;
}

inline std::string cudaText(cudaError_t e) { return std::string(cudaGetErrorName(e)) + ": " + cudaGetErrorString(e); }

// Device memory with kGuard sentinel bytes on each side. The payload starts
// filled with 0xff bytes (NaN as floats), so outputs an op forgot to write
// show up in the comparison.
class DevBuf {
public:
    static constexpr size_t kGuard = 256;
    static constexpr uint8_t kSentinel = 0xa5;

    explicit DevBuf(size_t bytes) : m_bytes(bytes) {
        m_status = cudaMalloc(reinterpret_cast<void**>(&m_base), bytes + 2 * kGuard);
        if (m_status != cudaSuccess) return;
        cudaMemset(m_base, kSentinel, kGuard);
        cudaMemset(m_base + kGuard, 0xff, bytes);
        m_status = cudaMemset(m_base + kGuard + bytes, kSentinel, kGuard);
    }
    ~DevBuf() {
        if (m_base) cudaFree(m_base);
    }
    DevBuf(const DevBuf&) = delete;
    DevBuf& operator=(const DevBuf&) = delete;

    bool ok() const { return m_status == cudaSuccess; }
    std::string error() const { return cudaText(m_status); }
    size_t bytes() const { return m_bytes; }
    void* get() const { return m_base + kGuard; }
    template <typename T>
    T* as() const {
        return reinterpret_cast<T*>(m_base + kGuard);
    }
    cudaError_t upload(const void* src, size_t n) { return cudaMemcpy(get(), src, n, cudaMemcpyHostToDevice); }
    template <typename T>
    std::vector<T> download(size_t count) const {
        std::vector<T> v(count);
        cudaMemcpy(v.data(), get(), count * sizeof(T), cudaMemcpyDeviceToHost);
        return v;
    }
    // Whether both sentinel regions still hold their pattern.
    bool guardsIntact() const {
        uint8_t g[2 * kGuard];
        if (cudaMemcpy(g, m_base, kGuard, cudaMemcpyDeviceToHost) != cudaSuccess) return false;
        if (cudaMemcpy(g + kGuard, m_base + kGuard + m_bytes, kGuard, cudaMemcpyDeviceToHost) != cudaSuccess)
            return false;
        for (uint8_t b : g)
            if (b != kSentinel) return false;
        return true;
    }

private:
    uint8_t* m_base = nullptr;
    size_t m_bytes = 0;
    cudaError_t m_status = cudaSuccess;
};

// A guarded device copy of `host`.
template <typename T>
std::unique_ptr<DevBuf> uploaded(const std::vector<T>& host) {
    auto b = std::make_unique<DevBuf>(host.size() * sizeof(T));
    if (b->ok() && !host.empty()) b->upload(host.data(), host.size() * sizeof(T));
    return b;
}

// Empty when the launch and the work it queued succeeded.
inline std::string finish(cudaError_t launch, const char* what) {
    if (launch != cudaSuccess) return std::string(what) + " launch: " + cudaText(launch);
    const cudaError_t e = cudaDeviceSynchronize();
    if (e != cudaSuccess) return std::string(what) + " run: " + cudaText(e);
    return {};
}

#endif  // GLASSBOX_HAVE_CUDA

// Σ(a−b)² / Σb²; +inf when `got` holds a NaN or Inf. With Σb² == 0 the plain
// squared error is returned.
inline double nmse(const float* got, const float* want, size_t n) {
    double num = 0, den = 0;
    for (size_t i = 0; i < n; ++i) {
        if (!std::isfinite(got[i])) return INFINITY;
        const double d = double(got[i]) - double(want[i]);
        num += d * d;
        den += double(want[i]) * double(want[i]);
    }
    return den > 0 ? num / den : num;
}

inline std::vector<float> normalData(size_t n, uint32_t seed, float sigma = 1.0f) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> nd(0.0f, sigma);
    std::vector<float> x(n);
    for (auto& v : x) v = nd(rng);
    return x;
}

inline constexpr double kNmseElementwise = 1e-7;  // F32 element-wise ops
inline constexpr double kNmseProduct = 5e-4;      // matrix products, attention

}  // namespace glassbox::test
