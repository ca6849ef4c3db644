// The CUDA backend's layer ops, in the CPU backend's order and under its op
// names: RMSNorm, Q/K/V products and biases, RoPE, KV store, attention,
// output projection, residual; RMSNorm, gate/up products, SwiGLU, down
// projection, residual. Matrix products follow the CPU's arithmetic: up to
// kMaxMatVecColumns rows at a time with the matrix-vector kernels on
// activations quantized as the CPU quantizes them; longer runs (prefill)
// with the weights dequantized to halves and cuBLAS, fed the values the
// CPU's integer products effectively multiply by.
#include <algorithm>
#include <cmath>

#include "engine/capture.h"
#include "engine/cuda/cuda_backend.h"
#include "kernels/cuda/attention.cuh"
#include "kernels/cuda/dequantize.cuh"
#include "kernels/cuda/kv_store.cuh"
#include "kernels/cuda/matvec.cuh"
#include "kernels/cuda/quantize_activations.cuh"
#include "kernels/cuda/residual.cuh"
#include "kernels/cuda/rmsnorm.cuh"
#include "kernels/cuda/rope.cuh"
#include "kernels/cuda/swiglu.cuh"

namespace glassbox::engine::cuda {
namespace {

namespace kc = kernels::cuda;

kc::RopeParams ropeParams(const ModelConfig& c) {
    kc::RopeParams p;
    p.headDim = c.headDim;
    p.ropeDims = c.ropeDims;
    p.theta = c.ropeTheta;
    p.freqScale = c.ropeFreqScale;
    p.neox = c.ropeType == RopeType::Neox;
    return p;
}

}  // namespace

Status CudaBackend::attentionBlock(int layer, int n, int pos0, bool devicePos) {
    const ModelConfig& c = m_c;
    const DeviceLayer& l = m_layers[size_t(layer)];
    const cudaStream_t s = m_stream.get();
    m_timer.mark("rmsnorm");
    GB_CUDA_TRY(kc::rmsNorm(m_x, l.attnNorm, n, c.nEmbd, c.rmsEps, m_h, s), "attention norm");
    m_timer.mark("qkv_proj");
    GB_TRY(linear({{&l.wq, m_q}, {&l.wk, m_k}, {&l.wv, m_v}}, m_h, n));
    if (l.bq) GB_CUDA_TRY(kc::addBias(m_q, l.bq, n, c.qDim(), s), "Q bias");
    if (l.bk) GB_CUDA_TRY(kc::addBias(m_k, l.bk, n, c.kvDim(), s), "K bias");
    if (l.bv) GB_CUDA_TRY(kc::addBias(m_v, l.bv, n, c.kvDim(), s), "V bias");
    m_timer.mark("rope");
    const kc::RopeParams rp = ropeParams(c);
    if (devicePos) {
        GB_CUDA_TRY(kc::ropeAt(m_q, n, c.nHead, m_io, rp, s), "RoPE on Q");
        GB_CUDA_TRY(kc::ropeAt(m_k, n, c.nHeadKv, m_io, rp, s), "RoPE on K");
    } else {
        GB_CUDA_TRY(kc::rope(m_q, n, c.nHead, pos0, rp, s), "RoPE on Q");
        GB_CUDA_TRY(kc::rope(m_k, n, c.nHeadKv, pos0, rp, s), "RoPE on K");
    }
    m_timer.mark("kv_store");
    const bool f16 = m_opt.kvType == KvCacheType::F16;
    const size_t layerBytes = size_t(m_opt.contextSize) * size_t(c.kvDim()) * m_kvElemBytes;
    uint8_t* kLayer = static_cast<uint8_t*>(m_kCache) + size_t(layer) * layerBytes;
    uint8_t* vLayer = static_cast<uint8_t*>(m_vCache) + size_t(layer) * layerBytes;
    if (devicePos) {
        GB_CUDA_TRY(kc::storeKvAt(m_k, n, c.kvDim(), kLayer, m_io, f16, s), "storing K");
        GB_CUDA_TRY(kc::storeKvAt(m_v, n, c.kvDim(), vLayer, m_io, f16, s), "storing V");
    } else {
        const size_t at = size_t(pos0) * size_t(c.kvDim()) * m_kvElemBytes;
        GB_CUDA_TRY(kc::storeKv(m_k, n, c.kvDim(), kLayer + at, f16, s), "storing K");
        GB_CUDA_TRY(kc::storeKv(m_v, n, c.kvDim(), vLayer + at, f16, s), "storing V");
    }
    m_timer.mark("attention");
    GB_TRY(attention(layer, n, pos0, devicePos));
    m_timer.mark("out_proj");
    GB_TRY(linear({{&l.wo, m_o}}, m_attn, n));
    m_timer.mark("residual");
    GB_CUDA_TRY(kc::addInPlace(m_x, m_o, int64_t(n) * c.nEmbd, s), "attention residual");
    return {};
}

Status CudaBackend::feedForwardBlock(int layer, int n) {
    const ModelConfig& c = m_c;
    const DeviceLayer& l = m_layers[size_t(layer)];
    const cudaStream_t s = m_stream.get();
    m_timer.mark("rmsnorm");
    GB_CUDA_TRY(kc::rmsNorm(m_x, l.ffnNorm, n, c.nEmbd, c.rmsEps, m_h, s), "feed-forward norm");
    m_timer.mark("gate_up_proj");
    GB_TRY(linear({{&l.gate, m_gate}, {&l.up, m_up}}, m_h, n));
    m_timer.mark("swiglu");
    GB_CUDA_TRY(kc::swiGlu(m_gate, m_up, int64_t(n) * c.nFf, s), "SwiGLU");
    m_timer.mark("down_proj");
    GB_TRY(linear({{&l.down, m_o}}, m_gate, n));
    m_timer.mark("residual");
    GB_CUDA_TRY(kc::addInPlace(m_x, m_o, int64_t(n) * c.nEmbd, s), "feed-forward residual");
    return {};
}

// Fused flash attention, or — while a capture records attention — the
// probing kernel that also yields each row's entropy and sink share, run
// over as many query rows at a time as the probability buffer holds.
Status CudaBackend::attention(int layer, int n, int pos0, bool devicePos) {
    const ModelConfig& c = m_c;
    const size_t layerBytes = size_t(m_opt.contextSize) * size_t(c.kvDim()) * m_kvElemBytes;
    kc::AttentionArgs a;
    a.q = m_q;
    a.k = static_cast<const uint8_t*>(m_kCache) + size_t(layer) * layerBytes;
    a.v = static_cast<const uint8_t*>(m_vCache) + size_t(layer) * layerBytes;
    a.kvF16 = m_opt.kvType == KvCacheType::F16;
    a.kvRowStride = c.kvDim();
    a.nTokens = n;
    a.pos0 = pos0;
    a.nHead = c.nHead;
    a.nHeadKv = c.nHeadKv;
    a.headDim = c.headDim;
    a.scale = 1.0f / std::sqrt(float(c.headDim));
    a.out = m_attn;
    if (devicePos) {
        a.devPos0 = m_io;
        a.maxKeys = m_opt.contextSize;
    }
    if (!recordingAttention()) {
        if (m_attnWorkspace && kc::attentionWorkspaceBytes(a) <= m_attnWorkspaceBytes) a.workspace = m_attnWorkspace;
        GB_CUDA_TRY(kc::flashAttention(a, m_stream.get()), "attention");
        return {};
    }
    const size_t perRow = size_t(c.nHead) * size_t(pos0 + n);
    const int rowsPerCall = int(std::clamp<size_t>(m_probFloats / perRow, 1, size_t(n)));
    for (int r0 = 0; r0 < n; r0 += rowsPerCall) {
        kc::AttentionArgs b = a;
        b.nTokens = std::min(rowsPerCall, n - r0);
        b.pos0 = pos0 + r0;
        b.devPos0 = nullptr;  // never graph-captured; the host position is exact per chunk
        b.maxKeys = 0;
        b.q = m_q + size_t(r0) * c.qDim();
        b.out = m_attn + size_t(r0) * c.qDim();
        GB_CUDA_TRY(kc::attentionWithProbs(b, m_probs, m_entropy + size_t(r0) * c.nHead, m_sink + size_t(r0) * c.nHead,
                                           m_stream.get()),
                    "attention with probabilities");
    }
    return {};
}

bool CudaBackend::useGemm(TensorType, int n) const { return m_cublas && n > kc::kMaxMatVecColumns; }

Status CudaBackend::linear(std::initializer_list<Product> products, const float* x, int n) {
    const DeviceMatrix& first = *products.begin()->w;
    bool shared = true;
    for (const Product& p : products) shared = shared && p.w->type == first.type && p.w->cols == first.cols;
    if (!shared) {
        for (const Product& p : products) {
            if (useGemm(p.w->type, n))
                GB_TRY(gemm(&p, 1, x, n));
            else
                GB_TRY(matVecGroups(&p, 1, x, n));
        }
        return {};
    }
    if (useGemm(first.type, n)) return gemm(products.begin(), products.size(), x, n);
    return matVecGroups(products.begin(), products.size(), x, n);
}

// Rows in groups of kMaxMatVecColumns; each group's activations are
// quantized once (or passed as floats to the types that take floats).
Status CudaBackend::matVecGroups(const Product* products, size_t count, const float* x, int n) {
    const TensorType type = products[0].w->type;
    const int64_t cols = products[0].w->cols;
    const cudaStream_t s = m_stream.get();
    for (int g = 0; g < n; g += kc::kMaxMatVecColumns) {
        const int cnt = std::min(kc::kMaxMatVecColumns, n - g);
        const float* xg = x + size_t(g) * size_t(cols);
        const void* xq = xg;
        if (kc::quantizedActivationBytes(type, cnt, cols) > 0) {
            GB_CUDA_TRY(kc::quantizeActivations(type, xg, cnt, cols, m_xq, s), "quantizing activations");
            xq = m_xq;
        }
        for (size_t i = 0; i < count; ++i) {
            const DeviceMatrix& w = *products[i].w;
            GB_CUDA_TRY(kc::matVec(type, w.data, w.rows, cols, xq, cnt, products[i].y + size_t(g) * size_t(w.rows), s),
                        "matrix-vector product with " + w.host->name);
        }
    }
    return {};
}

// F32 weights: a float GEMM. Otherwise halves: F16 weights as stored, the
// rest dequantized into m_w16; activations as halves of the values the
// CPU's products use (its quantized blocks for quantized weight types).
Status CudaBackend::gemm(const Product* products, size_t count, const float* x, int n) {
    const TensorType type = products[0].w->type;
    const int64_t cols = products[0].w->cols;
    const cudaStream_t s = m_stream.get();
    if (type == TensorType::F32) {
        for (size_t i = 0; i < count; ++i) {
            const DeviceMatrix& w = *products[i].w;
            const std::string e = m_cublas->gemmF32(static_cast<const float*>(w.data), x, products[i].y, int(w.rows),
                                                    int(cols), n);
            if (!e.empty()) return makeError(ErrorCode::Device, "cuBLAS product with " + w.host->name + " failed: " + e);
        }
        return {};
    }
    if (type == TensorType::F16 || type == TensorType::BF16) {
        GB_CUDA_TRY(kc::convertF32ToF16(x, int64_t(n) * cols, m_x16, s), "converting activations to halves");
    } else {
        GB_CUDA_TRY(kc::quantizeActivations(type, x, n, cols, m_xq, s), "quantizing activations");
        GB_CUDA_TRY(kc::quantizedActivationsToF16(type, m_xq, n, cols, m_x16, s), "widening activations");
    }
    for (size_t i = 0; i < count; ++i) {
        const DeviceMatrix& w = *products[i].w;
        const uint16_t* w16 = static_cast<const uint16_t*>(w.data);
        if (type != TensorType::F16) {
            GB_CUDA_TRY(kc::dequantizeToF16(type, w.data, w.rows, cols, m_w16, s), "dequantizing " + w.host->name);
            w16 = m_w16;
        }
        const std::string e = m_cublas->gemmF16(w16, m_x16, products[i].y, int(w.rows), int(cols), n);
        if (!e.empty()) return makeError(ErrorCode::Device, "cuBLAS product with " + w.host->name + " failed: " + e);
    }
    return {};
}

}  // namespace glassbox::engine::cuda
