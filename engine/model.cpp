// Model loading: binds the tensors of a GGUF file (or a safetensors
// checkpoint, see model_safetensors.cpp) to the Llama-family layout and
// checks every shape and type against the configuration before use.
#include "engine/model.h"

#include <filesystem>
#include <map>

#include "engine/gguf_file.h"
#include "engine/tokenizer.h"
#include "engine/vocab.h"
#include "kernels/cpu/quant_kernels.h"

namespace glassbox::engine {

Model::~Model() = default;

Result<std::shared_ptr<const Model>> Model::load(const std::string& path, std::stop_token stop,
                                                 const LoadProgress& progress) {
    std::shared_ptr<Model> model(new Model());
    model->m_path = path;
    std::error_code ec;
    const bool isDir = std::filesystem::is_directory(path, ec);
    const bool isSafetensors =
        isDir || (path.size() > 12 && path.substr(path.size() - 12) == ".safetensors");
    if (isSafetensors) {
        GB_TRY(model->loadSafetensors(path, stop, progress));
    } else {
        GB_TRY(model->loadGguf(path, stop, progress));
    }
    GB_TRY(model->checkTensorShapes());
    if (progress) progress(1.0f, "ready");
    return std::shared_ptr<const Model>(std::move(model));
}

Status Model::loadGguf(const std::string& path, std::stop_token stop, const LoadProgress& progress) {
    m_format = ModelFormat::Gguf;
    if (progress) progress(0.0f, "mapping file");
    GB_ASSIGN_OR_RETURN(MappedFile file, MappedFile::open(path));
    m_fileBytes = file.size();
    if (progress) progress(0.05f, "reading GGUF header");
    GB_ASSIGN_OR_RETURN(GgufFile gguf, GgufFile::parse(file.bytes()));
    if (stop.stop_requested()) return makeError(ErrorCode::Cancelled, "loading cancelled");
    GB_ASSIGN_OR_RETURN(m_config, configFromGguf(gguf));
    if (progress) progress(0.15f, "building tokenizer");
    GB_ASSIGN_OR_RETURN(VocabData vocab, vocabFromGguf(gguf));
    m_chatTemplate = vocab.chatTemplate;
    GB_ASSIGN_OR_RETURN(Tokenizer tok, Tokenizer::create(std::move(vocab)));
    m_tokenizer = std::make_unique<Tokenizer>(std::move(tok));
    if (m_tokenizer->nVocab() != m_config.nVocab)
        return makeError(ErrorCode::Malformed,
                         "tokenizer has " + std::to_string(m_tokenizer->nVocab()) +
                             " tokens but the embedding has " + std::to_string(m_config.nVocab) + " rows",
                         "tokenizer.ggml.tokens");
    if (stop.stop_requested()) return makeError(ErrorCode::Cancelled, "loading cancelled");
    for (const auto& [key, value] : gguf.metadata()) m_metadata.emplace_back(key, value.toDisplayString());
    for (const auto& t : gguf.tensors()) {
        TensorSummary s{t.name, std::string(tensorTypeName(t.type)), {}, t.bytes};
        for (int d = 0; d < t.nDims; ++d) s.shape.push_back(t.ne[d]);
        m_tensorTable.push_back(std::move(s));
        m_weightBytes += t.bytes;
    }
    if (progress) progress(0.3f, "binding tensors");
    GB_TRY(bindGgufTensors(gguf));
    m_files.push_back(std::move(file));
    return {};
}

Status Model::bindGgufTensors(const GgufFile& gguf) {
    auto get = [&](const std::string& name) -> Result<TensorView> {
        const GgufTensorInfo* info = gguf.findTensor(name);
        if (!info) return makeError(ErrorCode::NotFound, "missing tensor", name);
        return gguf.view(*info);
    };
    auto getOptional = [&](const std::string& name) -> std::optional<TensorView> {
        const GgufTensorInfo* info = gguf.findTensor(name);
        if (!info) return std::nullopt;
        return gguf.view(*info);
    };
    GB_ASSIGN_OR_RETURN(m_tokenEmbedding, get("token_embd.weight"));
    GB_ASSIGN_OR_RETURN(m_outputNorm, get("output_norm.weight"));
    if (auto out = getOptional("output.weight")) {
        m_output = *out;
    } else {
        m_output = m_tokenEmbedding;
    }
    m_layers.resize(m_config.nLayers);
    for (int i = 0; i < m_config.nLayers; ++i) {
        const std::string p = "blk." + std::to_string(i) + ".";
        LayerWeights& l = m_layers[i];
        GB_ASSIGN_OR_RETURN(l.attnNorm, get(p + "attn_norm.weight"));
        GB_ASSIGN_OR_RETURN(l.wq, get(p + "attn_q.weight"));
        GB_ASSIGN_OR_RETURN(l.wk, get(p + "attn_k.weight"));
        GB_ASSIGN_OR_RETURN(l.wv, get(p + "attn_v.weight"));
        GB_ASSIGN_OR_RETURN(l.wo, get(p + "attn_output.weight"));
        l.bq = getOptional(p + "attn_q.bias");
        l.bk = getOptional(p + "attn_k.bias");
        l.bv = getOptional(p + "attn_v.bias");
        GB_ASSIGN_OR_RETURN(l.ffnNorm, get(p + "ffn_norm.weight"));
        GB_ASSIGN_OR_RETURN(l.wGate, get(p + "ffn_gate.weight"));
        GB_ASSIGN_OR_RETURN(l.wUp, get(p + "ffn_up.weight"));
        GB_ASSIGN_OR_RETURN(l.wDown, get(p + "ffn_down.weight"));
    }
    return {};
}

namespace {

Status expectShape(const TensorView& t, int64_t ne0, int64_t ne1) {
    if (t.ne[0] != ne0 || t.ne[1] != ne1 || t.ne[2] != 1 || t.ne[3] != 1)
        return makeError(ErrorCode::Malformed,
                         "shape [" + std::to_string(t.ne[0]) + ", " + std::to_string(t.ne[1]) +
                             "] does not match the configuration's [" + std::to_string(ne0) + ", " +
                             std::to_string(ne1) + "]",
                         t.name);
    return {};
}

Status expectVector(const TensorView& t, int64_t n) {
    GB_TRY(expectShape(t, n, 1));
    if (t.type != TensorType::F32)
        return makeError(ErrorCode::Unsupported,
                         "norm and bias tensors must be F32, found " + std::string(tensorTypeName(t.type)), t.name);
    return {};
}

Status expectMatrix(const TensorView& t, int64_t ne0, int64_t ne1) {
    GB_TRY(expectShape(t, ne0, ne1));
    if (!kernels::isSupportedWeightType(t.type))
        return makeError(ErrorCode::Unsupported,
                         "weight type " + std::string(tensorTypeName(t.type)) + " is not supported", t.name);
    return {};
}

}  // namespace

Status Model::checkTensorShapes() const {
    const ModelConfig& c = m_config;
    GB_TRY(expectMatrix(m_tokenEmbedding, c.nEmbd, c.nVocab));
    GB_TRY(expectMatrix(m_output, c.nEmbd, c.nVocab));
    GB_TRY(expectVector(m_outputNorm, c.nEmbd));
    for (const LayerWeights& l : m_layers) {
        GB_TRY(expectVector(l.attnNorm, c.nEmbd));
        GB_TRY(expectMatrix(l.wq, c.nEmbd, c.qDim()));
        GB_TRY(expectMatrix(l.wk, c.nEmbd, c.kvDim()));
        GB_TRY(expectMatrix(l.wv, c.nEmbd, c.kvDim()));
        GB_TRY(expectMatrix(l.wo, c.qDim(), c.nEmbd));
        if (l.bq) GB_TRY(expectVector(*l.bq, c.qDim()));
        if (l.bk) GB_TRY(expectVector(*l.bk, c.kvDim()));
        if (l.bv) GB_TRY(expectVector(*l.bv, c.kvDim()));
        GB_TRY(expectVector(l.ffnNorm, c.nEmbd));
        GB_TRY(expectMatrix(l.wGate, c.nEmbd, c.nFf));
        GB_TRY(expectMatrix(l.wUp, c.nEmbd, c.nFf));
        GB_TRY(expectMatrix(l.wDown, c.nFf, c.nEmbd));
    }
    return {};
}

std::string Model::weightTypeSummary() const {
    std::map<std::string, uint64_t> bytesByType;
    for (const auto& t : m_tensorTable)
        if (t.shape.size() >= 2) bytesByType[t.type] += t.bytes;
    std::string best;
    uint64_t bestBytes = 0;
    for (const auto& [type, bytes] : bytesByType)
        if (bytes > bestBytes) { best = type; bestBytes = bytes; }
    return best;
}

}  // namespace glassbox::engine
