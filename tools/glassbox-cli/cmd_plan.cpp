// glassbox-cli plan: will a model fit, and at what context? Reads metadata
// only (GGUF header, safetensors headers + config.json, or a bare
// config.json with an assumed weight type) and prints the weight table, the
// KV cache per token and for the context, the backend's scratch, totals for
// N sequences, the fit against a budget (or the available RAM), the
// MHA/GQA/MQA comparison, common GPUs, and the KV formula.
#include <cstdio>

#include "engine/json.h"
#include "engine/memory_plan.h"
#include "tools/glassbox-cli/cli_common.h"
#include "tools/glassbox-cli/commands.h"

namespace glassbox::cli {
namespace {

using engine::MemoryPlan;
using engine::ModelFootprint;
using engine::formatBytes;
using engine::formatThousands;

struct PlanRequest {
    std::string path;
    std::optional<engine::TensorType> weightType;
    engine::PlanOptions options;
    std::string budgetSource;  // where the budget came from
};

const char* layoutName(const engine::ModelConfig& c) {
    return c.nHeadKv == c.nHead ? "MHA" : (c.nHeadKv == 1 ? "MQA" : "GQA");
}

std::string sized(uint64_t bytes) { return formatThousands(bytes) + " bytes (" + formatBytes(bytes) + ")"; }

std::optional<PlanRequest> requestFrom(const CliArgs& args) {
    PlanRequest r;
    const std::string model = args.get("-m"), config = args.get("--config");
    if (model.empty() == config.empty()) {
        fail("give either -m MODEL or --config config.json");
        return std::nullopt;
    }
    r.path = model.empty() ? config : model;
    if (args.has("--weight-type")) {
        r.weightType = engine::tensorTypeFromName(args.get("--weight-type"));
        if (!r.weightType) {
            fail("unknown --weight-type '" + args.get("--weight-type") + "'");
            return std::nullopt;
        }
    }
    const auto kv = engine::tensorTypeFromName(args.get("--kv-type", "f16"));
    if (!kv || !engine::isPlannableKvType(*kv)) {
        fail("--kv-type must be f32, f16, q8_0 or q4_0");
        return std::nullopt;
    }
    std::string err;
    engine::PlanOptions& o = r.options;
    o.kvType = *kv;
    o.contextSize = int(args.getInt("-c", 0, err));
    o.sequences = int(args.getInt("--sequences", 1, err));
    o.microBatch = int(args.getInt("--ubatch", o.microBatch, err));
    o.threads = int(args.getInt("-t", 0, err));
    o.safetyMargin = args.getDouble("--margin", o.safetyMargin, err);
    if (!err.empty()) {
        fail(err);
        return std::nullopt;
    }
    if (args.has("--budget")) {
        auto budget = engine::parseByteSize(args.get("--budget"));
        if (!budget) {
            fail(budget.error());
            return std::nullopt;
        }
        o.budgetBytes = *budget;
        r.budgetSource = "given";
    } else {
        const engine::SystemMemory sys = engine::querySystemMemory();
        o.budgetBytes = sys.availableRam;
        r.budgetSource = "available RAM (" + sys.source + ")";
    }
    return r;
}

void printWeights(const ModelFootprint& fp) {
    if (fp.weightsEstimated)
        std::printf("\nweights, estimated from the tensor shapes (%s):\n", fp.weights.empty() ? "" : fp.weights[0].type.c_str());
    else
        std::printf("\nweights, from the %s tensor headers:\n", fp.source.c_str());
    std::printf("  %-8s %8s %18s %20s %10s\n", "type", "tensors", "elements", "bytes", "");
    for (const auto& w : fp.weights)
        std::printf("  %-8s %8d %18s %20s %10s\n", w.type.c_str(), w.tensors, formatThousands(w.elements).c_str(),
                    formatThousands(w.bytes).c_str(), formatBytes(w.bytes).c_str());
    std::printf("  %-8s %8d %18s %20s %10s\n", "total", fp.weightTensors, "", formatThousands(fp.weightBytes).c_str(),
                formatBytes(fp.weightBytes).c_str());
}

void printKvAndScratch(const MemoryPlan& p) {
    const engine::PlanOptions& o = p.options;
    std::printf("\nKV cache (%s):\n", std::string(engine::tensorTypeName(o.kvType)).c_str());
    std::printf("  %-16s %s\n", "per token", sized(p.kvBytesPerToken).c_str());
    std::printf("  %-16s %s at %s tokens\n", "per sequence", sized(p.kvBytesPerSequence).c_str(),
                formatThousands(uint64_t(o.contextSize)).c_str());
    if (o.sequences > 1)
        std::printf("  %-16s %s\n", (std::to_string(o.sequences) + " sequences").c_str(), sized(p.kvBytesTotal).c_str());
    std::printf("  %s\n", p.kvFormula.c_str());
    const engine::ScratchBreakdown& s = p.scratch;
    std::printf("\nscratch per sequence (micro-batch %d, %d threads):\n", o.microBatch, o.threads);
    const std::pair<const char*, uint64_t> rows[] = {
        {"activations (x h q k v attn o gate up)", s.activations},
        {"attention scores (threads x context x 2)", s.scores},
        {"RoPE cos/sin", s.rope},
        {"matmul activation scratch", s.matmulScratch},
        {"fused q/k/v, gate/up scratch", s.fusedScratch},
        {"logits (n_vocab floats)", s.logits},
        {"total", s.total()}};
    for (const auto& [name, bytes] : rows)
        std::printf("  %-42s %16s %10s\n", name, formatThousands(bytes).c_str(), formatBytes(bytes).c_str());
}

void printTotalsAndFit(const ModelFootprint& fp, const MemoryPlan& p, const std::string& budgetSource) {
    const engine::PlanOptions& o = p.options;
    std::printf("\ntotals:\n");
    std::printf("  weights (shared)             %s\n", sized(p.weightBytes).c_str());
    std::printf("  per sequence (KV + scratch)  %s\n", sized(p.perSequenceBytes).c_str());
    const std::string label = "total, " + std::to_string(o.sequences) + (o.sequences == 1 ? " sequence" : " sequences");
    std::printf("  %-28s %s\n", label.c_str(), sized(p.totalBytes).c_str());
    if (!p.fit) {
        std::printf("\nbudget: unknown (no --budget and the available RAM could not be read)\n");
        return;
    }
    const engine::BudgetFit& f = *p.fit;
    std::printf("\nbudget: %s, %s; %.0f%% kept free -> usable %s\n", formatBytes(f.budgetBytes).c_str(),
                budgetSource.c_str(), o.safetyMargin * 100.0, formatBytes(f.usableBytes).c_str());
    std::printf("  fits: %s\n", f.fits ? "yes" : "NO");
    if (f.maxContext > 0) {
        std::printf("  largest context for %d sequence%s: %s tokens", o.sequences, o.sequences == 1 ? "" : "s",
                    formatThousands(uint64_t(f.maxContext)).c_str());
        if (f.maxContext == engine::kPlanMaxContext) std::printf(" (the backend's limit)");
        if (f.maxContext > fp.config.nCtxTrain)
            std::printf(" (beyond the training context of %s)", formatThousands(uint64_t(fp.config.nCtxTrain)).c_str());
        std::printf("\n");
    } else {
        std::printf("  largest context: none (the weights and scratch alone do not fit)\n");
    }
    std::printf("  most sequences at %s tokens: %lld\n", formatThousands(uint64_t(o.contextSize)).c_str(),
                static_cast<long long>(f.maxSequences));
}

void printComparisons(const ModelFootprint& fp, const MemoryPlan& p) {
    const engine::PlanOptions& o = p.options;
    std::printf("\nattention layouts, KV at %s tokens × %d sequence%s:\n",
                formatThousands(uint64_t(o.contextSize)).c_str(), o.sequences, o.sequences == 1 ? "" : "s");
    for (const auto& v : p.attention)
        std::printf("  %-4s %5d KV heads %14s per token %12s%s\n", v.name.c_str(), v.nKvHeads,
                    formatThousands(v.kvBytesPerToken).c_str(), formatBytes(v.kvBytes).c_str(),
                    v.actual ? "   <- this model" : "");
    std::printf("\nwhat if (same buffers in accelerator memory, %.0f%% kept free):\n", o.safetyMargin * 100.0);
    for (const auto& gpu : engine::commonGpus()) {
        engine::PlanOptions at = o;
        at.budgetBytes = gpu.bytes;
        auto plan = engine::planMemory(fp, at);
        if (!plan || !plan->fit) continue;
        std::printf("  %-20s %-4s largest context %9s, most sequences %lld\n", gpu.name.c_str(),
                    plan->fit->fits ? "fits" : "no", formatThousands(uint64_t(plan->fit->maxContext)).c_str(),
                    static_cast<long long>(plan->fit->maxSequences));
    }
}

engine::JsonValue planJson(const ModelFootprint& fp, const MemoryPlan& p, const PlanRequest& r) {
    using engine::JsonValue;
    const engine::PlanOptions& o = p.options;
    JsonValue j = JsonValue::makeObject();
    j.set("model", r.path);
    j.set("source", fp.source);
    j.set("weights_estimated", fp.weightsEstimated);
    JsonValue weights = JsonValue::makeArray();
    for (const auto& w : fp.weights)
        weights.push(JsonValue::makeObject().set("type", w.type).set("tensors", w.tensors)
                         .set("elements", w.elements).set("bytes", w.bytes));
    j.set("weights", std::move(weights));
    j.set("weight_bytes", p.weightBytes);
    j.set("context", o.contextSize).set("sequences", o.sequences).set("micro_batch", o.microBatch);
    j.set("threads", o.threads).set("kv_type", std::string(engine::tensorTypeName(o.kvType)));
    j.set("kv_bytes_per_token", p.kvBytesPerToken).set("kv_bytes_per_sequence", p.kvBytesPerSequence);
    j.set("kv_bytes_total", p.kvBytesTotal).set("kv_formula", p.kvFormula);
    const engine::ScratchBreakdown& s = p.scratch;
    j.set("scratch", JsonValue::makeObject().set("activations", s.activations).set("scores", s.scores)
                         .set("rope", s.rope).set("matmul", s.matmulScratch).set("fused", s.fusedScratch)
                         .set("logits", s.logits).set("total", s.total()));
    j.set("per_sequence_bytes", p.perSequenceBytes).set("total_bytes", p.totalBytes);
    if (p.fit)
        j.set("budget", JsonValue::makeObject().set("bytes", p.fit->budgetBytes).set("source", r.budgetSource)
                            .set("safety_margin", o.safetyMargin).set("usable_bytes", p.fit->usableBytes)
                            .set("fits", p.fit->fits).set("max_context", p.fit->maxContext)
                            .set("max_sequences", p.fit->maxSequences));
    JsonValue attention = JsonValue::makeArray();
    for (const auto& v : p.attention)
        attention.push(JsonValue::makeObject().set("layout", v.name).set("kv_heads", v.nKvHeads)
                           .set("kv_bytes_per_token", v.kvBytesPerToken).set("kv_bytes", v.kvBytes)
                           .set("actual", v.actual));
    j.set("attention", std::move(attention));
    return j;
}

}  // namespace

int runPlan(const std::vector<std::string>& argv) {
    auto args = parseOrReport(argv, {"-m", "--config", "--weight-type", "-c", "--sequences", "--kv-type", "--ubatch",
                                     "-t", "--budget", "--margin"},
                              {"--json"});
    if (!args) return 2;
    auto request = requestFrom(*args);
    if (!request) return 2;
    auto footprint = engine::footprintFromPath(request->path, request->weightType);
    if (!footprint) return fail("cannot read '" + request->path + "': " + footprint.error().toString());
    auto plan = engine::planMemory(*footprint, request->options);
    if (!plan) return fail(plan.error());
    if (args->has("--json")) {
        std::printf("%s\n", engine::dumpJson(planJson(*footprint, *plan, *request), {2}).c_str());
        return 0;
    }
    const engine::ModelConfig& c = footprint->config;
    std::printf("model:  %s (%s, %s)\n", request->path.c_str(), footprint->source.c_str(), c.architecture.c_str());
    std::printf("shape:  %d layers, hidden %d, %d heads / %d KV heads (%s) × %d dims, FFN %d, vocabulary %d, "
                "training context %d\n",
                c.nLayers, c.nEmbd, c.nHead, c.nHeadKv, layoutName(c), c.headDim, c.nFf, c.nVocab, c.nCtxTrain);
    printWeights(*footprint);
    printKvAndScratch(*plan);
    printTotalsAndFit(*footprint, *plan, request->budgetSource);
    printComparisons(*footprint, *plan);
    return 0;
}

}  // namespace glassbox::cli
