// GGUF → Hugging Face checkpoint export for loader tests.
#include "support/hf_export.h"

#include <cstring>
#include <filesystem>
#include <fstream>

#include "engine/json.h"
#include "engine/model.h"
#include "engine/safetensors_writer.h"
#include "engine/tokenizer.h"
#include "engine/vocab.h"
#include "kernels/cpu/quant_kernels.h"

namespace glassbox::testing {
namespace {

using engine::JsonValue;

std::vector<float> toFloat(const engine::TensorView& t) {
    std::vector<float> out(static_cast<size_t>(t.elements()));
    for (int64_t r = 0; r < t.rows(); ++r)
        kernels::dequantizeRow(t.type, t.data + uint64_t(r) * t.rowStride(), out.data() + r * t.ne[0], t.ne[0]);
    return out;
}

// GGUF llama Q/K rows are interleaved per head (2i + s); Hugging Face keeps
// halves (s * headDim/2 + i). Undo the interleave.
std::vector<float> unpermute(const std::vector<float>& w, int64_t cols, int nHeads, int headDim) {
    std::vector<float> out(w.size());
    for (int h = 0; h < nHeads; ++h)
        for (int s = 0; s < 2; ++s)
            for (int i = 0; i < headDim / 2; ++i) {
                const int64_t src = int64_t(h) * headDim + 2 * i + s;
                const int64_t dst = int64_t(h) * headDim + s * (headDim / 2) + i;
                std::memcpy(&out[size_t(dst * cols)], &w[size_t(src * cols)], size_t(cols) * 4);
            }
    return out;
}

engine::Status writeText(const std::string& path, const std::string& text) {
    std::ofstream out(path, std::ios::binary);
    out << text;
    if (!out) return engine::makeError(engine::ErrorCode::Io, "cannot write " + path);
    return {};
}

std::string configJson(const engine::ModelConfig& c, const engine::Tokenizer& tok) {
    JsonValue o = JsonValue::makeObject();
    JsonValue arch = JsonValue::makeArray();
    arch.push(c.architecture == "qwen2" ? "Qwen2ForCausalLM" : "LlamaForCausalLM");
    o.set("architectures", arch);
    o.set("model_type", c.architecture);
    o.set("hidden_size", c.nEmbd);
    o.set("num_hidden_layers", c.nLayers);
    o.set("num_attention_heads", c.nHead);
    o.set("num_key_value_heads", c.nHeadKv);
    o.set("intermediate_size", c.nFf);
    o.set("vocab_size", c.nVocab);
    o.set("max_position_embeddings", c.nCtxTrain);
    o.set("rms_norm_eps", double(c.rmsEps));
    o.set("rope_theta", double(c.ropeTheta));
    o.set("tie_word_embeddings", c.tiedEmbeddings);
    o.set("torch_dtype", "float32");
    o.set("bos_token_id", tok.bos());
    o.set("eos_token_id", tok.eos());
    return engine::dumpJson(o);
}

std::string tokenizerJson(const engine::Tokenizer& tok) {
    const engine::VocabData& v = tok.vocab();
    JsonValue vocab = JsonValue::makeObject();
    JsonValue added = JsonValue::makeArray();
    for (size_t i = 0; i < v.tokens.size(); ++i) {
        if (tok.isControl(int32_t(i))) {
            JsonValue a = JsonValue::makeObject();
            a.set("id", int64_t(i));
            a.set("content", v.tokens[i]);
            a.set("special", true);
            added.push(a);
        }
        vocab.set(v.tokens[i], int64_t(i));
    }
    JsonValue merges = JsonValue::makeArray();
    for (const auto& [a, b] : v.merges) merges.push(a + " " + b);
    JsonValue model = JsonValue::makeObject();
    model.set("type", "BPE");
    model.set("vocab", vocab);
    model.set("merges", merges);
    JsonValue digits = JsonValue::makeObject();
    digits.set("type", "Digits");
    digits.set("individual_digits", true);
    JsonValue byteLevel = JsonValue::makeObject();
    byteLevel.set("type", "ByteLevel");
    byteLevel.set("add_prefix_space", false);
    byteLevel.set("use_regex", true);
    JsonValue seq = JsonValue::makeArray();
    seq.push(digits);
    seq.push(byteLevel);
    JsonValue pre = JsonValue::makeObject();
    pre.set("type", "Sequence");
    pre.set("pretokenizers", seq);
    JsonValue decoder = JsonValue::makeObject();
    decoder.set("type", "ByteLevel");
    JsonValue root = JsonValue::makeObject();
    root.set("version", "1.0");
    root.set("added_tokens", added);
    root.set("pre_tokenizer", pre);
    root.set("decoder", decoder);
    root.set("model", model);
    return engine::dumpJson(root);
}

}  // namespace

engine::Status exportAsHfCheckpoint(const engine::Model& model, const std::string& dir) {
    std::filesystem::create_directories(dir);
    const engine::ModelConfig& c = model.config();
    std::vector<std::vector<float>> store;  // keeps tensor data alive until written
    std::vector<engine::SafetensorsWriteTensor> tensors;
    auto add = [&](const std::string& name, const engine::TensorView& t, int permuteHeads) {
        std::vector<float> data = toFloat(t);
        if (permuteHeads > 0) data = unpermute(data, t.ne[0], permuteHeads, c.headDim);
        store.push_back(std::move(data));
        std::vector<uint64_t> shape;
        if (t.ne[1] > 1 || t.nDims > 1) shape = {uint64_t(t.ne[1]), uint64_t(t.ne[0])};
        else shape = {uint64_t(t.ne[0])};
        tensors.push_back({name, engine::SafetensorsDtype::F32, shape,
                           {reinterpret_cast<const uint8_t*>(store.back().data()), store.back().size() * 4}});
    };
    store.reserve(16 * size_t(c.nLayers) + 4);
    const bool neoxAlready = c.ropeType == engine::RopeType::Neox;
    add("model.embed_tokens.weight", model.tokenEmbedding(), 0);
    add("model.norm.weight", model.outputNorm(), 0);
    if (!c.tiedEmbeddings) add("lm_head.weight", model.output(), 0);
    for (int i = 0; i < c.nLayers; ++i) {
        const auto& l = model.layers()[size_t(i)];
        const std::string p = "model.layers." + std::to_string(i) + ".";
        add(p + "input_layernorm.weight", l.attnNorm, 0);
        add(p + "self_attn.q_proj.weight", l.wq, neoxAlready ? 0 : c.nHead);
        add(p + "self_attn.k_proj.weight", l.wk, neoxAlready ? 0 : c.nHeadKv);
        add(p + "self_attn.v_proj.weight", l.wv, 0);
        add(p + "self_attn.o_proj.weight", l.wo, 0);
        if (l.bq) add(p + "self_attn.q_proj.bias", *l.bq, 0);
        if (l.bk) add(p + "self_attn.k_proj.bias", *l.bk, 0);
        if (l.bv) add(p + "self_attn.v_proj.bias", *l.bv, 0);
        add(p + "post_attention_layernorm.weight", l.ffnNorm, 0);
        add(p + "mlp.gate_proj.weight", l.wGate, 0);
        add(p + "mlp.up_proj.weight", l.wUp, 0);
        add(p + "mlp.down_proj.weight", l.wDown, 0);
    }
    GB_TRY(engine::writeSafetensorsFile(dir + "/model.safetensors", tensors, {{"format", "pt"}}));
    GB_TRY(writeText(dir + "/config.json", configJson(c, model.tokenizer())));
    GB_TRY(writeText(dir + "/tokenizer.json", tokenizerJson(model.tokenizer())));
    return {};
}

}  // namespace glassbox::testing
