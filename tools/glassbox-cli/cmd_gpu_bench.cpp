// glassbox-cli gpu-bench: the CUDA backend's decode and prefill speed next
// to what the same device can do, measured in one run: decode against the
// memory-bandwidth bound (weight bytes read per token ÷ device-to-device
// copy bandwidth), prefill against the cuBLAS half-precision GEMM rate on
// the model's own matrix shapes. Fails with a message without a usable GPU.
#include <algorithm>
#include <cstdio>
#include <fstream>

#include "engine/backend_factory.h"
#include "engine/device_bench.h"
#include "engine/json.h"
#include "engine/matmul_footprint.h"
#include "engine/session.h"
#include "tools/glassbox-cli/bench_runs.h"
#include "tools/glassbox-cli/cli_common.h"
#include "tools/glassbox-cli/commands.h"

namespace glassbox::cli {
namespace {

using engine::JsonValue;

struct Figures {
    engine::MatmulFootprint footprint;
    engine::CopyBandwidth copy;
    engine::GemmRate gemm;
    RunFigures runs;
    engine::StepProfile decodeProfile, prefillProfile;
    int nPrompt = 0, nGen = 0, reps = 0;

    double decodeTps() const { return median(runs.decode); }
    double prefillTps() const { return median(runs.prefill); }
    double decodeLimitTps() const {
        return footprint.decodeWeightBytes ? copy.bytesPerSecond / double(footprint.decodeWeightBytes) : 0.0;
    }
    double decodeFraction() const { return decodeLimitTps() > 0 ? decodeTps() / decodeLimitTps() : 0.0; }
    double prefillFlopsPerSecond() const {
        return nPrompt > 0 ? footprint.prefillFlops(nPrompt) * prefillTps() / nPrompt : 0.0;
    }
    double prefillOverGemm() const {
        return gemm.flopsPerSecond > 0 ? prefillFlopsPerSecond() / gemm.flopsPerSecond : 0.0;
    }
};

// One profiled prefill and one profiled decode step, after the timed runs.
engine::Status profileSteps(engine::Session& s, const std::vector<int32_t>& prompt, Figures& f) {
    s.backend().setProfiling(true);
    s.truncate(0);
    engine::Status st = s.evaluate(prompt);
    if (st) f.prefillProfile = s.backend().lastStepProfile();
    const int32_t tok = prompt.empty() ? 0 : prompt.front();
    if (st) st = s.evaluate(std::span<const int32_t>(&tok, 1));
    if (st) f.decodeProfile = s.backend().lastStepProfile();
    s.backend().setProfiling(false);
    return st;
}

// The backend runs, on a session that must have every layer on the GPU.
engine::Status runBackend(std::shared_ptr<const engine::Model> model, Figures& f, JsonValue& placement) {
    engine::BackendOptions opts;
    opts.placement = engine::Placement::Gpu;
    opts.microBatch = std::max(1, f.nPrompt);
    opts.contextSize = f.nPrompt + f.nGen + 16;
    GB_ASSIGN_OR_RETURN(auto session, engine::Session::create(model, opts));
    engine::Session& s = *session;
    printPlacement(stderr, s, opts.placement);
    auto notAllOnGpu = [&](const std::string& why) {
        return engine::makeError(engine::ErrorCode::Device, "the model did not run on the GPU: " + why);
    };
    if (s.placement() != engine::Placement::Gpu)
        return notAllOnGpu(s.placementNotes().empty() ? "placement " + std::string(engine::placementName(s.placement()))
                                                      : s.placementNotes().back());
    const std::vector<int32_t> prompt = benchPrompt(model->config().nVocab, f.nPrompt);
    GB_ASSIGN_OR_RETURN(f.runs, timeRuns(s, prompt, f.nGen, f.reps));
    GB_TRY(profileSteps(s, prompt, f));
    // A device failure during the runs hands the session to the CPU (the
    // resilient wrapper); a note on a backend still on the GPU (e.g. decode
    // without CUDA graphs) is reported, not fatal.
    const engine::DeviceInfo d = s.backend().deviceInfo();
    if (d.kind != "CUDA") return notAllOnGpu(d.note.empty() ? "backend " + d.kind : d.note);
    if (!d.note.empty()) std::fprintf(stderr, "note: %s\n", d.note.c_str());
    placement.set("placement", engine::placementName(s.placement())).set("device", d.name).set("note", d.note);
    placement.set("gpu_layers", d.gpuLayers).set("total_layers", d.totalLayers);
    placement.set("device_weight_bytes", d.deviceMemory.weights).set("device_kv_bytes", d.deviceMemory.kvCache);
    return {};
}

JsonValue numbers(const std::vector<double>& v) {
    JsonValue a = JsonValue::makeArray();
    for (double x : v) a.push(x);
    return a;
}

JsonValue profileJson(const engine::StepProfile& p) {
    JsonValue ops = JsonValue::makeArray();
    for (const engine::OpTiming& op : p.ops)
        ops.push(JsonValue::makeObject().set("op", op.op).set("ms", op.ms).set("calls", op.calls));
    return JsonValue::makeObject().set("tokens", p.tokens).set("total_ms", p.totalMs).set("device_timed", p.deviceTimed)
        .set("ops", std::move(ops));
}

JsonValue figuresJson(const engine::Model& model, const Figures& f, JsonValue placement) {
    JsonValue j = JsonValue::makeObject();
    j.set("model", model.path()).set("weights", model.weightTypeSummary()).set("device", f.copy.device);
    j.set("n_prompt", f.nPrompt).set("n_gen", f.nGen).set("reps", f.reps).set("backend", std::move(placement));
    j.set("copy", JsonValue::makeObject().set("buffer_bytes", f.copy.bufferBytes).set("repeats", f.copy.repeats)
                      .set("best_seconds", f.copy.bestSeconds).set("bytes_per_second", f.copy.bytesPerSecond));
    j.set("decode", JsonValue::makeObject()
                        .set("weight_bytes_per_token", f.footprint.decodeWeightBytes)
                        .set("tokens_per_s", f.decodeTps()).set("runs", numbers(f.runs.decode))
                        .set("bandwidth_limit_tokens_per_s", f.decodeLimitTps())
                        .set("fraction_of_limit", f.decodeFraction())
                        .set("achieved_bytes_per_second", f.decodeTps() * double(f.footprint.decodeWeightBytes)));
    j.set("prefill", JsonValue::makeObject()
                         .set("tokens_per_s", f.prefillTps()).set("runs", numbers(f.runs.prefill))
                         .set("flops", f.footprint.prefillFlops(f.nPrompt))
                         .set("flops_per_second", f.prefillFlopsPerSecond()));
    JsonValue shapes = JsonValue::makeArray();
    for (const engine::GemmShapeRate& s : f.gemm.shapes)
        shapes.push(JsonValue::makeObject().set("matrices", s.shape.names).set("rows", s.shape.rows)
                        .set("cols", s.shape.cols).set("count", s.shape.count).set("seconds", s.seconds)
                        .set("flops_per_second", s.flopsPerSecond));
    j.set("gemm", JsonValue::makeObject().set("tokens", f.gemm.tokens).set("flops", f.gemm.flops)
                      .set("seconds", f.gemm.seconds).set("flops_per_second", f.gemm.flopsPerSecond)
                      .set("shapes", std::move(shapes)));
    j.set("prefill_over_gemm", f.prefillOverGemm());
    j.set("profile", JsonValue::makeObject().set("decode_step", profileJson(f.decodeProfile))
                         .set("prefill", profileJson(f.prefillProfile)));
    return j;
}

void printProfile(const char* what, const engine::StepProfile& p) {
    if (p.ops.empty()) return;
    std::vector<engine::OpTiming> ops = p.ops;
    std::sort(ops.begin(), ops.end(), [](const auto& a, const auto& b) { return a.ms > b.ms; });
    std::printf("%s (%d tokens, %.3f ms%s):", what, p.tokens, p.totalMs, p.deviceTimed ? ", device-timed" : "");
    for (size_t i = 0; i < ops.size() && i < 6; ++i) std::printf("  %s %.3f ms", ops[i].op.c_str(), ops[i].ms);
    std::printf("\n");
}

void printFigures(const engine::Model& model, const Figures& f) {
    std::printf("model    %s (%s weights) on %s\n", model.path().c_str(), model.weightTypeSummary().c_str(),
                f.copy.device.c_str());
    std::printf("copy     %.1f GB/s device-to-device (read + write, %.0f MiB buffers, best of %d)\n",
                f.copy.bytesPerSecond * 1e-9, double(f.copy.bufferBytes) / (1 << 20), f.copy.repeats);
    std::printf("decode   %.2f tokens/s (median of %d), %.1f MiB of weights per token: bound %.2f tokens/s, "
                "%.1f%% of it (%.1f GB/s)\n",
                f.decodeTps(), f.reps, double(f.footprint.decodeWeightBytes) / (1 << 20), f.decodeLimitTps(),
                100.0 * f.decodeFraction(), f.decodeTps() * double(f.footprint.decodeWeightBytes) * 1e-9);
    std::printf("prefill  pp%d %.1f tokens/s (median of %d), %.1f TFLOP/s in matrix products\n", f.nPrompt,
                f.prefillTps(), f.reps, f.prefillFlopsPerSecond() * 1e-12);
    std::printf("gemm     cuBLAS F16 on the model's shapes at n=%d: %.1f TFLOP/s; prefill reaches %.1f%% of it\n",
                f.gemm.tokens, f.gemm.flopsPerSecond * 1e-12, 100.0 * f.prefillOverGemm());
    for (const engine::GemmShapeRate& s : f.gemm.shapes)
        std::printf("         %-28s %6lld x %-6lld x%-4d %7.1f TFLOP/s\n", s.shape.names.c_str(),
                    static_cast<long long>(s.shape.rows), static_cast<long long>(s.shape.cols), s.shape.count,
                    s.flopsPerSecond * 1e-12);
    printProfile("profile  decode step", f.decodeProfile);
    printProfile("profile  prefill", f.prefillProfile);
}

}  // namespace

int runGpuBench(const std::vector<std::string>& argv) {
    auto args = parseOrReport(argv, {"-m", "-p", "-n", "-r", "--json"}, {});
    if (!args) return 2;
    Figures f;
    std::string err;
    f.nPrompt = int(args->getInt("-p", 512, err));
    f.nGen = int(args->getInt("-n", 128, err));
    f.reps = int(args->getInt("-r", 5, err));
    if (!err.empty()) return fail(err);
    if (f.nPrompt < 1 || f.nGen < 1 || f.reps < 1) return fail("-p, -n and -r must be >= 1");
    const engine::CudaStatus cuda = engine::probeCuda(0);
    if (!cuda.usable) return fail("gpu-bench needs a usable CUDA GPU: " + cuda.reason);
    auto model = loadModelOrReport(*args);
    if (!model) return 1;
    f.footprint = engine::matmulFootprint(*model);
    std::fprintf(stderr, "gpu-bench: device-to-device copy bandwidth\n");
    auto copy = engine::measureCopyBandwidth(0);
    if (!copy) return fail(copy.error());
    f.copy = *copy;
    std::fprintf(stderr, "gpu-bench: cuBLAS GEMM rate on %zu matrix shapes\n", f.footprint.layerShapes.size());
    auto gemm = engine::measureGemmRate(0, f.footprint.layerShapes, f.nPrompt);
    if (!gemm) return fail(gemm.error());
    f.gemm = *gemm;
    std::fprintf(stderr, "gpu-bench: backend prefill and decode\n");
    JsonValue placement = JsonValue::makeObject();
    if (auto st = runBackend(model, f, placement); !st) return fail(st.error());
    printFigures(*model, f);
    const std::string jsonPath = args->get("--json");
    if (jsonPath.empty()) return 0;
    const std::string text = engine::dumpJson(figuresJson(*model, f, std::move(placement)), {2, false}) + "\n";
    if (jsonPath == "-") {
        std::printf("%s", text.c_str());
        return 0;
    }
    std::ofstream out(jsonPath);
    if (!(out << text)) return fail("cannot write '" + jsonPath + "'");
    return 0;
}

}  // namespace glassbox::cli
