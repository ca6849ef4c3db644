// CPU kernels over quantized blocks: dequantization (bit-exact with ggml),
// reference quantizers (byte-identical with ggml / the gguf package), and
// dot products computed directly on quantized blocks. SIMD variants
// (AVX2/FMA, AVX-512) are chosen at run time; a portable path always exists
// and is the reference the SIMD paths are tested against.
#pragma once

#include <cstdint>

#include "engine/tensor_types.h"

namespace glassbox::kernels {

using engine::TensorType;

// True for the weight types the matmul kernels accept.
bool isSupportedWeightType(TensorType type);

// Dequantize n elements (a multiple of the block size) to float.
void dequantizeRow(TensorType type, const void* src, float* dst, int64_t n);

// Quantize n floats (a multiple of the block size) into blocks of `type`.
// Supports F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q8_1, Q4_K, Q5_K,
// Q6_K, Q8_K. Returns false for other types.
bool quantizeRow(TensorType type, const float* src, void* dst, int64_t n);

// The type activations are quantized to before a dot product with a weight
// row of `weightType` (Q8_0 for Q4_0/Q5_0/Q8_0, Q8_1 for Q4_1/Q5_1, Q8_K for
// the K-quants, F32 for F32/F16/BF16).
TensorType vecDotType(TensorType weightType);

// Dot product of one weight row (weightType) with one activation row already
// in vecDotType(weightType); n elements.
float vecDot(TensorType weightType, const void* weightRow, const void* activationRow, int64_t n);

// Which instruction set the dispatcher picked: "avx512" (F/BW/VL/DQ + VNNI),
// "avx2-vnni" (AVX2 + AVX-VNNI), "avx2" (AVX2 + FMA + F16C) or "scalar".
const char* simdLevelName();
// Force the portable path (tests compare it with the SIMD one); returns the previous value.
bool forceScalarKernels(bool force);
// Use at most the named instruction set (a name simdLevelName() returns), e.g.
// to exercise a lower level on a newer CPU. Returns false, changing nothing,
// for an unknown name or a level this CPU lacks. The environment variable
// GLASSBOX_SIMD sets the same limit at start-up.
bool limitSimdLevel(const char* name);

}  // namespace glassbox::kernels
