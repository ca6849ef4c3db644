// The device measurements of a build made without the CUDA toolkit: each
// reports that absence as a value.
#include "engine/device_bench.h"

namespace glassbox::engine {
namespace {

Error builtWithoutCuda() {
    return makeError(ErrorCode::Device, "built without CUDA: this build of Glassbox cannot measure a GPU");
}

}  // namespace

Result<CopyBandwidth> measureCopyBandwidth(int, uint64_t, int) { return builtWithoutCuda(); }

Result<GemmRate> measureGemmRate(int, std::span<const MatmulShape>, int, int) { return builtWithoutCuda(); }

}  // namespace glassbox::engine
