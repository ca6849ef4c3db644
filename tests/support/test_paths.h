// Where tests find the default model and checked-in test data (set by CTest
// through GLASSBOX_MODELS_DIR / GLASSBOX_TEST_DATA_DIR).
#pragma once

#include <string>

namespace glassbox::testing {

std::string modelsDir();
std::string testDataDir();
// models/SmolLM2-135M-Instruct.Q4_1.gguf
std::string defaultModelPath();
// A fresh, empty temporary directory for one test.
std::string makeTempDir(const std::string& prefix);

}  // namespace glassbox::testing
