// Helpers shared by the sampler tests (tst_sampler*.cpp): settings with every
// filter off, logits from probabilities or at random, stage ids, a reference
// survivor set and a chi-square statistic.
#pragma once

#include <QtTest>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "engine/rng.h"
#include "engine/sampler.h"

namespace glassbox::engine::sampler_test {

inline constexpr float kNegInf = -std::numeric_limits<float>::infinity();

// Every filter off, temperature 1, fixed seed.
inline SamplerSettings plainSettings() {
    SamplerSettings s;
    s.temperature = 1.0f;
    s.topK = 0;
    s.topP = 1.0f;
    s.minP = 0.0f;
    s.seed = 1234;
    s.topLogprobs = 5;
    return s;
}

inline Sampler makeSampler(const SamplerSettings& settings) {
    Result<Sampler> sampler = Sampler::create(settings);
    if (!sampler.ok()) qFatal("Sampler::create failed: %s", sampler.error().toString().c_str());
    return std::move(sampler).value();
}

inline std::vector<float> logitsFromProbs(std::initializer_list<double> probs) {
    std::vector<float> out;
    for (double p : probs) out.push_back(p > 0 ? float(std::log(p)) : kNegInf);
    return out;
}

inline std::vector<float> randomLogits(size_t n, uint64_t seed, float scale) {
    Rng rng(seed);
    std::vector<float> out(n);
    for (float& l : out) l = (rng.nextFloat() * 2.0f - 1.0f) * scale;
    return out;
}

inline std::vector<int32_t> ids(const SamplerStage& stage) {
    std::vector<int32_t> out;
    for (const StageCandidate& c : stage.top) out.push_back(c.id);
    return out;
}

// Straightforward reference for the survivor set: full sort, then each
// filter as defined in sampler.h.
inline std::vector<int32_t> referenceSurvivors(const std::vector<float>& logits, float temperature,
                                        int32_t topK, float topP, float minP) {
    std::vector<int32_t> order;
    for (int32_t i = 0; i < int32_t(logits.size()); ++i)
        if (logits[size_t(i)] != kNegInf) order.push_back(i);
    std::sort(order.begin(), order.end(), [&](int32_t a, int32_t b) {
        return logits[size_t(a)] > logits[size_t(b)] || (logits[size_t(a)] == logits[size_t(b)] && a < b);
    });
    if (topK > 0 && size_t(topK) < order.size()) order.resize(size_t(topK));
    const double max = logits[size_t(order[0])];
    auto w = [&](int32_t id) { return std::exp((logits[size_t(id)] - max) / temperature); };
    if (topP < 1.0f) {
        double z = 0;
        for (int32_t id : order) z += w(id);
        double cum = 0;
        for (size_t i = 0; i < order.size(); ++i) {
            cum += w(order[i]) / z;
            if (cum >= topP) {
                order.resize(i + 1);
                break;
            }
        }
    }
    if (minP > 0.0f)
        order.erase(std::remove_if(order.begin(), order.end(), [&](int32_t id) { return w(id) < minP; }),
                    order.end());
    std::sort(order.begin(), order.end());
    return order;
}

// Pearson chi-square of observed counts against expected probabilities.
inline double chiSquare(const std::vector<int64_t>& counts, const std::vector<double>& probs, int64_t n) {
    double chi = 0;
    for (size_t i = 0; i < counts.size(); ++i) {
        const double expected = double(n) * probs[i];
        if (expected == 0) {
            if (counts[i] != 0) return 1e300;
            continue;
        }
        chi += (double(counts[i]) - expected) * (double(counts[i]) - expected) / expected;
    }
    return chi;
}

}  // namespace glassbox::engine::sampler_test
