// Probe recording for the CUDA backend: while a Capture records a pass it
// gets what the CPU backend gives it — every op with its shapes, each
// layer's Q (after RoPE) and the new K cache rows, the per-row entropy and
// sink share from the probing attention kernel, the residual stream and
// activation statistics — copied back from the device after the op that
// produced them. Only what the capture's options ask for is copied.
#include <algorithm>

#include "engine/capture.h"
#include "engine/cuda/cuda_backend.h"
#include "engine/pass_trace.h"

namespace glassbox::engine::cuda {
namespace {

constexpr size_t kMaxProbFloats = size_t(64) << 20;  // 256 MiB of attention probabilities per call

}  // namespace

bool CudaBackend::recordingAttention() const { return m_rec && m_capture->options().attention; }

// The probability rows, entropies and sink shares of the probing kernel.
Status CudaBackend::ensureProbeBuffers() {
    if (m_probeScratch) return {};
    const size_t heads = size_t(m_c.nHead), ctx = size_t(m_opt.contextSize), mb = size_t(m_opt.microBatch);
    const size_t probFloats = std::clamp(heads * mb * ctx, heads * ctx, std::max(kMaxProbFloats, heads * ctx));
    const size_t statFloats = mb * heads;
    GB_ASSIGN_OR_RETURN(m_probeScratch, m_alloc.allocate(MemoryKind::Scratch, (probFloats + 2 * statFloats) * 4,
                                                         "attention probabilities for the probes"));
    m_probs = m_probeScratch.as<float>();
    m_entropy = m_probs + probFloats;
    m_sink = m_entropy + statFloats;
    m_probFloats = probFloats;
    return {};
}

namespace {

// Copies `bytes` from the device into host memory once the stream gets there.
Status download(cudaStream_t s, void* dst, const void* src, size_t bytes, const char* what) {
    GB_CUDA_TRY(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, s), what);
    GB_CUDA_TRY(cudaStreamSynchronize(s), what);
    return {};
}

}  // namespace

Status CudaBackend::recordEmbedding(int n, int pos0) {
    traceEmbeddingOp(*m_capture, *m_model, n);
    if (!m_capture->options().residuals) return {};
    const size_t count = size_t(n) * size_t(m_c.nEmbd);
    m_stageRows.resize(count);
    GB_TRY(download(m_stream.get(), m_stageRows.data(), m_x, count * 4, "copying the embedding for the probes"));
    m_capture->recordResidual(0, pos0, n, m_stageRows.data());
    return {};
}

Status CudaBackend::recordAttention(int layer, int n, int pos0) {
    const ModelConfig& c = m_c;
    Capture& cap = *m_capture;
    const cudaStream_t s = m_stream.get();
    traceAttentionOps(cap, c, m_model->layers()[size_t(layer)], layer, n, pos0, m_opt.kvType);
    if (cap.options().attention) {
        m_stageQ.resize(size_t(n) * size_t(c.qDim()));
        GB_TRY(download(s, m_stageQ.data(), m_q, m_stageQ.size() * 4, "copying Q for the probes"));
        // Only rows [pos0, pos0 + n) are read; the staging keeps the cache's
        // layout so the capture can address it from position 0.
        const size_t kvRowBytes = size_t(c.kvDim()) * m_kvElemBytes;
        m_stageK.resize(size_t(m_opt.contextSize) * kvRowBytes);
        const size_t layerBytes = size_t(m_opt.contextSize) * kvRowBytes;
        const uint8_t* kRows = static_cast<const uint8_t*>(m_kCache) + size_t(layer) * layerBytes + size_t(pos0) * kvRowBytes;
        GB_TRY(download(s, m_stageK.data() + size_t(pos0) * kvRowBytes, kRows, size_t(n) * kvRowBytes,
                        "copying K for the probes"));
        cap.recordQueryKey(layer, pos0, n, m_stageQ.data(), m_stageK.data(), kvRowBytes);
        const size_t stats = size_t(n) * size_t(c.nHead);
        m_stageStats.resize(2 * stats);
        GB_TRY(download(s, m_stageStats.data(), m_entropy, stats * 4, "copying attention entropies"));
        GB_TRY(download(s, m_stageStats.data() + stats, m_sink, stats * 4, "copying attention sink shares"));
        for (int i = 0; i < n; ++i)
            for (int h = 0; h < c.nHead; ++h) {
                const size_t at = size_t(i) * size_t(c.nHead) + size_t(h);
                cap.recordRowSummary(layer, pos0 + i, h, {m_stageStats[at], m_stageStats[stats + at]});
            }
    }
    if (cap.options().activations) {
        m_stageRows.resize(size_t(n) * size_t(c.nEmbd));
        GB_TRY(download(s, m_stageRows.data(), m_o, m_stageRows.size() * 4, "copying the attention output"));
        cap.recordActivations(layer, ActivationSite::AttentionOutput, pos0, n, m_stageRows.data(), c.nEmbd);
    }
    return {};
}

Status CudaBackend::recordFeedForward(int layer, int n, int pos0) {
    const ModelConfig& c = m_c;
    Capture& cap = *m_capture;
    const cudaStream_t s = m_stream.get();
    traceFeedForwardOps(cap, c, m_model->layers()[size_t(layer)], layer, n);
    const CaptureOptions& o = cap.options();
    const size_t count = size_t(n) * size_t(c.nEmbd);
    m_stageRows.resize(count);
    if (o.activations) {
        GB_TRY(download(s, m_stageRows.data(), m_o, count * 4, "copying the feed-forward output"));
        cap.recordActivations(layer, ActivationSite::FfnOutput, pos0, n, m_stageRows.data(), c.nEmbd);
    }
    if (o.activations || o.residuals) {
        GB_TRY(download(s, m_stageRows.data(), m_x, count * 4, "copying the residual stream"));
        cap.recordActivations(layer, ActivationSite::Residual, pos0, n, m_stageRows.data(), c.nEmbd);
        cap.recordResidual(layer + 1, pos0, n, m_stageRows.data());
    }
    return {};
}

}  // namespace glassbox::engine::cuda
