// glassbox-cli info: metadata, architecture summary and tensor table.
#include <cstdio>

#include "engine/model.h"
#include "engine/tokenizer.h"
#include "kernels/cpu/quant_kernels.h"
#include "tools/glassbox-cli/cli_common.h"
#include "tools/glassbox-cli/commands.h"

namespace glassbox::cli {

int runInfo(const std::vector<std::string>& argv) {
    auto args = parseOrReport(argv, {"-m"}, {"--no-tensors", "--no-metadata"});
    if (!args) return 2;
    auto model = loadModelOrReport(*args);
    if (!model) return 1;
    const engine::ModelConfig& c = model->config();
    std::printf("model:        %s\n", model->path().c_str());
    std::printf("format:       %s, %.1f MiB, weights mostly %s\n",
                model->format() == engine::ModelFormat::Gguf ? "GGUF" : "safetensors",
                double(model->fileBytes()) / (1 << 20), model->weightTypeSummary().c_str());
    std::printf("architecture: %s\n", c.architecture.c_str());
    std::printf("layers %d, hidden %d, heads %d (KV heads %d, %s), head dim %d, FFN %d\n", c.nLayers, c.nEmbd,
                c.nHead, c.nHeadKv,
                c.nHeadKv == c.nHead ? "MHA" : (c.nHeadKv == 1 ? "MQA" : "GQA"), c.headDim, c.nFf);
    std::printf("vocabulary %d, training context %d, RoPE %s theta %.0f scale %.3g over %d dims, RMS eps %g\n",
                c.nVocab, c.nCtxTrain, c.ropeType == engine::RopeType::Normal ? "normal" : "neox", c.ropeTheta,
                1.0 / c.ropeFreqScale, c.ropeDims, c.rmsEps);
    std::printf("output head:  %s, QKV bias: %s\n", c.tiedEmbeddings ? "tied to the embedding" : "separate",
                c.qkvBias ? "yes" : "no");
    std::printf("CPU kernels:  %s\n", kernels::simdLevelName());
    if (!args->has("--no-metadata")) {
        std::printf("\nmetadata (%zu keys):\n", model->metadata().size());
        for (const auto& [k, v] : model->metadata()) {
            std::string shown = v.size() > 100 ? v.substr(0, 97) + "..." : v;
            for (char& ch : shown)
                if (ch == '\n') ch = ' ';
            std::printf("  %-44s %s\n", k.c_str(), shown.c_str());
        }
    }
    if (!args->has("--no-tensors")) {
        std::printf("\ntensors (%zu):\n  %-34s %-8s %-22s %12s\n", model->tensorTable().size(), "name", "type",
                    "shape", "bytes");
        for (const auto& t : model->tensorTable()) {
            std::string shape = "[";
            for (size_t i = 0; i < t.shape.size(); ++i) shape += std::string(i ? ", " : "") + std::to_string(t.shape[i]);
            shape += "]";
            std::printf("  %-34s %-8s %-22s %12llu\n", t.name.c_str(), t.type.c_str(), shape.c_str(),
                        static_cast<unsigned long long>(t.bytes));
        }
    }
    return 0;
}

}  // namespace glassbox::cli
