// Capture: what a run records about its own forward pass when asked —
// attention (queries and keys, from which every probability and score is
// recomputed on demand with the forward pass's own kernel), the residual
// stream, activation statistics and every executed op with its real shapes.
// A backend with no Capture attached records nothing and pays nothing.
//
// Memory is bounded: recording stops at options.maxBytes and says so. For
// a model with L layers, query width Dq, key width Dk (bytes per element of
// the KV cache e), embedding width E and H query heads, each position costs
//   L·Dq·4 + L·Dk·e + L·H·8            (attention)
//   (L+1)·E·4                          (residual stream)
//   3·L·sizeof(ActivationStats)        (activations)
// — about 155 KiB per position for SmolLM2-135M with an F16 cache, so a
// 1,024-token run records about 155 MiB (see bytesPerPosition()).
//
// Recording methods are for backends; a finished Capture is a value the UI
// can copy and read from any thread (all const methods are thread-safe).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "engine/backend.h"
#include "engine/model_config.h"
#include "engine/result.h"
#include "engine/tensor_types.h"

namespace glassbox::engine {

class Model;

struct CaptureOptions {
    bool attention = false;    // Q and K per layer; per-row entropy and sink
    bool residuals = false;    // residual stream after the embedding and every layer
    bool activations = false;  // per-token statistics at every layer and site
    bool shapes = false;       // every executed op with its shapes
    uint64_t maxBytes = uint64_t(1) << 30;

    bool any() const { return attention || residuals || activations || shapes; }
    static CaptureOptions all() { return {true, true, true, true}; }
};

// Where in a layer activation statistics are taken.
enum class ActivationSite : uint8_t { AttentionOutput = 0, FfnOutput = 1, Residual = 2 };
inline constexpr int kActivationSites = 3;
const char* activationSiteName(ActivationSite site);

inline constexpr int kTopDims = 8;

// Statistics of one token's vector at one site.
struct ActivationStats {
    float mean = 0, stdev = 0, min = 0, max = 0, l2 = 0;
    std::array<int32_t, kTopDims> topDim{};    // largest |value| first
    std::array<float, kTopDims> topValue{};
};
ActivationStats computeActivationStats(const float* x, int n);

// Per attention row, taken while the forward pass computed it.
struct AttentionRowSummary {
    float entropy = 0;  // nats
    float sink = 0;     // probability on position 0
};

// The steps of a forward pass, in execution order.
enum class OpKind : uint8_t {
    Embedding, AttnNorm, QProj, KProj, VProj, QkvBias, Rope, KvStore, Scores, Softmax, AttnValues,
    OutProj, AttnResidual, FfnNorm, GateProj, UpProj, SwiGlu, DownProj, FfnResidual, FinalNorm, Logits
};
const char* opKindName(OpKind op);

struct ShapeDesc {
    int rank = 0;
    std::array<int64_t, 4> dims{};  // outermost first, e.g. {tokens, width}
    TensorType type = TensorType::F32;
    bool tokenIds = false;          // int32 token ids (type unused)
    uint64_t bytes = 0;
    std::string text() const;       // "[7, 576] F32"
};
ShapeDesc makeShape(std::initializer_list<int64_t> dims, TensorType type);
ShapeDesc makeTokenIdsShape(int64_t n);

// A weight a step reads (a copy of the model's tensor description).
struct WeightDesc {
    std::string name;
    TensorType type = TensorType::F32;
    std::vector<int64_t> shape;     // ne[0] first, as stored
    uint64_t bytes = 0;
};

struct OpRecord {
    int layer = -1;       // -1: before the first layer or after the last
    OpKind op = OpKind::Embedding;
    ShapeDesc input, output;
    int weight = -1;      // index into Capture::weights(), -1 when none
};

// One call into the backend for a run of tokens (a prefill micro-batch or a
// decode step), with the ops it executed.
struct ExecutedPass {
    int startPos = 0;
    int nTokens = 0;
    std::vector<OpRecord> ops;
};

struct CaptureGeometry {
    int nLayers = 0, nHead = 0, nHeadKv = 0, headDim = 0, nEmbd = 0, nFf = 0, nVocab = 0;
    bool kvIsF16 = true;
    int qDim() const { return nHead * headDim; }
    int kvDim() const { return nHeadKv * headDim; }
    int kvHeadOf(int head) const { return nHeadKv ? head / (nHead / nHeadKv) : 0; }
};

class Capture {
public:
    Capture(const Model& model, const CaptureOptions& options, KvCacheType kvType);

    const CaptureOptions& options() const { return m_options; }
    const CaptureGeometry& geometry() const { return m_geo; }
    // Positions recorded, contiguous from 0; tokens()[i] is the token at i.
    int positions() const { return m_positions; }
    const std::vector<int32_t>& tokens() const { return m_tokens; }
    uint64_t bytesPerPosition() const;
    uint64_t bytes() const { return bytesPerPosition() * uint64_t(m_positions); }
    // Non-empty when recording stopped early (memory cap, a gap in positions).
    const std::string& limitMessage() const { return m_limit; }

    // Attention, recomputed from the recorded Q and K with the forward
    // pass's kernel. out receives nKeys = queryPos + 1 values.
    // Errors: InvalidArgument (layer, head or position out of range, or
    // attention was not recorded).
    Status attentionRow(int layer, int head, int queryPos, bool probabilities, std::vector<float>& out) const;
    // Dense positions × positions matrix, row-major, zero above the diagonal
    // (for scores: -inf above the diagonal).
    Result<std::vector<float>> attentionMap(int layer, int head, bool probabilities = true) const;
    const AttentionRowSummary& rowSummary(int layer, int pos, int head) const;
    std::span<const float> query(int layer, int pos) const;  // qDim floats, before F16 rounding
    std::vector<float> key(int layer, int pos) const;        // kvDim floats as cached

    // Residual stream: point 0 is the embedding output, point l + 1 the stream
    // after layer l (point nLayers is what the final norm reads).
    std::span<const float> residual(int point, int pos) const;
    const ActivationStats& stats(int layer, ActivationSite site, int pos) const;

    const std::vector<ExecutedPass>& passes() const { return m_passes; }
    const std::vector<WeightDesc>& weights() const { return m_weights; }

    // ---- recording, called by backends ----
    // Starts a pass over tokens at [startPos, startPos + n). Returns false
    // when nothing of this pass can be recorded (cap reached, or positions
    // before startPos are missing); the backend then skips all recording.
    bool beginPass(int startPos, std::span<const int32_t> tokens);
    bool recording() const { return m_recording; }
    void recordOp(int layer, OpKind op, const ShapeDesc& in, const ShapeDesc& out, const TensorView* weight = nullptr);
    // q: n rows of qDim; kLayerBase: this layer's cache row at position 0.
    void recordQueryKey(int layer, int pos0, int n, const float* q, const uint8_t* kLayerBase, size_t kvRowBytes);
    void recordRowSummary(int layer, int pos, int head, const AttentionRowSummary& s);
    void recordActivations(int layer, ActivationSite site, int pos0, int n, const float* rows, int dim);
    void recordResidual(int point, int pos0, int n, const float* rows);
    void endPass();
    // Forget positions from n on (the session rewound).
    void truncate(int n);

private:
    bool reserve(int positions);

    CaptureOptions m_options;
    CaptureGeometry m_geo;
    std::vector<WeightDesc> m_weights;
    std::vector<const uint8_t*> m_weightKeys;  // TensorView data pointers, parallel to m_weights
    int m_positions = 0;
    int m_passEnd = 0;
    bool m_recording = false;
    std::string m_limit;
    std::vector<int32_t> m_tokens;
    std::vector<std::vector<float>> m_q;                      // [layer][pos * qDim]
    std::vector<std::vector<uint8_t>> m_k;                    // [layer][pos * kvRowBytes]
    std::vector<std::vector<AttentionRowSummary>> m_rows;     // [layer][pos * nHead + head]
    std::vector<std::vector<float>> m_residual;               // [point][pos * nEmbd]
    std::vector<std::vector<ActivationStats>> m_stats;        // [layer * 3 + site][pos]
    std::vector<ExecutedPass> m_passes;
};

}  // namespace glassbox::engine
