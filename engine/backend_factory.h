// Choosing and creating a backend for a model: the placement policy and
// every fallback. A GPU that is absent, a driver that is too old, a build
// without CUDA, or device memory that runs out at load all end in a working
// backend — a smaller context, fewer GPU layers, or the CPU — together with
// notes that say why. A device failure in the middle of a run is handled by
// the resilient wrapper (see makeResilient), which replays the session's
// tokens on the CPU and carries on.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "engine/backend.h"

namespace glassbox::engine {

// What the CUDA runtime reports about one device, without loading a model.
struct CudaStatus {
    bool compiled = false;      // this build has the CUDA backend
    bool usable = false;        // a device is present and the driver is new enough
    std::string reason;         // why not usable ("no CUDA device", "driver too old: ...")
    std::string deviceName;
    int computeMajor = 0, computeMinor = 0;
    int driverVersion = 0, runtimeVersion = 0;  // e.g. 13000
    uint64_t totalBytes = 0, freeBytes = 0;
    int deviceCount = 0;
};

// Never fails: a build without CUDA or a machine without a GPU gives
// usable == false and a reason.
CudaStatus probeCuda(int device = 0);

struct BackendChoice {
    std::unique_ptr<Backend> backend;
    Placement placement = Placement::Cpu;  // what actually runs
    int gpuLayers = 0;
    int contextSize = 0;
    std::vector<std::string> notes;        // one line per fallback taken
};

// Creates the backend `options` asks for, falling back as described above.
// Fails only when even the CPU backend cannot be created (its errors).
Result<BackendChoice> createBackend(std::shared_ptr<const Model> model, const BackendOptions& options);

// Wraps a device backend so that a Device or OutOfMemory error from
// forward() switches to a CPU backend built with `cpuOptions`: the tokens
// run so far are replayed there, the failed call is re-run, and the reason
// is kept in deviceInfo().note. Other errors pass through unchanged.
std::unique_ptr<Backend> makeResilient(std::unique_ptr<Backend> device, std::shared_ptr<const Model> model,
                                       const BackendOptions& cpuOptions);

}  // namespace glassbox::engine
