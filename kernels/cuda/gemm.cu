// cuBLAS for the prefill GEMMs, opened with dlopen at run time
// (libcublas.so.13, .so.12, then .so) so nothing links against it; the
// cuBLAS headers are used for types and signatures only.
//
// Row-major Y (n × rows) = X (n × cols) · Wᵀ is, seen column-major,
// Yᵀ (rows × n) = W' · Xᵀ with W' = the row-major W read transposed:
// GemmEx(OP_T, OP_N, m = rows, n, k = cols, A = W lda = cols,
// B = X ldb = cols, C = Y ldc = rows), F16 inputs, F32 output and compute.
#include "kernels/cuda/gemm.cuh"

#include <cublas_v2.h>
#include <dlfcn.h>

namespace glassbox::kernels::cuda {

// cublasGemmEx has a C++ overload in the header (legacy compute type), so its
// pointer type is spelled out.
using GemmExFn = cublasStatus_t (*)(cublasHandle_t, cublasOperation_t, cublasOperation_t, int, int, int, const void*,
                                    const void*, cudaDataType, int, const void*, cudaDataType, int, const void*, void*,
                                    cudaDataType, int, cublasComputeType_t, cublasGemmAlgo_t);

struct Cublas::Impl {
    void* lib = nullptr;
    cublasHandle_t handle = nullptr;
    decltype(&cublasCreate_v2) create = nullptr;
    decltype(&cublasDestroy_v2) destroy = nullptr;
    decltype(&cublasSetStream_v2) setStream = nullptr;
    decltype(&cublasSetMathMode) setMathMode = nullptr;
    GemmExFn gemmEx = nullptr;
    decltype(&cublasSgemm_v2) sgemm = nullptr;
    decltype(&cublasGetStatusString) statusString = nullptr;  // optional

    std::string describe(const char* what, cublasStatus_t s) const {
        std::string msg = std::string(what) + " failed: cuBLAS status " + std::to_string(int(s));
        if (statusString) {
            if (const char* text = statusString(s)) msg += std::string(" (") + text + ")";
        }
        return msg;
    }
};

namespace {

template <typename Fn>
bool resolve(void* lib, const char* name, Fn& fn) {
    fn = reinterpret_cast<Fn>(dlsym(lib, name));
    return fn != nullptr;
}

void* openCublas(std::string* tried) {
    for (const char* name : {"libcublas.so.13", "libcublas.so.12", "libcublas.so"}) {
        if (void* lib = dlopen(name, RTLD_NOW | RTLD_LOCAL)) return lib;
        const char* err = dlerror();
        *tried += std::string(tried->empty() ? "" : "; ") + (err ? err : name);
    }
    return nullptr;
}

bool validShape(int rows, int cols, int n) { return rows >= 0 && cols > 0 && n >= 0; }

}  // namespace

std::unique_ptr<Cublas> Cublas::create(cudaStream_t stream, std::string* error) {
    auto fail = [&](const std::string& msg) -> std::unique_ptr<Cublas> {
        if (error) *error = msg;
        return nullptr;
    };
    std::string tried;
    void* lib = openCublas(&tried);
    if (!lib) return fail("cannot load cuBLAS: " + tried);
    std::unique_ptr<Cublas> c(new Cublas());
    c->m_impl = std::make_unique<Impl>();
    Impl& m = *c->m_impl;
    m.lib = lib;
    const bool ok = resolve(lib, "cublasCreate_v2", m.create) && resolve(lib, "cublasDestroy_v2", m.destroy) &&
                    resolve(lib, "cublasSetStream_v2", m.setStream) &&
                    resolve(lib, "cublasSetMathMode", m.setMathMode) && resolve(lib, "cublasGemmEx", m.gemmEx) &&
                    resolve(lib, "cublasSgemm_v2", m.sgemm);
    if (!ok) return fail("the cuBLAS library lacks a needed function (too old?)");
    resolve(lib, "cublasGetStatusString", m.statusString);
    cublasStatus_t s = m.create(&m.handle);
    if (s != CUBLAS_STATUS_SUCCESS) {
        m.handle = nullptr;
        return fail(m.describe("cublasCreate", s));
    }
    s = m.setStream(m.handle, stream);
    if (s != CUBLAS_STATUS_SUCCESS) return fail(m.describe("cublasSetStream", s));
    // Default math: F16 GemmEx still uses tensor cores; Sgemm stays true F32 (no TF32).
    s = m.setMathMode(m.handle, CUBLAS_DEFAULT_MATH);
    if (s != CUBLAS_STATUS_SUCCESS) return fail(m.describe("cublasSetMathMode", s));
    return c;
}

// The library stays loaded for the life of the process: unloading cuBLAS
// while its static state and exit handlers are live is not safe.
Cublas::~Cublas() {
    if (m_impl && m_impl->handle) m_impl->destroy(m_impl->handle);
}

std::string Cublas::gemmF16(const uint16_t* w16, const uint16_t* x16, float* y, int rows, int cols, int n) {
    if (!validShape(rows, cols, n)) return "gemmF16: cols must be positive, rows and n not negative";
    if (rows == 0 || n == 0) return {};
    const float alpha = 1.0f, beta = 0.0f;
    const cublasStatus_t s =
        m_impl->gemmEx(m_impl->handle, CUBLAS_OP_T, CUBLAS_OP_N, rows, n, cols, &alpha, w16, CUDA_R_16F, cols, x16,
                       CUDA_R_16F, cols, &beta, y, CUDA_R_32F, rows, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT);
    return s == CUBLAS_STATUS_SUCCESS ? std::string() : m_impl->describe("cublasGemmEx", s);
}

std::string Cublas::gemmF32(const float* w, const float* x, float* y, int rows, int cols, int n) {
    if (!validShape(rows, cols, n)) return "gemmF32: cols must be positive, rows and n not negative";
    if (rows == 0 || n == 0) return {};
    const float alpha = 1.0f, beta = 0.0f;
    const cublasStatus_t s = m_impl->sgemm(m_impl->handle, CUBLAS_OP_T, CUBLAS_OP_N, rows, n, cols, &alpha, w, cols, x,
                                           cols, &beta, y, rows);
    return s == CUBLAS_STATUS_SUCCESS ? std::string() : m_impl->describe("cublasSgemm", s);
}

}  // namespace glassbox::kernels::cuda
