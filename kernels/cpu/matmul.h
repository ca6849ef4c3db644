// Matrix products between a (possibly quantized) weight matrix and float
// activations: y = x · Wᵀ, one output row per activation row. Activations
// are quantized once to 8 bits (one scale per 32 values, like Q8_0, plus the
// per-group sums the weight format needs), then rows of W are multiplied
// directly on their blocks (no whole-matrix dequantization). Work is split
// over the pool's threads in 16-row panels; each panel's blocks are decoded
// once and reused for every activation row (prefill), so prefill runs at
// int8 dot-product throughput and decode at close to memory bandwidth.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/tensor_types.h"
#include "kernels/cpu/thread_pool.h"

namespace glassbox::kernels {

// How F16 weights meet the activations: rounded to F16 first, as ggml does
// (so the products are llama.cpp's), or at full float precision.
enum class F16Activations { Rounded, Float };

// W: rows = w.ne[1], each of k = w.ne[0] elements, `w.type`.
// x: m rows of k floats (row stride k). y: m rows of w.ne[1] floats.
// `scratch` is reused between calls to hold quantized activations.
// W must have a type isSupportedWeightType() accepts and k a multiple of its
// block size (as every loaded GGUF tensor has); otherwise y is left as is.
void matmul(const engine::TensorView& w, const float* x, int64_t m, float* y,
            ThreadPool& pool, std::vector<uint8_t>& scratch, F16Activations f16 = F16Activations::Rounded);

// Same, single-threaded, for a slice of weight rows [rowBegin, rowEnd) written
// to y columns [0, rowEnd-rowBegin) with output row stride ldy. xQuantized
// comes from quantizeActivations() for the same weight type and k; matrices
// of one type and k (q/k/v, gate/up) can share it. The caller splits rows
// over threads (preferably in multiples of 16).
void matmulRows(const engine::TensorView& w, const void* xQuantized, int64_t m,
                float* y, int64_t ldy, int64_t rowBegin, int64_t rowEnd);

// Prepare m rows of k floats for matmulRows() with weights of `weightType`:
// the matmul kernels' internal 8-bit activation format for quantized types
// (not a GGUF block format), a plain float copy for F32/F16/BF16 (for F16
// rounded to F16 unless f16 is Float). Grows `out` when needed (never shrinks
// it) and returns the row stride in bytes.
uint64_t quantizeActivations(engine::TensorType weightType, const float* x, int64_t m,
                             int64_t k, std::vector<uint8_t>& out, F16Activations f16 = F16Activations::Rounded);

}  // namespace glassbox::kernels
