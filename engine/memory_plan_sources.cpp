// Model footprints for the memory planner, from metadata only: GGUF tensor
// infos, safetensors headers, a bare config.json (weights estimated from the
// Llama-family shapes) or a model already loaded. Files are mapped to parse
// their headers; no tensor data is read.
#include <algorithm>
#include <filesystem>
#include <map>

#include "engine/gguf_file.h"
#include "engine/hf_config.h"
#include "engine/mapped_file.h"
#include "engine/memory_plan.h"
#include "engine/model.h"
#include "engine/safetensors_file.h"

namespace glassbox::engine {
namespace {

namespace fs = std::filesystem;

// Accumulates the weight table by type name.
class WeightTable {
public:
    void add(const std::string& type, uint64_t elements, uint64_t bytes) {
        WeightTypeRow& r = m_rows[type];
        r.type = type;
        r.tensors += 1;
        r.elements += elements;
        r.bytes += bytes;
    }
    void finish(ModelFootprint& out) const {
        out.weights.clear();
        out.weightBytes = 0;
        out.weightTensors = 0;
        for (const auto& [name, row] : m_rows) {
            out.weights.push_back(row);
            out.weightBytes += row.bytes;
            out.weightTensors += row.tensors;
        }
        std::stable_sort(out.weights.begin(), out.weights.end(),
                         [](const WeightTypeRow& a, const WeightTypeRow& b) { return a.bytes > b.bytes; });
    }

private:
    std::map<std::string, WeightTypeRow> m_rows;
};

bool endsWith(const std::string& s, std::string_view suffix) {
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// The per-layer matrix names of one file format.
struct LayerNames {
    std::string q, k, v, o, gate, up, down;
};

LayerNames ggufLayerNames(int layer) {
    const std::string p = "blk." + std::to_string(layer) + ".";
    return {p + "attn_q.weight", p + "attn_k.weight",   p + "attn_v.weight",  p + "attn_output.weight",
            p + "ffn_gate.weight", p + "ffn_up.weight", p + "ffn_down.weight"};
}

LayerNames hfLayerNames(int layer) {
    const std::string p = "model.layers." + std::to_string(layer) + ".";
    return {p + "self_attn.q_proj.weight", p + "self_attn.k_proj.weight", p + "self_attn.v_proj.weight",
            p + "self_attn.o_proj.weight", p + "mlp.gate_proj.weight",     p + "mlp.up_proj.weight",
            p + "mlp.down_proj.weight"};
}

// Fills footprint.layers by looking each matrix's type up by name.
template <class TypeOf>
Status collectLayerTypes(ModelFootprint& fp, LayerNames (*names)(int), TypeOf typeOf) {
    fp.layers.assign(size_t(fp.config.nLayers), {});
    for (int i = 0; i < fp.config.nLayers; ++i) {
        const LayerNames n = names(i);
        LayerMatmulTypes& t = fp.layers[size_t(i)];
        const std::pair<const std::string*, TensorType*> slots[] = {
            {&n.q, &t.q}, {&n.k, &t.k}, {&n.v, &t.v}, {&n.o, &t.o},
            {&n.gate, &t.gate}, {&n.up, &t.up}, {&n.down, &t.down}};
        for (const auto& [name, type] : slots) {
            std::optional<TensorType> found = typeOf(*name);
            if (!found) return makeError(ErrorCode::NotFound, "missing tensor", *name);
            *type = *found;
        }
    }
    return {};
}

// The matrix types the engine computes with for a safetensors dtype; types it
// cannot compute with are priced as float products (no quantization scratch).
TensorType computeTypeOf(SafetensorsDtype dtype) {
    return safetensorsComputeType(dtype).value_or(TensorType::F32);
}

Result<std::vector<std::string>> safetensorsShards(const fs::path& dir, const fs::path& given) {
    if (!given.empty()) return std::vector<std::string>{given.string()};
    const fs::path index = dir / "model.safetensors.index.json";
    std::error_code ec;
    if (!fs::exists(index, ec)) return std::vector<std::string>{(dir / "model.safetensors").string()};
    GB_ASSIGN_OR_RETURN(SafetensorsIndex idx, readSafetensorsIndexFile(index.string()));
    std::vector<std::string> out;
    for (const auto& s : idx.shards) out.push_back((dir / s).string());
    return out;
}

TensorType defaultWeightType(const std::string& torchDtype) {
    if (torchDtype == "bfloat16") return TensorType::BF16;
    if (torchDtype == "float32") return TensorType::F32;
    return TensorType::F16;
}

}  // namespace

Result<ModelFootprint> footprintFromGguf(const std::string& path) {
    GB_ASSIGN_OR_RETURN(MappedFile file, MappedFile::open(path));
    GB_ASSIGN_OR_RETURN(GgufFile gguf, GgufFile::parse(file.bytes()));
    ModelFootprint fp;
    fp.source = "GGUF";
    GB_ASSIGN_OR_RETURN(fp.config, configFromGguf(gguf));
    WeightTable table;
    for (const GgufTensorInfo& t : gguf.tensors()) {
        uint64_t elements = 1;
        for (int d = 0; d < t.nDims; ++d) elements *= uint64_t(t.ne[size_t(d)]);
        table.add(std::string(tensorTypeName(t.type)), elements, t.bytes);
    }
    table.finish(fp);
    GB_TRY(collectLayerTypes(fp, ggufLayerNames, [&](const std::string& name) -> std::optional<TensorType> {
        const GgufTensorInfo* info = gguf.findTensor(name);
        return info ? std::optional<TensorType>(info->type) : std::nullopt;
    }));
    const GgufTensorInfo* out = gguf.findTensor("output.weight");
    if (!out) out = gguf.findTensor("token_embd.weight");
    if (out) fp.outputType = out->type;
    return fp;
}

Result<ModelFootprint> footprintFromSafetensors(const std::string& path) {
    std::error_code ec;
    const bool isDir = fs::is_directory(path, ec);
    const fs::path dir = isDir ? fs::path(path) : fs::path(path).parent_path();
    const fs::path configPath = dir / "config.json";
    if (!fs::exists(configPath, ec))
        return makeError(ErrorCode::NotFound, "missing file '" + configPath.string() + "'", "config.json");
    GB_ASSIGN_OR_RETURN(HfConfig hf, readHfConfigFile(configPath.string()));
    ModelFootprint fp;
    fp.source = "safetensors";
    GB_ASSIGN_OR_RETURN(fp.config, configFromHf(hf));
    GB_ASSIGN_OR_RETURN(std::vector<std::string> shards, safetensorsShards(dir, isDir ? fs::path() : fs::path(path)));
    WeightTable table;
    std::map<std::string, TensorType, std::less<>> types;
    for (const std::string& shard : shards) {
        GB_ASSIGN_OR_RETURN(MappedFile f, MappedFile::open(shard));
        GB_ASSIGN_OR_RETURN(SafetensorsFile st, SafetensorsFile::parse(f.bytes()));
        for (const SafetensorsTensor& t : st.tensors()) {
            table.add(safetensorsDtypeName(t.dtype), t.elements, t.data.size());
            types[t.name] = computeTypeOf(t.dtype);
        }
    }
    table.finish(fp);
    GB_TRY(collectLayerTypes(fp, hfLayerNames, [&](const std::string& name) -> std::optional<TensorType> {
        auto it = types.find(name);
        return it == types.end() ? std::nullopt : std::optional<TensorType>(it->second);
    }));
    auto head = types.find("lm_head.weight");
    if (head == types.end()) head = types.find("model.embed_tokens.weight");
    if (head != types.end()) fp.outputType = head->second;
    return fp;
}

Result<ModelFootprint> footprintFromConfig(const ModelConfig& c, TensorType weightType) {
    GB_TRY(c.validate());
    ModelFootprint fp;
    fp.config = c;
    fp.source = "config.json";
    fp.weightsEstimated = true;
    WeightTable table;
    const std::string wName(tensorTypeName(weightType));
    auto matrix = [&](const std::string& name, int64_t ne0, int64_t ne1) -> Status {
        const auto row = rowBytes(weightType, uint64_t(ne0));
        if (!row)
            return makeError(ErrorCode::InvalidArgument,
                             wName + " rows must be a multiple of " + std::to_string(traitsOf(weightType).blockSize) +
                                 " values; this tensor's rows have " + std::to_string(ne0),
                             name);
        table.add(wName, uint64_t(ne0) * uint64_t(ne1), *row * uint64_t(ne1));
        return {};
    };
    auto vector = [&](int64_t n) { table.add("F32", uint64_t(n), uint64_t(n) * 4); };
    GB_TRY(matrix("token_embd.weight", c.nEmbd, c.nVocab));
    vector(c.nEmbd);  // output_norm
    if (!c.tiedEmbeddings) GB_TRY(matrix("output.weight", c.nEmbd, c.nVocab));
    for (int i = 0; i < c.nLayers; ++i) {
        const LayerNames n = ggufLayerNames(i);
        vector(c.nEmbd);  // attn_norm
        GB_TRY(matrix(n.q, c.nEmbd, c.qDim()));
        GB_TRY(matrix(n.k, c.nEmbd, c.kvDim()));
        GB_TRY(matrix(n.v, c.nEmbd, c.kvDim()));
        if (c.qkvBias) {
            vector(c.qDim());
            vector(c.kvDim());
            vector(c.kvDim());
        }
        GB_TRY(matrix(n.o, c.qDim(), c.nEmbd));
        vector(c.nEmbd);  // ffn_norm
        GB_TRY(matrix(n.gate, c.nEmbd, c.nFf));
        GB_TRY(matrix(n.up, c.nEmbd, c.nFf));
        GB_TRY(matrix(n.down, c.nFf, c.nEmbd));
    }
    table.finish(fp);
    LayerMatmulTypes uniform;
    uniform.q = uniform.k = uniform.v = uniform.o = uniform.gate = uniform.up = uniform.down = weightType;
    fp.layers.assign(size_t(c.nLayers), uniform);
    fp.outputType = weightType;
    return fp;
}

Result<ModelFootprint> footprintFromConfigJson(const std::string& path, std::optional<TensorType> weightType) {
    GB_ASSIGN_OR_RETURN(HfConfig hf, readHfConfigFile(path));
    GB_ASSIGN_OR_RETURN(ModelConfig config, configFromHf(hf));
    return footprintFromConfig(config, weightType.value_or(defaultWeightType(hf.torchDtype)));
}

ModelFootprint footprintFromModel(const Model& model) {
    ModelFootprint fp;
    fp.config = model.config();
    fp.source = "loaded model";
    WeightTable table;
    for (const TensorSummary& t : model.tensorTable()) {
        uint64_t elements = 1;
        for (int64_t d : t.shape) elements *= uint64_t(std::max<int64_t>(d, 0));
        table.add(t.type, elements, t.bytes);
    }
    table.finish(fp);
    for (const LayerWeights& l : model.layers())
        fp.layers.push_back({l.wq.type, l.wk.type, l.wv.type, l.wo.type, l.wGate.type, l.wUp.type, l.wDown.type});
    fp.outputType = model.output().type;
    return fp;
}

Result<ModelFootprint> footprintFromPath(const std::string& path, std::optional<TensorType> weightType) {
    std::error_code ec;
    if (fs::is_directory(path, ec) || endsWith(path, ".safetensors")) return footprintFromSafetensors(path);
    if (endsWith(path, ".json")) return footprintFromConfigJson(path, weightType);
    return footprintFromGguf(path);
}

}  // namespace glassbox::engine
