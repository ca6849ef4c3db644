// glassbox-cli quant-error and requantize: the quantization lab headless.
// quant-error measures what each quantization type does to every weight
// matrix (totals by type, SNR per tensor, timing; with --tensor one tensor in
// detail with its largest errors and histograms of --bins N bins).
// requantize writes the model again with its weights in another type and
// checks that the new file loads.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>

#ifdef _WIN32
#include <io.h>
#else
#include <unistd.h>
#endif

#include "engine/json.h"
#include "engine/memory_plan.h"
#include "engine/quant_error.h"
#include "tools/glassbox-cli/cli_common.h"
#include "tools/glassbox-cli/commands.h"

namespace glassbox::cli {
namespace {

using engine::JsonValue;
using engine::QuantErrorStats;
using engine::TensorType;

std::string typeName(TensorType t) { return std::string(engine::tensorTypeName(t)); }

// "q8_0,q4_k" (or "all") into types; nullopt after printing the error.
std::optional<std::vector<TensorType>> parseTypes(const std::string& list) {
    std::vector<TensorType> out;
    if (list.empty() || list == "all") return out;
    size_t start = 0;
    while (start <= list.size()) {
        const size_t comma = std::min(list.find(',', start), list.size());
        const std::string name = list.substr(start, comma - start);
        const auto t = engine::tensorTypeFromName(name);
        if (!t || !engine::isRequantizableType(*t)) {
            fail("unknown or unsupported type '" + name + "' (try q8_0,q4_0,q4_1,q5_0,q5_1,q4_k,q5_k,q6_k)");
            return std::nullopt;
        }
        out.push_back(*t);
        start = comma + 1;
    }
    return out;
}

bool stderrIsTerminal() {
#ifdef _WIN32
    return _isatty(_fileno(stderr)) != 0;
#else
    return isatty(fileno(stderr)) != 0;
#endif
}

// Progress on stderr when it is a terminal.
engine::QuantProgress terminalProgress(const char* what) {
    if (!stderrIsTerminal()) return {};
    return [what](float f, const std::string& tensor) {
        std::fprintf(stderr, "\r[%s] %3d%% %-40s", what, int(f * 100.0f + 0.5f), tensor.c_str());
        if (f >= 1.0f) std::fprintf(stderr, "\n");
    };
}

std::string formatSnr(double snr) {
    if (std::isinf(snr)) return snr > 0 ? "inf" : "-inf";
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.2f", snr);
    return buf;
}

void printTotals(const engine::QuantErrorReport& r) {
    std::printf("\ntotals by type (over all %zu tensors):\n", r.tensors.size());
    std::printf("  %-6s %8s %12s %12s %9s %12s %10s  %s\n", "type", "bpw", "rmse", "max|err|", "SNR dB", "cosine",
                "rel rmse", "fallback");
    for (const QuantErrorStats& s : r.totals) {
        std::string fb = "-";
        if (s.fallbackElements > 0) {
            std::map<TensorType, int> used;
            for (const auto& t : r.tensors)
                for (const QuantErrorStats& ts : t.stats)
                    if (ts.requested == s.requested && ts.fallback()) ++used[ts.used];
            std::string names;
            for (const auto& [type, n] : used) {
                if (!names.empty()) names += '/';
                names += typeName(type);
            }
            fb = engine::formatThousands(uint64_t(s.fallbackElements)) + " weights as " + names;
        }
        std::printf("  %-6s %8.4f %12.4e %12.4e %9s %12.8f %10.5f  %s\n", typeName(s.requested).c_str(),
                    s.bitsPerWeight, s.rmse, s.maxAbsError, formatSnr(s.snrDb).c_str(), s.cosine, s.relativeRmse(),
                    fb.c_str());
    }
}

void printPerTensor(const engine::QuantErrorReport& r) {
    std::printf("\nSNR in dB per tensor (* = measured in llama.cpp's fallback type: row width not a multiple of "
                "the block size):\n  %-26s %-6s", "tensor", "stored");
    for (TensorType t : r.types) std::printf(" %9s", typeName(t).c_str());
    std::printf("\n");
    for (const auto& t : r.tensors) {
        std::printf("  %-26s %-6s", t.name.c_str(), typeName(t.storedType).c_str());
        for (const QuantErrorStats& s : t.stats)
            std::printf(" %8s%c", formatSnr(s.snrDb).c_str(), s.fallback() ? '*' : ' ');
        std::printf("\n");
    }
}

// One histogram as a line of block characters, scaled to its largest bin.
std::string sparkline(const engine::QuantHistogram& h) {
    static const char* kBars[] = {" ", "\u2581", "\u2582", "\u2583", "\u2584", "\u2585", "\u2586", "\u2587", "\u2588"};
    uint64_t most = 1;
    for (uint64_t c : h.counts) most = std::max(most, c);
    std::string s;
    for (uint64_t c : h.counts) s += kBars[c == 0 ? 0 : 1 + int(double(c) / double(most) * 7.0 + 0.5)];
    return s;
}

void printTensorDetail(const engine::TensorQuantError& t, const engine::TensorQuantHistograms* h) {
    std::printf("\n%s: %s, %lld x %lld (ne0 x ne1), stored %s, reference %s, max |w| %.6g\n", t.name.c_str(),
                engine::weightKindName(t.kind), static_cast<long long>(t.cols), static_cast<long long>(t.rows),
                typeName(t.storedType).c_str(), t.reference.c_str(), t.referenceMaxAbs);
    for (size_t k = 0; k < t.stats.size(); ++k) {
        const QuantErrorStats& s = t.stats[k];
        std::printf("\n  %s%s: %.4f bpw, rmse %.4e, max|err| %.4e, SNR %s dB, cosine %.8f\n",
                    typeName(s.requested).c_str(), s.fallback() ? (" (as " + typeName(s.used) + ")").c_str() : "",
                    s.bitsPerWeight, s.rmse, s.maxAbsError, formatSnr(s.snrDb).c_str(), s.cosine);
        for (const auto& o : s.outliers)
            std::printf("    row %6lld col %5lld  reference %+.6f  quantized %+.6f  error %+.6e\n",
                        static_cast<long long>(o.row), static_cast<long long>(o.col), o.reference, o.quantized,
                        o.error());
        if (h) std::printf("    error     [%s] +-%.3e\n", sparkline(h->errors[k]).c_str(), h->errors[k].range);
    }
    if (h) std::printf("\n  weights     [%s] +-%.4g\n", sparkline(h->weights).c_str(), h->weights.range);
}

JsonValue statsJson(const QuantErrorStats& s) {
    JsonValue j = JsonValue::makeObject();
    j.set("type", typeName(s.requested)).set("used", typeName(s.used)).set("elements", s.elements);
    j.set("bytes", s.bytes).set("bpw", s.bitsPerWeight).set("rmse", s.rmse).set("max_abs_error", s.maxAbsError);
    j.set("snr_db", s.snrDb).set("cosine", s.cosine).set("reference_rms", s.referenceRms);
    j.set("fallback_elements", s.fallbackElements);
    JsonValue outliers = JsonValue::makeArray();
    for (const auto& o : s.outliers)
        outliers.push(JsonValue::makeObject().set("row", o.row).set("col", o.col)
                          .set("reference", double(o.reference)).set("quantized", double(o.quantized))
                          .set("error", o.error()));
    if (!s.outliers.empty()) j.set("outliers", std::move(outliers));
    return j;
}

JsonValue histogramJson(const engine::QuantHistogram& h) {
    JsonValue counts = JsonValue::makeArray();
    for (uint64_t c : h.counts) counts.push(c);
    return JsonValue::makeObject().set("range", h.range).set("counts", std::move(counts));
}

JsonValue reportJson(const engine::QuantErrorReport& r, const engine::TensorQuantHistograms* h) {
    JsonValue j = JsonValue::makeObject();
    j.set("model", r.model).set("reference_model", r.referenceModel).set("threads", r.threads);
    j.set("seconds", r.seconds).set("elements", r.elements);
    JsonValue types = JsonValue::makeArray(), totals = JsonValue::makeArray(), tensors = JsonValue::makeArray();
    for (TensorType t : r.types) types.push(typeName(t));
    for (const auto& s : r.totals) totals.push(statsJson(s));
    for (const auto& t : r.tensors) {
        JsonValue stats = JsonValue::makeArray();
        for (const auto& s : t.stats) stats.push(statsJson(s));
        tensors.push(JsonValue::makeObject().set("name", t.name).set("kind", engine::weightKindName(t.kind))
                         .set("layer", t.layer).set("cols", t.cols).set("rows", t.rows)
                         .set("stored", typeName(t.storedType)).set("reference", t.reference)
                         .set("reference_max_abs", t.referenceMaxAbs).set("stats", std::move(stats)));
    }
    j.set("types", std::move(types)).set("totals", std::move(totals)).set("tensors", std::move(tensors));
    if (h) {
        JsonValue errors = JsonValue::makeArray();
        for (size_t k = 0; k < h->errors.size(); ++k)
            errors.push(histogramJson(h->errors[k]).set("type", typeName(h->types[k])).set("used", typeName(h->used[k])));
        j.set("histograms", JsonValue::makeObject().set("tensor", h->tensor).set("weights", histogramJson(h->weights))
                                .set("errors", std::move(errors)));
    }
    return j;
}

std::shared_ptr<const engine::Model> loadReference(const std::string& path) {
    if (path.empty()) return nullptr;
    auto ref = engine::Model::load(path);
    if (!ref) fail("cannot load reference '" + path + "': " + ref.error().toString());
    return ref ? *ref : nullptr;
}

}  // namespace

int runQuantError(const std::vector<std::string>& argv) {
    auto args = parseOrReport(argv, {"-m", "--reference", "--types", "-t", "--tensor", "--bins"}, {"--json"});
    if (!args) return 2;
    std::string err;
    const int threads = int(args->getInt("-t", 0, err));
    const int bins = int(args->getInt("--bins", 64, err));
    if (!err.empty()) return fail(err);
    if (threads < 0) return fail("-t must be >= 0");
    auto types = parseTypes(args->get("--types"));
    if (!types) return 2;
    auto model = loadModelOrReport(*args);
    if (!model) return 1;
    auto reference = loadReference(args->get("--reference"));
    if (args->has("--reference") && !reference) return 1;
    engine::QuantErrorOptions o;
    o.types = *types;
    o.reference = reference.get();
    o.threads = threads;
    const std::string tensor = args->get("--tensor");
    if (!tensor.empty()) o.tensors = {tensor};
    const bool json = args->has("--json");
    auto report = engine::analyzeQuantError(*model, o, {}, json ? engine::QuantProgress{} : terminalProgress("quant-error"));
    if (!report) return fail(report.error());
    std::optional<engine::TensorQuantHistograms> hist;
    if (!tensor.empty()) {
        engine::QuantHistogramOptions ho;
        ho.types = *types;
        ho.reference = reference.get();
        ho.bins = bins;
        ho.threads = threads;
        auto h = engine::quantErrorHistograms(*model, tensor, ho);
        if (!h) return fail(h.error());
        hist = std::move(*h);
    }
    if (json) {
        std::printf("%s\n", engine::dumpJson(reportJson(*report, hist ? &*hist : nullptr), {2}).c_str());
        return 0;
    }
    const engine::QuantErrorReport& r = *report;
    std::printf("model:      %s\nreference:  %s\n", r.model.c_str(), r.referenceModel.c_str());
    std::printf("analysed %zu tensor%s, %s weights x %zu types in %.2f s on %d thread%s (%.1f M weights x types/s)\n",
                r.tensors.size(), r.tensors.size() == 1 ? "" : "s", engine::formatThousands(uint64_t(r.elements)).c_str(),
                r.types.size(), r.seconds, r.threads, r.threads == 1 ? "" : "s",
                r.seconds > 0 ? double(r.elements) * double(r.types.size()) / r.seconds / 1e6 : 0.0);
    if (!tensor.empty()) {
        printTensorDetail(r.tensors.front(), hist ? &*hist : nullptr);
        return 0;
    }
    std::map<std::string, int> refs;
    for (const auto& t : r.tensors) ++refs[t.reference];
    for (const auto& [text, n] : refs) std::printf("reference weights: %s (%d tensor%s)\n", text.c_str(), n, n == 1 ? "" : "s");
    printTotals(r);
    printPerTensor(r);
    return 0;
}

int runRequantize(const std::vector<std::string>& argv) {
    auto args = parseOrReport(argv, {"-m", "--type", "-o", "-t"}, {});
    if (!args) return 2;
    std::string err;
    const int threads = int(args->getInt("-t", 0, err));
    if (!err.empty()) return fail(err);
    const auto target = engine::tensorTypeFromName(args->get("--type"));
    if (!target || !engine::isRequantizableType(*target))
        return fail("--type must be one of q8_0, q4_0, q4_1, q5_0, q5_1, q4_k, q5_k, q6_k, f16, bf16, f32");
    const std::string out = args->get("-o");
    if (out.empty()) return fail("an output file is required: -o OUT.gguf");
    auto model = loadModelOrReport(*args);
    if (!model) return 1;
    auto plan = engine::planRequantize(*model, *target);
    if (!plan) return fail(plan.error());
    std::map<std::string, int> groups;
    for (const auto& t : *plan) {
        std::string key = typeName(t.from) + " -> " + typeName(t.to);
        if (t.fallback)
            key += " (fallback: row width " + std::to_string(t.shape[0]) + " not a multiple of " +
                   std::to_string(engine::traitsOf(*target).blockSize) + ")";
        else if (t.shape.size() != 2) key += " (kept: not a matrix)";
        ++groups[key];
    }
    std::printf("re-quantizing %s to %s:\n", model->path().c_str(), typeName(*target).c_str());
    for (const auto& [key, n] : groups) std::printf("  %4d tensor%s %s\n", n, n == 1 ? " " : "s", key.c_str());
    const auto t0 = std::chrono::steady_clock::now();
    auto st = engine::requantizeModel(*model, *target, out, {}, terminalProgress("requantize"), threads);
    if (!st) return fail(st.error());
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    auto check = engine::Model::load(out);
    if (!check) return fail("wrote '" + out + "' but it does not load: " + check.error().toString());
    std::printf("wrote %s: %s (was %s) in %.2f s; loads in Glassbox (%s)\n", out.c_str(),
                engine::formatBytes((*check)->fileBytes()).c_str(), engine::formatBytes(model->fileBytes()).c_str(),
                secs, (*check)->weightTypeSummary().c_str());
    return 0;
}

}  // namespace glassbox::cli
