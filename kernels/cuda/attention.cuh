// Causal grouped-query attention over the device-resident KV cache.
// Two paths with the same result: a fused flash-style kernel (online
// softmax, nothing written but the output) for speed, and a probing path
// that writes every probability row (and its entropy and first-key "sink"
// share) for the attention probe.
#pragma once
#include <cuda_runtime_api.h>

#include <cstddef>

namespace glassbox::kernels::cuda {

struct AttentionArgs {
    const float* q = nullptr;   // nTokens × nHead × headDim (after RoPE)
    const void* k = nullptr;    // cache of one layer: positions × kvRowStride elements
    const void* v = nullptr;
    bool kvF16 = true;          // cache element type (else float32)
    int kvRowStride = 0;        // elements per cached position (nHeadKv × headDim)
    int nTokens = 0;            // query rows, at positions pos0 .. pos0 + nTokens - 1
    int pos0 = 0;
    int nHead = 0, nHeadKv = 0, headDim = 0;
    float scale = 1.0f;         // usually 1 / sqrt(headDim)
    float* out = nullptr;       // nTokens × nHead × headDim
    // CUDA-graph replay: when set, pos0 is read from this device int at run
    // time and the launch shape depends only on maxKeys (>= pos0 + nTokens).
    const int* devPos0 = nullptr;
    int maxKeys = 0;
    // Optional device scratch of attentionWorkspaceBytes(*this) bytes (16-byte
    // aligned). With it, flashAttention splits long key ranges over more
    // blocks and merges them in a second kernel (decode with few query rows);
    // null, or a size of 0, means one block covers all keys of its rows.
    void* workspace = nullptr;
};

// Limits: headDim a multiple of 4 in [4, 256], nHead a multiple of nHeadKv,
// kvRowStride a multiple of 4, nTokens <= 65535; q, out and the caches
// 16-byte aligned. Other arguments give cudaErrorInvalidValue.
cudaError_t flashAttention(const AttentionArgs& a, cudaStream_t stream);

// Scratch flashAttention can use for these arguments (0: it would not split).
// Depends only on nTokens, nHead, nHeadKv, headDim and maxKeys (devPos0 set)
// or pos0 + nTokens (devPos0 null), so one size serves a captured graph.
size_t attentionWorkspaceBytes(const AttentionArgs& a);

// probs: nHead × nTokens × (pos0 + nTokens) floats, causal zeros included;
// entropy, sink: nTokens × nHead floats (either may be null). With an F16
// cache the query and the probabilities are rounded to F16 before they meet
// K and V, as the CPU's attentionRow does; the flash path rounds the query
// only (its probabilities exist only unnormalised).
cudaError_t attentionWithProbs(const AttentionArgs& a, float* probs, float* entropy, float* sink,
                               cudaStream_t stream);

}  // namespace glassbox::kernels::cuda
