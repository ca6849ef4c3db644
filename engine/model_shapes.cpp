// The named model shapes and the GGUF metadata (hyper-parameters and a
// minimal byte-level vocabulary) that describes one.
#include "engine/model_shapes.h"

#include <array>
#include <cstdint>
#include <vector>

#include "engine/gguf_writer.h"
#include "engine/tokenizer_impl.h"
#include "engine/unicode_data.h"

namespace glassbox::engine {
namespace {

constexpr std::array<std::string_view, 4> kShapeNames = {"llama3-8b", "llama2-7b", "smollm2-135m", "tiny"};

ModelConfig llamaShape(int layers, int embd, int heads, int kvHeads, int ff, int vocab, int ctx, float theta,
                       bool tied) {
    ModelConfig c;
    c.architecture = "llama";
    c.nLayers = layers;
    c.nEmbd = embd;
    c.nHead = heads;
    c.nHeadKv = kvHeads;
    c.headDim = embd / heads;
    c.ropeDims = c.headDim;
    c.nFf = ff;
    c.nVocab = vocab;
    c.nCtxTrain = ctx;
    c.ropeTheta = theta;
    c.rmsEps = 1e-5f;
    c.tiedEmbeddings = tied;
    return c;
}

}  // namespace

std::span<const std::string_view> modelShapeNames() { return kShapeNames; }

Result<ModelConfig> modelShape(std::string_view name) {
    // Dimensions as in the models' own config.json files.
    if (name == "llama3-8b") return llamaShape(32, 4096, 32, 8, 14336, 128256, 8192, 500000.0f, false);
    if (name == "llama2-7b") return llamaShape(32, 4096, 32, 32, 11008, 32000, 4096, 10000.0f, false);
    if (name == "smollm2-135m") return llamaShape(30, 576, 9, 3, 1536, 49152, 8192, 100000.0f, true);
    if (name == "tiny") return llamaShape(4, 256, 8, 4, 768, 1024, 2048, 10000.0f, false);
    std::string known;
    for (std::string_view n : kShapeNames) {
        if (!known.empty()) known += ", ";
        known += n;
    }
    return makeError(ErrorCode::NotFound, "unknown model shape '" + std::string(name) + "' (known: " + known + ")",
                     "shape");
}

Result<ModelConfig> narrowShape(const ModelConfig& shape, int divisor) {
    if (divisor < 1 || shape.nHead % divisor || shape.nHeadKv % divisor || shape.nEmbd % divisor ||
        shape.nFf % divisor)
        return makeError(ErrorCode::InvalidArgument,
                         "the shape's heads, KV heads and widths are not all divisible by " + std::to_string(divisor),
                         "divisor");
    ModelConfig c = shape;
    c.nHead /= divisor;
    c.nHeadKv /= divisor;
    c.nEmbd /= divisor;
    c.nFf /= divisor;
    return c;
}

uint64_t shapeParameters(const ModelConfig& s) {
    const uint64_t embd = uint64_t(s.nEmbd), q = uint64_t(s.qDim()), kv = uint64_t(s.kvDim()), ff = uint64_t(s.nFf);
    uint64_t layer = embd * q * 2 + embd * kv * 2 + embd * ff * 3 + embd * 2;
    if (s.qkvBias) layer += q + 2 * kv;
    return uint64_t(s.nVocab) * embd * (s.tiedEmbeddings ? 1 : 2) + embd + layer * uint64_t(s.nLayers);
}

Status setShapeMetadata(GgufWriter& w, const ModelConfig& s, std::string_view name) {
    GB_TRY(s.validate());
    const std::string a = s.architecture;
    w.set("general.architecture", a);
    w.set("general.name", name);
    w.set(a + ".block_count", uint32_t(s.nLayers));
    w.set(a + ".context_length", uint32_t(s.nCtxTrain));
    w.set(a + ".embedding_length", uint32_t(s.nEmbd));
    w.set(a + ".feed_forward_length", uint32_t(s.nFf));
    w.set(a + ".attention.head_count", uint32_t(s.nHead));
    w.set(a + ".attention.head_count_kv", uint32_t(s.nHeadKv));
    w.set(a + ".rope.freq_base", s.ropeTheta);
    w.set(a + ".attention.layer_norm_rms_epsilon", s.rmsEps);
    w.set(a + ".rope.dimension_count", uint32_t(s.ropeDims));
    if (s.headDim * s.nHead != s.nEmbd) {
        w.set(a + ".attention.key_length", uint32_t(s.headDim));
        w.set(a + ".attention.value_length", uint32_t(s.headDim));
    }
    return {};
}

Status setByteLevelVocab(GgufWriter& w, int nVocab) {
    if (nVocab < kMinByteLevelVocab)
        return makeError(ErrorCode::InvalidArgument,
                         "a byte-level vocabulary needs at least " + std::to_string(kMinByteLevelVocab) + " tokens",
                         "n_vocab");
    std::vector<std::string> tokens;
    tokens.reserve(size_t(nVocab));
    for (int b = 0; b < 256; ++b) {
        std::string s;
        appendUtf8(s, byteToUnicode(uint8_t(b)));
        tokens.push_back(std::move(s));
    }
    tokens.push_back("\xC4\xA0t");  // "Ġt"
    std::vector<int32_t> types = std::vector<int32_t>(size_t(nVocab), int32_t(TokenType::Normal));
    for (int i = int(tokens.size()); i < nVocab - 1; ++i) {
        tokens.push_back("<|unused_" + std::to_string(i) + "|>");
        types[size_t(i)] = int32_t(TokenType::Unused);
    }
    tokens.push_back("<|endoftext|>");
    types.back() = int32_t(TokenType::Control);
    const std::vector<std::string> merges = {"\xC4\xA0 t"};
    w.set("tokenizer.ggml.model", "gpt2");
    w.set("tokenizer.ggml.pre", "smollm");
    w.setArray("tokenizer.ggml.tokens", tokens);
    w.setArray("tokenizer.ggml.token_type", types);
    w.setArray("tokenizer.ggml.merges", merges);
    w.set("tokenizer.ggml.bos_token_id", uint32_t(nVocab - 1));
    w.set("tokenizer.ggml.eos_token_id", uint32_t(nVocab - 1));
    w.set("tokenizer.ggml.add_bos_token", false);
    return {};
}

}  // namespace glassbox::engine
