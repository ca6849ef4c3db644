// Colours for token probabilities and step entropies, shared by every view
// that paints generated tokens (token view, compare table, legends). One
// place decides the scale so a token looks the same everywhere.
#pragma once

#include <QColor>
#include <QString>

#include "engine/sampler.h"

namespace glassbox::viz {

// What a colour encodes: a generated token's probability or its step's
// entropy, or an attention weight in a heatmap.
enum class ColorMode { Probability, Entropy, Attention };

class ProbabilityPalette {
public:
    // Entropy (bits) at which the entropy scale saturates.
    static constexpr double kMaxEntropyBits = 5.0;

    // Background for a token the model gave probability p (0..1): red for
    // unlikely, through amber, to green for near-certain.
    static QColor forProbability(double p, bool dark);
    // Background for a step whose entropy, scaled to 0..1, is `scaled`:
    // pale blue for a confident step, deep violet for an uncertain one.
    static QColor forEntropy(double scaled, bool dark);
    // Heatmap cell for an attention weight scaled to 0..1, starting near the
    // view's background at 0: white → blue → deep violet on light themes,
    // near-black → blue → orange → yellow on dark ones. Not softened, since
    // cells carry no text.
    static QColor forWeight(double scaled, bool dark);
    // Black or white, whichever reads better on `background`.
    static QColor textOn(const QColor& background);

    // The model's probability of the chosen token (exp of its raw logprob).
    static double probabilityOf(const engine::SampleResult& sample);
    // Entropy in bits of the model's raw distribution at this step, from the
    // captured raw stage when present, else from the top alternatives; the
    // mass outside the listed candidates counts as one lumped outcome.
    static double entropyBits(const engine::SampleResult& sample);
    // entropyBits scaled to 0..1 by kMaxEntropyBits.
    static double scaledEntropy(const engine::SampleResult& sample);

    // Short legend text for a mode, e.g. "colour: probability (red low, green high)".
    static QString legend(ColorMode mode);
};

}  // namespace glassbox::viz
