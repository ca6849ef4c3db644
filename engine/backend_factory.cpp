// The placement policy: which backend runs a model, and every fallback from
// the GPU to something that works (see backend_factory.h).
#include "engine/backend_factory.h"

#include <algorithm>
#include <cstdlib>
#include <string_view>

#include "engine/model.h"

namespace glassbox::engine {

namespace {

// GLASSBOX_DEVICE=cpu|gpu turns Auto into that placement.
Placement resolveAuto(Placement p, std::vector<std::string>& notes) {
    if (p != Placement::Auto) return p;
    const char* env = std::getenv("GLASSBOX_DEVICE");
    const std::string_view v = env ? env : "";
    if (v == "cpu") return Placement::Cpu;
    if (v == "gpu") return Placement::Gpu;
    const CudaStatus cuda = probeCuda(0);
    if (cuda.usable) return Placement::Gpu;
    if (cuda.compiled) notes.push_back("running on the CPU: " + cuda.reason);
    return Placement::Cpu;
}

Result<BackendChoice> cpuChoice(const std::shared_ptr<const Model>& model, BackendOptions o,
                                std::vector<std::string> notes) {
    o.placement = Placement::Cpu;
    o.gpuLayers = 0;
    GB_ASSIGN_OR_RETURN(auto backend, createCpuBackend(model, o));
    BackendChoice c;
    c.contextSize = backend->contextSize();
    c.backend = std::move(backend);
    c.placement = Placement::Cpu;
    c.notes = std::move(notes);
    return c;
}

// Tries the GPU, halving the context (not below 512 tokens, nor below what
// was asked when that is smaller) and then the GPU layers while device
// memory runs out.
Result<BackendChoice> tryGpu(const std::shared_ptr<const Model>& model, BackendOptions o,
                             std::vector<std::string>& notes) {
    const int nLayers = model->config().nLayers;
    if (o.placement == Placement::Gpu) o.gpuLayers = nLayers;
    o.gpuLayers = std::clamp(o.gpuLayers, 0, nLayers);
    if (o.contextSize == 0) o.contextSize = std::min(model->config().nCtxTrain, 4096);
    const int minContext = std::min(o.contextSize, 512);
    for (;;) {
        auto r = createCudaBackend(model, o);
        if (r) {
            BackendChoice c;
            c.contextSize = (*r)->contextSize();
            c.placement = o.gpuLayers >= nLayers ? Placement::Gpu : Placement::GpuLayers;
            c.gpuLayers = o.gpuLayers;
            BackendOptions cpu = o;
            cpu.placement = Placement::Cpu;
            c.backend = makeResilient(std::move(*r), model, cpu);
            return c;
        }
        const Error& e = r.error();
        if (e.code != ErrorCode::OutOfMemory) return e;
        if (o.contextSize / 2 >= minContext) {
            notes.push_back("GPU memory ran out for a context of " + std::to_string(o.contextSize) +
                            " tokens; trying " + std::to_string(o.contextSize / 2) + " (" + e.message + ")");
            o.contextSize /= 2;
        } else if (o.gpuLayers > 1) {
            const int fewer = o.gpuLayers / 2;
            notes.push_back("GPU memory ran out with " + std::to_string(o.gpuLayers) + " layers on the GPU; trying " +
                            std::to_string(fewer) + " (" + e.message + ")");
            o.gpuLayers = fewer;
            o.placement = Placement::GpuLayers;
        } else {
            return e;
        }
    }
}

}  // namespace

Result<BackendChoice> createBackend(std::shared_ptr<const Model> model, const BackendOptions& options) {
    if (!model) return makeError(ErrorCode::InvalidArgument, "no model");
    std::vector<std::string> notes;
    BackendOptions o = options;
    o.placement = resolveAuto(options.placement, notes);
    if (o.placement == Placement::Cpu || (o.placement == Placement::GpuLayers && o.gpuLayers <= 0))
        return cpuChoice(model, o, std::move(notes));
    auto gpu = tryGpu(model, o, notes);
    if (gpu) {
        gpu->notes.insert(gpu->notes.begin(), notes.begin(), notes.end());
        return gpu;
    }
    const Error& e = gpu.error();
    if (e.code == ErrorCode::InvalidArgument) return e;
    notes.push_back("the GPU could not be used, running on the CPU: " + e.message);
    return cpuChoice(model, o, std::move(notes));
}

}  // namespace glassbox::engine
