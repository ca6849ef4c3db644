// The CPU backend: the reference forward pass of the Llama family
// (RMSNorm, RoPE, grouped-query attention over an F16/F32 KV cache, SwiGLU,
// tied or separate output head), computed with the quantized kernels of
// kernels/cpu and split over a thread pool. Prefill runs in micro-batches so
// a stop request is honoured between them. This file holds the lifecycle,
// the passes, the output head and probe recording; the per-layer ops are in
// cpu_backend_layers.cpp.
#include "engine/cpu_backend.h"

#include <algorithm>
#include <cstdio>
#include <new>
#include <string_view>
#include <thread>

#include "engine/capture.h"
#include "engine/memory_plan.h"
#include "engine/pass_trace.h"
#include "kernels/cpu/matmul.h"

namespace glassbox::engine {
namespace {

std::string cpuModelName() {
    std::FILE* f = std::fopen("/proc/cpuinfo", "r");
    if (!f) return "CPU";
    char line[512];
    std::string name = "CPU";
    while (std::fgets(line, sizeof line, f)) {
        std::string_view l(line);
        if (l.rfind("model name", 0) != 0) continue;
        const size_t colon = l.find(':');
        if (colon == std::string_view::npos) break;
        l.remove_prefix(std::min(l.size(), colon + 2));
        while (!l.empty() && (l.back() == '\n' || l.back() == ' ')) l.remove_suffix(1);
        name = std::string(l);
        break;
    }
    std::fclose(f);
    return name;
}

}  // namespace

CpuBackend::CpuBackend(std::shared_ptr<const Model> model, const BackendOptions& o, int threads, int firstLayer)
    : m_model(std::move(model)), m_c(m_model->config()), m_pool(threads), m_opt(o), m_first(firstLayer) {}

Status CpuBackend::allocate() {
    const ModelConfig& c = m_c;
    m_kvElemBytes = m_opt.kvType == KvCacheType::F16 ? 2 : 4;
    const size_t mb = size_t(m_opt.microBatch);
    try {
        const size_t kvBytes =
            size_t(c.nLayers - m_first) * size_t(m_opt.contextSize) * size_t(c.kvDim()) * m_kvElemBytes;
        m_kCache.assign(kvBytes, 0);
        m_vCache.assign(kvBytes, 0);
        m_x.resize(mb * c.nEmbd);
        m_h.resize(mb * c.nEmbd);
        m_q.resize(mb * c.qDim());
        m_k.resize(mb * c.kvDim());
        m_v.resize(mb * c.kvDim());
        m_attn.resize(mb * c.qDim());
        m_o.resize(mb * c.nEmbd);
        m_gate.resize(mb * c.nFf);
        m_up.resize(mb * c.nFf);
        m_scores.resize(size_t(m_pool.size()) * size_t(m_opt.contextSize) * 2);  // scores + probe scratch
        m_cos.resize(mb * (c.ropeDims / 2));
        m_sin.resize(mb * (c.ropeDims / 2));
    } catch (const std::bad_alloc&) {
        return makeError(ErrorCode::OutOfMemory,
                         "cannot allocate the KV cache and scratch for a context of " +
                             std::to_string(m_opt.contextSize) + " tokens");
    }
    return {};
}

DeviceInfo CpuBackend::deviceInfo() const {
    static const std::string name = cpuModelName();
    const SystemMemory sys = querySystemMemory();
    DeviceInfo d;
    d.kind = "CPU";
    d.name = name + " (" + std::to_string(m_pool.size()) + " threads)";
    d.totalBytes = sys.totalRam;
    d.freeBytes = sys.availableRam;
    d.totalLayers = m_c.nLayers;
    return d;
}

// The weights this backend reads: the whole model, or its layers and head.
uint64_t CpuBackend::layerWeightBytes() const {
    if (m_first == 0) return m_model->weightBytes();
    uint64_t b = m_model->outputNorm().bytes + m_model->output().bytes;
    for (int il = m_first; il < m_c.nLayers; ++il) {
        const LayerWeights& l = m_model->layers()[size_t(il)];
        for (const TensorView* t : {&l.attnNorm, &l.wq, &l.wk, &l.wv, &l.wo, &l.ffnNorm, &l.wGate, &l.wUp, &l.wDown})
            b += t->bytes;
        for (const auto* bias : {&l.bq, &l.bk, &l.bv})
            if (*bias) b += (*bias)->bytes;
    }
    return b;
}

BackendMemory CpuBackend::memory() const {
    BackendMemory m;
    m.weights = layerWeightBytes();
    m.kvCache = m_kCache.size() + m_vCache.size();
    m.scratch = (m_x.size() + m_h.size() + m_q.size() + m_k.size() + m_v.size() + m_attn.size() + m_o.size() +
                 m_gate.size() + m_up.size() + m_scores.size() + m_cos.size() + m_sin.size()) * sizeof(float) +
                m_matmulScratch.capacity();
    return m;
}

Status CpuBackend::forward(std::span<const int32_t> tokens, int startPos, LogitsMode mode,
                           std::span<float> logits, std::stop_token stop) {
    const int n = int(tokens.size());
    if (m_first != 0)
        return makeError(ErrorCode::InvalidArgument,
                         "this CPU backend runs only layers " + std::to_string(m_first) + " onwards");
    GB_TRY(checkForwardArgs(tokens, startPos, m_opt.contextSize, m_c.nVocab, mode, logits.size()));
    m_prof.beginStep(n);
    for (int start = 0; start < n; start += m_opt.microBatch) {
        if (stop.stop_requested()) return makeError(ErrorCode::Cancelled, "cancelled");
        const int len = std::min(m_opt.microBatch, n - start);
        const bool last = start + len == n;
        if (mode == LogitsMode::All) {
            runChunk(tokens.data() + start, len, startPos + start, logits.data() + size_t(start) * m_c.nVocab, true);
        } else {
            runChunk(tokens.data() + start, len, startPos + start, last ? logits.data() : nullptr, false);
        }
    }
    m_prof.endStep();
    return {};
}

void CpuBackend::runChunk(const int32_t* tokens, int n, int pos0, float* logits, bool allRows) {
    m_rec = m_capture && m_capture->beginPass(pos0, std::span<const int32_t>(tokens, size_t(n)));
    {
        OpProfiler::Scope op(m_prof, "embedding");
        embed(tokens, n);
    }
    if (m_rec) {
        traceEmbeddingOp(*m_capture, *m_model, n);
        m_capture->recordResidual(0, pos0, n, m_x.data());
    }
    runLayersAndHead(n, pos0, logits, allRows);
    if (m_rec) m_capture->endPass();
    m_rec = false;
}

void CpuBackend::runLayersAndHead(int n, int pos0, float* logits, bool allRows) {
    for (int il = m_first; il < m_c.nLayers; ++il) {
        const LayerWeights& l = m_model->layers()[size_t(il)];
        attentionBlock(l, il, n, pos0);
        if (m_rec) traceAttention(l, il, n, pos0);
        feedForwardBlock(l, n);
        if (m_rec) traceFeedForward(l, il, n, pos0);
    }
    if (logits) {
        const int first = allRows ? 0 : n - 1;
        outputHead(&m_x[size_t(first) * m_c.nEmbd], n - first, logits);
        if (m_rec) traceHeadOps(*m_capture, *m_model, n, n - first);
    }
}

Status CpuBackend::forwardFromHidden(const float* hidden, int n, int pos0, float* logits, bool allRows,
                                     bool recording) {
    if (n <= 0 || n > m_opt.microBatch)
        return makeError(ErrorCode::InvalidArgument, "rows must be in [1, micro-batch]");
    if (pos0 < 0 || int64_t(pos0) + n > m_opt.contextSize)
        return makeError(ErrorCode::ContextFull, "context of " + std::to_string(m_opt.contextSize) + " tokens is full");
    std::copy(hidden, hidden + size_t(n) * size_t(m_c.nEmbd), m_x.begin());
    m_rec = recording && m_capture && m_capture->recording();
    runLayersAndHead(n, pos0, logits, allRows);
    m_rec = false;
    return {};
}

void CpuBackend::outputHead(const float* hidden, int rows, float* logits) {
    const float* w = reinterpret_cast<const float*>(m_model->outputNorm().data);
    {
        OpProfiler::Scope op(m_prof, "rmsnorm");
        for (int i = 0; i < rows; ++i)
            cpuRmsNormRow(hidden + size_t(i) * m_c.nEmbd, w, m_c.nEmbd, m_c.rmsEps, &m_h[size_t(i) * m_c.nEmbd]);
    }
    OpProfiler::Scope op(m_prof, "logits");
    kernels::matmul(m_model->output(), m_h.data(), rows, logits, m_pool, m_matmulScratch, f16Activations());
}

Status CpuBackend::logitsFromHidden(std::span<const float> hidden, int rows, std::span<float> logits,
                                    std::stop_token stop) {
    const size_t d = size_t(m_c.nEmbd), v = size_t(m_c.nVocab);
    if (rows < 0 || hidden.size() < size_t(rows) * d || logits.size() < size_t(rows) * v)
        return makeError(ErrorCode::InvalidArgument, "hidden or logits buffer too small");
    for (int start = 0; start < rows; start += m_opt.microBatch) {
        if (stop.stop_requested()) return makeError(ErrorCode::Cancelled, "cancelled");
        const int len = std::min(m_opt.microBatch, rows - start);
        outputHead(hidden.data() + size_t(start) * d, len, logits.data() + size_t(start) * v);
    }
    return {};
}

void CpuBackend::traceAttention(const LayerWeights& l, int layer, int n, int pos0) {
    traceAttentionOps(*m_capture, m_c, l, layer, n, pos0, m_opt.kvType);
    const size_t kvRowBytes = size_t(m_c.kvDim()) * m_kvElemBytes;
    m_capture->recordQueryKey(layer, pos0, n, m_q.data(), cacheRow(m_kCache, layer, 0), kvRowBytes);
    m_capture->recordActivations(layer, ActivationSite::AttentionOutput, pos0, n, m_o.data(), m_c.nEmbd);
}

void CpuBackend::traceFeedForward(const LayerWeights& l, int layer, int n, int pos0) {
    traceFeedForwardOps(*m_capture, m_c, l, layer, n);
    m_capture->recordActivations(layer, ActivationSite::FfnOutput, pos0, n, m_o.data(), m_c.nEmbd);
    m_capture->recordActivations(layer, ActivationSite::Residual, pos0, n, m_x.data(), m_c.nEmbd);
    m_capture->recordResidual(layer + 1, pos0, n, m_x.data());
}

Result<std::unique_ptr<CpuBackend>> createCpuLayerBackend(std::shared_ptr<const Model> model,
                                                          const BackendOptions& options, int firstLayer) {
    if (!model) return makeError(ErrorCode::InvalidArgument, "no model");
    BackendOptions o = options;
    const ModelConfig& c = model->config();
    if (firstLayer < 0 || firstLayer > c.nLayers)
        return makeError(ErrorCode::InvalidArgument, "first CPU layer out of range", "gpu_layers");
    if (o.contextSize < 0) return makeError(ErrorCode::InvalidArgument, "context size must be positive", "context");
    if (o.contextSize == 0) o.contextSize = std::min(c.nCtxTrain, 4096);
    if (o.contextSize > (1 << 20)) return makeError(ErrorCode::InvalidArgument, "context size too large", "context");
    if (o.microBatch <= 0 || o.microBatch > 4096)
        return makeError(ErrorCode::InvalidArgument, "micro-batch must be in [1, 4096]", "micro_batch");
    int threads = o.threads > 0 ? o.threads : int(std::max(1u, std::thread::hardware_concurrency()));
    threads = std::min(threads, 256);
    auto backend = std::make_unique<CpuBackend>(std::move(model), o, threads, firstLayer);
    GB_TRY(backend->allocate());
    return backend;
}

Result<std::unique_ptr<Backend>> createCpuBackend(std::shared_ptr<const Model> model, const BackendOptions& options) {
    GB_ASSIGN_OR_RETURN(auto backend, createCpuLayerBackend(std::move(model), options, 0));
    return std::unique_ptr<Backend>(std::move(backend));
}

}  // namespace glassbox::engine
