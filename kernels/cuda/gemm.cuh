// Prefill matrix products: Y (n × rows) = X (n × cols) · Wᵀ with W dequantized
// to half precision and cuBLAS (tensor cores, float32 accumulation). cuBLAS is
// loaded at run time (dlopen), so binaries start on machines without it and
// its absence is an error value.
#pragma once
#include <cuda_runtime_api.h>

#include <cstdint>
#include <memory>
#include <string>

namespace glassbox::kernels::cuda {

class Cublas {
public:
    // Loads libcublas and creates a handle bound to `stream`. On failure
    // returns nullptr and sets *error.
    static std::unique_ptr<Cublas> create(cudaStream_t stream, std::string* error);
    ~Cublas();
    Cublas(const Cublas&) = delete;
    Cublas& operator=(const Cublas&) = delete;

    // w16: rows × cols halves (row-major), x16: n × cols halves, y: n × rows
    // floats. Returns a message on failure, empty on success.
    std::string gemmF16(const uint16_t* w16, const uint16_t* x16, float* y, int rows, int cols, int n);
    // Plain F32 GEMM with the same layout (reference rate and F32 weights).
    std::string gemmF32(const float* w, const float* x, float* y, int rows, int cols, int n);

private:
    Cublas() = default;
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

}  // namespace glassbox::kernels::cuda
