// ResidualSummary: what the residual-stream panel shows, computed from a
// Capture away from the UI thread — the L2 norm of the stream at every
// point (the embedding, then after each layer) and position, and the
// "outlier" dimensions: those that most often rank among a token's largest
// |values| across layers and tokens, with their largest |value| and the
// layers where they stand out. Plain data, no widgets.
#pragma once

#include <QString>
#include <limits>
#include <stop_token>
#include <vector>

#include "engine/capture.h"

namespace glassbox::viz {

struct OutlierDim {
    int dim = -1;
    int count = 0;            // (layer, token) pairs where it ranks among the top kTopDims
    float maxAbs = 0;         // its largest |value| after any layer, over all tokens
    int maxLayer = -1;        // where that value is
    int maxPos = -1;
    std::vector<int> layers;  // layers where it ranks among the top dims, ascending
};

struct ResidualSummary {
    int nPoints = 0;          // nLayers + 1
    int nPositions = 0;
    int samples = 0;          // (layer, token) pairs the outliers were counted over
    std::vector<float> norms; // [point * nPositions + pos]; NaN where nothing was recorded
    std::vector<OutlierDim> outliers;  // most frequent first

    float norm(int point, int pos) const {
        return point >= 0 && point < nPoints && pos >= 0 && pos < nPositions
                   ? norms[size_t(point) * size_t(nPositions) + size_t(pos)]
                   : std::numeric_limits<float>::quiet_NaN();
    }
};

// Norms come from the activation statistics (after each layer) and the
// recorded embeddings (point 0); without statistics, from the recorded
// stream itself. Returns an empty summary when stopped.
ResidualSummary summariseResidual(const engine::Capture& capture, int maxOutliers, std::stop_token stop = {});

// "0–3, 7, 12–29".
QString rangesText(const std::vector<int>& sortedValues);

}  // namespace glassbox::viz
