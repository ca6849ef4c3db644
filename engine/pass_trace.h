// The op records of one forward pass (Capture::recordOp), shared by every
// backend so that a pass looks the same in the shapes view whichever device
// ran it: the embedding, each layer's attention and feed-forward steps with
// their real shapes and weights, and the final norm and output head.
#pragma once

#include "engine/backend.h"

namespace glassbox::engine {

class Capture;
class Model;
struct LayerWeights;
struct ModelConfig;

// The embedding of n tokens.
void traceEmbeddingOp(Capture& cap, const Model& model, int n);
// Layer `layer`'s attention steps for n tokens at [pos0, pos0 + n).
void traceAttentionOps(Capture& cap, const ModelConfig& c, const LayerWeights& l, int layer, int n, int pos0,
                       KvCacheType kvType);
// Layer `layer`'s feed-forward steps for n tokens.
void traceFeedForwardOps(Capture& cap, const ModelConfig& c, const LayerWeights& l, int layer, int n);
// The final norm and the output head over `rows` of the pass's n tokens.
void traceHeadOps(Capture& cap, const Model& model, int n, int rows);

}  // namespace glassbox::engine
