// Logit lens: the model's final norm and output head applied to the
// residual stream after every layer, giving what the model "would say" if it
// stopped there. Computed on demand from a Capture with residuals, through
// the session's own backend (the same code that produces the real logits, so
// the last point reproduces them).
#pragma once

#include <cstdint>
#include <functional>
#include <stop_token>
#include <vector>

#include "engine/result.h"

namespace glassbox::engine {

class Capture;
class Session;

struct LensCell {
    std::vector<int32_t> topIds;    // most probable first
    std::vector<float> topProbs;
    int targetRank = 0;             // 0-based rank of the target token at this point
    float targetProb = 0;
};

struct LogitLens {
    int firstPos = 0;
    int nPos = 0;
    int nPoints = 0;                // nLayers + 1: point 0 = embeddings, point l + 1 = after layer l
    int topK = 0;
    // Per position: the token the model finally predicts there (top-1 of the
    // real logits, i.e. of the last point).
    std::vector<int32_t> target;
    std::vector<LensCell> cells;    // [point * nPos + (pos - firstPos)]

    const LensCell& cell(int point, int pos) const { return cells[size_t(point) * nPos + size_t(pos - firstPos)]; }
};

using LensProgress = std::function<void(float fraction)>;

// Positions [firstPos, firstPos + nPos) of the capture. Errors:
// InvalidArgument (no residuals recorded, range outside the capture, topK
// outside [1, 50]), Cancelled, OutOfMemory.
Result<LogitLens> computeLogitLens(Session& session, const Capture& capture, int firstPos, int nPos, int topK,
                                   std::stop_token stop = {}, const LensProgress& progress = {});

}  // namespace glassbox::engine
