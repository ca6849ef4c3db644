// Helpers every backend shares: placement names and the argument checks of
// forward().
#include "engine/backend.h"

namespace glassbox::engine {

const char* placementName(Placement p) {
    switch (p) {
        case Placement::Auto: return "auto";
        case Placement::Cpu: return "cpu";
        case Placement::Gpu: return "gpu";
        case Placement::GpuLayers: return "gpu-layers";
    }
    return "auto";
}

Status checkForwardArgs(std::span<const int32_t> tokens, int startPos, int contextSize, int nVocab, LogitsMode mode,
                        size_t logitsSize) {
    const int n = int(tokens.size());
    if (n == 0) return makeError(ErrorCode::InvalidArgument, "no tokens to run");
    if (startPos < 0 || int64_t(startPos) + n > contextSize)
        return makeError(ErrorCode::ContextFull, "context of " + std::to_string(contextSize) +
                                                     " tokens is full (position " + std::to_string(startPos + n) +
                                                     " requested)");
    for (int i = 0; i < n; ++i)
        if (tokens[i] < 0 || tokens[i] >= nVocab)
            return makeError(ErrorCode::InvalidArgument, "token id " + std::to_string(tokens[i]) + " out of range");
    const size_t rowsNeeded = mode == LogitsMode::All ? size_t(n) : 1;
    if (logitsSize < rowsNeeded * size_t(nVocab)) return makeError(ErrorCode::InvalidArgument, "logits buffer too small");
    return {};
}

}  // namespace glassbox::engine
