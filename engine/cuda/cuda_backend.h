// The CUDA backend: the CPU reference's forward pass on one NVIDIA GPU.
// Weights are uploaded as they are stored (the file's block layouts) and
// multiplied where they lie: decode and short runs with the matrix-vector
// kernels on activations quantized exactly as the CPU quantizes them,
// longer prefill micro-batches with dequantize-to-half + cuBLAS. The KV
// cache (F16 or F32) and all scratch live on the device; logits come back
// to the caller's span. Decode steps are captured once into a CUDA graph
// and replayed (position and token id are read from device memory).
//
// With Placement::GpuLayers the first gpuLayers layers run here and the
// rest, the final norm and the output head run on a CPU layer backend
// (engine/cpu_backend.h) fed with the hidden state after the last GPU layer.
//
// Split by concern: cuda_backend.cpp (creation, upload, memory, info),
// cuda_forward.cpp (passes, head, logit lens), cuda_layers.cpp (layer ops
// and matrix products), cuda_graph.cpp (decode graph), cuda_probes.cpp
// (capture recording).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/backend.h"
#include "engine/cpu_backend.h"
#include "engine/cuda/cuda_check.h"
#include "engine/cuda/cuda_op_timer.h"
#include "engine/cuda/device_allocator.h"
#include "engine/model.h"
#include "kernels/cuda/gemm.cuh"

namespace glassbox::engine::cuda {

// A weight matrix on the device, in its file layout.
struct DeviceMatrix {
    TensorType type = TensorType::F32;
    int64_t rows = 0, cols = 0;
    const void* data = nullptr;
    const TensorView* host = nullptr;  // the model's tensor (names, probes)
};

struct DeviceLayer {
    const float* attnNorm = nullptr;
    const float* ffnNorm = nullptr;
    const float* bq = nullptr;
    const float* bk = nullptr;
    const float* bv = nullptr;
    DeviceMatrix wq, wk, wv, wo, gate, up, down;
};

// Owns an instantiated CUDA graph.
class GraphExec {
public:
    GraphExec() = default;
    ~GraphExec();
    GraphExec(const GraphExec&) = delete;
    GraphExec& operator=(const GraphExec&) = delete;
    cudaGraphExec_t get() const { return m_exec; }
    void reset(cudaGraphExec_t exec = nullptr);

private:
    cudaGraphExec_t m_exec = nullptr;
};

class CudaBackend final : public Backend {
public:
    // Errors: Device (no usable GPU, a CUDA failure), OutOfMemory (device or
    // pinned memory, naming the category), Unsupported (a weight type the
    // kernels lack), InvalidArgument (options).
    static Result<std::unique_ptr<Backend>> create(std::shared_ptr<const Model> model, const BackendOptions& options);
    ~CudaBackend() override;

    std::string name() const override { return "CUDA"; }
    int contextSize() const override { return m_opt.contextSize; }
    int threads() const override { return m_cpu ? m_cpu->threads() : 1; }
    BackendMemory memory() const override;
    Status forward(std::span<const int32_t> tokens, int startPos, LogitsMode mode, std::span<float> logits,
                   std::stop_token stop) override;
    void setCapture(Capture* capture) override;
    Status logitsFromHidden(std::span<const float> hidden, int rows, std::span<float> logits,
                            std::stop_token stop) override;
    void setProfiling(bool on) override;
    StepProfile lastStepProfile() const override { return m_timer.last(); }
    DeviceInfo deviceInfo() const override;

private:
    CudaBackend(std::shared_ptr<const Model> model, const BackendOptions& o, int gpuLayers);
    bool headOnGpu() const { return m_gpuLayers == m_c.nLayers; }

    // ---- creation (cuda_backend.cpp) ----
    Status load();
    Status uploadWeights();
    Status allocateState();
    Status allocateScratch();
    Status checkWeightTypes() const;
    size_t attentionWorkspaceBytes() const;

    // ---- passes (cuda_forward.cpp) ----
    Status runChunk(const int32_t* tokens, int n, int pos0, float* logits, bool allRows);
    Status runDecodeStep(int32_t token, int pos, float* logits);
    Status enqueueEmbedding(int n);
    Status enqueueGpuLayers(int n, int pos0, bool devicePos);
    Status enqueueHead(int firstRow, int rows, float* hostLogits);
    Status finishOnCpu(int n, int pos0, float* logits, bool allRows);
    Status sync(const char* what);

    // ---- layer ops and products (cuda_layers.cpp) ----
    Status attentionBlock(int layer, int n, int pos0, bool devicePos);
    Status feedForwardBlock(int layer, int n);
    Status attention(int layer, int n, int pos0, bool devicePos);
    struct Product {
        const DeviceMatrix* w;
        float* y;
    };
    // y = x · Wᵀ for each product; activations are prepared once when the
    // matrices share a type and width (Q/K/V, gate/up), as on the CPU.
    Status linear(std::initializer_list<Product> products, const float* x, int n);
    Status matVecGroups(const Product* products, size_t count, const float* x, int n);
    Status gemm(const Product* products, size_t count, const float* x, int n);
    bool useGemm(TensorType type, int n) const;

    // ---- decode graph (cuda_graph.cpp) ----
    Status enqueueDecode();
    Status launchDecode();
    void captureDecodeGraph();

    // ---- probes (cuda_probes.cpp) ----
    Status recordEmbedding(int n, int pos0);
    Status recordAttention(int layer, int n, int pos0);
    Status recordFeedForward(int layer, int n, int pos0);
    Status ensureProbeBuffers();
    bool recordingAttention() const;

    std::shared_ptr<const Model> m_model;
    const ModelConfig& m_c;
    BackendOptions m_opt;
    int m_device = 0;
    int m_gpuLayers = 0;
    std::string m_deviceName;
    DeviceAllocator m_alloc;  // before every buffer: destroyed after them
    Stream m_stream;
    std::unique_ptr<kernels::cuda::Cublas> m_cublas;  // null: prefill uses the matrix-vector kernels
    OpTimer m_timer;

    DeviceBuffer m_weights, m_kv, m_scratch, m_pinned, m_probeScratch;
    std::vector<DeviceLayer> m_layers;
    DeviceMatrix m_embedding, m_output;
    const float* m_outputNorm = nullptr;
    size_t m_kvElemBytes = 2;
    void* m_kCache = nullptr;  // gpuLayers × context × kvDim elements
    void* m_vCache = nullptr;
    // Scratch (device): activations for one micro-batch.
    float *m_x = nullptr, *m_h = nullptr, *m_q = nullptr, *m_k = nullptr, *m_v = nullptr, *m_attn = nullptr,
          *m_o = nullptr, *m_gate = nullptr, *m_up = nullptr, *m_logits = nullptr;
    void* m_xq = nullptr;         // quantized activations
    uint16_t* m_x16 = nullptr;    // activations as halves (GEMM path)
    uint16_t* m_w16 = nullptr;    // one dequantized weight matrix (GEMM path)
    int32_t* m_io = nullptr;      // [0]: position, [1..]: token ids
    void* m_attnWorkspace = nullptr;  // flash attention's split-key partials
    size_t m_attnWorkspaceBytes = 0;
    int m_logitsRows = 1;         // rows of m_logits
    // Pinned host mirrors: the same io layout, one logits row, hidden rows.
    int32_t* m_hostIo = nullptr;
    float* m_hostLogits = nullptr;
    float* m_hostHidden = nullptr;
    // Probe scratch (allocated on the first recorded pass).
    float *m_probs = nullptr, *m_entropy = nullptr, *m_sink = nullptr;
    size_t m_probFloats = 0;
    std::vector<float> m_stageQ, m_stageRows, m_stageStats;
    std::vector<uint8_t> m_stageK;

    std::unique_ptr<CpuBackend> m_cpu;  // layers [gpuLayers, nLayers) and the head, when split
    GraphExec m_graph;
    bool m_graphTried = false;
    std::vector<std::string> m_notes;
    Capture* m_capture = nullptr;
    bool m_rec = false;
};

}  // namespace glassbox::engine::cuda
