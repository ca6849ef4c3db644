// The CUDA backend's passes: forward() in micro-batches (a stop request is
// honoured between them, and every micro-batch ends with a stream
// synchronisation so errors surface in the call that caused them), the
// decode step, the output head on the device (row groups of matrix-vector
// products, as the CPU's integer products), the hand-over to the CPU layers
// of a split placement, and the logit lens's head.
#include <algorithm>
#include <cstring>

#include "engine/capture.h"
#include "engine/cuda/cuda_backend.h"
#include "engine/cuda_faults.h"
#include "engine/pass_trace.h"
#include "kernels/cuda/embedding.cuh"
#include "kernels/cuda/rmsnorm.cuh"

namespace glassbox::engine::cuda {
namespace {
namespace kc = kernels::cuda;
}  // namespace

Status CudaBackend::sync(const char* what) {
    GB_CUDA_TRY(cudaStreamSynchronize(m_stream.get()), what);
    return {};
}

Status CudaBackend::forward(std::span<const int32_t> tokens, int startPos, LogitsMode mode, std::span<float> logits,
                            std::stop_token stop) {
    const int n = int(tokens.size());
    GB_TRY(checkForwardArgs(tokens, startPos, m_opt.contextSize, m_c.nVocab, mode, logits.size()));
    DeviceGuard guard(m_device);
    GB_TRY(guard.status());
    m_timer.beginStep(n, m_stream.get());
    if (m_cpu) m_cpu->profiler().beginStep(n);
    for (int start = 0; start < n; start += m_opt.microBatch) {
        if (stop.stop_requested()) return makeError(ErrorCode::Cancelled, "cancelled");
        const int len = std::min(m_opt.microBatch, n - start);
        const bool last = start + len == n;
        float* out = mode == LogitsMode::All ? logits.data() + size_t(start) * m_c.nVocab
                                             : (last ? logits.data() : nullptr);
        const Status s = runChunk(tokens.data() + start, len, startPos + start, out, mode == LogitsMode::All);
        m_rec = false;
        GB_TRY(s);
    }
    if (m_cpu) {
        m_cpu->profiler().endStep();
        m_timer.addHostOps(m_cpu->lastStepProfile().ops);
    }
    m_timer.endStep();
    return {};
}

Status CudaBackend::runChunk(const int32_t* tokens, int n, int pos0, float* logits, bool allRows) {
    m_rec = m_capture && m_capture->beginPass(pos0, std::span<const int32_t>(tokens, size_t(n)));
    if (n == 1 && !m_rec) return runDecodeStep(tokens[0], pos0, logits);
    if (m_rec && recordingAttention()) GB_TRY(ensureProbeBuffers());
    m_hostIo[0] = pos0;
    std::memcpy(m_hostIo + 1, tokens, size_t(n) * sizeof(int32_t));
    GB_CUDA_TRY(cudaMemcpyAsync(m_io, m_hostIo, size_t(1 + n) * sizeof(int32_t), cudaMemcpyHostToDevice, m_stream.get()),
                "uploading token ids");
    GB_TRY(enqueueEmbedding(n));
    if (m_rec) GB_TRY(recordEmbedding(n, pos0));
    GB_TRY(enqueueGpuLayers(n, pos0, false));
    if (!headOnGpu()) {
        GB_TRY(finishOnCpu(n, pos0, logits, allRows));
    } else if (logits) {
        const int first = allRows ? 0 : n - 1;
        GB_TRY(enqueueHead(first, n - first, logits));
        if (m_rec) traceHeadOps(*m_capture, *m_model, n, n - first);
    }
    GB_TRY(sync("running a micro-batch on the GPU"));
    if (m_rec) m_capture->endPass();
    return {};
}

// One token at `pos`, not recorded: the same launches whether replayed from
// the decode graph or enqueued one by one, with the position and token id
// read from device memory.
Status CudaBackend::runDecodeStep(int32_t token, int pos, float* logits) {
    const bool graphs = cudaGraphsEnabled() && !m_timer.enabled();
    if (graphs && !m_graphTried) captureDecodeGraph();
    m_hostIo[0] = pos;
    m_hostIo[1] = token;
    GB_CUDA_TRY(cudaMemcpyAsync(m_io, m_hostIo, 2 * sizeof(int32_t), cudaMemcpyHostToDevice, m_stream.get()),
                "uploading the token id");
    if (graphs && m_graph.get()) {
        GB_TRY(launchDecode());
    } else {
        GB_TRY(enqueueDecode());
    }
    GB_TRY(sync("running a decode step on the GPU"));
    if (headOnGpu()) {
        if (logits) std::memcpy(logits, m_hostLogits, size_t(m_c.nVocab) * sizeof(float));
        return {};
    }
    m_timer.mark("");
    return m_cpu->forwardFromHidden(m_hostHidden, 1, pos, logits, false, false);
}

Status CudaBackend::enqueueEmbedding(int n) {
    m_timer.mark("embedding");
    const TensorView& e = *m_embedding.host;
    GB_CUDA_TRY(kc::embedding(e.type, m_embedding.data, size_t(e.rowStride()), m_io + 1, n, m_c.nEmbd, m_x,
                              m_stream.get()),
                "embedding lookup");
    return {};
}

Status CudaBackend::enqueueGpuLayers(int n, int pos0, bool devicePos) {
    for (int il = 0; il < m_gpuLayers; ++il) {
        GB_TRY(attentionBlock(il, n, pos0, devicePos));
        if (m_rec) GB_TRY(recordAttention(il, n, pos0));
        GB_TRY(feedForwardBlock(il, n));
        if (m_rec) GB_TRY(recordFeedForward(il, n, pos0));
    }
    return {};
}

// Final norm and output head over rows [firstRow, firstRow + rows) of m_x,
// in groups of m_logitsRows rows copied to hostLogits as they complete.
Status CudaBackend::enqueueHead(int firstRow, int rows, float* hostLogits) {
    const size_t d = size_t(m_c.nEmbd), v = size_t(m_c.nVocab);
    for (int r0 = 0; r0 < rows; r0 += m_logitsRows) {
        const int cnt = std::min(m_logitsRows, rows - r0);
        m_timer.mark("rmsnorm");
        GB_CUDA_TRY(kc::rmsNorm(m_x + size_t(firstRow + r0) * d, m_outputNorm, cnt, m_c.nEmbd, m_c.rmsEps, m_h,
                                m_stream.get()),
                    "output norm");
        m_timer.mark("logits");
        const Product p{&m_output, m_logits};
        GB_TRY(matVecGroups(&p, 1, m_h, cnt));
        GB_CUDA_TRY(cudaMemcpyAsync(hostLogits + size_t(r0) * v, m_logits, size_t(cnt) * v * sizeof(float),
                                    cudaMemcpyDeviceToHost, m_stream.get()),
                    "copying logits from the GPU");
    }
    return {};
}

// Split placement: the hidden rows after the last GPU layer go to the CPU
// layers, which finish the pass (and its records) and write the logits.
Status CudaBackend::finishOnCpu(int n, int pos0, float* logits, bool allRows) {
    GB_CUDA_TRY(cudaMemcpyAsync(m_hostHidden, m_x, size_t(n) * size_t(m_c.nEmbd) * sizeof(float),
                                cudaMemcpyDeviceToHost, m_stream.get()),
                "copying hidden rows from the GPU");
    GB_TRY(sync("running the GPU layers"));
    m_timer.mark("");
    return m_cpu->forwardFromHidden(m_hostHidden, n, pos0, logits, allRows, m_rec);
}

Status CudaBackend::logitsFromHidden(std::span<const float> hidden, int rows, std::span<float> logits,
                                     std::stop_token stop) {
    if (m_cpu) return m_cpu->logitsFromHidden(hidden, rows, logits, stop);
    const size_t d = size_t(m_c.nEmbd), v = size_t(m_c.nVocab);
    if (rows < 0 || hidden.size() < size_t(rows) * d || logits.size() < size_t(rows) * v)
        return makeError(ErrorCode::InvalidArgument, "hidden or logits buffer too small");
    DeviceGuard guard(m_device);
    GB_TRY(guard.status());
    for (int start = 0; start < rows; start += m_opt.microBatch) {
        if (stop.stop_requested()) return makeError(ErrorCode::Cancelled, "cancelled");
        const int len = std::min(m_opt.microBatch, rows - start);
        GB_CUDA_TRY(cudaMemcpyAsync(m_x, hidden.data() + size_t(start) * d, size_t(len) * d * sizeof(float),
                                    cudaMemcpyHostToDevice, m_stream.get()),
                    "copying hidden rows to the GPU");
        GB_TRY(enqueueHead(0, len, logits.data() + size_t(start) * v));
        GB_TRY(sync("running the output head on the GPU"));
    }
    return {};
}

}  // namespace glassbox::engine::cuda
