// Helpers shared by the subcommands: parsing common options, loading a model
// with a clear message, reading input files.
#pragma once

#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/backend.h"
#include "engine/model.h"
#include "engine/result.h"
#include "engine/session.h"
#include "tools/glassbox-cli/cli_args.h"

namespace glassbox::cli {

// Prints "error: ..." to stderr and returns 1.
int fail(const std::string& message);
int fail(const engine::Error& error);

// Parses args or prints the error; nullopt → exit code 2.
std::optional<CliArgs> parseOrReport(const std::vector<std::string>& args, std::vector<std::string> valueOptions,
                                     const std::vector<std::string>& switches);

// Loads -m MODEL, printing the error on failure.
std::shared_ptr<const engine::Model> loadModelOrReport(const CliArgs& args);

// -t THREADS, -c CTX into backend options; false (after printing) on a bad value.
bool backendOptionsFrom(const CliArgs& args, engine::BackendOptions& out);

// --device auto|cpu|gpu and --gpu-layers N (which asks for Placement::GpuLayers)
// into out.placement and out.gpuLayers; false (after printing) on a bad value.
bool placementFrom(const CliArgs& args, engine::BackendOptions& out);

// Where the session's layers run, what was asked, the device, and one
// "note:" line per fallback taken, to `out`.
void printPlacement(std::FILE* out, engine::Session& s, engine::Placement asked);

engine::Result<std::string> readTextFile(const std::string& path);
// Whitespace-separated integers.
engine::Result<std::vector<int32_t>> readIdsFile(const std::string& path);
engine::Status writeIdsFile(const std::string& path, const std::vector<int32_t>& ids);

}  // namespace glassbox::cli
