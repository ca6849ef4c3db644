// Turning attention matrices into pictures. Everything here is a pure
// function of its inputs, safe to call from worker threads: the panel
// renders a frame next to where it computes the map, so the UI thread only
// swaps in a finished image. A matrix is positions × positions, row-major
// (row = query, column = key); cells above the diagonal are masked (zero
// for probabilities, -inf for scores) and drawn in a neutral colour.
#pragma once

#include <QImage>
#include <QString>
#include <memory>
#include <vector>

namespace glassbox::viz {

using AttentionValues = std::shared_ptr<const std::vector<float>>;

// How weights map onto the colour ramp (ProbabilityPalette::forWeight).
struct AttentionScale {
    static constexpr float kLogFloor = 1e-4f;  // log scale: weights at or below this are the low end

    bool probabilities = true;  // false: raw scaled scores (pre-softmax)
    bool log = false;           // probabilities on a log10 scale from kLogFloor to 1
    bool dark = false;          // ramp for a dark background
    float lo = 0.0f, hi = 1.0f; // linear range (scores: the map's finite min and max)

    // Position on the ramp, 0..1; negative for a masked cell.
    double position(float v) const;
    // Text for the two ends of the legend ("0" / "1", "1e-4" / "1", "-7.2" / "11.4").
    QString lowText() const;
    QString highText() const;
};

// A matrix ready to show: its values, size and image (one pixel per cell).
struct AttentionFrame {
    AttentionValues values;
    int n = 0;
    AttentionScale scale;
    QImage image;

    bool isNull() const { return !values || n <= 0; }
    float at(int row, int col) const { return (*values)[size_t(row) * size_t(n) + size_t(col)]; }
};

// The scale for a matrix: probabilities 0..1 (or log), scores over their
// finite range.
AttentionScale attentionScaleFor(const std::vector<float>& values, bool probabilities, bool log, bool dark);
// A frame for an n × n matrix; the image costs one table lookup per cell.
AttentionFrame renderAttentionFrame(AttentionValues values, int n, bool probabilities, bool log, bool dark);
// Re-render the image of `frame` with a different log/dark choice.
AttentionFrame rerenderAttentionFrame(const AttentionFrame& frame, bool log, bool dark);
// A small square picture of the matrix, at most `side` pixels across; each
// pixel shows the largest weight of the block of cells it covers, so thin
// structure (diagonals, sinks) survives the reduction.
QImage renderAttentionThumbnail(const std::vector<float>& values, int n, const AttentionScale& scale, int side);
// The colour of masked cells (above the diagonal).
QRgb attentionMaskColor(bool dark);

}  // namespace glassbox::viz
