// Writer of synthetic Llama-family GGUF models for tests.
#include "support/synthetic_model.h"

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "engine/gguf_writer.h"
#include "kernels/cpu/quant_kernels.h"

namespace glassbox::testing {
namespace {

using engine::TensorType;

// GPT-2's byte-to-unicode table: printable bytes map to themselves, the rest
// to code points from U+0100 upwards.
std::vector<std::string> byteLevelSymbols() {
    std::vector<int> cps(256, -1);
    for (int b = 0; b < 256; ++b)
        if ((b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255)) cps[b] = b;
    int next = 256;
    for (int b = 0; b < 256; ++b)
        if (cps[b] < 0) cps[b] = next++;
    std::vector<std::string> out;
    for (int b = 0; b < 256; ++b) {
        const int cp = cps[b];
        std::string s;
        if (cp < 0x80) {
            s += char(cp);
        } else {
            s += char(0xC0 | (cp >> 6));
            s += char(0x80 | (cp & 0x3F));
        }
        out.push_back(s);
    }
    return out;
}

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

void setMetadata(engine::GgufWriter& w, const SyntheticModelSpec& s) {
    const std::string a = s.architecture;
    w.set("general.architecture", a);
    w.set("general.name", std::string("synthetic-") + a);
    w.set(a + ".block_count", uint32_t(s.nLayers));
    w.set(a + ".context_length", uint32_t(s.nCtxTrain));
    w.set(a + ".embedding_length", uint32_t(s.nEmbd));
    w.set(a + ".feed_forward_length", uint32_t(s.nFf));
    w.set(a + ".attention.head_count", uint32_t(s.nHead));
    w.set(a + ".attention.head_count_kv", uint32_t(s.nHeadKv));
    w.set(a + ".rope.freq_base", s.ropeTheta);
    w.set(a + ".attention.layer_norm_rms_epsilon", s.rmsEps);
    w.set(a + ".rope.dimension_count", uint32_t(s.nEmbd / s.nHead));
    std::vector<std::string> tokens = byteLevelSymbols();
    tokens.push_back("\xC4\xA0t");  // "Ġt"
    tokens.push_back("<|endoftext|>");
    std::vector<int32_t> types(tokens.size(), 1);
    types.back() = 3;
    const std::vector<std::string> merges = {"\xC4\xA0 t"};
    w.set("tokenizer.ggml.model", "gpt2");
    w.set("tokenizer.ggml.pre", "smollm");
    w.setArray("tokenizer.ggml.tokens", tokens);
    w.setArray("tokenizer.ggml.token_type", types);
    w.setArray("tokenizer.ggml.merges", merges);
    w.set("tokenizer.ggml.bos_token_id", uint32_t(kSyntheticVocab - 1));
    w.set("tokenizer.ggml.eos_token_id", uint32_t(kSyntheticVocab - 1));
    w.set("tokenizer.ggml.add_bos_token", false);
}

}  // namespace

engine::Status writeSyntheticModel(const std::string& path, const SyntheticModelSpec& s) {
    engine::GgufWriter w;
    setMetadata(w, s);
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
