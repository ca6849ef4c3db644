// Logit comparisons for the backend agreement tests (see logit_compare.h).
#include "support/logit_compare.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <vector>

namespace glassbox::testing {
namespace {

std::vector<double> logSoftmax(std::span<const float> x) {
    double mx = -INFINITY;
    for (float v : x) mx = std::max(mx, double(v));
    double z = 0.0;
    for (float v : x) z += std::exp(double(v) - mx);
    const double lz = mx + std::log(z);
    std::vector<double> out(x.size());
    for (size_t i = 0; i < x.size(); ++i) out[i] = double(x[i]) - lz;
    return out;
}

}  // namespace

int32_t argmaxLogit(std::span<const float> logits) {
    return int32_t(std::max_element(logits.begin(), logits.end()) - logits.begin());
}

double klDivergence(std::span<const float> reference, std::span<const float> test) {
    const std::vector<double> lp = logSoftmax(reference), lq = logSoftmax(test);
    double kl = 0.0;
    for (size_t i = 0; i < lp.size(); ++i) kl += std::exp(lp[i]) * (lp[i] - lq[i]);
    return std::max(kl, 0.0);
}

double relativeMaxDiff(std::span<const float> reference, std::span<const float> test) {
    double scale = 1.0, diff = 0.0;
    for (size_t i = 0; i < reference.size(); ++i) {
        scale = std::max(scale, std::fabs(double(reference[i])));
        diff = std::max(diff, std::fabs(double(reference[i]) - double(test[i])));
    }
    return diff / scale;
}

bool allFinite(std::span<const float> logits) {
    return std::all_of(logits.begin(), logits.end(), [](float v) { return std::isfinite(v); });
}

void LogitAgreement::add(std::span<const float> reference, std::span<const float> test) {
    const double kl = klDivergence(reference, test);
    ++rows;
    klSum += kl;
    klMax = std::max(klMax, kl);
    top1Same += argmaxLogit(reference) == argmaxLogit(test);
    diffMax = std::max(diffMax, relativeMaxDiff(reference, test));
}

std::string LogitAgreement::summary() const {
    char buf[256];
    std::snprintf(buf, sizeof buf, "%d rows: mean KL %.3g, max KL %.3g, top-1 same %.2f%%, max rel diff %.3g", rows,
                  meanKl(), klMax, 100.0 * top1Rate(), diffMax);
    return buf;
}

}  // namespace glassbox::testing
