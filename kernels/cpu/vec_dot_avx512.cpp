// AVX-512 dot products on quantized blocks (stub while being written).
#include "kernels/cpu/quant_impl.h"
namespace glassbox::kernels::detail::avx512 {
VecDotFn vecDotFor(TensorType) { return nullptr; }
DequantizeFn dequantizeFor(TensorType) { return nullptr; }
}
