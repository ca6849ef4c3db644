// The CPU backend: the reference forward pass of the Llama family
// (RMSNorm, RoPE, grouped-query attention over an F16/F32 KV cache, SwiGLU,
// tied or separate output head), computed with the quantized kernels of
// kernels/cpu and split over a thread pool. Prefill runs in micro-batches so
// a stop request is honoured between them.
#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <new>
#include <thread>

#include "engine/backend.h"
#include "engine/capture.h"
#include "engine/model.h"
#include "kernels/cpu/attention.h"
#include "kernels/cpu/matmul.h"
#include "kernels/cpu/quant_kernels.h"
#include "kernels/cpu/thread_pool.h"

namespace glassbox::engine {
namespace {

void rmsNormRow(const float* x, const float* w, int n, float eps, float* out) {
    double sum = 0.0;
    for (int i = 0; i < n; ++i) sum += double(x[i] * x[i]);
    const float scale = 1.0f / std::sqrt(float(sum / n) + eps);
    for (int i = 0; i < n; ++i) out[i] = (x[i] * scale) * w[i];
}

class CpuBackend final : public Backend {
public:
    CpuBackend(std::shared_ptr<const Model> model, const BackendOptions& o, int threads)
        : m_model(std::move(model)), m_c(m_model->config()), m_pool(threads), m_opt(o) {}

    Status allocate();
    std::string name() const override { return "CPU"; }
    int contextSize() const override { return m_opt.contextSize; }
    int threads() const override { return m_pool.size(); }
    BackendMemory memory() const override;
    Status forward(std::span<const int32_t> tokens, int startPos, LogitsMode mode,
                   std::span<float> logits, std::stop_token stop) override;
    void setCapture(Capture* capture) override { m_capture = capture; }
    Status logitsFromHidden(std::span<const float> hidden, int rows, std::span<float> logits,
                            std::stop_token stop) override;

private:
    void runChunk(const int32_t* tokens, int n, int pos0, float* logits, bool allRows);
    void embed(const int32_t* tokens, int n);
    void attentionBlock(const LayerWeights& l, int layer, int n, int pos0);
    void feedForwardBlock(const LayerWeights& l, int n);
    void applyRope(float* rows, int nRows, int nHeads, int pos0);
    void storeKv(int layer, int n, int pos0);
    void computeAttention(int layer, int n, int pos0);
    void addBias(float* rows, int n, int dim, const std::optional<TensorView>& bias);
    uint8_t* cacheRow(std::vector<uint8_t>& cache, int layer, int pos);
    struct MatJob {
        const TensorView* w;
        float* y;
    };
    void fusedMatmul(std::initializer_list<MatJob> jobs, const float* x, int n);
    void outputHead(const float* hidden, int rows, float* logits);
    // Probe recording (only while m_rec is set for the current chunk).
    void traceAttention(const LayerWeights& l, int layer, int n, int pos0);
    void traceFeedForward(const LayerWeights& l, int layer, int n);
    void traceHead(int n, int rows);

    std::shared_ptr<const Model> m_model;
    const ModelConfig& m_c;
    kernels::ThreadPool m_pool;
    BackendOptions m_opt;
    size_t m_kvElemBytes = 2;
    std::vector<uint8_t> m_kCache, m_vCache;
    std::vector<float> m_x, m_h, m_q, m_k, m_v, m_attn, m_o, m_gate, m_up, m_scores, m_cos, m_sin;
    std::vector<uint8_t> m_matmulScratch, m_fusedScratch;
    Capture* m_capture = nullptr;
    bool m_rec = false;  // recording the chunk being run
};

Status CpuBackend::allocate() {
    const ModelConfig& c = m_c;
    m_kvElemBytes = m_opt.kvType == KvCacheType::F16 ? 2 : 4;
    const size_t mb = size_t(m_opt.microBatch);
    try {
        const size_t kvBytes = size_t(c.nLayers) * size_t(m_opt.contextSize) * size_t(c.kvDim()) * m_kvElemBytes;
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

BackendMemory CpuBackend::memory() const {
    BackendMemory m;
    m.weights = m_model->weightBytes();
    m.kvCache = m_kCache.size() + m_vCache.size();
    m.scratch = (m_x.size() + m_h.size() + m_q.size() + m_k.size() + m_v.size() + m_attn.size() + m_o.size() +
                 m_gate.size() + m_up.size() + m_scores.size() + m_cos.size() + m_sin.size()) * sizeof(float) +
                m_matmulScratch.capacity();
    return m;
}

Status CpuBackend::forward(std::span<const int32_t> tokens, int startPos, LogitsMode mode,
                           std::span<float> logits, std::stop_token stop) {
    const int n = int(tokens.size());
    if (n == 0) return makeError(ErrorCode::InvalidArgument, "no tokens to run");
    if (startPos < 0 || int64_t(startPos) + n > m_opt.contextSize)
        return makeError(ErrorCode::ContextFull,
                         "context of " + std::to_string(m_opt.contextSize) + " tokens is full (position " +
                             std::to_string(startPos + n) + " requested)");
    for (int i = 0; i < n; ++i)
        if (tokens[i] < 0 || tokens[i] >= m_c.nVocab)
            return makeError(ErrorCode::InvalidArgument, "token id " + std::to_string(tokens[i]) + " out of range");
    const size_t rowsNeeded = mode == LogitsMode::All ? size_t(n) : 1;
    if (logits.size() < rowsNeeded * size_t(m_c.nVocab))
        return makeError(ErrorCode::InvalidArgument, "logits buffer too small");
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
    return {};
}

void CpuBackend::runChunk(const int32_t* tokens, int n, int pos0, float* logits, bool allRows) {
    m_rec = m_capture && m_capture->beginPass(pos0, std::span<const int32_t>(tokens, size_t(n)));
    embed(tokens, n);
    if (m_rec) {
        const TensorView& e = m_model->tokenEmbedding();
        m_capture->recordOp(-1, OpKind::Embedding, makeTokenIdsShape(n), makeShape({n, m_c.nEmbd}, TensorType::F32), &e);
        m_capture->recordResidual(0, pos0, n, m_x.data());
    }
    for (int il = 0; il < m_c.nLayers; ++il) {
        const LayerWeights& l = m_model->layers()[il];
        attentionBlock(l, il, n, pos0);
        if (m_rec) {
            traceAttention(l, il, n, pos0);
            m_capture->recordActivations(il, ActivationSite::AttentionOutput, pos0, n, m_o.data(), m_c.nEmbd);
        }
        feedForwardBlock(l, n);
        if (m_rec) {
            traceFeedForward(l, il, n);
            m_capture->recordActivations(il, ActivationSite::FfnOutput, pos0, n, m_o.data(), m_c.nEmbd);
            m_capture->recordActivations(il, ActivationSite::Residual, pos0, n, m_x.data(), m_c.nEmbd);
            m_capture->recordResidual(il + 1, pos0, n, m_x.data());
        }
    }
    if (logits) {
        const int first = allRows ? 0 : n - 1;
        outputHead(&m_x[size_t(first) * m_c.nEmbd], n - first, logits);
        if (m_rec) traceHead(n, n - first);
    }
    if (m_rec) m_capture->endPass();
    m_rec = false;
}

void CpuBackend::outputHead(const float* hidden, int rows, float* logits) {
    const float* w = reinterpret_cast<const float*>(m_model->outputNorm().data);
    for (int i = 0; i < rows; ++i)
        rmsNormRow(hidden + size_t(i) * m_c.nEmbd, w, m_c.nEmbd, m_c.rmsEps, &m_h[size_t(i) * m_c.nEmbd]);
    kernels::matmul(m_model->output(), m_h.data(), rows, logits, m_pool, m_matmulScratch);
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
    const ModelConfig& c = m_c;
    const TensorType f32 = TensorType::F32;
    const TensorType kv = m_opt.kvType == KvCacheType::F16 ? TensorType::F16 : TensorType::F32;
    const int keys = pos0 + n;
    const ShapeDesc x = makeShape({n, c.nEmbd}, f32), q = makeShape({n, c.nHead, c.headDim}, f32),
                    k = makeShape({n, c.nHeadKv, c.headDim}, f32), s = makeShape({c.nHead, n, keys}, f32);
    Capture& cap = *m_capture;
    cap.recordOp(layer, OpKind::AttnNorm, x, x, &l.attnNorm);
    cap.recordOp(layer, OpKind::QProj, x, q, &l.wq);
    cap.recordOp(layer, OpKind::KProj, x, k, &l.wk);
    cap.recordOp(layer, OpKind::VProj, x, k, &l.wv);
    if (l.bq) cap.recordOp(layer, OpKind::QkvBias, q, q, &*l.bq);
    cap.recordOp(layer, OpKind::Rope, q, q);
    cap.recordOp(layer, OpKind::KvStore, k, makeShape({2, keys, c.nHeadKv, c.headDim}, kv));
    cap.recordOp(layer, OpKind::Scores, q, s);
    cap.recordOp(layer, OpKind::Softmax, s, s);
    cap.recordOp(layer, OpKind::AttnValues, s, makeShape({n, c.nHead * c.headDim}, f32));
    cap.recordOp(layer, OpKind::OutProj, makeShape({n, c.nHead * c.headDim}, f32), x, &l.wo);
    cap.recordOp(layer, OpKind::AttnResidual, x, x);
    const size_t kvRowBytes = size_t(c.kvDim()) * m_kvElemBytes;
    cap.recordQueryKey(layer, pos0, n, m_q.data(), cacheRow(m_kCache, layer, 0), kvRowBytes);
}

void CpuBackend::traceFeedForward(const LayerWeights& l, int layer, int n) {
    const ShapeDesc x = makeShape({n, m_c.nEmbd}, TensorType::F32), f = makeShape({n, m_c.nFf}, TensorType::F32);
    Capture& cap = *m_capture;
    cap.recordOp(layer, OpKind::FfnNorm, x, x, &l.ffnNorm);
    cap.recordOp(layer, OpKind::GateProj, x, f, &l.wGate);
    cap.recordOp(layer, OpKind::UpProj, x, f, &l.wUp);
    cap.recordOp(layer, OpKind::SwiGlu, f, f);
    cap.recordOp(layer, OpKind::DownProj, f, x, &l.wDown);
    cap.recordOp(layer, OpKind::FfnResidual, x, x);
}

void CpuBackend::traceHead(int n, int rows) {
    const ShapeDesc x = makeShape({rows, m_c.nEmbd}, TensorType::F32);
    m_capture->recordOp(-1, OpKind::FinalNorm, makeShape({n, m_c.nEmbd}, TensorType::F32), x, &m_model->outputNorm());
    m_capture->recordOp(-1, OpKind::Logits, x, makeShape({rows, m_c.nVocab}, TensorType::F32), &m_model->output());
}

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
    for (int i = 0; i < n; ++i)
        rmsNormRow(&m_x[size_t(i) * c.nEmbd], normW, c.nEmbd, c.rmsEps, &m_h[size_t(i) * c.nEmbd]);
    fusedMatmul({{&l.wq, m_q.data()}, {&l.wk, m_k.data()}, {&l.wv, m_v.data()}}, m_h.data(), n);
    addBias(m_q.data(), n, c.qDim(), l.bq);
    addBias(m_k.data(), n, c.kvDim(), l.bk);
    addBias(m_v.data(), n, c.kvDim(), l.bv);
    applyRope(m_q.data(), n, c.nHead, pos0);
    applyRope(m_k.data(), n, c.nHeadKv, pos0);
    storeKv(layer, n, pos0);
    computeAttention(layer, n, pos0);
    kernels::matmul(l.wo, m_attn.data(), n, m_o.data(), m_pool, m_matmulScratch);
    for (size_t i = 0; i < size_t(n) * c.nEmbd; ++i) m_x[i] += m_o[i];
}

void CpuBackend::feedForwardBlock(const LayerWeights& l, int n) {
    const ModelConfig& c = m_c;
    const float* normW = reinterpret_cast<const float*>(l.ffnNorm.data);
    for (int i = 0; i < n; ++i)
        rmsNormRow(&m_x[size_t(i) * c.nEmbd], normW, c.nEmbd, c.rmsEps, &m_h[size_t(i) * c.nEmbd]);
    fusedMatmul({{&l.wGate, m_gate.data()}, {&l.wUp, m_up.data()}}, m_h.data(), n);
    const size_t total = size_t(n) * c.nFf;
    for (size_t i = 0; i < total; ++i) {
        const float g = m_gate[i];
        m_gate[i] = (g / (1.0f + std::exp(-g))) * m_up[i];
    }
    kernels::matmul(l.wDown, m_gate.data(), n, m_o.data(), m_pool, m_matmulScratch);
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
        for (const MatJob& j : jobs) kernels::matmul(*j.w, x, n, j.y, m_pool, m_matmulScratch);
        return;
    }
    kernels::quantizeActivations(first.type, x, n, first.ne[0], m_fusedScratch);
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
    for (int i = 0; i < nRows; ++i) {
        const float* cs = &m_cos[size_t(i) * half];
        const float* sn = &m_sin[size_t(i) * half];
        for (int h = 0; h < nHeads; ++h) {
            float* v = rows + size_t(i) * rowDim + size_t(h) * c.headDim;
            for (int p = 0; p < half; ++p) {
                const int a = c.ropeType == RopeType::Normal ? 2 * p : p;
                const int b = c.ropeType == RopeType::Normal ? 2 * p + 1 : p + half;
                const float x0 = v[a], x1 = v[b];
                v[a] = x0 * cs[p] - x1 * sn[p];
                v[b] = x0 * sn[p] + x1 * cs[p];
            }
        }
    }
}

uint8_t* CpuBackend::cacheRow(std::vector<uint8_t>& cache, int layer, int pos) {
    const size_t rowBytes = size_t(m_c.kvDim()) * m_kvElemBytes;
    return cache.data() + (size_t(layer) * size_t(m_opt.contextSize) + size_t(pos)) * rowBytes;
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

}  // namespace

Result<std::unique_ptr<Backend>> createCpuBackend(std::shared_ptr<const Model> model, const BackendOptions& options) {
    if (!model) return makeError(ErrorCode::InvalidArgument, "no model");
    BackendOptions o = options;
    const ModelConfig& c = model->config();
    if (o.contextSize < 0) return makeError(ErrorCode::InvalidArgument, "context size must be positive", "context");
    if (o.contextSize == 0) o.contextSize = std::min(c.nCtxTrain, 4096);
    if (o.contextSize > (1 << 20)) return makeError(ErrorCode::InvalidArgument, "context size too large", "context");
    if (o.microBatch <= 0 || o.microBatch > 4096)
        return makeError(ErrorCode::InvalidArgument, "micro-batch must be in [1, 4096]", "micro_batch");
    int threads = o.threads > 0 ? o.threads : int(std::max(1u, std::thread::hardware_concurrency()));
    threads = std::min(threads, 256);
    auto backend = std::make_unique<CpuBackend>(std::move(model), o, threads);
    GB_TRY(backend->allocate());
    return std::unique_ptr<Backend>(std::move(backend));
}

}  // namespace glassbox::engine
