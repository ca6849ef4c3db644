// Causal scaled-dot-product attention for one query row against a KV cache
// stored as F16 or F32 rows. Used by the CPU backend for prefill and decode.
// The attention probe recomputes scores and probabilities on demand with
// attentionScores(), which runs the same code as attentionRow(), so what a
// panel shows is bit for bit what the forward pass multiplied with V.
#pragma once

#include <cstdint>

namespace glassbox::kernels {

inline constexpr int kMaxAttentionHeadDim = 4096;

// Per-row summaries taken while the row is computed (attention probe).
struct AttentionRowStats {
    float entropy = 0.0f;  // -Σ p log p, in nats
    float sink = 0.0f;     // probability on position 0
};

struct AttentionRowArgs {
    const float* q = nullptr;      // headDim floats
    const void* k = nullptr;       // first key row of this KV head
    const void* v = nullptr;       // first value row of this KV head
    bool kvIsF16 = true;
    int64_t kvRowStride = 0;       // elements between consecutive positions
    int headDim = 0;
    int nKeys = 0;                 // attend to positions [0, nKeys)
    float scale = 1.0f;
    bool singleToken = false;      // the row's step held one token (ggml's single-token order)
    float* scores = nullptr;       // scratch of nKeys floats
    float* out = nullptr;          // headDim floats (attentionRow only)
    float* statsScratch = nullptr; // nKeys floats, needed when stats is set
    AttentionRowStats* stats = nullptr;
};

// out = softmax(scale * q·Kᵀ) · V over the first nKeys positions. With an F16
// cache the query and the probabilities are rounded to F16 before they meet
// K and V, as ggml's F16 products do.
void attentionRow(const AttentionRowArgs& args);

// Writes the scaled scores scale * q·Kᵀ (probabilities == false) or the
// softmax probabilities (true) of one row into args.scores; args.out unused.
void attentionScores(const AttentionRowArgs& args, bool probabilities);

// Round a float row to F16 (KV cache store).
void storeRowF16(const float* src, uint16_t* dst, int64_t n);

}  // namespace glassbox::kernels
