// Quantization error analysis: the weight matrices of a model are cut into
// row chunks; each worker dequantizes a chunk of reference rows once, then
// sends it through every requested type and back, keeping per-chunk partial
// sums (in double) and the largest errors. Partials are merged in chunk order
// after the pool finishes, so the figures do not depend on the thread count.
// Histograms reuse the same chunking; the heatmap only reshapes a report.
#include "engine/quant_error.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <map>
#include <mutex>
#include <new>
#include <thread>

#include "engine/model.h"
#include "kernels/cpu/quant_kernels.h"
#include "kernels/cpu/thread_pool.h"

namespace glassbox::engine {
namespace {

constexpr int64_t kChunkElements = int64_t(1) << 17;  // ~128K weights per work item
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

struct Weight {
    TensorView view;
    WeightKind kind = WeightKind::Q;
    int layer = -1;
};

// A tensor to analyse, with the view its reference weights come from.
struct Target {
    Weight weight;
    TensorView ref;
    std::string refText;
};

struct Chunk {
    size_t target = 0;
    int64_t row0 = 0;
    int64_t rows = 0;
};

// Scratch of one worker: reference rows, quantized bytes, round-tripped rows.
struct Scratch {
    std::vector<float> ref, deq;
    std::vector<uint8_t> q;
};

// Running sums of one (chunk, type), merged later.
struct Partial {
    double sumRef2 = 0, sumQ2 = 0, sumRefQ = 0, sumErr2 = 0, maxAbs = 0;
    std::vector<QuantOutlier> top;  // largest |error| first
};

std::vector<Weight> modelWeights(const Model& m) {
    std::vector<Weight> out;
    out.push_back({m.tokenEmbedding(), WeightKind::Embedding, -1});
    for (size_t i = 0; i < m.layers().size(); ++i) {
        const LayerWeights& l = m.layers()[i];
        const int layer = int(i);
        out.push_back({l.wq, WeightKind::Q, layer});
        out.push_back({l.wk, WeightKind::K, layer});
        out.push_back({l.wv, WeightKind::V, layer});
        out.push_back({l.wo, WeightKind::O, layer});
        out.push_back({l.wGate, WeightKind::Gate, layer});
        out.push_back({l.wUp, WeightKind::Up, layer});
        out.push_back({l.wDown, WeightKind::Down, layer});
    }
    if (m.output().data != m.tokenEmbedding().data) out.push_back({m.output(), WeightKind::Output, -1});
    return out;
}

// Threads to use: as asked (0: all hardware threads), never more than the work items.
int resolveThreads(int threads, size_t chunks) {
    if (threads <= 0) threads = int(std::max(1u, std::thread::hardware_concurrency()));
    return int(std::clamp<size_t>(size_t(threads), 1, std::max<size_t>(1, chunks)));
}

Status checkTypes(const std::vector<TensorType>& types) {
    for (size_t i = 0; i < types.size(); ++i) {
        if (!isRequantizableType(types[i]))
            return makeError(ErrorCode::InvalidArgument,
                             "cannot quantize to " + std::string(tensorTypeName(types[i])), "types");
        if (std::find(types.begin(), types.begin() + ptrdiff_t(i), types[i]) != types.begin() + ptrdiff_t(i))
            return makeError(ErrorCode::InvalidArgument,
                             "type " + std::string(tensorTypeName(types[i])) + " given twice", "types");
    }
    return {};
}

std::string referenceText(const TensorView& ref, const std::string& source) {
    const std::string type(tensorTypeName(ref.type));
    if (ref.type == TensorType::F32) return "F32 (" + source + ")";
    return "F32 dequantized from " + type + " (" + source + ")";
}

Status checkView(const TensorView& v, const char* role) {
    if (!kernels::isSupportedWeightType(v.type))
        return makeError(ErrorCode::Unsupported,
                         std::string(role) + " type " + std::string(tensorTypeName(v.type)) + " cannot be dequantized",
                         v.name);
    if (!v.data || v.ne[2] != 1 || v.ne[3] != 1)
        return makeError(ErrorCode::InvalidArgument, std::string(role) + " is not a 2-D tensor with data", v.name);
    return {};
}

Result<std::vector<Target>> resolveTargets(const Model& model, const Model* reference,
                                           const std::vector<std::string>& names) {
    std::vector<Weight> weights = modelWeights(model);
    for (const std::string& name : names)
        if (std::none_of(weights.begin(), weights.end(), [&](const Weight& w) { return w.view.name == name; }))
            return makeError(ErrorCode::NotFound, "no weight matrix named '" + name + "'", name);
    std::map<std::string, TensorView, std::less<>> refViews;
    if (reference)
        for (const Weight& w : modelWeights(*reference)) refViews.emplace(w.view.name, w.view);
    const std::string refSource =
        reference ? std::filesystem::path(reference->path()).filename().string() : std::string("this model");
    std::vector<Target> out;
    for (const Weight& w : weights) {
        if (!names.empty() && std::find(names.begin(), names.end(), w.view.name) == names.end()) continue;
        GB_TRY(checkView(w.view, "tensor"));
        Target t{w, w.view, {}};
        if (reference) {
            auto it = refViews.find(w.view.name);
            if (it == refViews.end())
                return makeError(ErrorCode::NotFound, "the reference model has no tensor '" + w.view.name + "'",
                                 w.view.name);
            t.ref = it->second;
            if (t.ref.ne != w.view.ne)
                return makeError(ErrorCode::InvalidArgument,
                                 "the reference tensor has another shape than the model's", w.view.name);
            GB_TRY(checkView(t.ref, "reference tensor"));
        }
        t.refText = referenceText(t.ref, refSource);
        out.push_back(std::move(t));
    }
    return out;
}

std::vector<Chunk> makeChunks(const std::vector<Target>& targets) {
    std::vector<Chunk> chunks;
    for (size_t i = 0; i < targets.size(); ++i) {
        const int64_t cols = targets[i].weight.view.ne[0], rows = targets[i].weight.view.ne[1];
        const int64_t step = std::max<int64_t>(1, kChunkElements / std::max<int64_t>(1, cols));
        for (int64_t r = 0; r < rows; r += step) chunks.push_back({i, r, std::min(step, rows - r)});
    }
    return chunks;
}

void readRows(const TensorView& v, int64_t row0, int64_t rows, float* out) {
    const int64_t cols = v.ne[0];
    const uint64_t stride = v.rowStride();
    for (int64_t r = 0; r < rows; ++r)
        kernels::dequantizeRow(v.type, v.data + uint64_t(row0 + r) * stride, out + r * cols, cols);
}

// s.ref rows -> `used` blocks -> s.deq rows.
void roundTrip(TensorType used, int64_t rows, int64_t cols, Scratch& s) {
    const uint64_t rb = *rowBytes(used, uint64_t(cols));
    for (int64_t r = 0; r < rows; ++r) {
        uint8_t* q = s.q.data() + uint64_t(r) * rb;
        kernels::quantizeRow(used, s.ref.data() + r * cols, q, cols);
        kernels::dequantizeRow(used, q, s.deq.data() + r * cols, cols);
    }
}

bool outlierBefore(const QuantOutlier& a, const QuantOutlier& b) {
    const double ea = std::fabs(a.error()), eb = std::fabs(b.error());
    if (ea != eb) return ea > eb;
    return a.row != b.row ? a.row < b.row : a.col < b.col;
}

// Four-lane running sums (fixed summation order, so results are reproducible).
struct LaneSums {
    double w2[4] = {}, q2[4] = {}, wq[4] = {}, e2[4] = {};
};

// Adds one row to the lane sums and returns its max |q - w|. Written with
// vector extensions where available (and built for AVX2 too on GCC, without
// FMA, so every version rounds identically); lane l takes elements 4k + l.
#if defined(__GNUC__)
using V4d = double __attribute__((vector_size(32)));
using V4f = float __attribute__((vector_size(16)));
using V4l = long long __attribute__((vector_size(32)));

#if defined(__x86_64__) && !defined(__clang__)
__attribute__((target_clones("avx2", "default")))
#endif
double accumulateRow(const float* w, const float* q, int64_t n, LaneSums& s) {
    V4d w2, q2, wq, e2, m = {0, 0, 0, 0};
    std::memcpy(&w2, s.w2, sizeof w2);
    std::memcpy(&q2, s.q2, sizeof q2);
    std::memcpy(&wq, s.wq, sizeof wq);
    std::memcpy(&e2, s.e2, sizeof e2);
    const V4l absMask = {INT64_MAX, INT64_MAX, INT64_MAX, INT64_MAX};
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) {
        V4f wf, qf;
        std::memcpy(&wf, w + i, sizeof wf);
        std::memcpy(&qf, q + i, sizeof qf);
        const V4d a = __builtin_convertvector(wf, V4d), b = __builtin_convertvector(qf, V4d), d = b - a;
        w2 += a * a;
        q2 += b * b;
        wq += a * b;
        e2 += d * d;
        const V4d ad = (V4d)((V4l)d & absMask);
        const V4l bigger = ad > m;
        m = (V4d)(((V4l)ad & bigger) | ((V4l)m & ~bigger));
    }
    std::memcpy(s.w2, &w2, sizeof w2);
    std::memcpy(s.q2, &q2, sizeof q2);
    std::memcpy(s.wq, &wq, sizeof wq);
    std::memcpy(s.e2, &e2, sizeof e2);
    double most = std::max(std::max(m[0], m[1]), std::max(m[2], m[3]));
#else
double accumulateRow(const float* w, const float* q, int64_t n, LaneSums& s) {
    double most = 0.0;
    int64_t i = 0;
    for (; i + 4 <= n; i += 4)
        for (int l = 0; l < 4; ++l) {
            const double a = w[i + l], b = q[i + l], d = b - a;
            s.w2[l] += a * a;
            s.q2[l] += b * b;
            s.wq[l] += a * b;
            s.e2[l] += d * d;
            most = std::max(most, std::fabs(d));
        }
#endif
    for (; i < n; ++i) {
        const double a = w[i], b = q[i], d = b - a;
        s.w2[0] += a * a;
        s.q2[0] += b * b;
        s.wq[0] += a * b;
        s.e2[0] += d * d;
        most = std::max(most, std::fabs(d));
    }
    return most;
}

// The sums, max |error| and the `keep` largest errors of a chunk of rows; a
// row is scanned for outliers only when its max beats the current 5th largest.
void accumulateRows(const float* ref, const float* deq, int64_t row0, int64_t rows, int64_t cols, int keep,
                    Partial& p) {
    LaneSums s;
    double threshold = keep > 0 ? -1.0 : std::numeric_limits<double>::infinity();
    for (int64_t r = 0; r < rows; ++r) {
        const float* w = ref + r * cols;
        const float* q = deq + r * cols;
        const double rowMax = accumulateRow(w, q, cols, s);
        p.maxAbs = std::max(p.maxAbs, rowMax);
        if (rowMax <= threshold) continue;
        for (int64_t c = 0; c < cols; ++c) {
            if (std::fabs(double(q[c]) - double(w[c])) <= threshold) continue;
            const QuantOutlier o{row0 + r, c, w[c], q[c]};
            p.top.insert(std::upper_bound(p.top.begin(), p.top.end(), o, outlierBefore), o);
            if (int(p.top.size()) > keep) p.top.pop_back();
            if (int(p.top.size()) == keep) threshold = std::fabs(p.top.back().error());
        }
    }
    p.sumRef2 += (s.w2[0] + s.w2[1]) + (s.w2[2] + s.w2[3]);
    p.sumQ2 += (s.q2[0] + s.q2[1]) + (s.q2[2] + s.q2[3]);
    p.sumRefQ += (s.wq[0] + s.wq[1]) + (s.wq[2] + s.wq[3]);
    p.sumErr2 += (s.e2[0] + s.e2[1]) + (s.e2[2] + s.e2[3]);
}

void mergePartial(Partial& into, const Partial& from, int keep) {
    into.sumRef2 += from.sumRef2;
    into.sumQ2 += from.sumQ2;
    into.sumRefQ += from.sumRefQ;
    into.sumErr2 += from.sumErr2;
    into.maxAbs = std::max(into.maxAbs, from.maxAbs);
    if (keep <= 0 || from.top.empty()) return;
    into.top.insert(into.top.end(), from.top.begin(), from.top.end());
    std::sort(into.top.begin(), into.top.end(), outlierBefore);
    if (int(into.top.size()) > keep) into.top.resize(size_t(keep));
}

QuantErrorStats finishStats(const Partial& p, TensorType requested, TensorType used, int64_t n, uint64_t bytes) {
    QuantErrorStats s;
    s.requested = requested;
    s.used = used;
    s.elements = n;
    s.bytes = bytes;
    const double dn = n > 0 ? double(n) : 1.0;
    s.bitsPerWeight = double(bytes) * 8.0 / dn;
    s.rmse = std::sqrt(p.sumErr2 / dn);
    s.maxAbsError = p.maxAbs;
    s.snrDb = p.sumErr2 > 0.0 ? 10.0 * std::log10(p.sumRef2 / p.sumErr2) : std::numeric_limits<double>::infinity();
    const double denom = std::sqrt(p.sumRef2) * std::sqrt(p.sumQ2);
    s.cosine = denom > 0.0 ? p.sumRefQ / denom : (p.sumRef2 == p.sumQ2 ? 1.0 : 0.0);
    s.referenceRms = std::sqrt(p.sumRef2 / dn);
    s.outliers = p.top;
    s.fallbackElements = used != requested ? n : 0;
    return s;
}

// Runs job(slot, its scratch, chunk index) for every chunk on a pool of
// `threads` (a slot is used by one thread at a time), checking `stop` before
// each chunk and reporting progress by the weights done.
class ChunkRunner {
public:
    ChunkRunner(const std::vector<Target>& targets, const std::vector<Chunk>& chunks, const QuantProgress& progress)
        : m_targets(targets), m_chunks(chunks), m_progress(progress) {
        for (const Chunk& c : chunks) m_total += c.rows * targets[c.target].weight.view.ne[0];
    }

    // Errors: OutOfMemory for the scratch, Cancelled.
    Status run(int threads, uint64_t qBytesPerElement, std::stop_token stop,
               const std::function<void(int slot, Scratch&, size_t chunk)>& job) {
        int64_t maxElements = 0;
        for (const Chunk& c : m_chunks) maxElements = std::max(maxElements, c.rows * m_targets[c.target].weight.view.ne[0]);
        kernels::ThreadPool pool(threads);
        std::vector<Scratch> scratch(size_t(pool.size()));
        try {
            for (Scratch& s : scratch) {
                s.ref.resize(size_t(maxElements));
                s.deq.resize(size_t(maxElements));
                s.q.resize(size_t(maxElements) * qBytesPerElement);
            }
        } catch (const std::bad_alloc&) {
            return makeError(ErrorCode::OutOfMemory, "cannot allocate quantization scratch");
        }
        std::atomic<size_t> next{0};
        std::atomic<bool> cancelled{false};
        pool.runIndependent([&](int slot, int) {
            for (size_t c; (c = next.fetch_add(1)) < m_chunks.size();) {
                if (cancelled.load(std::memory_order_relaxed) || stop.stop_requested()) {
                    cancelled = true;
                    return;
                }
                job(slot, scratch[size_t(slot)], c);
                report(m_chunks[c]);
            }
        });
        if (cancelled || stop.stop_requested()) return makeError(ErrorCode::Cancelled, "quantization analysis cancelled");
        return {};
    }

private:
    void report(const Chunk& c) {
        const int64_t done = m_done.fetch_add(c.rows * m_targets[c.target].weight.view.ne[0]) +
                             c.rows * m_targets[c.target].weight.view.ne[0];
        if (!m_progress) return;
        const float fraction = m_total > 0 ? float(double(done) / double(m_total)) : 1.0f;
        std::lock_guard lock(m_mutex);
        if (fraction < m_lastReported + 0.01f && done < m_total) return;
        m_lastReported = std::max(m_lastReported, fraction);
        m_progress(m_lastReported, m_targets[c.target].weight.view.name);
    }

    const std::vector<Target>& m_targets;
    const std::vector<Chunk>& m_chunks;
    QuantProgress m_progress;
    int64_t m_total = 0;
    std::atomic<int64_t> m_done{0};
    std::mutex m_mutex;
    float m_lastReported = -1.0f;
};

// Largest bytes per element any of `types` (or its fallback) needs.
uint64_t maxBytesPerElement(const std::vector<TensorType>& types) {
    uint64_t most = 4;
    for (TensorType t : types) {
        const TensorTypeTraits& tr = traitsOf(t);
        most = std::max<uint64_t>(most, (tr.typeSize + tr.blockSize - 1) / tr.blockSize);
    }
    return most;
}

// Merges the per-chunk partials (in chunk order) into per-tensor statistics and totals.
void assembleReport(const std::vector<Target>& targets, const std::vector<Chunk>& chunks,
                    const std::vector<Partial>& partials, const std::vector<double>& refMax, int keep,
                    QuantErrorReport& report) {
    const size_t nTypes = report.types.size();
    std::vector<Partial> totals(nTypes);
    std::vector<uint64_t> totalBytes(nTypes, 0);
    size_t ci = 0;
    for (size_t ti = 0; ti < targets.size(); ++ti) {
        const Target& t = targets[ti];
        const TensorView& v = t.weight.view;
        TensorQuantError te{v.name, t.weight.kind, t.weight.layer, v.ne[0], v.ne[1], v.type, t.refText, 0.0, {}};
        std::vector<Partial> merged(nTypes);
        for (; ci < chunks.size() && chunks[ci].target == ti; ++ci) {
            te.referenceMaxAbs = std::max(te.referenceMaxAbs, refMax[ci]);
            for (size_t k = 0; k < nTypes; ++k) mergePartial(merged[k], partials[ci * nTypes + k], keep);
        }
        for (size_t k = 0; k < nTypes; ++k) {
            const TensorType used = quantFallbackType(report.types[k], v.ne[0]);
            const uint64_t bytes = *rowBytes(used, uint64_t(v.ne[0])) * uint64_t(v.ne[1]);
            te.stats.push_back(finishStats(merged[k], report.types[k], used, v.ne[0] * v.ne[1], bytes));
            mergePartial(totals[k], merged[k], 0);
            totalBytes[k] += bytes;
        }
        report.elements += v.ne[0] * v.ne[1];
        report.tensors.push_back(std::move(te));
    }
    for (size_t k = 0; k < nTypes; ++k) {
        QuantErrorStats s = finishStats(totals[k], report.types[k], report.types[k], report.elements, totalBytes[k]);
        for (const TensorQuantError& te : report.tensors) s.fallbackElements += te.stats[k].fallbackElements;
        report.totals.push_back(std::move(s));
    }
}

}  // namespace

const char* weightKindName(WeightKind kind) {
    switch (kind) {
    case WeightKind::Embedding: return "embedding";
    case WeightKind::Q: return "q";
    case WeightKind::K: return "k";
    case WeightKind::V: return "v";
    case WeightKind::O: return "o";
    case WeightKind::Gate: return "gate";
    case WeightKind::Up: return "up";
    case WeightKind::Down: return "down";
    case WeightKind::Output: return "output";
    }
    return "?";
}

const TensorQuantError* QuantErrorReport::findTensor(const std::string& name) const {
    for (const TensorQuantError& t : tensors)
        if (t.name == name) return &t;
    return nullptr;
}

const QuantErrorStats* QuantErrorReport::find(const std::string& tensor, TensorType type) const {
    const TensorQuantError* t = findTensor(tensor);
    if (!t) return nullptr;
    for (const QuantErrorStats& s : t->stats)
        if (s.requested == type) return &s;
    return nullptr;
}

uint64_t QuantHistogram::total() const {
    uint64_t n = 0;
    for (uint64_t c : counts) n += c;
    return n;
}

Result<QuantErrorReport> analyzeQuantError(const Model& model, const QuantErrorOptions& options, std::stop_token stop,
                                           const QuantProgress& progress) {
    const auto start = std::chrono::steady_clock::now();
    QuantErrorReport report;
    const auto lab = quantLabTypes();
    report.types = options.types.empty() ? std::vector<TensorType>(lab.begin(), lab.end()) : options.types;
    GB_TRY(checkTypes(report.types));
    if (options.outliers < 0) return makeError(ErrorCode::InvalidArgument, "outliers must be >= 0", "outliers");
    GB_ASSIGN_OR_RETURN(std::vector<Target> targets, resolveTargets(model, options.reference, options.tensors));
    const std::vector<Chunk> chunks = makeChunks(targets);
    const size_t nTypes = report.types.size();
    const int keep = options.outliers;
    std::vector<Partial> partials(chunks.size() * nTypes);
    std::vector<double> refMax(chunks.size(), 0.0);
    ChunkRunner runner(targets, chunks, progress);
    report.threads = resolveThreads(options.threads, chunks.size());
    GB_TRY(runner.run(report.threads, maxBytesPerElement(report.types), stop, [&](int, Scratch& s, size_t ci) {
        const Chunk& c = chunks[ci];
        const TensorView& ref = targets[c.target].ref;
        const int64_t cols = ref.ne[0], n = c.rows * cols;
        readRows(ref, c.row0, c.rows, s.ref.data());
        double m = 0.0;
        for (int64_t i = 0; i < n; ++i) m = std::max(m, double(std::fabs(s.ref[size_t(i)])));
        refMax[ci] = m;
        for (size_t k = 0; k < nTypes; ++k) {
            roundTrip(quantFallbackType(report.types[k], cols), c.rows, cols, s);
            accumulateRows(s.ref.data(), s.deq.data(), c.row0, c.rows, cols, keep, partials[ci * nTypes + k]);
        }
    }));
    assembleReport(targets, chunks, partials, refMax, keep, report);
    report.model = model.path();
    report.referenceModel = options.reference ? options.reference->path() : model.path();
    report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (progress) progress(1.0f, {});
    return report;
}

namespace {

void addToHistogram(const float* a, const float* b, int64_t n, double range, std::vector<uint64_t>& counts) {
    const int bins = int(counts.size());
    const double scale = double(bins) / (2.0 * range);
    for (int64_t i = 0; i < n; ++i) {
        const double v = b ? double(b[i]) - double(a[i]) : double(a[i]);
        const int bin = int(std::floor((v + range) * scale));
        ++counts[size_t(std::clamp(bin, 0, bins - 1))];
    }
}

}  // namespace

Result<TensorQuantHistograms> quantErrorHistograms(const Model& model, const std::string& tensor,
                                                   const QuantHistogramOptions& options, std::stop_token stop) {
    if (options.bins < 1 || options.bins > 65536)
        return makeError(ErrorCode::InvalidArgument, "bins must be between 1 and 65536", "bins");
    // First pass: the ranges (max |w|, and max |error| per type).
    QuantErrorOptions pass1;
    pass1.types = options.types;
    pass1.reference = options.reference;
    pass1.tensors = {tensor};
    pass1.threads = options.threads;
    pass1.outliers = 0;
    GB_ASSIGN_OR_RETURN(QuantErrorReport report, analyzeQuantError(model, pass1, stop));
    const TensorQuantError& te = report.tensors.front();
    TensorQuantHistograms out;
    out.tensor = tensor;
    out.reference = te.reference;
    out.types = report.types;
    const size_t nTypes = report.types.size(), bins = size_t(options.bins);
    out.weights.range = te.referenceMaxAbs > 0.0 ? te.referenceMaxAbs : 1.0;
    for (const QuantErrorStats& s : te.stats) {
        out.used.push_back(s.used);
        out.errors.push_back({s.maxAbsError > 0.0 ? s.maxAbsError : 1.0, {}});
    }
    // Second pass: the counts, per worker slot (integer sums: order does not matter).
    GB_ASSIGN_OR_RETURN(std::vector<Target> targets, resolveTargets(model, options.reference, {tensor}));
    const std::vector<Chunk> chunks = makeChunks(targets);
    const int threads = resolveThreads(options.threads, chunks.size());
    std::vector<std::vector<std::vector<uint64_t>>> counts(
        size_t(threads), std::vector<std::vector<uint64_t>>(nTypes + 1, std::vector<uint64_t>(bins, 0)));
    ChunkRunner runner(targets, chunks, {});
    GB_TRY(runner.run(threads, maxBytesPerElement(report.types), stop, [&](int slot, Scratch& s, size_t ci) {
        const Chunk& c = chunks[ci];
        const int64_t cols = targets[0].ref.ne[0], n = c.rows * cols;
        readRows(targets[0].ref, c.row0, c.rows, s.ref.data());
        addToHistogram(s.ref.data(), nullptr, n, out.weights.range, counts[size_t(slot)][0]);
        for (size_t k = 0; k < nTypes; ++k) {
            roundTrip(out.used[k], c.rows, cols, s);
            addToHistogram(s.ref.data(), s.deq.data(), n, out.errors[k].range, counts[size_t(slot)][k + 1]);
        }
    }));
    out.weights.counts.assign(bins, 0);
    for (QuantHistogram& h : out.errors) h.counts.assign(bins, 0);
    for (const auto& slot : counts)
        for (size_t b = 0; b < bins; ++b) {
            out.weights.counts[b] += slot[0][b];
            for (size_t k = 0; k < nTypes; ++k) out.errors[k].counts[b] += slot[k + 1][b];
        }
    return out;
}

const char* quantMetricName(QuantMetric metric) {
    switch (metric) {
    case QuantMetric::SnrDb: return "snr_db";
    case QuantMetric::Rmse: return "rmse";
    case QuantMetric::RelativeRmse: return "relative_rmse";
    case QuantMetric::MaxAbsError: return "max_abs_error";
    case QuantMetric::Cosine: return "cosine";
    }
    return "?";
}

double quantMetricValue(const QuantErrorStats& s, QuantMetric metric) {
    switch (metric) {
    case QuantMetric::SnrDb: return s.snrDb;
    case QuantMetric::Rmse: return s.rmse;
    case QuantMetric::RelativeRmse: return s.relativeRmse();
    case QuantMetric::MaxAbsError: return s.maxAbsError;
    case QuantMetric::Cosine: return s.cosine;
    }
    return kNaN;
}

Result<QuantHeatmap> quantErrorHeatmap(const QuantErrorReport& report, TensorType type, QuantMetric metric) {
    const auto it = std::find(report.types.begin(), report.types.end(), type);
    if (it == report.types.end())
        return makeError(ErrorCode::InvalidArgument,
                         "type " + std::string(tensorTypeName(type)) + " is not in the report", "type");
    const size_t k = size_t(it - report.types.begin());
    QuantHeatmap h;
    h.type = type;
    h.metric = metric;
    h.columns = {WeightKind::Q, WeightKind::K, WeightKind::V, WeightKind::O,
                 WeightKind::Gate, WeightKind::Up, WeightKind::Down};
    int layers = 0;
    for (const TensorQuantError& t : report.tensors) layers = std::max(layers, t.layer + 1);
    h.cells.assign(size_t(layers), std::vector<double>(h.columns.size(), kNaN));
    for (const TensorQuantError& t : report.tensors) {
        const double v = quantMetricValue(t.stats[k], metric);
        if (t.kind == WeightKind::Embedding) h.embedding = v;
        else if (t.kind == WeightKind::Output) h.output = v;
        else h.cells[size_t(t.layer)][size_t(int(t.kind) - int(WeightKind::Q))] = v;
    }
    return h;
}

}  // namespace glassbox::engine
