// Timed prefill and decode runs on a Session, shared by the bench and
// gpu-bench subcommands and measured like llama-bench: prefill is one prompt
// of -p tokens from an empty cache, decode is -n single-token steps from an
// empty cache; the first round is a warm-up and is not reported.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/result.h"
#include "engine/session.h"

namespace glassbox::cli {

// Tokens per second of each timed run.
struct RunFigures {
    std::vector<double> prefill, decode;
};

// `reps` timed rounds after one warm-up. Errors: the session's.
engine::Result<RunFigures> timeRuns(engine::Session& s, const std::vector<int32_t>& prompt, int nGen, int reps);

// A fixed pseudo-random prompt of n token ids below nVocab.
std::vector<int32_t> benchPrompt(int nVocab, int n);

// The median, 0 for an empty list.
double median(std::vector<double> v);

// "[1.5, 2.0]"
std::string jsonList(const std::vector<double>& v);

}  // namespace glassbox::cli
