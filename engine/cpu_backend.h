// The CPU backend's class, for the engine's own use (the public entry point
// is createCpuBackend in engine/backend.h). Besides the full forward pass it
// can run only the layers from `firstLayer` on, plus the final norm and the
// output head, starting from a hidden state that another backend computed:
// this is how Placement::GpuLayers puts the last layers on the CPU. Such a
// backend holds KV cache only for its own layers and refuses forward() from
// tokens. Implemented in cpu_backend.cpp (lifecycle, passes, head, probes)
// and cpu_backend_layers.cpp (the per-layer ops).
#pragma once

#include <cmath>
#include <initializer_list>
#include <memory>
#include <optional>
#include <span>
#include <stop_token>
#include <vector>

#include "engine/backend.h"
#include "kernels/cpu/matmul.h"
#include "engine/model.h"
#include "engine/op_profile.h"
#include "kernels/cpu/thread_pool.h"

namespace glassbox::engine {

// out = x / sqrt(mean(x²) + eps) * w, the sum of squares in double.
inline void cpuRmsNormRow(const float* x, const float* w, int n, float eps, float* out) {
    double sum = 0.0;
    for (int i = 0; i < n; ++i) sum += double(x[i] * x[i]);
    const float scale = 1.0f / std::sqrt(float(sum / n) + eps);
    for (int i = 0; i < n; ++i) out[i] = (x[i] * scale) * w[i];
}

class CpuBackend final : public Backend {
public:
    CpuBackend(std::shared_ptr<const Model> model, const BackendOptions& o, int threads, int firstLayer);

    Status allocate();
    std::string name() const override { return "CPU"; }
    int contextSize() const override { return m_opt.contextSize; }
    int threads() const override { return m_pool.size(); }
    BackendMemory memory() const override;
    Status forward(std::span<const int32_t> tokens, int startPos, LogitsMode mode, std::span<float> logits,
                   std::stop_token stop) override;
    void setCapture(Capture* capture) override { m_capture = capture; }
    Status logitsFromHidden(std::span<const float> hidden, int rows, std::span<float> logits,
                            std::stop_token stop) override;
    void setProfiling(bool on) override { m_prof.setEnabled(on); }
    StepProfile lastStepProfile() const override { return m_prof.last(); }
    DeviceInfo deviceInfo() const override;

    // The first layer this backend runs (0 for a whole-model backend).
    int firstLayer() const { return m_first; }
    // Runs layers [firstLayer(), nLayers) and, when `logits` is set, the
    // head on n ≤ microBatch rows of hidden state (n × nEmbd floats, the
    // residual stream entering layer firstLayer()) at positions
    // [pos0, pos0 + n). Logits: every row when allRows, else the last.
    // When `recording`, the caller has begun a pass on the attached capture
    // and this adds its layers' records to it (the caller ends the pass).
    // Errors: InvalidArgument (sizes, positions beyond the context).
    Status forwardFromHidden(const float* hidden, int n, int pos0, float* logits, bool allRows, bool recording);
    // The step profile the caller brackets around forwardFromHidden calls.
    OpProfiler& profiler() { return m_prof; }

private:
    void runChunk(const int32_t* tokens, int n, int pos0, float* logits, bool allRows);
    void runLayersAndHead(int n, int pos0, float* logits, bool allRows);
    void embed(const int32_t* tokens, int n);
    // An F16 cache computes as llama.cpp does (F16 weights meet F16-rounded
    // activations); the F32 cache is the full-precision mode, rounding nothing.
    kernels::F16Activations f16Activations() const {
        return m_opt.kvType == KvCacheType::F16 ? kernels::F16Activations::Rounded : kernels::F16Activations::Float;
    }
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
    // Probe recording after each block (only while m_rec is set for the chunk).
    void traceAttention(const LayerWeights& l, int layer, int n, int pos0);
    void traceFeedForward(const LayerWeights& l, int layer, int n, int pos0);
    uint64_t layerWeightBytes() const;

    std::shared_ptr<const Model> m_model;
    const ModelConfig& m_c;
    kernels::ThreadPool m_pool;
    BackendOptions m_opt;
    int m_first = 0;  // layers [m_first, nLayers) run here
    size_t m_kvElemBytes = 2;
    std::vector<uint8_t> m_kCache, m_vCache;  // layers [m_first, nLayers)
    std::vector<float> m_x, m_h, m_q, m_k, m_v, m_attn, m_o, m_gate, m_up, m_scores, m_cos, m_sin;
    std::vector<uint8_t> m_matmulScratch, m_fusedScratch;
    Capture* m_capture = nullptr;
    bool m_rec = false;  // recording the chunk being run
    OpProfiler m_prof;
};

// A CPU backend for layers [firstLayer, nLayers) and the head (see
// forwardFromHidden); firstLayer 0 gives the ordinary whole-model backend.
// Errors: those of createCpuBackend, InvalidArgument (firstLayer).
Result<std::unique_ptr<CpuBackend>> createCpuLayerBackend(std::shared_ptr<const Model> model,
                                                          const BackendOptions& options, int firstLayer);

}  // namespace glassbox::engine
