// The quantization type policy (the lab's types, llama.cpp's fallback for
// rows that do not fit a type's blocks) and re-quantizing a GGUF model into
// a new GGUF file, both declared in quant_error.h. The source file is mapped
// again so its metadata (tokenizer included) can be copied value for value;
// general.file_type is set for the target. 2-D weights are converted inside
// the writer's fill callbacks, row chunk by row chunk on a thread pool, so
// only the output tensor being written is in memory. A tensor already of its
// planned type is copied byte for byte, as llama.cpp does.
#include <algorithm>
#include <atomic>
#include <filesystem>
#include <thread>

#include "engine/gguf_file.h"
#include "engine/gguf_writer.h"
#include "engine/mapped_file.h"
#include "engine/model.h"
#include "engine/quant_error.h"
#include "kernels/cpu/quant_kernels.h"
#include "kernels/cpu/thread_pool.h"

namespace glassbox::engine {
namespace {

constexpr int64_t kChunkElements = int64_t(1) << 17;

// State shared by the fill callbacks of one requantizeModel call.
struct Conversion {
    kernels::ThreadPool* pool = nullptr;
    std::stop_token stop;
    const QuantProgress* progress = nullptr;
    int64_t totalElements = 0;
    int64_t doneElements = 0;
};

// Converts the rows of `src` into `to` blocks written to `out`.
Status convertTensor(const TensorView& src, TensorType to, std::span<uint8_t> out, Conversion& conv) {
    const int64_t cols = src.ne[0], rows = src.rows();
    const uint64_t outRow = *rowBytes(to, uint64_t(cols));
    const uint64_t inRow = src.rowStride();
    const int64_t step = std::max<int64_t>(1, kChunkElements / std::max<int64_t>(1, cols));
    std::vector<std::vector<float>> scratch;
    try {
        scratch.assign(size_t(conv.pool->size()), std::vector<float>(size_t(step * cols)));
    } catch (const std::bad_alloc&) {
        return makeError(ErrorCode::OutOfMemory, "cannot allocate conversion scratch", src.name);
    }
    std::atomic<int64_t> next{0};
    std::atomic<bool> cancelled{false};
    conv.pool->runIndependent([&](int slot, int) {
        float* buf = scratch[size_t(slot)].data();
        for (int64_t r0; (r0 = next.fetch_add(step)) < rows;) {
            if (cancelled.load(std::memory_order_relaxed) || conv.stop.stop_requested()) {
                cancelled = true;
                return;
            }
            for (int64_t r = r0; r < std::min(rows, r0 + step); ++r) {
                float* row = buf + (r - r0) * cols;
                kernels::dequantizeRow(src.type, src.data + uint64_t(r) * inRow, row, cols);
                kernels::quantizeRow(to, row, out.data() + uint64_t(r) * outRow, cols);
            }
        }
    });
    if (cancelled || conv.stop.stop_requested()) return makeError(ErrorCode::Cancelled, "re-quantization cancelled");
    conv.doneElements += cols * rows;
    if (*conv.progress && conv.totalElements > 0)
        (*conv.progress)(float(double(conv.doneElements) / double(conv.totalElements)), src.name);
    return {};
}

// Adds one tensor of the source file to the writer, converted or copied.
Status addTensor(GgufWriter& w, const GgufFile& gguf, const GgufTensorInfo& info, const RequantizedTensor& plan,
                 Conversion& conv) {
    const TensorView view = gguf.view(info);
    std::vector<int64_t> ne(info.ne.begin(), info.ne.begin() + info.nDims);
    if (!view.data && info.bytes > 0)
        return makeError(ErrorCode::Malformed, "tensor data lies outside the file", info.name);
    if (plan.to == info.type) return w.addTensor(info.name, info.type, std::move(ne), {view.data, view.bytes});
    if (!kernels::isSupportedWeightType(info.type))
        return makeError(ErrorCode::Unsupported,
                         "cannot dequantize " + std::string(tensorTypeName(info.type)) + " to re-quantize it",
                         info.name);
    const TensorType to = plan.to;
    return w.addTensorLazy(info.name, to, std::move(ne),
                           [view, to, &conv](std::span<uint8_t> out) { return convertTensor(view, to, out, conv); });
}

}  // namespace

uint32_t llamaFileType(TensorType type) {
    switch (type) {
    case TensorType::F32: return 0;
    case TensorType::F16: return 1;
    case TensorType::Q4_0: return 2;
    case TensorType::Q4_1: return 3;
    case TensorType::Q8_0: return 7;
    case TensorType::Q5_0: return 8;
    case TensorType::Q5_1: return 9;
    case TensorType::Q4_K: return 14;
    case TensorType::Q5_K: return 16;
    case TensorType::Q6_K: return 18;
    case TensorType::BF16: return 32;
    default: return 0;
    }
}

std::span<const TensorType> quantLabTypes() {
    static constexpr TensorType kTypes[] = {TensorType::Q8_0, TensorType::Q4_0, TensorType::Q4_1, TensorType::Q5_0,
                                            TensorType::Q5_1, TensorType::Q4_K, TensorType::Q5_K, TensorType::Q6_K};
    return kTypes;
}

bool isRequantizableType(TensorType type) {
    const auto lab = quantLabTypes();
    return std::find(lab.begin(), lab.end(), type) != lab.end() || type == TensorType::F32 ||
           type == TensorType::F16 || type == TensorType::BF16;
}

TensorType quantFallbackType(TensorType target, int64_t rowWidth) {
    if (rowWidth > 0 && rowWidth % int64_t(traitsOf(target).blockSize) == 0) return target;
    TensorType fallback = TensorType::F16;
    switch (target) {
    case TensorType::Q4_K: fallback = TensorType::Q5_0; break;
    case TensorType::Q5_K: fallback = TensorType::Q5_1; break;
    case TensorType::Q6_K: fallback = TensorType::Q8_0; break;
    default: break;
    }
    if (rowWidth > 0 && rowWidth % int64_t(traitsOf(fallback).blockSize) == 0) return fallback;
    return TensorType::F16;
}

Result<std::vector<RequantizedTensor>> planRequantize(const Model& src, TensorType target) {
    if (!isRequantizableType(target))
        return makeError(ErrorCode::InvalidArgument, "cannot re-quantize to " + std::string(tensorTypeName(target)),
                         "target");
    if (src.format() != ModelFormat::Gguf)
        return makeError(ErrorCode::Unsupported, "re-quantizing needs a GGUF source model", src.path());
    std::vector<RequantizedTensor> plan;
    for (const TensorSummary& t : src.tensorTable()) {
        const auto from = tensorTypeFromName(t.type);
        if (!from) return makeError(ErrorCode::Unsupported, "unknown tensor type " + t.type, t.name);
        RequantizedTensor r{t.name, *from, *from, t.shape, false};
        if (t.shape.size() == 2) {
            r.to = quantFallbackType(target, t.shape[0]);
            r.fallback = r.to != target;
        }
        plan.push_back(std::move(r));
    }
    return plan;
}

Status requantizeModel(const Model& src, TensorType target, const std::string& outPath, std::stop_token stop,
                       const QuantProgress& progress, int threads) {
    GB_ASSIGN_OR_RETURN(std::vector<RequantizedTensor> plan, planRequantize(src, target));
    if (outPath.empty()) return makeError(ErrorCode::InvalidArgument, "no output path given", "outPath");
    std::error_code ec;
    if (std::filesystem::equivalent(outPath, src.path(), ec))
        return makeError(ErrorCode::InvalidArgument, "the output would overwrite the source model", outPath);
    GB_ASSIGN_OR_RETURN(MappedFile file, MappedFile::open(src.path()));
    GB_ASSIGN_OR_RETURN(GgufFile gguf, GgufFile::parse(file.bytes()));
    if (gguf.tensors().size() != plan.size())
        return makeError(ErrorCode::Malformed, "the source file changed since the model was loaded", src.path());
    GgufWriter w;
    for (const auto& [key, value] : gguf.metadata()) w.set(key, value);
    w.set("general.file_type", llamaFileType(target));
    if (traitsOf(target).quantized) w.set("general.quantization_version", uint32_t(2));
    if (threads <= 0) threads = int(std::max(1u, std::thread::hardware_concurrency()));
    kernels::ThreadPool pool(threads);
    Conversion conv{&pool, stop, &progress, 0, 0};
    for (const RequantizedTensor& r : plan)
        if (r.to != r.from) {
            int64_t n = 1;
            for (int64_t d : r.shape) n *= d;
            conv.totalElements += n;
        }
    for (size_t i = 0; i < plan.size(); ++i) {
        const GgufTensorInfo& info = gguf.tensors()[i];
        if (info.name != plan[i].name)
            return makeError(ErrorCode::Malformed, "the source file changed since the model was loaded", info.name);
        GB_TRY(addTensor(w, gguf, info, plan[i], conv));
    }
    if (stop.stop_requested()) return makeError(ErrorCode::Cancelled, "re-quantization cancelled");
    GB_TRY(w.writeFile(outPath));
    if (progress) progress(1.0f, {});
    return {};
}

}  // namespace glassbox::engine
