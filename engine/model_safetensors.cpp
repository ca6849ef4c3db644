// Loading Hugging Face checkpoints: config.json + one or more .safetensors
// shards + tokenizer.json, mapped onto the same Llama-family layout as GGUF.
// F32/F16/BF16 matrices are used in place (memory-mapped); norm and bias
// vectors are widened to F32 once.
#include <filesystem>
#include <map>

#include "engine/hf_config.h"
#include "engine/model.h"
#include "engine/safetensors_file.h"
#include "engine/tokenizer.h"
#include "engine/vocab.h"
#include "kernels/cpu/quant_kernels.h"

namespace glassbox::engine {
namespace {

namespace fs = std::filesystem;

Result<std::string> readSmallFile(const fs::path& p, bool required) {
    std::error_code ec;
    if (!fs::exists(p, ec)) {
        if (!required) return std::string();
        return makeError(ErrorCode::NotFound, "missing file '" + p.string() + "'", p.filename().string());
    }
    GB_ASSIGN_OR_RETURN(MappedFile f, MappedFile::open(p.string()));
    return std::string(reinterpret_cast<const char*>(f.bytes().data()), f.size());
}

Result<std::vector<std::string>> shardFiles(const fs::path& dir, const fs::path& given) {
    if (!given.empty()) return std::vector<std::string>{given.string()};
    const fs::path index = dir / "model.safetensors.index.json";
    std::error_code ec;
    if (fs::exists(index, ec)) {
        GB_ASSIGN_OR_RETURN(std::string json, readSmallFile(index, true));
        GB_ASSIGN_OR_RETURN(SafetensorsIndex idx, parseSafetensorsIndex(json));
        std::vector<std::string> out;
        for (const auto& s : idx.shards) out.push_back((dir / s).string());
        return out;
    }
    return std::vector<std::string>{(dir / "model.safetensors").string()};
}

}  // namespace

Status Model::loadSafetensors(const std::string& path, std::stop_token stop, const LoadProgress& progress) {
    m_format = ModelFormat::Safetensors;
    std::error_code ec;
    const bool isDir = fs::is_directory(path, ec);
    const fs::path dir = isDir ? fs::path(path) : fs::path(path).parent_path();
    if (progress) progress(0.0f, "reading config.json");
    GB_ASSIGN_OR_RETURN(HfConfig hf, readHfConfigFile((dir / "config.json").string()));
    GB_ASSIGN_OR_RETURN(m_config, configFromHf(hf));
    for (const auto& w : hf.warnings) m_metadata.emplace_back("warning", w);
    GB_ASSIGN_OR_RETURN(std::string tokJson, readSmallFile(dir / "tokenizer.json", true));
    GB_ASSIGN_OR_RETURN(std::string tokCfg, readSmallFile(dir / "tokenizer_config.json", false));
    if (progress) progress(0.1f, "building tokenizer");
    GB_ASSIGN_OR_RETURN(VocabData vocab, vocabFromTokenizerJson(tokJson, tokCfg));
    m_chatTemplate = vocab.chatTemplate;
    GB_ASSIGN_OR_RETURN(Tokenizer tok, Tokenizer::create(std::move(vocab)));
    m_tokenizer = std::make_unique<Tokenizer>(std::move(tok));
    if (m_tokenizer->nVocab() > m_config.nVocab)
        return makeError(ErrorCode::Malformed, "tokenizer has more tokens than the model's vocab_size", "vocab_size");

    GB_ASSIGN_OR_RETURN(std::vector<std::string> shards, shardFiles(dir, isDir ? fs::path() : fs::path(path)));
    std::map<std::string, TensorView, std::less<>> views;
    for (size_t i = 0; i < shards.size(); ++i) {
        if (stop.stop_requested()) return makeError(ErrorCode::Cancelled, "loading cancelled");
        if (progress) progress(0.2f + 0.6f * float(i) / float(shards.size()), "mapping " + shards[i]);
        GB_ASSIGN_OR_RETURN(MappedFile f, MappedFile::open(shards[i]));
        GB_ASSIGN_OR_RETURN(SafetensorsFile st, SafetensorsFile::parse(f.bytes()));
        m_fileBytes += f.size();
        for (const auto& t : st.tensors()) {
            TensorSummary s{t.name, safetensorsDtypeName(t.dtype), {}, t.data.size()};
            for (auto it = t.shape.rbegin(); it != t.shape.rend(); ++it) s.shape.push_back(int64_t(*it));
            m_tensorTable.push_back(std::move(s));
            m_weightBytes += t.data.size();
            auto view = SafetensorsFile::view(t);
            if (view) views[t.name] = *view;
            else views.erase(t.name);
        }
        for (const auto& kv : st.metadata()) m_metadata.push_back(kv);
        m_files.push_back(std::move(f));
    }
    // Vectors (norms, biases) are widened to F32 so the forward pass reads one type.
    auto get = [&](const std::string& name, bool vector) -> Result<TensorView> {
        auto it = views.find(name);
        if (it == views.end()) return makeError(ErrorCode::NotFound, "missing tensor (or unsupported dtype)", name);
        TensorView v = it->second;
        if (vector && v.type != TensorType::F32) {
            std::vector<uint8_t> buf(size_t(v.elements()) * 4);
            kernels::dequantizeRow(v.type, v.data, reinterpret_cast<float*>(buf.data()), v.elements());
            v.type = TensorType::F32;
            v.bytes = buf.size();
            v.data = buf.data();
            m_ownedBuffers.push_back(std::move(buf));
        }
        return v;
    };
    auto getOptional = [&](const std::string& name) -> std::optional<TensorView> {
        if (!views.count(name)) return std::nullopt;
        auto r = get(name, true);
        return r.ok() ? std::optional<TensorView>(*r) : std::nullopt;
    };
    GB_ASSIGN_OR_RETURN(m_tokenEmbedding, get("model.embed_tokens.weight", false));
    GB_ASSIGN_OR_RETURN(m_outputNorm, get("model.norm.weight", true));
    if (views.count("lm_head.weight")) {
        GB_ASSIGN_OR_RETURN(m_output, get("lm_head.weight", false));
    } else {
        m_output = m_tokenEmbedding;
        m_config.tiedEmbeddings = true;
    }
    m_layers.resize(size_t(m_config.nLayers));
    for (int i = 0; i < m_config.nLayers; ++i) {
        const std::string p = "model.layers." + std::to_string(i) + ".";
        LayerWeights& l = m_layers[size_t(i)];
        GB_ASSIGN_OR_RETURN(l.attnNorm, get(p + "input_layernorm.weight", true));
        GB_ASSIGN_OR_RETURN(l.wq, get(p + "self_attn.q_proj.weight", false));
        GB_ASSIGN_OR_RETURN(l.wk, get(p + "self_attn.k_proj.weight", false));
        GB_ASSIGN_OR_RETURN(l.wv, get(p + "self_attn.v_proj.weight", false));
        GB_ASSIGN_OR_RETURN(l.wo, get(p + "self_attn.o_proj.weight", false));
        l.bq = getOptional(p + "self_attn.q_proj.bias");
        l.bk = getOptional(p + "self_attn.k_proj.bias");
        l.bv = getOptional(p + "self_attn.v_proj.bias");
        GB_ASSIGN_OR_RETURN(l.ffnNorm, get(p + "post_attention_layernorm.weight", true));
        GB_ASSIGN_OR_RETURN(l.wGate, get(p + "mlp.gate_proj.weight", false));
        GB_ASSIGN_OR_RETURN(l.wUp, get(p + "mlp.up_proj.weight", false));
        GB_ASSIGN_OR_RETURN(l.wDown, get(p + "mlp.down_proj.weight", false));
    }
    return {};
}

}  // namespace glassbox::engine
