// Logit lens over a capture's residual stream, through the session's backend.
#include "engine/logit_lens.h"

#include <algorithm>
#include <cmath>
#include <new>
#include <numeric>

#include "engine/capture.h"
#include "engine/session.h"

namespace glassbox::engine {
namespace {

// Softmax statistics of one logits row: top-k ids/probabilities and the
// rank and probability of `target` (-1: none yet).
LensCell summarise(const float* logits, int nVocab, int topK, int32_t target, std::vector<int32_t>& order) {
    const float maxLogit = *std::max_element(logits, logits + nVocab);
    double z = 0;
    for (int i = 0; i < nVocab; ++i) z += std::exp(double(logits[i] - maxLogit));
    auto prob = [&](int32_t id) { return float(std::exp(double(logits[id] - maxLogit)) / z); };
    std::iota(order.begin(), order.end(), 0);
    std::partial_sort(order.begin(), order.begin() + topK, order.end(),
                      [&](int32_t a, int32_t b) { return logits[a] > logits[b] || (logits[a] == logits[b] && a < b); });
    LensCell cell;
    for (int k = 0; k < topK; ++k) {
        cell.topIds.push_back(order[size_t(k)]);
        cell.topProbs.push_back(prob(order[size_t(k)]));
    }
    if (target >= 0) {
        const float t = logits[target];
        int rank = 0;
        for (int i = 0; i < nVocab; ++i) rank += logits[i] > t || (logits[i] == t && i < target);
        cell.targetRank = rank;
        cell.targetProb = prob(target);
    }
    return cell;
}

}  // namespace

Result<LogitLens> computeLogitLens(Session& session, const Capture& capture, int firstPos, int nPos, int topK,
                                   std::stop_token stop, const LensProgress& progress) {
    const CaptureGeometry& g = capture.geometry();
    if (!capture.options().residuals)
        return makeError(ErrorCode::InvalidArgument, "the capture has no residual stream", "residuals");
    if (firstPos < 0 || nPos <= 0 || firstPos + nPos > capture.positions())
        return makeError(ErrorCode::InvalidArgument, "positions outside the capture", "positions");
    if (topK < 1 || topK > 50) return makeError(ErrorCode::InvalidArgument, "top-k must be in [1, 50]", "top_k");
    topK = std::min(topK, g.nVocab);
    LogitLens lens;
    lens.firstPos = firstPos;
    lens.nPos = nPos;
    lens.nPoints = g.nLayers + 1;
    lens.topK = topK;
    lens.target.assign(size_t(nPos), -1);
    std::vector<float> hidden, logits;
    std::vector<int32_t> order(size_t(g.nVocab));
    try {
        lens.cells.resize(size_t(lens.nPoints) * size_t(nPos));
        hidden.resize(size_t(nPos) * size_t(g.nEmbd));
        logits.resize(size_t(nPos) * size_t(g.nVocab));
    } catch (const std::bad_alloc&) {
        return makeError(ErrorCode::OutOfMemory, "cannot allocate the logit lens for " + std::to_string(nPos) + " positions");
    }
    // Last point first: it defines each position's target token.
    for (int done = 0, point = lens.nPoints - 1; point >= 0; --point, ++done) {
        for (int i = 0; i < nPos; ++i) {
            auto r = capture.residual(point, firstPos + i);
            std::copy(r.begin(), r.end(), hidden.begin() + ptrdiff_t(size_t(i) * size_t(g.nEmbd)));
        }
        GB_TRY(session.backend().logitsFromHidden(hidden, nPos, logits, stop));
        for (int i = 0; i < nPos; ++i) {
            const float* row = &logits[size_t(i) * size_t(g.nVocab)];
            if (point == lens.nPoints - 1)
                lens.target[size_t(i)] = int32_t(std::max_element(row, row + g.nVocab) - row);
            lens.cells[size_t(point) * size_t(nPos) + size_t(i)] =
                summarise(row, g.nVocab, topK, lens.target[size_t(i)], order);
        }
        if (progress) progress(float(done + 1) / float(lens.nPoints));
    }
    return lens;
}

}  // namespace glassbox::engine
