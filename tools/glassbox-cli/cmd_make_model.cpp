// glassbox-cli make-model: writes a GGUF model with a named architecture's
// real dimensions and random weights (engine/random_model.h), for measuring
// speed on models that are too large to ship. Progress goes to stderr.
#include <chrono>
#include <cstdio>
#include <string>

#include "engine/model_shapes.h"
#include "engine/quant_error.h"
#include "engine/random_model.h"
#include "tools/glassbox-cli/cli_common.h"
#include "tools/glassbox-cli/commands.h"

namespace glassbox::cli {
namespace {

double gib(uint64_t bytes) { return double(bytes) / double(uint64_t(1) << 30); }

std::string shapeList() {
    std::string names;
    for (std::string_view n : engine::modelShapeNames()) {
        if (!names.empty()) names += '|';
        names += n;
    }
    return names;
}

// --shape with --layers, --vocab and --narrow applied.
engine::Result<engine::ModelConfig> shapeFrom(const CliArgs& args) {
    GB_ASSIGN_OR_RETURN(engine::ModelConfig shape, engine::modelShape(args.get("--shape", "tiny")));
    std::string err;
    const long long layers = args.getInt("--layers", shape.nLayers, err);
    const long long vocab = args.getInt("--vocab", shape.nVocab, err);
    const long long narrow = args.getInt("--narrow", 1, err);
    if (!err.empty()) return engine::makeError(engine::ErrorCode::InvalidArgument, err);
    if (layers < 1 || layers > 1024) return engine::makeError(engine::ErrorCode::InvalidArgument, "--layers must be 1..1024");
    if (vocab < engine::kMinByteLevelVocab || vocab > (1 << 22))
        return engine::makeError(engine::ErrorCode::InvalidArgument,
                                 "--vocab must be at least " + std::to_string(engine::kMinByteLevelVocab));
    if (narrow < 1 || narrow > 1024) return engine::makeError(engine::ErrorCode::InvalidArgument, "--narrow must be >= 1");
    shape.nLayers = int(layers);
    shape.nVocab = int(vocab);
    return engine::narrowShape(shape, int(narrow));
}

// Prints a progress line each time another 5% of the weights is written.
engine::RandomModelProgress progressPrinter(std::chrono::steady_clock::time_point t0) {
    return [t0, next = 0.05](double fraction, const std::string& tensor, uint64_t bytes) mutable {
        if (fraction < next && fraction < 1.0) return;
        while (next <= fraction) next += 0.05;
        const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        std::fprintf(stderr, "  %3.0f%%  %-28s %7.2f GiB  %6.1f s  %7.1f MiB/s\n", 100.0 * fraction, tensor.c_str(),
                     gib(bytes), s, s > 0 ? double(bytes) / s / double(1 << 20) : 0.0);
    };
}

}  // namespace

int runMakeModel(const std::vector<std::string>& argv) {
    auto args = parseOrReport(argv, {"-o", "--shape", "--type", "--seed", "--layers", "--vocab", "--narrow", "-t"},
                              {"--dry-run"});
    if (!args) return 2;
    const std::string out = args->get("-o");
    if (out.empty() && !args->has("--dry-run"))
        return fail("an output file is required: -o OUT.gguf (shapes: " + shapeList() + ")");
    auto shape = shapeFrom(*args);
    if (!shape) return fail(shape.error());
    engine::RandomModelOptions opts;
    const std::string typeName = args->get("--type", "q4_0");
    const auto type = engine::tensorTypeFromName(typeName);
    if (!type || !engine::isRequantizableType(*type))
        return fail("--type must be one of f32, f16, bf16, q8_0, q4_0, q4_1, q5_0, q5_1, q4_k, q5_k, q6_k, not '" +
                    typeName + "'");
    opts.weightType = *type;
    std::string err;
    opts.seed = uint64_t(args->getInt("--seed", 1, err));
    opts.threads = int(args->getInt("-t", 0, err));
    if (!err.empty()) return fail(err);
    opts.name = "random " + args->get("--shape", "tiny") + " (glassbox-cli make-model)";
    auto bytes = engine::randomModelFileBytes(*shape, opts);
    if (!bytes) return fail(bytes.error());
    const engine::ModelConfig& s = *shape;
    std::fprintf(stderr,
                 "make-model: %s, %s weights, %d layers, n_embd %d, n_ff %d, heads %d/%d, vocab %d, %.3f B parameters, "
                 "%.2f GiB\n",
                 args->get("--shape", "tiny").c_str(), std::string(engine::tensorTypeName(*type)).c_str(), s.nLayers,
                 s.nEmbd, s.nFf, s.nHead, s.nHeadKv, s.nVocab, double(engine::shapeParameters(s)) * 1e-9, gib(*bytes));
    if (args->has("--dry-run")) {
        std::printf("%llu\n", static_cast<unsigned long long>(*bytes));
        return 0;
    }
    const auto t0 = std::chrono::steady_clock::now();
    auto st = engine::writeRandomModel(out, s, opts, {}, progressPrinter(t0));
    if (!st) return fail(st.error());
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::fprintf(stderr, "wrote %s: %.2f GiB in %.1f s (%.0f MiB/s)\n", out.c_str(), gib(*bytes), secs,
                 secs > 0 ? double(*bytes) / secs / double(1 << 20) : 0.0);
    return 0;
}

}  // namespace glassbox::cli
