// glassbox-cli bench: prefill and decode tokens/s, median of several runs
// (bench_runs.h), on the device --device / --gpu-layers ask for; prints
// where the layers actually ran and why, when that is not what was asked.
#include <algorithm>
#include <cstdio>

#include "engine/capture.h"
#include "engine/json.h"
#include "engine/session.h"
#include "engine/tokenizer.h"
#include "kernels/cpu/quant_kernels.h"
#include "tools/glassbox-cli/bench_runs.h"
#include "tools/glassbox-cli/cli_common.h"
#include "tools/glassbox-cli/commands.h"

namespace glassbox::cli {
namespace {

// --capture: the same runs with no capture, with a capture attached that
// records nothing, and with every probe on; ratios against the first.
int benchCapture(engine::Session& s, const std::vector<int32_t>& prompt, int nGen, int reps, bool json) {
    const engine::Model& model = s.model();
    const engine::KvCacheType kv = engine::KvCacheType::F16;
    struct Mode { const char* name; std::shared_ptr<engine::Capture> cap; };
    std::vector<Mode> modes = {{"off", nullptr},
                               {"attached_nothing_requested", std::make_shared<engine::Capture>(model, engine::CaptureOptions{}, kv)},
                               {"all", std::make_shared<engine::Capture>(model, engine::CaptureOptions::all(), kv)}};
    std::vector<RunFigures> figs;
    // Interleave the modes rep by rep so machine noise hits all alike.
    figs.resize(modes.size());
    for (int r = 0; r < reps; ++r)
        for (size_t i = 0; i < modes.size(); ++i) {
            s.attachCapture(modes[i].cap);
            auto f = timeRuns(s, prompt, nGen, 1);
            if (!f) return fail(f.error());
            figs[i].prefill.insert(figs[i].prefill.end(), f->prefill.begin(), f->prefill.end());
            figs[i].decode.insert(figs[i].decode.end(), f->decode.begin(), f->decode.end());
        }
    s.attachCapture(nullptr);
    const uint64_t capBytes = modes[2].cap->bytesPerPosition() * uint64_t(prompt.size());
    const double pp0 = median(figs[0].prefill), tg0 = median(figs[0].decode);
    for (size_t i = 0; i < modes.size(); ++i) {
        const double pp = median(figs[i].prefill), tg = median(figs[i].decode);
        if (json) {
            std::printf("{\"capture\": \"%s\", \"n_prompt\": %zu, \"n_gen\": %d, \"prefill_tokens_per_s\": %.3f, "
                        "\"decode_tokens_per_s\": %.3f, \"prefill_ratio\": %.4f, \"decode_ratio\": %.4f, "
                        "\"capture_bytes_for_prompt\": %llu, \"prefill_runs\": %s, \"decode_runs\": %s}\n",
                        modes[i].name, prompt.size(), nGen, pp, tg, pp0 > 0 ? pp / pp0 : 0.0, tg0 > 0 ? tg / tg0 : 0.0,
                        static_cast<unsigned long long>(i == 2 ? capBytes : 0), jsonList(figs[i].prefill).c_str(),
                        jsonList(figs[i].decode).c_str());
        } else {
            std::printf("capture %-28s prefill %9.2f t/s (%.3fx)  decode %8.2f t/s (%.3fx)\n", modes[i].name, pp,
                        pp0 > 0 ? pp / pp0 : 0.0, tg, tg0 > 0 ? tg / tg0 : 0.0);
        }
    }
    if (!json)
        std::printf("capture of every probe for the %zu-token prompt: %.1f MiB (%llu bytes per position)\n",
                    prompt.size(), double(capBytes) / (1 << 20),
                    static_cast<unsigned long long>(modes[2].cap->bytesPerPosition()));
    return 0;
}

// The figures as one JSON object on stdout.
void printBenchJson(engine::Session& s, const RunFigures& f, int nPrompt, int nGen) {
    const engine::DeviceInfo d = s.backend().deviceInfo();
    engine::JsonValue notes = engine::JsonValue::makeArray();
    for (const std::string& n : s.placementNotes()) notes.push(n);
    if (!d.note.empty()) notes.push(d.note);
    engine::JsonValue j = engine::JsonValue::makeObject();
    j.set("model", s.model().path()).set("threads", s.backend().threads()).set("simd", kernels::simdLevelName());
    j.set("placement", engine::placementName(s.placement())).set("device_kind", d.kind).set("device", d.name);
    j.set("gpu_layers", d.gpuLayers).set("placement_notes", std::move(notes));
    j.set("n_prompt", nPrompt).set("n_gen", nGen);
    j.set("prefill_tokens_per_s", median(f.prefill)).set("decode_tokens_per_s", median(f.decode));
    engine::JsonValue pp = engine::JsonValue::makeArray(), tg = engine::JsonValue::makeArray();
    for (double v : f.prefill) pp.push(v);
    for (double v : f.decode) tg.push(v);
    j.set("prefill_runs", std::move(pp)).set("decode_runs", std::move(tg));
    std::printf("%s\n", engine::dumpJson(j).c_str());
}

}  // namespace

int runBench(const std::vector<std::string>& argv) {
    auto args = parseOrReport(argv, {"-m", "-t", "-p", "-n", "-r", "-c", "--ubatch", "--kv-type", "--device", "--gpu-layers"},
                              {"--json", "--capture"});
    if (!args) return 2;
    std::string err;
    const int nPrompt = int(args->getInt("-p", 512, err));
    const int nGen = int(args->getInt("-n", 128, err));
    const int reps = int(args->getInt("-r", 5, err));
    if (!err.empty()) return fail(err);
    if (nPrompt < 0 || nGen < 0 || reps < 1) return fail("-p and -n must be >= 0 and -r >= 1");
    engine::BackendOptions opts;
    opts.microBatch = 512;
    if (!backendOptionsFrom(*args, opts) || !placementFrom(*args, opts)) return 1;
    auto model = loadModelOrReport(*args);
    if (!model) return 1;
    if (opts.contextSize == 0) opts.contextSize = std::max(nPrompt, nGen) + 16;
    auto sessionR = engine::Session::create(model, opts);
    if (!sessionR) return fail(sessionR.error());
    engine::Session& s = **sessionR;
    const bool json = args->has("--json");
    // With --json the placement goes to stderr, so stdout stays one JSON value.
    printPlacement(json ? stderr : stdout, s, opts.placement);
    const std::vector<int32_t> prompt = benchPrompt(model->config().nVocab, nPrompt);
    if (args->has("--capture")) return benchCapture(s, prompt, nGen, reps, json);
    auto figs = timeRuns(s, prompt, nGen, reps);
    if (!figs) return fail(figs.error());
    if (json) {
        printBenchJson(s, *figs, nPrompt, nGen);
    } else {
        std::printf("model %s, %s weights, %d threads, %s kernels\n", model->path().c_str(),
                    model->weightTypeSummary().c_str(), s.backend().threads(), kernels::simdLevelName());
        std::printf("prefill  pp%-5d %10.2f tokens/s (median of %d)\n", nPrompt, median(figs->prefill), reps);
        std::printf("decode   tg%-5d %10.2f tokens/s (median of %d)\n", nGen, median(figs->decode), reps);
    }
    return 0;
}

}  // namespace glassbox::cli
