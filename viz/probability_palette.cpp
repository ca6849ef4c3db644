// Colour scales for probabilities and entropies.
#include "viz/probability_palette.h"

#include <algorithm>
#include <array>
#include <cmath>

namespace glassbox::viz {
namespace {

struct Stop {
    double at;
    QColor color;
};

QColor interpolate(const std::array<Stop, 5>& stops, double x) {
    x = std::clamp(x, 0.0, 1.0);
    for (size_t i = 1; i < stops.size(); ++i) {
        if (x <= stops[i].at) {
            const Stop& a = stops[i - 1];
            const Stop& b = stops[i];
            const double t = (x - a.at) / (b.at - a.at);
            return QColor::fromRgbF(float(a.color.redF() + t * (b.color.redF() - a.color.redF())),
                                    float(a.color.greenF() + t * (b.color.greenF() - a.color.greenF())),
                                    float(a.color.blueF() + t * (b.color.blueF() - a.color.blueF())));
        }
    }
    return stops.back().color;
}

// Softens a saturated colour into a background that text stays readable on.
QColor soften(const QColor& c, bool dark) {
    const QColor base = dark ? QColor(30, 32, 36) : QColor(255, 255, 255);
    const double keep = dark ? 0.62 : 0.55;
    return QColor::fromRgbF(float(c.redF() * keep + base.redF() * (1 - keep)),
                            float(c.greenF() * keep + base.greenF() * (1 - keep)),
                            float(c.blueF() * keep + base.blueF() * (1 - keep)));
}

}  // namespace

QColor ProbabilityPalette::forProbability(double p, bool dark) {
    static const std::array<Stop, 5> stops = {{{0.0, QColor(0xd7, 0x30, 0x27)},
                                               {0.25, QColor(0xf4, 0x6d, 0x43)},
                                               {0.5, QColor(0xfd, 0xc8, 0x4a)},
                                               {0.75, QColor(0xa6, 0xd9, 0x6a)},
                                               {1.0, QColor(0x1a, 0x98, 0x50)}}};
    return soften(interpolate(stops, p), dark);
}

QColor ProbabilityPalette::forEntropy(double scaled, bool dark) {
    static const std::array<Stop, 5> stops = {{{0.0, QColor(0xc6, 0xdb, 0xef)},
                                               {0.25, QColor(0x6b, 0xae, 0xd6)},
                                               {0.5, QColor(0x80, 0x7d, 0xba)},
                                               {0.75, QColor(0x9e, 0x4a, 0x9c)},
                                               {1.0, QColor(0x6a, 0x10, 0x6b)}}};
    return soften(interpolate(stops, scaled), dark);
}

QColor ProbabilityPalette::forWeight(double scaled, bool dark) {
    static const std::array<Stop, 5> light = {{{0.0, QColor(0xfb, 0xfb, 0xfd)},
                                               {0.25, QColor(0xa9, 0xcc, 0xe6)},
                                               {0.5, QColor(0x4a, 0x8f, 0xc9)},
                                               {0.75, QColor(0x6a, 0x4c, 0xa8)},
                                               {1.0, QColor(0x3a, 0x06, 0x6e)}}};
    static const std::array<Stop, 5> darkStops = {{{0.0, QColor(0x1c, 0x1e, 0x24)},
                                                   {0.25, QColor(0x2b, 0x3f, 0x7a)},
                                                   {0.5, QColor(0x45, 0x86, 0xc4)},
                                                   {0.75, QColor(0xe0, 0x8c, 0x3e)},
                                                   {1.0, QColor(0xfd, 0xe7, 0x4c)}}};
    return interpolate(dark ? darkStops : light, scaled);
}

QColor ProbabilityPalette::textOn(const QColor& background) {
    const double luma = 0.299 * background.redF() + 0.587 * background.greenF() + 0.114 * background.blueF();
    return luma > 0.55 ? QColor(20, 20, 20) : QColor(245, 245, 245);
}

double ProbabilityPalette::probabilityOf(const engine::SampleResult& sample) {
    return std::exp(double(sample.logprob));
}

double ProbabilityPalette::entropyBits(const engine::SampleResult& sample) {
    double h = 0.0;
    double mass = 0.0;
    auto add = [&](double p) {
        if (p > 0.0) {
            h -= p * std::log2(p);
            mass += p;
        }
    };
    const auto& raw = sample.stages[engine::SamplerStageKind::Raw];
    if (sample.hasStages && !raw.top.empty()) {
        for (const auto& c : raw.top) add(double(c.prob));
    } else {
        for (const auto& alt : sample.topAlternatives) add(std::exp(double(alt.logprob)));
    }
    const double rest = 1.0 - mass;
    if (rest > 1e-9) h -= rest * std::log2(rest);
    return std::max(0.0, h);
}

double ProbabilityPalette::scaledEntropy(const engine::SampleResult& sample) {
    return std::clamp(entropyBits(sample) / kMaxEntropyBits, 0.0, 1.0);
}

QString ProbabilityPalette::legend(ColorMode mode) {
    if (mode == ColorMode::Attention)
        return QStringLiteral("Colour: attention weight (pale = little, dark/bright = much)");
    return mode == ColorMode::Probability
               ? QStringLiteral("Colour: probability of the chosen token (red = unlikely, green = likely)")
               : QStringLiteral("Colour: entropy of the step (pale = confident, violet = uncertain)");
}

}  // namespace glassbox::viz
