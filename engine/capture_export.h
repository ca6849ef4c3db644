// Exports of a Capture and a LogitLens: JSON for structure and statistics
// (geometry, tokens, executed ops and weights, activation statistics,
// attention row summaries, lens cells) and NPY float32 arrays for the big
// tensors (attention maps, residual stream).
#pragma once

#include <string>
#include <vector>

#include "engine/result.h"

namespace glassbox::engine {

class Capture;
struct LogitLens;

// tokenTexts[i]: display text of token i (may be empty: ids only).
std::string captureToJson(const Capture& capture, const std::vector<std::string>& tokenTexts);
// tokenText(id) for every id in the lens.
std::string logitLensToJson(const LogitLens& lens, const std::vector<std::string>& vocabTexts);

// Errors: Io.
Status writeTextFile(const std::string& path, const std::string& text);
// [heads, n, n] post-softmax probabilities (or pre-softmax scores, -inf
// above the diagonal) of one layer. Errors: InvalidArgument, Io, OutOfMemory.
Status writeAttentionNpy(const Capture& capture, int layer, bool probabilities, const std::string& path);
// [nLayers + 1, n, n_embd]. Errors: InvalidArgument (no residuals), Io.
Status writeResidualNpy(const Capture& capture, const std::string& path);

}  // namespace glassbox::engine
