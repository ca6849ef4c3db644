// An opened model: immutable weights (memory-mapped where possible), its
// configuration and tokenizer. Shared read-only between sessions and
// threads; mutable state (KV cache, scratch) lives in a Session.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include "engine/mapped_file.h"
#include "engine/model_config.h"
#include "engine/result.h"
#include "engine/tensor_types.h"

namespace glassbox::engine {

class Tokenizer;
class GgufFile;

struct LayerWeights {
    TensorView attnNorm, wq, wk, wv, wo;
    std::optional<TensorView> bq, bk, bv;
    TensorView ffnNorm, wGate, wUp, wDown;
};

enum class ModelFormat { Gguf, Safetensors };

// One row of the "info" tensor table.
struct TensorSummary {
    std::string name;
    std::string type;
    std::vector<int64_t> shape;  // ne[0] first, as stored
    uint64_t bytes = 0;
};

// Load progress: fraction in [0, 1] and a short stage description.
using LoadProgress = std::function<void(float fraction, const std::string& stage)>;

class Model {
public:
    ~Model();

    // Open a GGUF file, or a safetensors checkpoint (a .safetensors file or a
    // directory holding config.json, *.safetensors and tokenizer.json).
    // Errors: Io, the parsers' typed errors, Unsupported (architecture or
    // tensor type named), NotFound (missing tensor named), Cancelled.
    static Result<std::shared_ptr<const Model>> load(const std::string& path,
                                                     std::stop_token stop = {},
                                                     const LoadProgress& progress = {});

    const ModelConfig& config() const { return m_config; }
    const Tokenizer& tokenizer() const { return *m_tokenizer; }
    ModelFormat format() const { return m_format; }
    const std::string& path() const { return m_path; }
    uint64_t fileBytes() const { return m_fileBytes; }
    uint64_t weightBytes() const { return m_weightBytes; }
    // The dominant weight type, e.g. "Q4_1".
    std::string weightTypeSummary() const;
    // The model's own chat template string, if it has one.
    const std::string& chatTemplate() const { return m_chatTemplate; }
    // Metadata as display strings (key, value), in file order.
    const std::vector<std::pair<std::string, std::string>>& metadata() const { return m_metadata; }
    const std::vector<TensorSummary>& tensorTable() const { return m_tensorTable; }

    const TensorView& tokenEmbedding() const { return m_tokenEmbedding; }
    const TensorView& outputNorm() const { return m_outputNorm; }
    const TensorView& output() const { return m_output; }
    const std::vector<LayerWeights>& layers() const { return m_layers; }

private:
    Model() = default;
    Status loadGguf(const std::string& path, std::stop_token stop, const LoadProgress& progress);
    Status loadSafetensors(const std::string& path, std::stop_token stop, const LoadProgress& progress);
    Status bindGgufTensors(const GgufFile& file);
    Status checkTensorShapes() const;

    std::string m_path;
    ModelFormat m_format = ModelFormat::Gguf;
    std::vector<MappedFile> m_files;
    std::vector<std::vector<uint8_t>> m_ownedBuffers;  // converted weights, if any
    ModelConfig m_config;
    std::unique_ptr<Tokenizer> m_tokenizer;
    std::string m_chatTemplate;
    std::vector<std::pair<std::string, std::string>> m_metadata;
    std::vector<TensorSummary> m_tensorTable;
    uint64_t m_fileBytes = 0;
    uint64_t m_weightBytes = 0;
    TensorView m_tokenEmbedding, m_outputNorm, m_output;
    std::vector<LayerWeights> m_layers;
};

}  // namespace glassbox::engine
