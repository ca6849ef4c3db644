// What the weight matrices of a loaded model cost per token: the bytes a
// decoded token reads (the memory-bandwidth bound of decode) and the
// multiply-adds of a prefill (its compute bound), with the distinct matrix
// shapes of one layer for measuring a reference GEMM rate on them. Read from
// the model's own tensors, so quantized types count their real block bytes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/tensor_types.h"

namespace glassbox::engine {

class Model;

// Matrices of one shape in every layer: y (rows) = W (rows × cols) · x (cols).
struct MatmulShape {
    std::string names;  // e.g. "attn_q+attn_output" for the matrices sharing the shape
    int64_t rows = 0;   // output features (ne[1])
    int64_t cols = 0;   // input features (ne[0])
    int count = 0;      // matrices of this shape in the whole model (layers × per layer)
};

struct MatmulFootprint {
    // Bytes of every matrix one decoded token is multiplied by: the seven
    // matrices of each layer and the output head, as stored. Embedding rows,
    // norms and the KV cache are not counted.
    uint64_t decodeWeightBytes = 0;
    uint64_t layerParams = 0;  // weights in the layers' matrices
    uint64_t headParams = 0;   // weights in the output head
    std::vector<MatmulShape> layerShapes;

    // Floating-point operations (2 per multiply-add) of a prefill of
    // `tokens` tokens that computes logits for the last token only, as
    // Session::evaluate does.
    double prefillFlops(int tokens) const { return 2.0 * double(layerParams) * tokens + 2.0 * double(headParams); }
    // The same for the layer matrices at `tokens` columns, the work a GEMM
    // rate measured on layerShapes covers.
    double layerFlops(int tokens) const { return 2.0 * double(layerParams) * tokens; }
};

MatmulFootprint matmulFootprint(const Model& model);

}  // namespace glassbox::engine
