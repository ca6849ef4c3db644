// glassbox-cli bench: prefill and decode tokens/s, median of several runs,
// measured like llama-bench (prefill: one prompt of -p tokens from an empty
// cache; decode: -n single-token steps from an empty cache).
#include <algorithm>
#include <chrono>
#include <cstdio>

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

}  // namespace

int runBench(const std::vector<std::string>& argv) {
    auto args = parseOrReport(argv, {"-m", "-t", "-p", "-n", "-r", "-c", "--ubatch", "--kv-type"}, {"--json"});
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
    std::vector<double> pp, tg;
    for (int r = -1; r < reps; ++r) {  // r == -1 is the warm-up
        if (nPrompt > 0) {
            s.truncate(0);
            auto t0 = std::chrono::steady_clock::now();
            auto st = s.evaluate(prompt);
            if (!st) return fail(st.error());
            if (r >= 0) pp.push_back(nPrompt / secondsSince(t0));
        }
        if (nGen > 0) {
            s.truncate(0);
            int32_t tok = model->tokenizer().bos() >= 0 ? model->tokenizer().bos() : 0;
            auto t0 = std::chrono::steady_clock::now();
            for (int i = 0; i < nGen; ++i) {
                auto st = s.evaluate(std::span<const int32_t>(&tok, 1));
                if (!st) return fail(st.error());
                tok = int32_t((tok + 7919) % nVocab);
            }
            if (r >= 0) tg.push_back(nGen / secondsSince(t0));
        }
    }
    const double ppMed = pp.empty() ? 0.0 : median(pp);
    const double tgMed = tg.empty() ? 0.0 : median(tg);
    if (args->has("--json")) {
        auto list = [](const std::vector<double>& v) {
            std::string s = "[";
            for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
            return s + "]";
        };
        std::printf("{\"model\": \"%s\", \"threads\": %d, \"simd\": \"%s\", \"n_prompt\": %d, \"n_gen\": %d, "
                    "\"prefill_tokens_per_s\": %.3f, \"decode_tokens_per_s\": %.3f, \"prefill_runs\": %s, "
                    "\"decode_runs\": %s}\n",
                    model->path().c_str(), s.backend().threads(), kernels::simdLevelName(), nPrompt, nGen, ppMed,
                    tgMed, list(pp).c_str(), list(tg).c_str());
    } else {
        std::printf("model %s, %s weights, %d threads, %s kernels\n", model->path().c_str(),
                    model->weightTypeSummary().c_str(), s.backend().threads(), kernels::simdLevelName());
        std::printf("prefill  pp%-5d %10.2f tokens/s (median of %d)\n", nPrompt, ppMed, reps);
        std::printf("decode   tg%-5d %10.2f tokens/s (median of %d)\n", nGen, tgMed, reps);
    }
    return 0;
}

}  // namespace glassbox::cli
