// Random-weight GGUF models: the tensor plan of a Llama-family shape, and
// the fill callbacks that generate each tensor in row chunks on a thread
// pool (one seeded generator per chunk, so the bytes do not depend on the
// thread count) and quantize it with the engine's own quantizers while the
// GGUF writer streams the file.
#include "engine/random_model.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <new>
#include <thread>
#include <vector>

#include "engine/gguf_writer.h"
#include "engine/model_shapes.h"
#include "engine/quant_error.h"
#include "engine/rng.h"
#include "kernels/cpu/quant_kernels.h"
#include "kernels/cpu/thread_pool.h"

namespace glassbox::engine {
namespace {

// Elements generated per chunk: one generator seed each, a unit of work for
// the pool. Fixed, so the output does not depend on the thread count.
constexpr int64_t kChunkElements = int64_t(1) << 16;

enum class Fill { Matrix, Norm, Bias };

struct TensorPlan {
    std::string name;
    TensorType type = TensorType::F32;
    int64_t cols = 0, rows = 1;  // ne[0], ne[1]
    Fill fill = Fill::Matrix;
    uint64_t index = 0;          // position in the file, part of the seed
};

// State shared by the fill callbacks of one writeRandomModel call.
struct Generation {
    const RandomModelOptions* options = nullptr;
    kernels::ThreadPool* pool = nullptr;
    std::stop_token stop;
    const RandomModelProgress* progress = nullptr;
    uint64_t totalElements = 0;
    uint64_t doneElements = 0;
    uint64_t bytesDone = 0;
};

std::vector<TensorPlan> planTensors(const ModelConfig& s, TensorType weightType) {
    std::vector<TensorPlan> plans;
    auto matrix = [&](std::string name, int64_t cols, int64_t rows) {
        plans.push_back({std::move(name), quantFallbackType(weightType, cols), cols, rows, Fill::Matrix, 0});
    };
    auto vector = [&](std::string name, int64_t n, Fill fill) {
        plans.push_back({std::move(name), TensorType::F32, n, 1, fill, 0});
    };
    const int64_t embd = s.nEmbd, q = s.qDim(), kv = s.kvDim(), ff = s.nFf;
    matrix("token_embd.weight", embd, s.nVocab);
    vector("output_norm.weight", embd, Fill::Norm);
    if (!s.tiedEmbeddings) matrix("output.weight", embd, s.nVocab);
    for (int i = 0; i < s.nLayers; ++i) {
        const std::string p = "blk." + std::to_string(i) + ".";
        vector(p + "attn_norm.weight", embd, Fill::Norm);
        matrix(p + "attn_q.weight", embd, q);
        matrix(p + "attn_k.weight", embd, kv);
        matrix(p + "attn_v.weight", embd, kv);
        if (s.qkvBias) {
            vector(p + "attn_q.bias", q, Fill::Bias);
            vector(p + "attn_k.bias", kv, Fill::Bias);
            vector(p + "attn_v.bias", kv, Fill::Bias);
        }
        matrix(p + "attn_output.weight", q, embd);
        vector(p + "ffn_norm.weight", embd, Fill::Norm);
        matrix(p + "ffn_gate.weight", embd, ff);
        matrix(p + "ffn_up.weight", embd, ff);
        matrix(p + "ffn_down.weight", ff, embd);
    }
    for (size_t i = 0; i < plans.size(); ++i) plans[i].index = i;
    return plans;
}

uint64_t chunkSeed(uint64_t seed, uint64_t tensor, uint64_t chunk) {
    uint64_t s = seed ^ (tensor * 0x9E3779B97F4A7C15ull);
    uint64_t t = Rng::splitMix64(s) ^ (chunk * 0xD1B54A32D192ED03ull);
    return Rng::splitMix64(t);
}

// mean + stddev × z, z approximately standard normal: the sum of four
// 16-bit uniforms (mean 4 × 32767.5, variance 4 × 65536² / 12), one
// generator draw per value.
void randomValues(Rng& rng, float* out, int64_t n, float mean, float stddev) {
    const float scale = stddev * std::sqrt(3.0f) / 65536.0f;
    for (int64_t i = 0; i < n; ++i) {
        const uint64_t r = rng.nextU64();
        const uint32_t sum = uint32_t(r & 0xFFFF) + uint32_t((r >> 16) & 0xFFFF) + uint32_t((r >> 32) & 0xFFFF) +
                             uint32_t(r >> 48);
        out[i] = mean + (float(sum) - 131070.0f) * scale;
    }
}

// Generates and quantizes the rows of one tensor into `out`.
Status fillTensor(const TensorPlan& t, std::span<uint8_t> out, Generation& g) {
    const RandomModelOptions& o = *g.options;
    const float mean = t.fill == Fill::Norm ? 1.0f : 0.0f;
    const float stddev = t.fill == Fill::Norm ? o.normStd : o.weightStd;
    const uint64_t outRow = *rowBytes(t.type, uint64_t(t.cols));
    const int64_t step = std::max<int64_t>(1, kChunkElements / t.cols);
    const int64_t chunks = (t.rows + step - 1) / step;
    std::vector<std::vector<float>> scratch;
    try {
        scratch.assign(size_t(g.pool->size()), std::vector<float>(size_t(step * t.cols)));
    } catch (const std::bad_alloc&) {
        return makeError(ErrorCode::OutOfMemory, "cannot allocate generation scratch", t.name);
    }
    std::atomic<int64_t> next{0};
    std::atomic<bool> cancelled{false};
    g.pool->runIndependent([&](int slot, int) {
        float* buf = scratch[size_t(slot)].data();
        for (int64_t c; (c = next.fetch_add(1)) < chunks;) {
            if (cancelled.load(std::memory_order_relaxed) || g.stop.stop_requested()) {
                cancelled = true;
                return;
            }
            Rng rng(chunkSeed(o.seed, t.index, uint64_t(c)));
            const int64_t r0 = c * step, r1 = std::min(t.rows, r0 + step);
            randomValues(rng, buf, (r1 - r0) * t.cols, mean, stddev);
            for (int64_t r = r0; r < r1; ++r)
                kernels::quantizeRow(t.type, buf + (r - r0) * t.cols, out.data() + uint64_t(r) * outRow, t.cols);
        }
    });
    if (cancelled || g.stop.stop_requested()) return makeError(ErrorCode::Cancelled, "model generation cancelled");
    g.doneElements += uint64_t(t.cols * t.rows);
    g.bytesDone += out.size();
    if (*g.progress && g.totalElements > 0)
        (*g.progress)(double(g.doneElements) / double(g.totalElements), t.name, g.bytesDone);
    return {};
}

// Metadata and tensors of the model; the fills use `g` (null: sizing only).
Status describe(GgufWriter& w, const ModelConfig& shape, const RandomModelOptions& o, Generation* g) {
    if (!isRequantizableType(o.weightType))
        return makeError(ErrorCode::InvalidArgument,
                         "cannot write weights of type " + std::string(tensorTypeName(o.weightType)), "type");
    GB_TRY(setShapeMetadata(w, shape, o.name.empty() ? "random " + shape.architecture : o.name));
    w.set("general.file_type", llamaFileType(o.weightType));
    if (traitsOf(o.weightType).quantized) w.set("general.quantization_version", uint32_t(2));
    GB_TRY(setByteLevelVocab(w, shape.nVocab));
    for (TensorPlan& t : planTensors(shape, o.weightType)) {
        std::vector<int64_t> ne = {t.cols};
        if (t.fill == Fill::Matrix) ne.push_back(t.rows);
        if (g) g->totalElements += uint64_t(t.cols * t.rows);
        GB_TRY(w.addTensorLazy(t.name, t.type, std::move(ne), [t, g](std::span<uint8_t> out) -> Status {
            if (!g) return makeError(ErrorCode::InvalidArgument, "sizing only", t.name);
            return fillTensor(t, out, *g);
        }));
    }
    return {};
}

}  // namespace

Result<uint64_t> randomModelFileBytes(const ModelConfig& shape, const RandomModelOptions& options) {
    GgufWriter w;
    GB_TRY(describe(w, shape, options, nullptr));
    return w.fileSize();
}

Status writeRandomModel(const std::string& path, const ModelConfig& shape, const RandomModelOptions& options,
                        std::stop_token stop, const RandomModelProgress& progress) {
    const int threads = options.threads > 0 ? options.threads : int(std::max(1u, std::thread::hardware_concurrency()));
    kernels::ThreadPool pool(threads);
    Generation g{&options, &pool, stop, &progress, 0, 0, 0};
    GgufWriter w;
    GB_TRY(describe(w, shape, options, &g));
    return w.writeFile(path);
}

}  // namespace glassbox::engine
