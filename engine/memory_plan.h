// The memory budget planner: "will this model fit, and at what context?"
// answered from metadata alone (a GGUF header, safetensors headers plus
// config.json, or a bare config.json with an assumed weight type), never by
// reading weights. It predicts what the CPU backend and a Session really
// allocate: weights; the KV cache (2 × layers × KV heads × head dim × bytes
// per element, per token); the micro-batch activations, per-thread score
// rows, RoPE tables and the matmul activation-quantization scratch; and the
// Session's logits row. Sequences are independent Sessions sharing one copy
// of the weights. Everything here is plain values; nothing allocates
// model-sized memory.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/model_config.h"
#include "engine/result.h"
#include "engine/tensor_types.h"

namespace glassbox::engine {

class Model;

// One row of the weight table: all tensors of one storage type.
struct WeightTypeRow {
    std::string type;       // "Q4_1", "F32", "BF16", ...
    int tensors = 0;        // how many tensors have this type
    uint64_t elements = 0;  // their elements, summed
    uint64_t bytes = 0;     // their bytes, summed
};

// The matrix types one layer's forward pass multiplies with; they decide
// how big the activation-quantization scratch grows.
struct LayerMatmulTypes {
    TensorType q = TensorType::F32, k = TensorType::F32, v = TensorType::F32, o = TensorType::F32;
    TensorType gate = TensorType::F32, up = TensorType::F32, down = TensorType::F32;
};

// What the planner knows about a model: its shape and its weights.
struct ModelFootprint {
    ModelConfig config;
    std::string source;             // "GGUF", "safetensors", "config.json", "loaded model"
    bool weightsEstimated = false;  // true: weights derived from the shapes, not read from headers
    std::vector<WeightTypeRow> weights;  // sorted by bytes, largest first
    uint64_t weightBytes = 0;            // sum of weights[].bytes
    int weightTensors = 0;               // sum of weights[].tensors
    std::vector<LayerMatmulTypes> layers;     // one per layer
    TensorType outputType = TensorType::F32;  // the output head's matrix type
};

// A GGUF file: header and tensor infos only (the file is mapped; no tensor
// page is touched). Errors: Io, the errors of GgufFile::parse and
// configFromGguf, NotFound naming a missing layer tensor.
Result<ModelFootprint> footprintFromGguf(const std::string& path);
// A safetensors checkpoint: a .safetensors file or a directory, with
// config.json beside it (sharded through model.safetensors.index.json).
// Errors: Io, NotFound (config.json or a tensor, named), the errors of
// readHfConfigFile, configFromHf, SafetensorsFile::parse and the index parser.
Result<ModelFootprint> footprintFromSafetensors(const std::string& path);
// A bare config.json: weights estimated from the Llama-family tensor shapes,
// matrices in `weightType` (default: the config's torch_dtype, else F16),
// 1-D tensors (norms, biases) in F32 as GGUF files store them.
// Errors: those of readHfConfigFile (NotFound / Malformed naming the field,
// e.g. "$.hidden_size") and configFromHf; InvalidArgument when a row length
// is not a multiple of the weight type's block size (tensor named).
Result<ModelFootprint> footprintFromConfigJson(const std::string& path,
                                               std::optional<TensorType> weightType = std::nullopt);
// The same estimate from a ModelConfig already in hand. Errors: the
// InvalidArgument above, and Malformed when the config does not validate.
Result<ModelFootprint> footprintFromConfig(const ModelConfig& config, TensorType weightType);
// A model already loaded (its tensor table and bound layer types).
ModelFootprint footprintFromModel(const Model& model);
// By path, as Model::load decides: a directory or *.safetensors is a
// checkpoint, *.json a bare config (weights in `weightType`), else GGUF.
Result<ModelFootprint> footprintFromPath(const std::string& path,
                                         std::optional<TensorType> weightType = std::nullopt);

// KV storage types the planner can price: F32, F16, Q8_0 (34 bytes per 32
// values), Q4_0 (18 bytes per 32). The CPU backend itself stores F32 or F16.
bool isPlannableKvType(TensorType type);
// Bytes of K and V for one token of one sequence, all layers, with
// `nKvHeads` KV heads (0: the config's). Errors: InvalidArgument for a type
// isPlannableKvType() refuses ("kv_type") or a head size that is not a
// multiple of the block size ("head_dim").
Result<uint64_t> kvBytesPerToken(const ModelConfig& config, TensorType kvType, int nKvHeads = 0);
// "2 × 32 layers × 32 KV heads × 128 dims × 1,000 tokens × 2 bytes =
// 524,288,000 bytes (524.3 MB)"; "× N sequences" is added when N > 1.
std::string kvFormula(const ModelConfig& config, TensorType kvType, int64_t tokens, int sequences = 1);

struct PlanOptions {
    int contextSize = 0;    // tokens per sequence; 0: min(training context, 4096), as the backend
    int sequences = 1;      // concurrent Sessions sharing the weights
    int microBatch = 256;   // prefill rows per step (BackendOptions::microBatch)
    int threads = 0;        // 0: all hardware threads, as the backend
    TensorType kvType = TensorType::F16;
    uint64_t budgetBytes = 0;    // 0: no budget, no fit figures
    double safetyMargin = 0.10;  // fraction of the budget kept free
};

// Per-sequence working memory beyond the KV cache, by buffer.
struct ScratchBreakdown {
    uint64_t activations = 0;    // x, h, q, k, v, attn, o, gate, up: microBatch rows each
    uint64_t scores = 0;         // threads × context × 2 floats
    uint64_t rope = 0;           // cos and sin: microBatch × rope_dims / 2 floats each
    uint64_t matmulScratch = 0;  // quantized activations of single products (capacity reached)
    uint64_t fusedScratch = 0;   // quantized activations shared by q/k/v and gate/up
    uint64_t logits = 0;         // the Session's n_vocab floats
    uint64_t total() const { return activations + scores + rope + matmulScratch + fusedScratch + logits; }
};

// The same model with a different number of KV heads.
struct AttentionVariant {
    std::string name;  // "MHA", "GQA" or "MQA"
    int nKvHeads = 0;
    uint64_t kvBytesPerToken = 0;  // one sequence, all layers
    uint64_t kvBytes = 0;          // context × sequences
    bool actual = false;           // the model's own layout
};

// How the plan sits in a budget.
struct BudgetFit {
    uint64_t budgetBytes = 0;
    uint64_t usableBytes = 0;   // budget × (1 − safety margin)
    bool fits = false;          // totalBytes <= usableBytes
    int maxContext = 0;         // largest context for options.sequences (0: none fits)
    int64_t maxSequences = 0;   // largest sequence count at options.contextSize
};

struct MemoryPlan {
    PlanOptions options;    // as resolved: context and threads filled in
    uint64_t weightBytes = 0;
    uint64_t kvBytesPerToken = 0;     // one sequence
    uint64_t kvBytesPerSequence = 0;  // × context
    uint64_t kvBytesTotal = 0;        // × sequences
    ScratchBreakdown scratch;         // one sequence
    uint64_t perSequenceBytes = 0;    // KV + scratch, one sequence
    uint64_t totalBytes = 0;          // weights + sequences × perSequenceBytes
    std::vector<AttentionVariant> attention;  // MHA, GQA (when distinct), MQA
    std::string kvFormula;                    // for one sequence at the context
    std::optional<BudgetFit> fit;             // when options.budgetBytes > 0
};

inline constexpr int kPlanMaxContext = 1 << 20;  // the backend's limit
inline constexpr int kPlanMaxThreads = 256;      // the backend's limit

// Errors: InvalidArgument naming the option ("context", "sequences",
// "micro_batch", "threads", "kv_type", "safety_margin") or "head_dim" (see
// kvBytesPerToken).
Result<MemoryPlan> planMemory(const ModelFootprint& model, const PlanOptions& options);

// The scratch the backend holds for one sequence (options resolved as above).
ScratchBreakdown planScratch(const ModelFootprint& model, const PlanOptions& options);

// "8GB", "512 MB", "8GiB", "8G", "1.5e9": decimal kB/MB/GB/TB, binary
// KiB/MiB/GiB/TiB and K/M/G/T. Errors: InvalidArgument ("budget").
Result<uint64_t> parseByteSize(std::string_view text);
// "524,288,000"
std::string formatThousands(uint64_t value);
// Decimal units with one decimal: "524.3 MB", "7.0 GB", "812 B".
std::string formatBytes(uint64_t bytes);

// Memory of one accelerator.
struct DeviceMemory {
    std::string name;
    uint64_t totalBytes = 0;
    uint64_t freeBytes = 0;
};

struct SystemMemory {
    uint64_t totalRam = 0;
    uint64_t availableRam = 0;  // what new allocations can use without swapping
    std::string source;         // "/proc/meminfo", "sysconf", "GlobalMemoryStatusEx" or "unknown"
    // CUDA free/total memory: not queried by this build; stays empty until a
    // CUDA backend fills it.
    std::optional<DeviceMemory> cuda;
};

// Never fails: unknown figures stay 0 with source "unknown".
SystemMemory querySystemMemory();
// The MemTotal / MemAvailable lines of /proc/meminfo text (values in kB).
// Errors: NotFound naming the missing key, Malformed naming a bad value.
Result<SystemMemory> parseMeminfo(std::string_view text);

// Common accelerators for "what if" questions, by nominal capacity
// (n × 2^30 bytes; what a driver leaves usable is a little less).
struct GpuPreset {
    std::string name;  // "RTX 4060 8 GB", ..., "H200 141 GB"
    uint64_t bytes = 0;
};
const std::vector<GpuPreset>& commonGpus();

}  // namespace glassbox::engine
