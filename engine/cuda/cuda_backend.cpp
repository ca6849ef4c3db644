// CUDA backend creation: option checks, the weight upload (file layouts,
// one device allocation), the KV cache, scratch and pinned staging, the
// cuBLAS handle, the CPU part of a split placement; and what the backend
// reports about its device and memory. Every allocation goes through the
// DeviceAllocator, so a failure at any step frees what came before.
#include "engine/cuda/cuda_backend.h"

#include <algorithm>
#include <thread>
#include <unordered_map>

#include "engine/backend_factory.h"
#include "kernels/cuda/attention.cuh"
#include "kernels/cuda/matvec.cuh"
#include "kernels/cuda/quantize_activations.cuh"

namespace glassbox::engine::cuda {
namespace {

namespace kc = kernels::cuda;
constexpr size_t kAlign = 256;

size_t alignUp(size_t n) { return (n + kAlign - 1) / kAlign * kAlign; }

// Hands out aligned offsets inside one allocation.
struct Layout {
    size_t bytes = 0;
    size_t add(size_t n) {
        const size_t at = bytes;
        bytes += alignUp(n);
        return at;
    }
};

std::string joinLines(const std::vector<std::string>& lines) {
    std::string s;
    for (const std::string& l : lines) s += (s.empty() ? "" : "\n") + l;
    return s;
}

}  // namespace

void GraphExec::reset(cudaGraphExec_t exec) {
    if (m_exec) (void)cudaGraphExecDestroy(m_exec);
    m_exec = exec;
}

GraphExec::~GraphExec() { reset(); }

CudaBackend::CudaBackend(std::shared_ptr<const Model> model, const BackendOptions& o, int gpuLayers)
    : m_model(std::move(model)), m_c(m_model->config()), m_opt(o), m_device(o.gpuDevice), m_gpuLayers(gpuLayers),
      m_alloc(o.gpuDevice) {}

CudaBackend::~CudaBackend() {
    // Work still queued may use the buffers about to be freed.
    if (cudaSetDevice(m_device) == cudaSuccess && m_stream.get()) (void)cudaStreamSynchronize(m_stream.get());
    (void)cudaGetLastError();
}

Result<std::unique_ptr<Backend>> CudaBackend::create(std::shared_ptr<const Model> model, const BackendOptions& options) {
    if (!model) return makeError(ErrorCode::InvalidArgument, "no model");
    BackendOptions o = options;
    const ModelConfig& c = model->config();
    if (o.contextSize < 0) return makeError(ErrorCode::InvalidArgument, "context size must be positive", "context");
    if (o.contextSize == 0) o.contextSize = std::min(c.nCtxTrain, 4096);
    if (o.contextSize > (1 << 20)) return makeError(ErrorCode::InvalidArgument, "context size too large", "context");
    if (o.microBatch <= 0 || o.microBatch > 4096)
        return makeError(ErrorCode::InvalidArgument, "micro-batch must be in [1, 4096]", "micro_batch");
    int gpuLayers = c.nLayers;
    if (o.placement == Placement::GpuLayers) {
        if (o.gpuLayers <= 0)
            return makeError(ErrorCode::InvalidArgument, "no layers were asked for on the GPU", "gpu_layers");
        gpuLayers = std::min(o.gpuLayers, c.nLayers);
    }
    const CudaStatus probe = probeCuda(o.gpuDevice);
    if (!probe.usable) return makeError(ErrorCode::Device, probe.reason);
    DeviceGuard guard(o.gpuDevice);
    GB_TRY(guard.status());
    std::unique_ptr<CudaBackend> b(new CudaBackend(std::move(model), o, gpuLayers));
    b->m_deviceName = probe.deviceName;
    GB_TRY(b->load());
    return std::unique_ptr<Backend>(std::move(b));
}

Status CudaBackend::load() {
    GB_TRY(checkWeightTypes());
    GB_TRY(m_stream.create());
    GB_TRY(uploadWeights());
    GB_TRY(allocateState());
    if (!headOnGpu()) {
        BackendOptions cpu = m_opt;
        cpu.placement = Placement::Cpu;
        GB_ASSIGN_OR_RETURN(m_cpu, createCpuLayerBackend(m_model, cpu, m_gpuLayers));
    }
    return sync("uploading the model to the GPU");
}

// Every matrix the GPU multiplies must have a matrix-vector kernel.
Status CudaBackend::checkWeightTypes() const {
    std::vector<const TensorView*> mats{&m_model->tokenEmbedding()};
    for (int il = 0; il < m_gpuLayers; ++il) {
        const LayerWeights& l = m_model->layers()[size_t(il)];
        for (const TensorView* t : {&l.wq, &l.wk, &l.wv, &l.wo, &l.wGate, &l.wUp, &l.wDown}) mats.push_back(t);
    }
    if (headOnGpu()) mats.push_back(&m_model->output());
    for (const TensorView* t : mats)
        if (!kc::matVecSupports(t->type))
            return makeError(ErrorCode::Unsupported, "the CUDA kernels do not support " +
                                                         std::string(tensorTypeName(t->type)) + " weights (" +
                                                         t->name + ")");
    return {};
}

// One allocation holds every tensor the GPU reads, each at an aligned
// offset, shared when the model ties its output head to the embedding.
Status CudaBackend::uploadWeights() {
    std::vector<const TensorView*> tensors;
    std::unordered_map<const uint8_t*, size_t> offsets;
    Layout layout;
    auto want = [&](const TensorView* t) {
        if (!t || !t->data || offsets.count(t->data)) return;
        offsets[t->data] = layout.add(t->bytes);
        tensors.push_back(t);
    };
    want(&m_model->tokenEmbedding());
    for (int il = 0; il < m_gpuLayers; ++il) {
        const LayerWeights& l = m_model->layers()[size_t(il)];
        for (const TensorView* t : {&l.attnNorm, &l.wq, &l.wk, &l.wv, &l.wo, &l.ffnNorm, &l.wGate, &l.wUp, &l.wDown})
            want(t);
        for (const auto* b : {&l.bq, &l.bk, &l.bv})
            if (*b) want(&**b);
    }
    if (headOnGpu()) {
        want(&m_model->outputNorm());
        want(&m_model->output());
    }
    GB_ASSIGN_OR_RETURN(m_weights, m_alloc.allocate(MemoryKind::Weights, layout.bytes,
                                                    std::to_string(tensors.size()) + " tensors of " +
                                                        std::to_string(m_gpuLayers) + " layers"));
    for (const TensorView* t : tensors)
        GB_CUDA_TRY(cudaMemcpyAsync(m_weights.as<uint8_t>(offsets[t->data]), t->data, t->bytes, cudaMemcpyHostToDevice,
                                    m_stream.get()),
                    "copying " + t->name + " to the GPU");
    auto at = [&](const TensorView& t) -> const void* { return m_weights.as<uint8_t>(offsets.at(t.data)); };
    auto matrix = [&](const TensorView& t) { return DeviceMatrix{t.type, t.ne[1], t.ne[0], at(t), &t}; };
    auto vec = [&](const TensorView& t) { return static_cast<const float*>(at(t)); };
    m_embedding = matrix(m_model->tokenEmbedding());
    m_layers.resize(size_t(m_gpuLayers));
    for (int il = 0; il < m_gpuLayers; ++il) {
        const LayerWeights& l = m_model->layers()[size_t(il)];
        DeviceLayer& d = m_layers[size_t(il)];
        d.attnNorm = vec(l.attnNorm);
        d.ffnNorm = vec(l.ffnNorm);
        d.bq = l.bq ? vec(*l.bq) : nullptr;
        d.bk = l.bk ? vec(*l.bk) : nullptr;
        d.bv = l.bv ? vec(*l.bv) : nullptr;
        d.wq = matrix(l.wq);
        d.wk = matrix(l.wk);
        d.wv = matrix(l.wv);
        d.wo = matrix(l.wo);
        d.gate = matrix(l.wGate);
        d.up = matrix(l.wUp);
        d.down = matrix(l.wDown);
    }
    if (headOnGpu()) {
        m_outputNorm = vec(m_model->outputNorm());
        m_output = matrix(m_model->output());
    }
    return {};
}

// KV cache, cuBLAS, device scratch and pinned staging, in that order (the
// scratch size depends on whether cuBLAS is there).
Status CudaBackend::allocateState() {
    const ModelConfig& c = m_c;
    const size_t mb = size_t(m_opt.microBatch), ctx = size_t(m_opt.contextSize);
    m_kvElemBytes = m_opt.kvType == KvCacheType::F16 ? 2 : 4;
    const size_t kvHalf = size_t(m_gpuLayers) * ctx * size_t(c.kvDim()) * m_kvElemBytes;
    GB_ASSIGN_OR_RETURN(m_kv, m_alloc.allocate(MemoryKind::KvCache, 2 * kvHalf,
                                               "K and V for " + std::to_string(m_gpuLayers) + " layers × " +
                                                   std::to_string(ctx) + " positions"));
    GB_CUDA_TRY(cudaMemsetAsync(m_kv.data(), 0, m_kv.bytes(), m_stream.get()), "clearing the KV cache");
    m_kCache = m_kv.data();
    m_vCache = m_kv.as<uint8_t>(kvHalf);

    if (mb > size_t(kc::kMaxMatVecColumns)) {
        GB_TRY(m_alloc.admit(MemoryKind::Scratch, 0, "cuBLAS handle"));
        std::string error;
        m_cublas = kc::Cublas::create(m_stream.get(), &error);
        if (!m_cublas)
            m_notes.push_back("cuBLAS is unavailable (" + error +
                              "); prefill runs on the matrix-vector kernels, which is slower");
    }

    GB_TRY(allocateScratch());
    Layout p;
    const size_t pio = p.add((1 + mb) * 4), plog = p.add(headOnGpu() ? size_t(c.nVocab) * 4 : 0),
                 phid = p.add(headOnGpu() ? 0 : mb * c.nEmbd * 4);
    GB_ASSIGN_OR_RETURN(m_pinned, m_alloc.allocate(MemoryKind::PinnedHost, p.bytes, "token ids, logits and hidden rows"));
    m_hostIo = m_pinned.as<int32_t>(pio);
    m_hostLogits = m_pinned.as<float>(plog);
    m_hostHidden = m_pinned.as<float>(phid);
    return {};
}

// Activations for one micro-batch, the GEMM path's halves, the logits rows
// and the token ids, in one device allocation.
Status CudaBackend::allocateScratch() {
    const ModelConfig& c = m_c;
    const size_t mb = size_t(m_opt.microBatch);
    // Widest activations and largest matrix the layer products see.
    size_t xqBytes = 0, w16Elems = 0;
    const size_t headRows = std::min(mb, size_t(kc::kMaxMatVecColumns));
    if (headOnGpu()) xqBytes = kc::quantizedActivationBytes(m_output.type, int(headRows), m_output.cols);
    for (const DeviceLayer& l : m_layers)
        for (const DeviceMatrix* m : {&l.wq, &l.wk, &l.wv, &l.wo, &l.gate, &l.up, &l.down}) {
            xqBytes = std::max(xqBytes, kc::quantizedActivationBytes(m->type, int(mb), m->cols));
            if (m->type != TensorType::F32 && m->type != TensorType::F16)
                w16Elems = std::max(w16Elems, size_t(m->rows) * size_t(m->cols));
        }
    const size_t maxCols = size_t(std::max({c.nEmbd, c.qDim(), c.nFf}));
    const size_t attnWorkspace = attentionWorkspaceBytes();
    m_logitsRows = headOnGpu() ? int(std::clamp<size_t>((size_t(64) << 20) / (size_t(c.nVocab) * 4), 1, mb)) : 0;

    Layout s;
    const size_t fx = s.add(mb * c.nEmbd * 4), fh = s.add(mb * c.nEmbd * 4), fq = s.add(mb * c.qDim() * 4),
                 fk = s.add(mb * c.kvDim() * 4), fv = s.add(mb * c.kvDim() * 4), fa = s.add(mb * c.qDim() * 4),
                 fo = s.add(mb * c.nEmbd * 4), fg = s.add(mb * c.nFf * 4), fu = s.add(mb * c.nFf * 4),
                 fl = s.add(size_t(m_logitsRows) * c.nVocab * 4), fxq = s.add(xqBytes),
                 fx16 = s.add(m_cublas ? mb * maxCols * 2 : 0), fw16 = s.add(m_cublas ? w16Elems * 2 : 0),
                 fio = s.add((1 + mb) * 4), fws = s.add(attnWorkspace);
    GB_ASSIGN_OR_RETURN(m_scratch, m_alloc.allocate(MemoryKind::Scratch, s.bytes,
                                                    "activations for a micro-batch of " + std::to_string(mb) + " tokens"));
    m_x = m_scratch.as<float>(fx);
    m_h = m_scratch.as<float>(fh);
    m_q = m_scratch.as<float>(fq);
    m_k = m_scratch.as<float>(fk);
    m_v = m_scratch.as<float>(fv);
    m_attn = m_scratch.as<float>(fa);
    m_o = m_scratch.as<float>(fo);
    m_gate = m_scratch.as<float>(fg);
    m_up = m_scratch.as<float>(fu);
    m_logits = m_scratch.as<float>(fl);
    m_xq = m_scratch.as<void>(fxq);
    m_x16 = m_scratch.as<uint16_t>(fx16);
    m_w16 = m_scratch.as<uint16_t>(fw16);
    m_io = m_scratch.as<int32_t>(fio);
    m_attnWorkspace = attnWorkspace ? m_scratch.as<void>(fws) : nullptr;
    m_attnWorkspaceBytes = attnWorkspace;
    return {};
}

// The largest split-key scratch flash attention can use: decode at the
// device position over the whole context, or any run of rows ending at it.
size_t CudaBackend::attentionWorkspaceBytes() const {
    static const int devicePos = 0;  // only its address matters for the plan
    kc::AttentionArgs a;
    a.kvF16 = m_opt.kvType == KvCacheType::F16;
    a.kvRowStride = m_c.kvDim();
    a.nHead = m_c.nHead;
    a.nHeadKv = m_c.nHeadKv;
    a.headDim = m_c.headDim;
    a.nTokens = 1;
    a.devPos0 = &devicePos;
    a.maxKeys = m_opt.contextSize;
    size_t bytes = kc::attentionWorkspaceBytes(a);
    a.devPos0 = nullptr;
    a.maxKeys = 0;
    for (int n = 1; n <= std::min(m_opt.microBatch, m_opt.contextSize); ++n) {
        a.nTokens = n;
        a.pos0 = m_opt.contextSize - n;
        bytes = std::max(bytes, kc::attentionWorkspaceBytes(a));
    }
    return bytes;
}

BackendMemory CudaBackend::memory() const {
    BackendMemory m = m_alloc.deviceMemory();
    if (m_cpu) {
        const BackendMemory cpu = m_cpu->memory();
        m.weights += cpu.weights;
        m.kvCache += cpu.kvCache;
        m.scratch += cpu.scratch;
    }
    return m;
}

DeviceInfo CudaBackend::deviceInfo() const {
    DeviceInfo d;
    d.kind = "CUDA";
    d.name = m_deviceName;
    DeviceGuard guard(m_device);
    size_t freeBytes = 0, totalBytes = 0;
    if (guard.status() && cudaMemGetInfo(&freeBytes, &totalBytes) == cudaSuccess) {
        d.freeBytes = freeBytes;
        d.totalBytes = totalBytes;
    }
    (void)cudaGetLastError();
    d.gpuLayers = m_gpuLayers;
    d.totalLayers = m_c.nLayers;
    d.deviceMemory = m_alloc.deviceMemory();
    d.note = joinLines(m_notes);
    return d;
}

void CudaBackend::setCapture(Capture* capture) {
    m_capture = capture;
    if (m_cpu) m_cpu->setCapture(capture);
}

void CudaBackend::setProfiling(bool on) {
    m_timer.setEnabled(on);
    if (m_cpu) m_cpu->setProfiling(on);
}

}  // namespace glassbox::engine::cuda

namespace glassbox::engine {

Result<std::unique_ptr<Backend>> createCudaBackend(std::shared_ptr<const Model> model, const BackendOptions& options) {
    return cuda::CudaBackend::create(std::move(model), options);
}

}  // namespace glassbox::engine
