// Quantization lab, per tensor: what each GGUF quantization type would do to
// each weight matrix of a model. The reference weights (the model's own
// tensors dequantized to F32, or a higher-precision model's tensors of the
// same names) are streamed in row chunks through the ggml-exact quantizers
// and back, and compared element by element: RMSE, max |error|, SNR, cosine
// similarity, bits per weight and the largest errors with their positions.
// Also error histograms for one tensor, a layer × kind table for heatmaps,
// and re-quantizing a whole GGUF model into a new file.
//
// Invariants: results do not depend on the thread count (partial sums are
// merged in a fixed order); no more than a few row chunks per thread are held
// as scratch; a row whose width is not a multiple of a type's block size is
// measured (and written) in llama.cpp's fallback type, and says so.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <span>
#include <stop_token>
#include <string>
#include <vector>

#include "engine/result.h"
#include "engine/tensor_types.h"

namespace glassbox::engine {

class Model;

// Which matrix of a Llama-family model a weight tensor is.
enum class WeightKind { Embedding, Q, K, V, O, Gate, Up, Down, Output };
// "embedding", "q", "k", "v", "o", "gate", "up", "down", "output".
const char* weightKindName(WeightKind kind);

// The eight types the lab measures by default, in this order:
// Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K.
std::span<const TensorType> quantLabTypes();
// Types a weight can be quantized to here: the eight above plus F32, F16, BF16.
bool isRequantizableType(TensorType type);
// The type a row of `rowWidth` elements is stored in when `target` is asked
// for: `target` when its block size divides the width, else llama.cpp's
// fallback (Q4_K -> Q5_0, Q5_K -> Q5_1, Q6_K -> Q8_0), else F16.
TensorType quantFallbackType(TensorType target, int64_t rowWidth);
// llama.cpp's general.file_type (llama_ftype) for a file whose weights are
// mostly `type` (the K-quants map to their "_S" variants; 0 for others).
uint32_t llamaFileType(TensorType type);

// One large error: its position (row = index along ne[1], col = along ne[0]).
struct QuantOutlier {
    int64_t row = 0;
    int64_t col = 0;
    float reference = 0.0f;  // the reference weight
    float quantized = 0.0f;  // the same weight after quantizing and dequantizing
    double error() const { return double(quantized) - double(reference); }
};

// The round trip of one tensor (or of all tensors, for totals) through one type.
struct QuantErrorStats {
    TensorType requested = TensorType::Q8_0;  // the type asked for
    TensorType used = TensorType::Q8_0;       // the type measured (differs on fallback; totals: requested)
    int64_t elements = 0;
    uint64_t bytes = 0;          // size of the quantized tensor(s)
    double bitsPerWeight = 0.0;  // bytes * 8 / elements
    double rmse = 0.0;
    double maxAbsError = 0.0;
    double snrDb = 0.0;          // 10 log10(sum w^2 / sum err^2); +inf when exact
    double cosine = 0.0;         // cosine similarity of reference and round trip
    double referenceRms = 0.0;   // sqrt(sum w^2 / elements), for relative errors
    std::vector<QuantOutlier> outliers;  // largest |error| first (none in totals)
    int64_t fallbackElements = 0;  // weights measured in a fallback type, not `requested`

    bool fallback() const { return used != requested; }
    double relativeRmse() const { return referenceRms > 0.0 ? rmse / referenceRms : 0.0; }
};

struct TensorQuantError {
    std::string name;        // the tensor's name in the model file
    WeightKind kind = WeightKind::Q;
    int layer = -1;          // -1 for the embedding and output
    int64_t cols = 0;        // ne[0], the row width
    int64_t rows = 0;        // ne[1]
    TensorType storedType = TensorType::F32;  // the analysed model's own type
    std::string reference;   // e.g. "F32 dequantized from Q4_1 (this model)"
    double referenceMaxAbs = 0.0;             // max |w| of the reference
    std::vector<QuantErrorStats> stats;       // one per report type, same order
};

struct QuantErrorOptions {
    std::vector<TensorType> types;      // empty: quantLabTypes()
    const Model* reference = nullptr;   // higher-precision weights, matched by tensor name
    std::vector<std::string> tensors;   // only these tensors; empty: every weight matrix
    int threads = 0;                    // 0: all hardware threads
    int outliers = 5;                   // largest errors kept per tensor and type
};

// Progress: fraction in [0, 1] and the tensor being worked on. Called from
// the worker threads, one call at a time, at most about a hundred times.
using QuantProgress = std::function<void(float fraction, const std::string& tensor)>;

struct QuantErrorReport {
    std::vector<TensorType> types;           // requested types, in column order
    std::vector<TensorQuantError> tensors;   // embedding, layer 0 q k v o gate up down, ..., output
    std::vector<QuantErrorStats> totals;     // per type over all tensors (no outliers)
    std::string model;                       // path of the analysed model
    std::string referenceModel;              // path of the reference model (the model itself if none)
    int64_t elements = 0;                    // weights analysed (each for every type)
    int threads = 0;
    double seconds = 0.0;                    // wall time of the analysis

    const TensorQuantError* findTensor(const std::string& name) const;
    // nullptr when the tensor or type is not in the report.
    const QuantErrorStats* find(const std::string& tensor, TensorType type) const;
};

// Measure every weight matrix (token embedding, per layer q k v o gate up
// down, and the output head unless it is tied to the embedding) against every
// type. Errors: InvalidArgument (a type that can not be quantized, a
// duplicate type, outliers < 0, a reference tensor of another shape),
// NotFound (a requested tensor, or a reference tensor, is missing),
// Unsupported (a tensor type that can not be dequantized), Cancelled.
Result<QuantErrorReport> analyzeQuantError(const Model& model, const QuantErrorOptions& options = {},
                                           std::stop_token stop = {}, const QuantProgress& progress = {});

// Bin counts over [-range, range]; the extreme values land in the end bins.
struct QuantHistogram {
    double range = 0.0;
    std::vector<uint64_t> counts;

    double binWidth() const { return counts.empty() ? 0.0 : 2.0 * range / double(counts.size()); }
    double binLow(size_t i) const { return -range + binWidth() * double(i); }
    uint64_t total() const;
};

struct QuantHistogramOptions {
    std::vector<TensorType> types;     // empty: quantLabTypes()
    const Model* reference = nullptr;  // as in QuantErrorOptions
    int bins = 64;                     // 1 .. 65536
    int threads = 0;                   // 0: all hardware threads
};

struct TensorQuantHistograms {
    std::string tensor;
    std::string reference;                // as in TensorQuantError
    QuantHistogram weights;               // range = max |w|
    std::vector<TensorType> types;        // requested types
    std::vector<TensorType> used;         // the type measured for each
    std::vector<QuantHistogram> errors;   // range = max |error| of that type
};

// Histograms of one tensor's reference weights and of its error for each
// type (two streaming passes: the ranges, then the counts). Errors: those of
// analyzeQuantError, and InvalidArgument for bins outside 1 .. 65536.
Result<TensorQuantHistograms> quantErrorHistograms(const Model& model, const std::string& tensor,
                                                   const QuantHistogramOptions& options = {},
                                                   std::stop_token stop = {});

// Which number a heatmap shows.
enum class QuantMetric { SnrDb, Rmse, RelativeRmse, MaxAbsError, Cosine };
const char* quantMetricName(QuantMetric metric);  // "snr_db", "rmse", ...
double quantMetricValue(const QuantErrorStats& stats, QuantMetric metric);

// Layer × kind table of one metric for one type.
struct QuantHeatmap {
    TensorType type = TensorType::Q8_0;
    QuantMetric metric = QuantMetric::SnrDb;
    std::vector<WeightKind> columns;          // q, k, v, o, gate, up, down
    std::vector<std::vector<double>> cells;   // [layer][column]; NaN where not analysed
    double embedding = std::numeric_limits<double>::quiet_NaN();  // NaN when not analysed
    double output = std::numeric_limits<double>::quiet_NaN();     // NaN when not analysed (or tied)
};

// Errors: InvalidArgument when `type` is not one of the report's types.
Result<QuantHeatmap> quantErrorHeatmap(const QuantErrorReport& report, TensorType type, QuantMetric metric);

// What re-quantizing does to one tensor of the file.
struct RequantizedTensor {
    std::string name;
    TensorType from = TensorType::F32;
    TensorType to = TensorType::F32;
    std::vector<int64_t> shape;   // ne[0] first
    bool fallback = false;        // the row width did not fit the target's blocks
};

// The plan requantizeModel follows: every 2-D tensor goes to `target` (or
// its fallback type), other tensors keep their type (norms stay F32).
// Errors: InvalidArgument (target not re-quantizable), Unsupported (the
// model was not loaded from a GGUF file).
Result<std::vector<RequantizedTensor>> planRequantize(const Model& src, TensorType target);

// Write `src` to `outPath` as GGUF with its weights re-quantized per
// planRequantize: all metadata (tokenizer included) is copied, with
// general.file_type set for the target; tensors keep their order. The file
// appears only once complete. Errors: those of planRequantize,
// InvalidArgument (empty outPath, or the source file itself), Io (mapping the
// source, writing), Unsupported (a tensor type that can not be dequantized),
// the GGUF parser's, Cancelled.
Status requantizeModel(const Model& src, TensorType target, const std::string& outPath,
                       std::stop_token stop = {}, const QuantProgress& progress = {}, int threads = 0);

}  // namespace glassbox::engine
