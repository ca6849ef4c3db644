// A run as one self-contained JSON document: settings, seed, prompt tokens,
// output, timings, every token with its alternatives and sampler stages, and
// the model and prompt it came from. For sharing a run outside Glassbox.
#pragma once

#include <string>

#include "projects/project_records.h"

namespace glassbox::projects {

// Format version of the document ("glassboxRun" member).
inline constexpr int kRunExportFormat = 1;

// `model` and `prompt` may be null (written as null). Floats are written as
// the shortest text that reads back to the same float; non-finite values
// (which JSON cannot hold) as null; the seeds as decimal strings.
std::string runToJson(const RunRecord& run, const ModelRecord* model, const PromptRecord* prompt,
                      int indent = 2);

}  // namespace glassbox::projects
