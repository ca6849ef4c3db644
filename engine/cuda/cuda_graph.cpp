// The decode step as a CUDA graph. The n == 1 step is the same sequence of
// launches at every position once the position and token id are read from
// device memory (m_io, uploaded before each step) and attention is shaped
// for the whole context, so it is captured once per backend and replayed.
// The graph ends by copying the logits row (or, in a split placement, the
// hidden row) into pinned host memory. When capture or instantiation fails
// the backend says why in deviceInfo().note and keeps launching the same
// kernels one by one; profiling and recorded passes never use the graph.
#include "engine/cuda/cuda_backend.h"
#include "engine/cuda_faults.h"
#include "kernels/cuda/rmsnorm.cuh"

namespace glassbox::engine::cuda {
namespace {
namespace kc = kernels::cuda;
}  // namespace

// Everything after the token upload, for one token at the device position.
Status CudaBackend::enqueueDecode() {
    const cudaStream_t s = m_stream.get();
    GB_TRY(enqueueEmbedding(1));
    GB_TRY(enqueueGpuLayers(1, 0, true));
    if (!headOnGpu()) {
        GB_CUDA_TRY(cudaMemcpyAsync(m_hostHidden, m_x, size_t(m_c.nEmbd) * sizeof(float), cudaMemcpyDeviceToHost, s),
                    "copying the hidden row from the GPU");
        return {};
    }
    m_timer.mark("rmsnorm");
    GB_CUDA_TRY(kc::rmsNorm(m_x, m_outputNorm, 1, m_c.nEmbd, m_c.rmsEps, m_h, s), "output norm");
    m_timer.mark("logits");
    const Product p{&m_output, m_logits};
    GB_TRY(matVecGroups(&p, 1, m_h, 1));
    GB_CUDA_TRY(cudaMemcpyAsync(m_hostLogits, m_logits, size_t(m_c.nVocab) * sizeof(float), cudaMemcpyDeviceToHost, s),
                "copying logits from the GPU");
    return {};
}

Status CudaBackend::launchDecode() {
    GB_CUDA_TRY(cudaGraphLaunch(m_graph.get(), m_stream.get()), "replaying the decode graph");
    noteCudaGraphLaunch();
    return {};
}

// Captures enqueueDecode() into m_graph (tried once per backend).
void CudaBackend::captureDecodeGraph() {
    m_graphTried = true;
    auto fail = [this](const std::string& why) {
        (void)cudaGetLastError();
        m_notes.push_back("decode steps run without a CUDA graph (kernels launched one by one): " + why);
    };
    if (const Status admitted = m_alloc.admit(MemoryKind::Scratch, 0, "the decode step's CUDA graph"); !admitted) {
        fail(admitted.error().message);
        return;
    }
    const cudaStream_t s = m_stream.get();
    if (const cudaError_t e = cudaStreamBeginCapture(s, cudaStreamCaptureModeThreadLocal); e != cudaSuccess) {
        fail("capture could not start (" + describe(e) + ")");
        return;
    }
    const Status enqueued = enqueueDecode();
    cudaGraph_t graph = nullptr;
    const cudaError_t ended = cudaStreamEndCapture(s, &graph);
    if (!enqueued || ended != cudaSuccess || !graph) {
        if (graph) (void)cudaGraphDestroy(graph);
        fail(!enqueued ? enqueued.error().message : "capture failed (" + describe(ended) + ")");
        return;
    }
    cudaGraphExec_t exec = nullptr;
    const cudaError_t instantiated = cudaGraphInstantiate(&exec, graph, 0);
    (void)cudaGraphDestroy(graph);
    if (instantiated != cudaSuccess) {
        fail("instantiation failed (" + describe(instantiated) + ")");
        return;
    }
    m_graph.reset(exec);
}

}  // namespace glassbox::engine::cuda
