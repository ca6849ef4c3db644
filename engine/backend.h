// The single interface every compute backend implements (CPU today, CUDA
// when present). A backend owns the mutable per-session state of a forward
// pass — KV cache and scratch — for one immutable Model, and runs batches of
// tokens through it. The CPU backend is complete and is the reference all
// other backends are tested against.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <stop_token>
#include <string>
#include <vector>

#include "engine/result.h"
#include "engine/tensor_types.h"

namespace glassbox::engine {

class Model;
class Capture;

enum class KvCacheType { F32, F16 };

// Where the layers run. Auto: the GPU when a usable one is present (the
// environment variable GLASSBOX_DEVICE=cpu|gpu overrides Auto only), else
// the CPU. GpuLayers: the first `gpuLayers` layers on the GPU, the rest,
// the final norm and the output head on the CPU.
enum class Placement { Auto, Cpu, Gpu, GpuLayers };

struct BackendOptions {
    int contextSize = 0;    // 0: min(training context, 4096)
    int threads = 0;        // 0: all hardware threads
    int microBatch = 256;   // tokens per prefill step (cancellation point)
    KvCacheType kvType = KvCacheType::F16;
    Placement placement = Placement::Auto;
    int gpuLayers = 0;      // layers on the GPU with Placement::GpuLayers
    int gpuDevice = 0;      // CUDA device ordinal
};

const char* placementName(Placement p);  // "auto", "cpu", "gpu", "gpu-layers"

// Bytes a backend holds, by category (reported to the planner and overlays).
struct BackendMemory {
    uint64_t weights = 0;   // resident weights (mapped or uploaded)
    uint64_t kvCache = 0;
    uint64_t scratch = 0;
};

enum class LogitsMode { LastOnly, All };

// Time spent in one kind of op during the last forward() call, summed over
// layers ("rmsnorm", "matvec", "attention", ...). Device backends time ops
// with device events, the CPU backend with the host clock.
struct OpTiming {
    std::string op;
    double ms = 0.0;
    int calls = 0;
};

// The last forward() call, when profiling is on.
struct StepProfile {
    int tokens = 0;          // tokens in that call (1 for a decode step)
    double totalMs = 0.0;    // wall time of the call
    bool deviceTimed = false;
    std::vector<OpTiming> ops;
};

// What a backend runs on and how its layers are placed.
struct DeviceInfo {
    std::string kind = "CPU";   // "CPU" or "CUDA"
    std::string name;           // e.g. "NVIDIA H100 80GB HBM3" or the CPU model
    uint64_t totalBytes = 0;    // device memory (RAM for the CPU)
    uint64_t freeBytes = 0;
    int gpuLayers = 0;          // layers resident on the GPU
    int totalLayers = 0;
    BackendMemory deviceMemory; // bytes held on the GPU, by category
    std::string note;           // why this placement was chosen (fallbacks)
};

class Backend {
public:
    virtual ~Backend() = default;
    virtual std::string name() const = 0;
    virtual int contextSize() const = 0;
    virtual int threads() const = 0;
    virtual BackendMemory memory() const = 0;

    // Run tokens at positions [startPos, startPos + tokens.size()), attending to
    // the cache entries before startPos (later entries are overwritten). Writes
    // logits for the last token, or for every token, into `logits`
    // (tokens.size() or 1 rows of n_vocab floats).
    // Errors: ContextFull, InvalidArgument (token id out of range), Cancelled.
    virtual Status forward(std::span<const int32_t> tokens, int startPos, LogitsMode mode,
                           std::span<float> logits, std::stop_token stop) = 0;

    // Attach a capture that later forward() calls record into, or detach it
    // with nullptr. With none attached, forward() records nothing.
    virtual void setCapture(Capture* capture) = 0;

    // The final norm and output head applied to `rows` vectors of hidden
    // state (n_embd floats each), with the same code that produces forward()'s
    // logits; writes rows × n_vocab floats. Used by the logit lens.
    // Errors: InvalidArgument (sizes), Cancelled.
    virtual Status logitsFromHidden(std::span<const float> hidden, int rows, std::span<float> logits,
                                    std::stop_token stop) = 0;

    // Per-op timing of each forward() call (off by default; costs a clock
    // read per op on the CPU, an event pair per op on a GPU).
    virtual void setProfiling(bool on) = 0;
    virtual StepProfile lastStepProfile() const = 0;
    virtual DeviceInfo deviceInfo() const = 0;
};

// The checks every backend's forward() makes before running anything: a
// non-empty batch inside the context, token ids inside the vocabulary, a
// logits buffer large enough for `mode`. Errors: InvalidArgument, ContextFull.
Status checkForwardArgs(std::span<const int32_t> tokens, int startPos, int contextSize, int nVocab, LogitsMode mode,
                        size_t logitsSize);

// Errors: OutOfMemory when the KV cache or scratch cannot be allocated,
// InvalidArgument for a bad option.
Result<std::unique_ptr<Backend>> createCpuBackend(std::shared_ptr<const Model> model,
                                                  const BackendOptions& options);

// The CUDA backend (Placement::Gpu or GpuLayers; see engine/backend_factory.h
// for the fallback policy). Errors: Device (no usable GPU, driver too old,
// built without CUDA, a CUDA or cuBLAS failure), OutOfMemory (device or
// pinned memory, naming the category and bytes), Unsupported (a weight type
// the CUDA kernels lack), InvalidArgument.
Result<std::unique_ptr<Backend>> createCudaBackend(std::shared_ptr<const Model> model,
                                                   const BackendOptions& options);

}  // namespace glassbox::engine
