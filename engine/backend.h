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

#include "engine/result.h"
#include "engine/tensor_types.h"

namespace glassbox::engine {

class Model;
class Capture;

enum class KvCacheType { F32, F16 };

struct BackendOptions {
    int contextSize = 0;    // 0: min(training context, 4096)
    int threads = 0;        // 0: all hardware threads
    int microBatch = 256;   // tokens per prefill step (cancellation point)
    KvCacheType kvType = KvCacheType::F16;
};

// Bytes a backend holds, by category (reported to the planner and overlays).
struct BackendMemory {
    uint64_t weights = 0;   // resident weights (mapped or uploaded)
    uint64_t kvCache = 0;
    uint64_t scratch = 0;
};

enum class LogitsMode { LastOnly, All };

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
};

// Errors: OutOfMemory when the KV cache or scratch cannot be allocated,
// InvalidArgument for a bad option.
Result<std::unique_ptr<Backend>> createCpuBackend(std::shared_ptr<const Model> model,
                                                  const BackendOptions& options);

}  // namespace glassbox::engine
