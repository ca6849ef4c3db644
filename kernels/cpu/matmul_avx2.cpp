// AVX2 matmul kernels (stub while being written).
#include "kernels/cpu/matmul_impl.h"
namespace glassbox::kernels::detail::avx2 {
bool quantizeActRows(TensorType, const float*, int64_t, int64_t, uint8_t*, uint64_t) { return false; }
bool gemm(const GemmArgs&) { return false; }
}
