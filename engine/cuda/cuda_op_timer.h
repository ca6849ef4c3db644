// Per-op timing of the CUDA backend's forward() with device events: an
// event is recorded on the stream before each op (mark), and an op's time
// is the elapsed time to the next mark, summed by op name over the call —
// the same op names and StepProfile as the CPU backend, with deviceTimed
// set. Host-side work between marks (the CPU layers of a split placement)
// is marked with an empty name and not reported here. Off by default; when
// off, mark() is one branch. Timing failures never fail a forward pass:
// they leave deviceTimed false.
#pragma once

#include <cuda_runtime_api.h>

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "engine/backend.h"

namespace glassbox::engine::cuda {

class OpTimer {
public:
    OpTimer() = default;
    ~OpTimer();
    OpTimer(const OpTimer&) = delete;
    OpTimer& operator=(const OpTimer&) = delete;

    void setEnabled(bool on) { m_enabled = on; }
    bool enabled() const { return m_enabled; }

    void beginStep(int tokens, cudaStream_t stream);
    // The ops enqueued from now until the next mark are `op`.
    void mark(std::string_view op);
    // Adds host-timed ops (the CPU part of a split placement).
    void addHostOps(const std::vector<OpTiming>& ops);
    // Waits for the stream and folds the events into the last profile.
    void endStep();
    const StepProfile& last() const { return m_last; }

private:
    void fold();  // synchronises and turns recorded marks into times

    bool m_enabled = false;
    bool m_ok = true;
    cudaStream_t m_stream = nullptr;
    std::vector<cudaEvent_t> m_events;   // a pool, grown on demand
    std::vector<std::string> m_names;    // op of each used event
    size_t m_used = 0;
    StepProfile m_current, m_last;
    std::chrono::steady_clock::time_point m_start;
};

}  // namespace glassbox::engine::cuda
