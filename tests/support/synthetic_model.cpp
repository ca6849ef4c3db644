// Writer of synthetic Llama-family GGUF models for tests: the metadata and
// vocabulary come from the engine's model shapes (engine/model_shapes.h);
// the weights are drawn here, with the values these tests were tuned on.
#include "support/synthetic_model.h"

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "engine/gguf_writer.h"
#include "engine/model_shapes.h"
#include "kernels/cpu/quant_kernels.h"

namespace glassbox::testing {
namespace {

using engine::TensorType;

std::vector<float> randomValues(std::mt19937& rng, size_t n, float scale) {
    std::normal_distribution<float> dist(0.0f, scale);
    std::vector<float> v(n);
    for (auto& x : v) x = dist(rng);
    return v;
}

engine::Status addMatrix(engine::GgufWriter& w, const std::string& name, TensorType type, int64_t ne0, int64_t ne1,
                         std::mt19937& rng, float scale) {
    const std::vector<float> values = randomValues(rng, size_t(ne0 * ne1), scale);
    const auto rowBytes = engine::rowBytes(type, uint64_t(ne0));
    if (!rowBytes) return engine::makeError(engine::ErrorCode::InvalidArgument, "row size not a block multiple", name);
    std::vector<uint8_t> bytes(size_t(*rowBytes * uint64_t(ne1)));
    for (int64_t r = 0; r < ne1; ++r)
        if (!kernels::quantizeRow(type, values.data() + r * ne0, bytes.data() + uint64_t(r) * *rowBytes, ne0))
            return engine::makeError(engine::ErrorCode::Unsupported, "cannot quantize", name);
    return w.addTensorOwned(name, type, {ne0, ne1}, std::move(bytes));
}

engine::Status addVector(engine::GgufWriter& w, const std::string& name, int64_t n, std::mt19937& rng, float mean,
                         float scale) {
    std::vector<float> values = randomValues(rng, size_t(n), scale);
    for (auto& x : values) x += mean;
    std::vector<uint8_t> bytes(values.size() * 4);
    std::memcpy(bytes.data(), values.data(), bytes.size());
    return w.addTensorOwned(name, TensorType::F32, {n}, std::move(bytes));
}

engine::ModelConfig shapeOf(const SyntheticModelSpec& s) {
    engine::ModelConfig c;
    c.architecture = s.architecture;
    c.nLayers = s.nLayers;
    c.nEmbd = s.nEmbd;
    c.nHead = s.nHead;
    c.nHeadKv = s.nHeadKv;
    c.headDim = s.nEmbd / s.nHead;
    c.ropeDims = c.headDim;
    c.nFf = s.nFf;
    c.nVocab = kSyntheticVocab;
    c.nCtxTrain = s.nCtxTrain;
    c.ropeTheta = s.ropeTheta;
    c.rmsEps = s.rmsEps;
    c.tiedEmbeddings = s.tiedEmbeddings;
    return c;
}

}  // namespace

engine::Status writeSyntheticModel(const std::string& path, const SyntheticModelSpec& s) {
    engine::GgufWriter w;
    GB_TRY(engine::setShapeMetadata(w, shapeOf(s), "synthetic-" + s.architecture));
    GB_TRY(engine::setByteLevelVocab(w, kSyntheticVocab));
    std::mt19937 rng(s.seed);
    const int headDim = s.nEmbd / s.nHead;
    const int kvDim = headDim * s.nHeadKv;
    const float wScale = 1.0f / std::sqrt(float(s.nEmbd));
    GB_TRY(addMatrix(w, "token_embd.weight", s.embeddingType, s.nEmbd, kSyntheticVocab, rng, 1.0f));
    GB_TRY(addVector(w, "output_norm.weight", s.nEmbd, rng, 1.0f, 0.1f));
    if (!s.tiedEmbeddings) GB_TRY(addMatrix(w, "output.weight", s.weightType, s.nEmbd, kSyntheticVocab, rng, wScale));
    const bool bias = s.architecture == "qwen2";
    for (int i = 0; i < s.nLayers; ++i) {
        const std::string p = "blk." + std::to_string(i) + ".";
        GB_TRY(addVector(w, p + "attn_norm.weight", s.nEmbd, rng, 1.0f, 0.1f));
        GB_TRY(addMatrix(w, p + "attn_q.weight", s.weightType, s.nEmbd, s.nEmbd, rng, wScale));
        GB_TRY(addMatrix(w, p + "attn_k.weight", s.weightType, s.nEmbd, kvDim, rng, wScale));
        GB_TRY(addMatrix(w, p + "attn_v.weight", s.weightType, s.nEmbd, kvDim, rng, wScale));
        if (bias) {
            GB_TRY(addVector(w, p + "attn_q.bias", s.nEmbd, rng, 0.0f, 0.1f));
            GB_TRY(addVector(w, p + "attn_k.bias", kvDim, rng, 0.0f, 0.1f));
            GB_TRY(addVector(w, p + "attn_v.bias", kvDim, rng, 0.0f, 0.1f));
        }
        GB_TRY(addMatrix(w, p + "attn_output.weight", s.weightType, s.nEmbd, s.nEmbd, rng, wScale));
        GB_TRY(addVector(w, p + "ffn_norm.weight", s.nEmbd, rng, 1.0f, 0.1f));
        GB_TRY(addMatrix(w, p + "ffn_gate.weight", s.weightType, s.nEmbd, s.nFf, rng, wScale));
        GB_TRY(addMatrix(w, p + "ffn_up.weight", s.weightType, s.nEmbd, s.nFf, rng, wScale));
        GB_TRY(addMatrix(w, p + "ffn_down.weight", s.weightType, s.nFf, s.nEmbd, rng, 1.0f / std::sqrt(float(s.nFf))));
    }
    return w.writeFile(path);
}

}  // namespace glassbox::testing
