// The CPU backend's per-layer ops: embedding lookup, the attention block
// (RMSNorm, fused Q/K/V products, biases, RoPE, KV store, attention, output
// projection, residual) and the feed-forward block (RMSNorm, fused gate/up,
// SwiGLU, down projection, residual), each timed under the op name the
// step profile reports. The class is declared in engine/cpu_backend.h.
#include <algorithm>
#include <cmath>

#include "engine/capture.h"
#include "engine/cpu_backend.h"
#include "kernels/cpu/attention.h"
#include "kernels/cpu/matmul.h"
#include "kernels/cpu/quant_kernels.h"
#include "kernels/cpu/vec_ops.h"

namespace glassbox::engine {

void CpuBackend::embed(const int32_t* tokens, int n) {
    const TensorView& e = m_model->tokenEmbedding();
    const uint64_t stride = e.rowStride();
    for (int i = 0; i < n; ++i)
        kernels::dequantizeRow(e.type, e.data + uint64_t(tokens[i]) * stride, &m_x[size_t(i) * m_c.nEmbd], m_c.nEmbd);
}

void CpuBackend::addBias(float* rows, int n, int dim, const std::optional<TensorView>& bias) {
    if (!bias) return;
    const float* b = reinterpret_cast<const float*>(bias->data);
    for (int i = 0; i < n; ++i)
        for (int d = 0; d < dim; ++d) rows[size_t(i) * dim + d] += b[d];
}

void CpuBackend::attentionBlock(const LayerWeights& l, int layer, int n, int pos0) {
    const ModelConfig& c = m_c;
    const float* normW = reinterpret_cast<const float*>(l.attnNorm.data);
    {
        OpProfiler::Scope op(m_prof, "rmsnorm");
        for (int i = 0; i < n; ++i)
            cpuRmsNormRow(&m_x[size_t(i) * c.nEmbd], normW, c.nEmbd, c.rmsEps, &m_h[size_t(i) * c.nEmbd]);
    }
    {
        OpProfiler::Scope op(m_prof, "qkv_proj");
        fusedMatmul({{&l.wq, m_q.data()}, {&l.wk, m_k.data()}, {&l.wv, m_v.data()}}, m_h.data(), n);
        addBias(m_q.data(), n, c.qDim(), l.bq);
        addBias(m_k.data(), n, c.kvDim(), l.bk);
        addBias(m_v.data(), n, c.kvDim(), l.bv);
    }
    {
        OpProfiler::Scope op(m_prof, "rope");
        applyRope(m_q.data(), n, c.nHead, pos0);
        applyRope(m_k.data(), n, c.nHeadKv, pos0);
    }
    {
        OpProfiler::Scope op(m_prof, "kv_store");
        storeKv(layer, n, pos0);
    }
    {
        OpProfiler::Scope op(m_prof, "attention");
        computeAttention(layer, n, pos0);
    }
    {
        OpProfiler::Scope op(m_prof, "out_proj");
        kernels::matmul(l.wo, m_attn.data(), n, m_o.data(), m_pool, m_matmulScratch, f16Activations());
    }
    OpProfiler::Scope op(m_prof, "residual");
    for (size_t i = 0; i < size_t(n) * c.nEmbd; ++i) m_x[i] += m_o[i];
}

void CpuBackend::feedForwardBlock(const LayerWeights& l, int n) {
    const ModelConfig& c = m_c;
    const float* normW = reinterpret_cast<const float*>(l.ffnNorm.data);
    {
        OpProfiler::Scope op(m_prof, "rmsnorm");
        for (int i = 0; i < n; ++i)
            cpuRmsNormRow(&m_x[size_t(i) * c.nEmbd], normW, c.nEmbd, c.rmsEps, &m_h[size_t(i) * c.nEmbd]);
    }
    {
        OpProfiler::Scope op(m_prof, "gate_up_proj");
        fusedMatmul({{&l.wGate, m_gate.data()}, {&l.wUp, m_up.data()}}, m_h.data(), n);
    }
    {
        OpProfiler::Scope op(m_prof, "swiglu");
        kernels::swiglu(m_gate.data(), m_up.data(), int64_t(n) * c.nFf, m_gate.data());
    }
    {
        OpProfiler::Scope op(m_prof, "down_proj");
        kernels::matmul(l.wDown, m_gate.data(), n, m_o.data(), m_pool, m_matmulScratch, f16Activations());
    }
    OpProfiler::Scope op(m_prof, "residual");
    for (size_t i = 0; i < size_t(n) * c.nEmbd; ++i) m_x[i] += m_o[i];
}

// Several matrices reading the same activations (Q/K/V, gate/up) in one
// parallel region: activations are quantized once and the union of their
// rows is split over the threads in 32-row panels. Falls back to separate
// products when the weight types differ.
void CpuBackend::fusedMatmul(std::initializer_list<MatJob> jobs, const float* x, int n) {
    const TensorView& first = *jobs.begin()->w;
    bool sameType = true;
    int64_t totalRows = 0;
    for (const MatJob& j : jobs) {
        sameType = sameType && j.w->type == first.type && j.w->ne[0] == first.ne[0];
        totalRows += j.w->ne[1];
    }
    if (!sameType || m_pool.size() == 1) {
        for (const MatJob& j : jobs) kernels::matmul(*j.w, x, n, j.y, m_pool, m_matmulScratch, f16Activations());
        return;
    }
    kernels::quantizeActivations(first.type, x, n, first.ne[0], m_fusedScratch, f16Activations());
    constexpr int64_t kPanel = 32;
    const int64_t panels = (totalRows + kPanel - 1) / kPanel;
    m_pool.run([&](int t, int nt) {
        const int64_t begin = std::min(totalRows, panels * t / nt * kPanel);
        const int64_t end = std::min(totalRows, panels * (t + 1) / nt * kPanel);
        int64_t jobStart = 0;
        for (const MatJob& j : jobs) {
            const int64_t rows = j.w->ne[1];
            const int64_t b = std::max(begin, jobStart) - jobStart;
            const int64_t e = std::min(end, jobStart + rows) - jobStart;
            if (e > b) kernels::matmulRows(*j.w, m_fusedScratch.data(), n, j.y + b, rows, b, e);
            jobStart += rows;
        }
    });
}

// RoPE angles follow ggml's float recurrence (theta *= theta_scale) so the
// rotation matches the reference implementation bit for bit.
void CpuBackend::applyRope(float* rows, int nRows, int nHeads, int pos0) {
    const ModelConfig& c = m_c;
    const int half = c.ropeDims / 2;
    const float thetaScale = std::pow(c.ropeTheta, -2.0f / float(c.ropeDims));
    for (int i = 0; i < nRows; ++i) {
        float theta = float(pos0 + i);
        for (int p = 0; p < half; ++p) {
            const float t = c.ropeFreqScale * theta;
            m_cos[size_t(i) * half + p] = std::cos(t);
            m_sin[size_t(i) * half + p] = std::sin(t);
            theta *= thetaScale;
        }
    }
    const int rowDim = nHeads * c.headDim;
    const bool neox = c.ropeType != RopeType::Normal;
    for (int i = 0; i < nRows; ++i) {
        const float* cs = &m_cos[size_t(i) * half];
        const float* sn = &m_sin[size_t(i) * half];
        for (int h = 0; h < nHeads; ++h) {
            float* v = rows + size_t(i) * rowDim + size_t(h) * c.headDim;
            kernels::rotatePairs(v, neox ? v + half : v + 1, neox ? 1 : 2, cs, sn, half);
        }
    }
}

// The cache holds layers [m_first, nLayers) only.
uint8_t* CpuBackend::cacheRow(std::vector<uint8_t>& cache, int layer, int pos) {
    const size_t rowBytes = size_t(m_c.kvDim()) * m_kvElemBytes;
    return cache.data() + (size_t(layer - m_first) * size_t(m_opt.contextSize) + size_t(pos)) * rowBytes;
}

void CpuBackend::storeKv(int layer, int n, int pos0) {
    const int kvDim = m_c.kvDim();
    for (int i = 0; i < n; ++i) {
        const float* k = &m_k[size_t(i) * kvDim];
        const float* v = &m_v[size_t(i) * kvDim];
        if (m_opt.kvType == KvCacheType::F16) {
            kernels::storeRowF16(k, reinterpret_cast<uint16_t*>(cacheRow(m_kCache, layer, pos0 + i)), kvDim);
            kernels::storeRowF16(v, reinterpret_cast<uint16_t*>(cacheRow(m_vCache, layer, pos0 + i)), kvDim);
        } else {
            std::copy(k, k + kvDim, reinterpret_cast<float*>(cacheRow(m_kCache, layer, pos0 + i)));
            std::copy(v, v + kvDim, reinterpret_cast<float*>(cacheRow(m_vCache, layer, pos0 + i)));
        }
    }
}

void CpuBackend::computeAttention(int layer, int n, int pos0) {
    const ModelConfig& c = m_c;
    const int tasks = n * c.nHead;
    const float scale = 1.0f / std::sqrt(float(c.headDim));
    const uint8_t* kBase = cacheRow(m_kCache, layer, 0);
    const uint8_t* vBase = cacheRow(m_vCache, layer, 0);
    const bool summarise = m_rec && m_capture->options().attention;
    m_pool.run([&](int t, int nt) {
        float* scores = &m_scores[size_t(t) * m_opt.contextSize * 2];
        float* statsScratch = scores + m_opt.contextSize;
        kernels::AttentionRowStats rowStats;
        for (int task = t; task < tasks; task += nt) {
            const int i = task / c.nHead;
            const int h = task % c.nHead;
            const int kvHead = h / c.gqaGroup();
            kernels::AttentionRowArgs a;
            a.q = &m_q[size_t(i) * c.qDim() + size_t(h) * c.headDim];
            a.k = kBase + size_t(kvHead) * c.headDim * m_kvElemBytes;
            a.v = vBase + size_t(kvHead) * c.headDim * m_kvElemBytes;
            a.kvIsF16 = m_opt.kvType == KvCacheType::F16;
            a.kvRowStride = c.kvDim();
            a.headDim = c.headDim;
            a.nKeys = pos0 + i + 1;
            a.scale = scale;
            a.singleToken = n == 1;
            a.scores = scores;
            a.out = &m_attn[size_t(i) * c.qDim() + size_t(h) * c.headDim];
            if (summarise) {
                a.statsScratch = statsScratch;
                a.stats = &rowStats;
            }
            kernels::attentionRow(a);
            if (summarise) m_capture->recordRowSummary(layer, pos0 + i, h, {rowStats.entropy, rowStats.sink});
        }
    });
}

}  // namespace glassbox::engine
