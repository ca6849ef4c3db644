// Timed prefill and decode runs (see bench_runs.h).
#include "tools/glassbox-cli/bench_runs.h"

#include <algorithm>
#include <chrono>
#include <span>

#include "engine/model.h"
#include "engine/tokenizer.h"

namespace glassbox::cli {
namespace {

double secondsSince(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

engine::Result<RunFigures> timeRuns(engine::Session& s, const std::vector<int32_t>& prompt, int nGen, int reps) {
    const engine::Model& model = s.model();
    const int nVocab = model.config().nVocab;
    RunFigures f;
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

std::vector<int32_t> benchPrompt(int nVocab, int n) {
    std::vector<int32_t> prompt(static_cast<size_t>(std::max(0, n)), 0);
    uint32_t state = 12345;
    for (auto& t : prompt) {
        state = state * 1664525u + 1013904223u;
        t = int32_t(state % uint32_t(nVocab));
    }
    return prompt;
}

double median(std::vector<double> v) {
    if (v.empty()) return 0.0;
    std::sort(v.begin(), v.end());
    const size_t n = v.size();
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

std::string jsonList(const std::vector<double>& v) {
    std::string s = "[";
    for (size_t i = 0; i < v.size(); ++i) s += std::string(i ? ", " : "") + std::to_string(v[i]);
    return s + "]";
}

}  // namespace glassbox::cli
