// Locations of test inputs.
#include "support/test_paths.h"

#include <cstdlib>
#include <filesystem>
#include <random>

namespace glassbox::testing {

namespace {
std::string envOr(const char* name, const std::string& fallback) {
    const char* v = std::getenv(name);
    return (v && *v) ? std::string(v) : fallback;
}
}  // namespace

std::string modelsDir() { return envOr("GLASSBOX_MODELS_DIR", "models"); }
std::string testDataDir() { return envOr("GLASSBOX_TEST_DATA_DIR", "tests/data"); }
std::string defaultModelPath() { return modelsDir() + "/SmolLM2-135M-Instruct.Q4_1.gguf"; }

std::string makeTempDir(const std::string& prefix) {
    namespace fs = std::filesystem;
    std::random_device rd;
    for (int attempt = 0; attempt < 100; ++attempt) {
        fs::path p = fs::temp_directory_path() / (prefix + "-" + std::to_string(rd()));
        std::error_code ec;
        if (fs::create_directory(p, ec)) return p.string();
    }
    return fs::temp_directory_path().string();
}

}  // namespace glassbox::testing
