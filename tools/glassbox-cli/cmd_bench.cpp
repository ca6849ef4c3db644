// glassbox-cli bench: prefill and decode tokens/s, median of several runs,
// measured like llama-bench (prefill: one prompt of -p tokens from an empty
// cache; decode: -n single-token steps from an empty cache).
#include <algorithm>
#include <chrono>
#include <cstdio>

#include "engine/capture.h"
#include "engine/session.h"
#include "engine/tokenizer.h"
#include "kernels/cpu/quant_kernels.h"
#include "tools/glassbox-cli/cli_common.h"
#include "tools/glassbox-cli/commands.h"

namespace glassbox::cli {
namespace {

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    const size_t n = v.size();
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

double secondsSince(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

struct BenchFigures {
    std::vector<double> prefill, decode;
};

// Prefill and decode runs on one session (r == -1 is the warm-up).
engine::Result<BenchFigures> measure(engine::Session& s, const std::vector<int32_t>& prompt, int nGen, int reps) {
    const engine::Model& model = s.model();
    const int nVocab = model.config().nVocab;
    BenchFigures f;
    for (int r = -1; r < reps; ++r) {
        if (!prompt.empty()) {
            s.truncate(0);
            auto t0 = std::chrono::steady_clock::now();
            GB_TRY(s.evaluate(prompt));
            if (r >= 0) f.prefill.push_back(double(prompt.size()) / secondsSince(t0));
        }
        if (nGen > 0) {
            s.truncate(0);
            int32_t tok = model.tokenizer().bos() >= 0 ? model.tokenizer().bos() : 0;
            auto t0 = std::chrono::steady_clock::now();
            for (int i = 0; i < nGen; ++i) {
                GB_TRY(s.evaluate(std::span<const int32_t>(&tok, 1)));
                tok = int32_t((tok + 7919) % nVocab);
            }
            if (r >= 0) f.decode.push_back(nGen / secondsSince(t0));
        }
    }
    return f;
}

std::string jsonList(const std::vector<double>& v) {
    std::string s = "[";
    for (size_t i = 0; i < v.size(); ++i) s += std::string(i ? ", " : "") + std::to_string(v[i]);
    return s + "]";
}

double med(const std::vector<double>& v) { return v.empty() ? 0.0 : median(v); }

// --capture: the same runs with no capture, with a capture attached that
// records nothing, and with every probe on; ratios against the first.
int benchCapture(engine::Session& s, const std::vector<int32_t>& prompt, int nGen, int reps, bool json) {
    const engine::Model& model = s.model();
    const engine::KvCacheType kv = engine::KvCacheType::F16;
    struct Mode { const char* name; std::shared_ptr<engine::Capture> cap; };
    std::vector<Mode> modes = {{"off", nullptr},
                               {"attached_nothing_requested", std::make_shared<engine::Capture>(model, engine::CaptureOptions{}, kv)},
                               {"all", std::make_shared<engine::Capture>(model, engine::CaptureOptions::all(), kv)}};
    std::vector<BenchFigures> figs;
    // Interleave the modes rep by rep so machine noise hits all alike.
    figs.resize(modes.size());
    for (int r = 0; r < reps; ++r)
        for (size_t i = 0; i < modes.size(); ++i) {
            s.attachCapture(modes[i].cap);
            auto f = measure(s, prompt, nGen, 1);
            if (!f) return fail(f.error());
            figs[i].prefill.insert(figs[i].prefill.end(), f->prefill.begin(), f->prefill.end());
            figs[i].decode.insert(figs[i].decode.end(), f->decode.begin(), f->decode.end());
        }
    s.attachCapture(nullptr);
    const uint64_t capBytes = modes[2].cap->bytesPerPosition() * uint64_t(prompt.size());
    const double pp0 = med(figs[0].prefill), tg0 = med(figs[0].decode);
    for (size_t i = 0; i < modes.size(); ++i) {
        const double pp = med(figs[i].prefill), tg = med(figs[i].decode);
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

}  // namespace

int runBench(const std::vector<std::string>& argv) {
    auto args = parseOrReport(argv, {"-m", "-t", "-p", "-n", "-r", "-c", "--ubatch", "--kv-type"}, {"--json", "--capture"});
    if (!args) return 2;
    std::string err;
    const int nPrompt = int(args->getInt("-p", 512, err));
    const int nGen = int(args->getInt("-n", 128, err));
    const int reps = int(args->getInt("-r", 5, err));
    if (!err.empty()) return fail(err);
    if (nPrompt < 0 || nGen < 0 || reps < 1) return fail("-p and -n must be >= 0 and -r >= 1");
    auto model = loadModelOrReport(*args);
    if (!model) return 1;
    engine::BackendOptions opts;
    opts.microBatch = 512;
    if (!backendOptionsFrom(*args, opts)) return 1;
    if (opts.contextSize == 0) opts.contextSize = std::max(nPrompt, nGen) + 16;
    auto sessionR = engine::Session::create(model, opts);
    if (!sessionR) return fail(sessionR.error());
    engine::Session& s = **sessionR;
    const int nVocab = model->config().nVocab;
    std::vector<int32_t> prompt(static_cast<size_t>(nPrompt), 0);
    uint32_t state = 12345;
    for (auto& t : prompt) {
        state = state * 1664525u + 1013904223u;
        t = int32_t(state % uint32_t(nVocab));
    }
    if (args->has("--capture")) return benchCapture(s, prompt, nGen, reps, args->has("--json"));
    auto figs = measure(s, prompt, nGen, reps);
    if (!figs) return fail(figs.error());
    const double ppMed = med(figs->prefill), tgMed = med(figs->decode);
    if (args->has("--json")) {
        std::printf("{\"model\": \"%s\", \"threads\": %d, \"simd\": \"%s\", \"n_prompt\": %d, \"n_gen\": %d, "
                    "\"prefill_tokens_per_s\": %.3f, \"decode_tokens_per_s\": %.3f, \"prefill_runs\": %s, "
                    "\"decode_runs\": %s}\n",
                    model->path().c_str(), s.backend().threads(), kernels::simdLevelName(), nPrompt, nGen, ppMed,
                    tgMed, jsonList(figs->prefill).c_str(), jsonList(figs->decode).c_str());
    } else {
        std::printf("model %s, %s weights, %d threads, %s kernels\n", model->path().c_str(),
                    model->weightTypeSummary().c_str(), s.backend().threads(), kernels::simdLevelName());
        std::printf("prefill  pp%-5d %10.2f tokens/s (median of %d)\n", nPrompt, ppMed, reps);
        std::printf("decode   tg%-5d %10.2f tokens/s (median of %d)\n", nGen, tgMed, reps);
    }
    return 0;
}

}  // namespace glassbox::cli
