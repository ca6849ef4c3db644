// Attention row kernel, built on the vectorised helpers of vec_ops (F16
// widening, dot products, exp and softmax with run-time SIMD dispatch). With
// an F16 cache and a head size that is a multiple of 16 the products and the
// softmax follow ggml's order (vec_ops.h): its matrix-product order for
// steps of several tokens and its vector-dot order for single-token steps,
// so a row is computed exactly as llama.cpp's CPU backend computes it.
#include "kernels/cpu/attention.h"

#include <algorithm>
#include <cmath>

#include "kernels/cpu/vec_ops.h"

namespace glassbox::kernels {
namespace {

// Scaled scores of one row; returns nothing, leaves them in a.scores.
void scoreRow(const AttentionRowArgs& a) {
    if (a.kvIsF16) {
        float q[kMaxAttentionHeadDim];
        std::copy(a.q, a.q + a.headDim, q);
        roundThroughF16(q, a.headDim);
        const auto* k = static_cast<const uint16_t*>(a.k);
        if (a.singleToken) dotF16RowsSingle(k, a.kvRowStride, q, a.headDim, a.nKeys, a.scores);
        else if (a.headDim % 16 == 0) dotF16RowsTree(k, a.kvRowStride, q, a.headDim, a.nKeys, a.scores);
        else dotF16Rows(k, a.kvRowStride, q, a.headDim, a.nKeys, a.scores);
    } else {
        const auto* k = static_cast<const float*>(a.k);
        for (int j = 0; j < a.nKeys; ++j) a.scores[j] = dot(k + j * a.kvRowStride, a.q, a.headDim);
    }
    scale(a.scores, a.scale, a.nKeys);
}

// Softmax in place; with stats requested, the entropy comes from the
// identity H = max + log Z - Σ p·s, which needs no logarithm per key.
void softmaxRow(const AttentionRowArgs& a) {
    if (!a.stats) {
        softmax(a.scores, a.nKeys);
        return;
    }
    std::copy(a.scores, a.scores + a.nKeys, a.statsScratch);
    const float maxScore = *std::max_element(a.scores, a.scores + a.nKeys);
    const float z = softmax(a.scores, a.nKeys);
    const double expected = double(dot(a.scores, a.statsScratch, a.nKeys));
    const double entropy = double(maxScore) + std::log(double(z)) - expected;
    a.stats->entropy = float(std::max(0.0, entropy));
    a.stats->sink = a.nKeys > 0 ? a.scores[0] : 0.0f;
}

}  // namespace

void storeRowF16(const float* src, uint16_t* dst, int64_t n) { toF16(src, dst, n); }

void attentionScores(const AttentionRowArgs& a, bool probabilities) {
    if (a.nKeys <= 0) return;
    scoreRow(a);
    if (probabilities) softmax(a.scores, a.nKeys);
}

void attentionRow(const AttentionRowArgs& a) {
    std::fill(a.out, a.out + a.headDim, 0.0f);
    if (a.nKeys <= 0) return;
    scoreRow(a);
    softmaxRow(a);
    if (a.kvIsF16) {
        roundThroughF16(a.scores, a.nKeys);
        const auto* v = static_cast<const uint16_t*>(a.v);
        if (a.headDim % 16 != 0) weightedSumF16Rows(a.scores, v, a.kvRowStride, a.nKeys, a.headDim, a.out);
        else if (a.singleToken) weightedSumF16RowsSingle(a.scores, v, a.kvRowStride, a.nKeys, a.headDim, a.out);
        else weightedSumF16RowsTree(a.scores, v, a.kvRowStride, a.nKeys, a.headDim, a.out);
    } else {
        const auto* v = static_cast<const float*>(a.v);
        for (int j = 0; j < a.nKeys; ++j) axpy(a.scores[j], v + j * a.kvRowStride, a.out, a.headDim);
    }
}

}  // namespace glassbox::kernels
