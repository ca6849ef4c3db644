// Causal scaled-dot-product attention for one query row against a KV cache
// stored as F16 or F32 rows. Used by the CPU backend for prefill and decode;
// the probabilities can be written out for the attention probe.
#pragma once

#include <cstdint>

namespace glassbox::kernels {

inline constexpr int kMaxAttentionHeadDim = 4096;

struct AttentionRowArgs {
    const float* q = nullptr;      // headDim floats
    const void* k = nullptr;       // first key row of this KV head
    const void* v = nullptr;       // first value row of this KV head
    bool kvIsF16 = true;
    int64_t kvRowStride = 0;       // elements between consecutive positions
    int headDim = 0;
    int nKeys = 0;                 // attend to positions [0, nKeys)
    float scale = 1.0f;
    float* scores = nullptr;       // scratch of nKeys floats; holds probabilities on return
    float* out = nullptr;          // headDim floats
};

// out = softmax(scale * q·Kᵀ) · V over the first nKeys positions.
void attentionRow(const AttentionRowArgs& args);

// Round a float row to F16 (KV cache store).
void storeRowF16(const float* src, uint16_t* dst, int64_t n);

}  // namespace glassbox::kernels
