// Summing a model's matrices per token, and grouping one layer's matrices
// by shape.
#include "engine/matmul_footprint.h"

#include <utility>

#include "engine/model.h"

namespace glassbox::engine {

MatmulFootprint matmulFootprint(const Model& model) {
    MatmulFootprint f;
    const auto& layers = model.layers();
    for (const LayerWeights& l : layers) {
        for (const TensorView* w : {&l.wq, &l.wk, &l.wv, &l.wo, &l.wGate, &l.wUp, &l.wDown}) {
            f.decodeWeightBytes += w->bytes;
            f.layerParams += uint64_t(w->elements());
        }
    }
    const TensorView& head = model.output();
    f.decodeWeightBytes += head.bytes;
    f.headParams = uint64_t(head.elements());
    if (layers.empty()) return f;
    const LayerWeights& l = layers.front();
    const std::pair<const char*, const TensorView*> kinds[] = {
        {"attn_q", &l.wq},       {"attn_k", &l.wk},     {"attn_v", &l.wv},     {"attn_output", &l.wo},
        {"ffn_gate", &l.wGate}, {"ffn_up", &l.wUp}, {"ffn_down", &l.wDown}};
    for (const auto& [name, w] : kinds) {
        MatmulShape* same = nullptr;
        for (MatmulShape& s : f.layerShapes)
            if (s.rows == w->ne[1] && s.cols == w->ne[0]) same = &s;
        if (!same) {
            f.layerShapes.push_back({name, w->ne[1], w->ne[0], 0});
            same = &f.layerShapes.back();
        } else {
            same->names += std::string("+") + name;
        }
        same->count += int(layers.size());
    }
    return f;
}

}  // namespace glassbox::engine
