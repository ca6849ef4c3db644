// The memory planner's arithmetic: KV bytes per token, the CPU backend's
// scratch (mirroring CpuBackend::allocate() and the growth of the matmul
// activation buffers in kernels/cpu/matmul.cpp), totals for N sequences,
// the largest context and sequence count inside a budget, the teaching
// formula, byte-size parsing and formatting. All sums saturate at
// UINT64_MAX instead of wrapping, so absurd requests simply do not fit.
#include "engine/memory_plan.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <iterator>
#include <thread>

#include "engine/checked_math.h"
#include "kernels/cpu/matmul.h"
#include "kernels/cpu/quant_kernels.h"

namespace glassbox::engine {
namespace {

constexpr uint64_t kSaturated = ~uint64_t(0);
constexpr int kMaxSequences = 1 << 20;
constexpr int kMaxMicroBatch = 4096;  // the backend's limit
// Quantized activations up to this size are made on the stack by each
// thread instead of in the shared scratch (kLocalActivationBytes in
// kernels/cpu/matmul.cpp).
constexpr uint64_t kLocalActivationBytes = 16 * 1024;

uint64_t satMul(uint64_t a, uint64_t b) { return checkedMul(a, b).value_or(kSaturated); }
uint64_t satAdd(uint64_t a, uint64_t b) { return checkedAdd(a, b).value_or(kSaturated); }

int resolveThreads(int threads) {
    const int t = threads > 0 ? threads : int(std::max(1u, std::thread::hardware_concurrency()));
    return std::min(t, kPlanMaxThreads);
}

int resolveContext(const ModelConfig& c, int context) {
    return context > 0 ? context : std::min(c.nCtxTrain, 4096);
}

// A std::vector<uint8_t> that only ever grows through resize(): a larger
// size reallocates to max(2 × size, new size) (libstdc++; libc++ doubles the
// capacity, MSVC grows it by half). The capacity is what the allocator hands out.
struct GrowOnlyBuffer {
    uint64_t size = 0;
    uint64_t capacity = 0;
    void resize(uint64_t n) {
        if (n <= size) return;
#if defined(_LIBCPP_VERSION)
        if (n > capacity) capacity = std::max(2 * capacity, n);
#elif defined(_MSC_VER)
        if (n > capacity) capacity = std::max(capacity + capacity / 2, n);
#else
        if (n > capacity) capacity = std::max(2 * size, n);
#endif
        size = n;
    }
};

// Bytes of one row of k activations as the matmul kernels prepare them for
// `type` (m = 0 asks for the stride without quantizing or allocating).
uint64_t activationStride(TensorType type, int64_t k) {  // the stride does not depend on F16 rounding
    std::vector<uint8_t> none;
    return kernels::quantizeActivations(type, nullptr, 0, k, none);
}

// kernels::matmul(): quantized weights need the activations in the shared
// scratch (F16 weights, with an F16 cache, a copy rounded to F16) unless
// several threads can each make them on their stack.
void singleProduct(GrowOnlyBuffer& scratch, TensorType type, int64_t k, int64_t rows, int threads, bool roundF16) {
    if (!kernels::isSupportedWeightType(type)) return;
    if (!traitsOf(type).quantized && !(type == TensorType::F16 && roundF16)) return;
    const uint64_t need = activationStride(type, k) * uint64_t(rows);
    if (threads > 1 && need <= kLocalActivationBytes) return;
    scratch.resize(need);
}

// CpuBackend::fusedMatmul(): matrices of one type share one quantization
// into the fused scratch (even float types get a copy); otherwise, or with
// one thread, each is a single product.
void fusedProduct(GrowOnlyBuffer& scratch, GrowOnlyBuffer& fused, std::initializer_list<TensorType> types,
                  int64_t k, int64_t rows, int threads, bool roundF16) {
    const TensorType first = *types.begin();
    const bool same = std::all_of(types.begin(), types.end(), [&](TensorType t) { return t == first; });
    if (!same || threads == 1) {
        for (TensorType t : types) singleProduct(scratch, t, k, rows, threads, roundF16);
        return;
    }
    fused.resize(activationStride(first, k) * uint64_t(rows));
}

std::string bytesPerElementText(TensorType kvType) {
    switch (kvType) {
    case TensorType::F32: return "4 bytes";
    case TensorType::F16: return "2 bytes";
    case TensorType::Q8_0: return "1.0625 bytes";
    case TensorType::Q4_0: return "0.5625 bytes";
    default: return "? bytes";
    }
}

Error badOption(const char* field, const std::string& why) {
    return makeError(ErrorCode::InvalidArgument, why, field);
}

Status checkOptions(const PlanOptions& o, int context) {
    if (o.contextSize < 0 || context <= 0 || context > kPlanMaxContext)
        return badOption("context", "context must be in [1, " + std::to_string(kPlanMaxContext) + "] tokens");
    if (o.sequences < 1 || o.sequences > kMaxSequences)
        return badOption("sequences", "sequences must be in [1, " + std::to_string(kMaxSequences) + "]");
    if (o.microBatch < 1 || o.microBatch > kMaxMicroBatch)
        return badOption("micro_batch", "micro-batch must be in [1, " + std::to_string(kMaxMicroBatch) + "]");
    if (o.threads < 0) return badOption("threads", "threads must not be negative");
    if (!(o.safetyMargin >= 0.0 && o.safetyMargin < 1.0))
        return badOption("safety_margin", "safety margin must be in [0, 1)");
    if (!isPlannableKvType(o.kvType))
        return badOption("kv_type", "KV type " + std::string(tensorTypeName(o.kvType)) +
                                        " cannot be planned (F32, F16, Q8_0 or Q4_0)");
    return {};
}

// KV + scratch for one sequence at `context` tokens.
uint64_t perSequenceBytes(const ModelFootprint& m, const PlanOptions& o, uint64_t kvPerToken, int context) {
    PlanOptions at = o;
    at.contextSize = context;
    return satAdd(satMul(kvPerToken, uint64_t(context)), planScratch(m, at).total());
}

uint64_t totalFor(const ModelFootprint& m, uint64_t perSequence, int64_t sequences) {
    return satAdd(m.weightBytes, satMul(perSequence, uint64_t(sequences)));
}

BudgetFit fitBudget(const ModelFootprint& m, const MemoryPlan& plan) {
    const PlanOptions& o = plan.options;
    BudgetFit fit;
    fit.budgetBytes = o.budgetBytes;
    fit.usableBytes = uint64_t(std::floor(double(o.budgetBytes) * (1.0 - o.safetyMargin)));
    fit.fits = plan.totalBytes <= fit.usableBytes;
    if (fit.usableBytes > m.weightBytes)
        fit.maxSequences = int64_t(std::min<uint64_t>((fit.usableBytes - m.weightBytes) / std::max<uint64_t>(plan.perSequenceBytes, 1),
                                                      uint64_t(INT64_MAX)));
    auto fitsAt = [&](int context) {
        return totalFor(m, perSequenceBytes(m, o, plan.kvBytesPerToken, context), o.sequences) <= fit.usableBytes;
    };
    if (!fitsAt(1)) return fit;
    int lo = 1, hi = kPlanMaxContext;  // fitsAt(lo) holds
    while (lo < hi) {
        const int mid = lo + (hi - lo + 1) / 2;
        if (fitsAt(mid)) lo = mid;
        else hi = mid - 1;
    }
    fit.maxContext = lo;
    return fit;
}

std::vector<AttentionVariant> attentionVariants(const ModelConfig& c, TensorType kvType, int context,
                                                int sequences) {
    std::vector<AttentionVariant> out;
    auto add = [&](const char* name, int heads) {
        AttentionVariant v;
        v.name = name;
        v.nKvHeads = heads;
        const auto perToken = kvBytesPerToken(c, kvType, heads);
        v.kvBytesPerToken = perToken ? *perToken : 0;
        v.kvBytes = satMul(satMul(v.kvBytesPerToken, uint64_t(context)), uint64_t(sequences));
        v.actual = heads == c.nHeadKv;
        out.push_back(std::move(v));
    };
    add("MHA", c.nHead);
    if (c.nHeadKv > 1 && c.nHeadKv < c.nHead) add("GQA", c.nHeadKv);
    if (c.nHead > 1) add("MQA", 1);
    return out;
}

}  // namespace

bool isPlannableKvType(TensorType type) {
    return type == TensorType::F32 || type == TensorType::F16 || type == TensorType::Q8_0 ||
           type == TensorType::Q4_0;
}

Result<uint64_t> kvBytesPerToken(const ModelConfig& c, TensorType kvType, int nKvHeads) {
    if (!isPlannableKvType(kvType))
        return makeError(ErrorCode::InvalidArgument,
                         "KV type " + std::string(tensorTypeName(kvType)) + " cannot be planned (F32, F16, Q8_0 or Q4_0)",
                         "kv_type");
    const int heads = nKvHeads > 0 ? nKvHeads : c.nHeadKv;
    if (c.headDim <= 0 || heads <= 0 || c.nLayers <= 0)
        return makeError(ErrorCode::InvalidArgument, "the configuration has no KV heads", "head_dim");
    const auto headBytes = rowBytes(kvType, uint64_t(c.headDim));
    if (!headBytes)
        return makeError(ErrorCode::InvalidArgument,
                         std::string(tensorTypeName(kvType)) + " KV needs a head size that is a multiple of " +
                             std::to_string(traitsOf(kvType).blockSize) + "; this model's is " +
                             std::to_string(c.headDim),
                         "head_dim");
    return satMul(satMul(2 * uint64_t(c.nLayers), uint64_t(heads)), *headBytes);
}

std::string kvFormula(const ModelConfig& c, TensorType kvType, int64_t tokens, int sequences) {
    const auto perToken = kvBytesPerToken(c, kvType);
    if (!perToken) return perToken.error().message;
    const uint64_t total = satMul(satMul(*perToken, uint64_t(std::max<int64_t>(tokens, 0))),
                                  uint64_t(std::max(sequences, 1)));
    std::string s = "2 × " + std::to_string(c.nLayers) + " layers × " + std::to_string(c.nHeadKv) + " KV heads × " +
                    std::to_string(c.headDim) + " dims × " + formatThousands(uint64_t(std::max<int64_t>(tokens, 0))) +
                    " tokens × ";
    if (sequences > 1) s += std::to_string(sequences) + " sequences × ";
    s += bytesPerElementText(kvType) + " = " + formatThousands(total) + " bytes (" + formatBytes(total) + ")";
    return s;
}

ScratchBreakdown planScratch(const ModelFootprint& m, const PlanOptions& o) {
    const ModelConfig& c = m.config;
    const int threads = resolveThreads(o.threads);
    const int context = resolveContext(c, o.contextSize);
    const uint64_t mb = uint64_t(std::max(o.microBatch, 1));
    ScratchBreakdown s;
    const uint64_t rowFloats = 3 * uint64_t(c.nEmbd) + 2 * uint64_t(c.qDim()) + 2 * uint64_t(c.kvDim()) +
                               2 * uint64_t(c.nFf);  // x h o, q attn, k v, gate up
    s.activations = mb * rowFloats * 4;
    s.scores = uint64_t(threads) * uint64_t(std::max(context, 0)) * 2 * 4;
    s.rope = 2 * mb * uint64_t(c.ropeDims / 2) * 4;
    s.logits = uint64_t(c.nVocab) * 4;
    // One full micro-batch through every layer, then the last row's logits.
    const int64_t rows = std::min<int64_t>(int64_t(mb), std::max(context, 1));
    GrowOnlyBuffer scratch, fused;
    const bool roundF16 = o.kvType == TensorType::F16;  // CpuBackend::f16Activations()
    for (const LayerMatmulTypes& l : m.layers) {
        fusedProduct(scratch, fused, {l.q, l.k, l.v}, c.nEmbd, rows, threads, roundF16);
        singleProduct(scratch, l.o, c.qDim(), rows, threads, roundF16);
        fusedProduct(scratch, fused, {l.gate, l.up}, c.nEmbd, rows, threads, roundF16);
        singleProduct(scratch, l.down, c.nFf, rows, threads, roundF16);
    }
    singleProduct(scratch, m.outputType, c.nEmbd, 1, threads, roundF16);
    s.matmulScratch = scratch.capacity;
    s.fusedScratch = fused.capacity;
    return s;
}

Result<MemoryPlan> planMemory(const ModelFootprint& m, const PlanOptions& options) {
    const ModelConfig& c = m.config;
    MemoryPlan plan;
    plan.options = options;
    plan.options.contextSize = resolveContext(c, options.contextSize);
    plan.options.threads = resolveThreads(options.threads);
    GB_TRY(checkOptions(options, plan.options.contextSize));
    const PlanOptions& o = plan.options;
    GB_ASSIGN_OR_RETURN(plan.kvBytesPerToken, kvBytesPerToken(c, o.kvType));
    plan.weightBytes = m.weightBytes;
    plan.kvBytesPerSequence = satMul(plan.kvBytesPerToken, uint64_t(o.contextSize));
    plan.kvBytesTotal = satMul(plan.kvBytesPerSequence, uint64_t(o.sequences));
    plan.scratch = planScratch(m, o);
    plan.perSequenceBytes = satAdd(plan.kvBytesPerSequence, plan.scratch.total());
    plan.totalBytes = totalFor(m, plan.perSequenceBytes, o.sequences);
    plan.attention = attentionVariants(c, o.kvType, o.contextSize, o.sequences);
    plan.kvFormula = kvFormula(c, o.kvType, o.contextSize);
    if (o.budgetBytes > 0) plan.fit = fitBudget(m, plan);
    return plan;
}

Result<uint64_t> parseByteSize(std::string_view text) {
    auto bad = [&](const std::string& why) {
        return makeError(ErrorCode::InvalidArgument, "bad size '" + std::string(text) + "': " + why, "budget");
    };
    size_t b = 0, e = text.size();
    while (b < e && (text[b] == ' ' || text[b] == '\t')) ++b;
    while (e > b && (text[e - 1] == ' ' || text[e - 1] == '\t')) --e;
    const std::string_view t = text.substr(b, e - b);
    double value = 0;
    const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), value);
    if (ec != std::errc() || !std::isfinite(value) || value < 0) return bad("expected a number and a unit, e.g. 8GB");
    std::string unit(end, t.data() + t.size());
    unit.erase(0, unit.find_first_not_of(' '));
    for (char& ch : unit) ch = char(std::tolower(static_cast<unsigned char>(ch)));
    static const std::pair<const char*, double> kUnits[] = {
        {"", 1}, {"b", 1}, {"kb", 1e3}, {"mb", 1e6}, {"gb", 1e9}, {"tb", 1e12},
        {"k", 1024.0}, {"kib", 1024.0}, {"m", 1048576.0}, {"mib", 1048576.0},
        {"g", 1073741824.0}, {"gib", 1073741824.0}, {"t", 1099511627776.0}, {"tib", 1099511627776.0}};
    for (const auto& [name, scale] : kUnits) {
        if (unit != name) continue;
        const double bytes = value * scale;
        if (!(bytes < 1.8e19)) return bad("too large");
        return uint64_t(std::floor(bytes + 0.5));
    }
    return bad("unknown unit '" + unit + "' (B, kB, MB, GB, TB, KiB, MiB, GiB, TiB)");
}

std::string formatThousands(uint64_t value) {
    std::string digits = std::to_string(value);
    std::string out;
    for (size_t i = 0; i < digits.size(); ++i) {
        if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
        out += digits[i];
    }
    return out;
}

std::string formatBytes(uint64_t bytes) {
    static const char* kUnits[] = {"kB", "MB", "GB", "TB", "PB", "EB"};
    if (bytes < 1000) return std::to_string(bytes) + " B";
    double v = double(bytes) / 1000.0;
    size_t u = 0;
    while (v >= 999.95 && u + 1 < std::size(kUnits)) {
        v /= 1000.0;
        ++u;
    }
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f %s", v, kUnits[u]);
    return buf;
}

const std::vector<GpuPreset>& commonGpus() {
    static const std::vector<GpuPreset> kGpus = [] {
        const std::pair<const char*, uint64_t> list[] = {
            {"RTX 4060 8 GB", 8},     {"RTX 3060 12 GB", 12}, {"RTX 4080 16 GB", 16}, {"RTX 4090 24 GB", 24},
            {"RTX 6000 Ada 48 GB", 48}, {"H100 80 GB", 80},   {"H200 141 GB", 141}};
        std::vector<GpuPreset> out;
        for (const auto& [name, gib] : list) out.push_back({name, gib << 30});
        return out;
    }();
    return kGpus;
}

}  // namespace glassbox::engine
