// Internal interface between the quant-kernel dispatcher (quant_kernels.cpp)
// and its per-instruction-set implementations. Each implementation file
// exposes lookup functions that return nullptr for a type it does not cover,
// so the dispatcher falls back to the next simpler level.
//
// Files compiled with SIMD flags must not use inline functions or templates
// from shared headers (their out-of-line copies could be picked by the linker
// for portable callers); they use plain pointers and this header only.
#pragma once

#include <cstdint>

#include "engine/tensor_types.h"

namespace glassbox::kernels::detail {

using engine::TensorType;

using DequantizeFn = void (*)(const void* src, float* dst, int64_t n);
using QuantizeFn = void (*)(const float* src, void* dst, int64_t n);
// Dot product of one weight row with one activation row in vecDotType.
using VecDotFn = float (*)(const void* weightRow, const void* activationRow, int64_t n);

enum class SimdLevel { Scalar, Avx2, Avx2Vnni, Avx512 };
// The level every dispatcher uses now (honours forceScalarKernels).
SimdLevel activeSimdLevel();

namespace scalar {
DequantizeFn dequantizeFor(TensorType type);
QuantizeFn quantizeFor(TensorType type);
VecDotFn vecDotFor(TensorType weightType);

// K-quant reference code (quant_ref_k.cpp).
void dequantizeQ4K(const void* src, float* dst, int64_t n);
void dequantizeQ5K(const void* src, float* dst, int64_t n);
void dequantizeQ6K(const void* src, float* dst, int64_t n);
void dequantizeQ8K(const void* src, float* dst, int64_t n);
void quantizeQ4K(const float* src, void* dst, int64_t n);
void quantizeQ5K(const float* src, void* dst, int64_t n);
void quantizeQ6K(const float* src, void* dst, int64_t n);
void quantizeQ8K(const float* src, void* dst, int64_t n);

// Half / bfloat16 helpers shared by the portable files.
float halfToFloat(uint16_t h);
uint16_t floatToHalf(float f);
}  // namespace scalar

namespace avx2 {
VecDotFn vecDotFor(TensorType weightType);
DequantizeFn dequantizeFor(TensorType type);
}  // namespace avx2

namespace avx512 {
VecDotFn vecDotFor(TensorType weightType);
DequantizeFn dequantizeFor(TensorType type);
}  // namespace avx512

}  // namespace glassbox::kernels::detail
