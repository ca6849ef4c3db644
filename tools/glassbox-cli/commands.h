// The glassbox-cli subcommands. Each takes the arguments after its name and
// returns the process exit code; errors are printed to stderr.
#pragma once

#include <string>
#include <vector>

namespace glassbox::cli {

int runInfo(const std::vector<std::string>& args);
int runTokenize(const std::vector<std::string>& args);
int runGenerate(const std::vector<std::string>& args);
int runLogits(const std::vector<std::string>& args);
int runPerplexity(const std::vector<std::string>& args);
int runBench(const std::vector<std::string>& args);
int runInspect(const std::vector<std::string>& args);
int runPlan(const std::vector<std::string>& args);
int runQuantError(const std::vector<std::string>& args);
int runRequantize(const std::vector<std::string>& args);
int runKld(const std::vector<std::string>& args);
int runMakeModel(const std::vector<std::string>& args);
int runGpuBench(const std::vector<std::string>& args);

}  // namespace glassbox::cli
