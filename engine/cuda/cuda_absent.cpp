// The CUDA entry points of a build made without the CUDA toolkit: they
// report that absence as a value, so every caller takes its CPU path.
#include "engine/backend.h"
#include "engine/backend_factory.h"

namespace glassbox::engine {

CudaStatus probeCuda(int) {
    CudaStatus s;
    s.reason = "this build of Glassbox has no CUDA backend (the CUDA toolkit was not found when it was built)";
    return s;
}

Result<std::unique_ptr<Backend>> createCudaBackend(std::shared_ptr<const Model>, const BackendOptions&) {
    return makeError(ErrorCode::Device, probeCuda(0).reason);
}

}  // namespace glassbox::engine
