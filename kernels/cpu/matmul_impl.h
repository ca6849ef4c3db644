// Internal interface of the matmul kernels (matmul.cpp drives them).
//
// Quantized weights are multiplied with activations in the "A8" row format,
// private to the matmul code and identical for every instruction set:
//   int8  qs[k]          activations x * 127 / amax rounded to nearest even
//   float d[k / 32]      one scale per 32 values (amax / 127, as Q8_0)
//   aux[k / G]           per weight-scale group of G values (16 or 32):
//                        float d * sum(q) for weight types with a min term,
//                        int32 zeroPoint * sum(q) for zero-point types
// padded to a multiple of 64 bytes. Float weights (F32/F16/BF16) take plain
// float rows instead (stride 4 * k bytes).
//
// Every weight type is reduced to the same algebra per group of G values:
//   w = scale * u + min       (u an unsigned integer, 0..255)
// or, for zero-point types, w = scale * (u - zeroPoint), so a weight row's
// contribution per group is  scale * d_a * (Σ u·q - zeroPoint·Σ q) + min * d_a·Σ q.
#pragma once

#include <cstdint>

#include "engine/tensor_types.h"

namespace glassbox::kernels::detail {

using engine::TensorType;

struct ActFormat {
    int group = 32;     // weight-scale group size (16 or 32)
    bool minTerm = false;  // aux is float d*Σq (true) or int32 zeroPoint*Σq (false)
    int zeroPoint = 0;  // for !minTerm
    bool quantized = false;  // false: plain float activations
    // ggml's 32-value formats (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0) meet activations
    // in Q8_0 / Q8_1 blocks, whose scale d and d*Σq are stored as F16: the
    // A8 row holds those rounded values, and the products follow ggml's
    // summation order (see gemmGgmlOrder in matmul_avx512_ggml.cpp).
    bool ggmlBlocks = false;
};

// One block's quantization, as ggml's quantize_row_q8_0 / q8_1 do it:
// q = nearest-even(x * mul), stored scale d (F16-rounded for ggmlBlocks),
// dRaw = amax / 127 unrounded (for d*Σq).
struct BlockScale {
    float mul = 0.0f;
    float d = 0.0f;
    float dRaw = 0.0f;
};
BlockScale blockScale(float amax, bool ggmlBlocks);
// The aux value d*Σq of a min-term block.
float blockSumTerm(const BlockScale& s, int32_t sumQ, bool ggmlBlocks);

// Format for a weight type; quantized = false for F32/F16/BF16.
ActFormat actFormat(TensorType weightType);
// Bytes of one activation row for a weight type and row length k.
uint64_t actRowBytes(TensorType weightType, int64_t k);

// One matrix product over a slice of weight rows.
struct GemmArgs {
    TensorType type = TensorType::F32;
    const uint8_t* w = nullptr;  // first weight row of the slice
    uint64_t wStride = 0;        // bytes between weight rows
    int64_t k = 0;               // elements per row
    int64_t nRows = 0;           // weight rows in the slice
    const uint8_t* x = nullptr;  // activation rows (A8 or float)
    uint64_t xStride = 0;        // bytes between activation rows
    int64_t m = 0;               // activation rows
    float* y = nullptr;          // y[r * ldy + i] for weight row i of the slice
    int64_t ldy = 0;
    bool singleStep = false;     // the whole product has one activation row (ggml's vector-dot order)
};

namespace scalar {
void quantizeActRows(TensorType weightType, const float* x, int64_t m, int64_t k, uint8_t* out,
                     uint64_t stride);
void gemm(const GemmArgs& a);
}  // namespace scalar

namespace avx2 {
// Return false when the type is not handled at this level. useVnni selects
// the AVX-VNNI kernels (only when the CPU has them).
bool quantizeActRows(TensorType weightType, const float* x, int64_t m, int64_t k, uint8_t* out,
                     uint64_t stride);
bool gemm(const GemmArgs& a, bool useVnni);
}  // namespace avx2

namespace avx512 {
bool quantizeActRows(TensorType weightType, const float* x, int64_t m, int64_t k, uint8_t* out,
                     uint64_t stride);
bool gemm(const GemmArgs& a);
}  // namespace avx512

}  // namespace glassbox::kernels::detail
