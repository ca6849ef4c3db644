// Shared subcommand helpers.
#include "tools/glassbox-cli/cli_common.h"

#include <cstdio>
#include <fstream>
#include <sstream>

namespace glassbox::cli {

int fail(const std::string& message) {
    std::fprintf(stderr, "error: %s\n", message.c_str());
    return 1;
}

int fail(const engine::Error& error) { return fail(error.toString()); }

std::optional<CliArgs> parseOrReport(const std::vector<std::string>& args, std::vector<std::string> valueOptions,
                                     const std::vector<std::string>& switches) {
    std::string err;
    auto parsed = CliArgs::parse(args, valueOptions, switches, err);
    if (!parsed) std::fprintf(stderr, "error: %s\n", err.c_str());
    return parsed;
}

std::shared_ptr<const engine::Model> loadModelOrReport(const CliArgs& args) {
    const std::string path = args.get("-m");
    if (path.empty()) {
        fail("a model is required: -m MODEL (a .gguf file or a safetensors checkpoint)");
        return nullptr;
    }
    auto model = engine::Model::load(path);
    if (!model) {
        fail("cannot load '" + path + "': " + model.error().toString());
        return nullptr;
    }
    return *model;
}

bool backendOptionsFrom(const CliArgs& args, engine::BackendOptions& out) {
    std::string err;
    out.threads = int(args.getInt("-t", 0, err));
    out.contextSize = int(args.getInt("-c", 0, err));
    out.microBatch = int(args.getInt("--ubatch", out.microBatch, err));
    if (args.get("--kv-type", "f16") == "f32") out.kvType = engine::KvCacheType::F32;
    if (!err.empty()) {
        fail(err);
        return false;
    }
    if (out.threads < 0 || out.contextSize < 0) {
        fail("-t and -c must be positive");
        return false;
    }
    return true;
}

bool placementFrom(const CliArgs& args, engine::BackendOptions& out) {
    auto bad = [](const std::string& message) {
        fail(message);
        return false;
    };
    const std::string device = args.get("--device", "auto");
    if (device == "auto") out.placement = engine::Placement::Auto;
    else if (device == "cpu") out.placement = engine::Placement::Cpu;
    else if (device == "gpu") out.placement = engine::Placement::Gpu;
    else return bad("--device must be auto, cpu or gpu, not '" + device + "'");
    if (!args.has("--gpu-layers")) return true;
    std::string err;
    const long long layers = args.getInt("--gpu-layers", 0, err);
    if (!err.empty()) return bad(err);
    if (layers < 0 || layers > 4096) return bad("--gpu-layers must be between 0 and 4096");
    if (out.placement == engine::Placement::Cpu) return bad("--gpu-layers needs --device gpu or auto");
    out.placement = engine::Placement::GpuLayers;
    out.gpuLayers = int(layers);
    return true;
}

void printPlacement(std::FILE* out, engine::Session& s, engine::Placement asked) {
    const engine::DeviceInfo d = s.backend().deviceInfo();
    std::fprintf(out, "placement %s (asked: %s), %s %s", engine::placementName(s.placement()),
                 engine::placementName(asked), d.kind.c_str(), d.name.c_str());
    if (d.kind != "CPU") std::fprintf(out, ", %d of %d layers on the GPU", d.gpuLayers, d.totalLayers);
    std::fprintf(out, "\n");
    for (const std::string& note : s.placementNotes()) std::fprintf(out, "note: %s\n", note.c_str());
    if (!d.note.empty()) std::fprintf(out, "note: %s\n", d.note.c_str());
}

engine::Result<std::string> readTextFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return engine::makeError(engine::ErrorCode::Io, "cannot open '" + path + "'");
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

engine::Result<std::vector<int32_t>> readIdsFile(const std::string& path) {
    GB_ASSIGN_OR_RETURN(std::string text, readTextFile(path));
    std::istringstream ss(text);
    std::vector<int32_t> ids;
    long long v;
    while (ss >> v) {
        if (v < 0 || v > INT32_MAX) return engine::makeError(engine::ErrorCode::InvalidArgument, "bad token id", path);
        ids.push_back(int32_t(v));
    }
    if (!ss.eof()) return engine::makeError(engine::ErrorCode::Malformed, "not a list of integers", path);
    return ids;
}

engine::Status writeIdsFile(const std::string& path, const std::vector<int32_t>& ids) {
    std::ofstream out(path);
    if (!out) return engine::makeError(engine::ErrorCode::Io, "cannot write '" + path + "'");
    for (size_t i = 0; i < ids.size(); ++i) out << ids[i] << (i + 1 == ids.size() ? "\n" : " ");
    if (!out) return engine::makeError(engine::ErrorCode::Io, "write to '" + path + "' failed");
    return {};
}

}  // namespace glassbox::cli
