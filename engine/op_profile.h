// Host-clock per-op timing for the CPU backend's StepProfile: ops are
// accumulated by name over one forward() call. Off by default; when off a
// scope costs one branch.
#pragma once

#include <chrono>
#include <string_view>
#include <vector>

#include "engine/backend.h"

namespace glassbox::engine {

class OpProfiler {
public:
    void setEnabled(bool on) { m_enabled = on; }
    bool enabled() const { return m_enabled; }

    // Starts a new step (clears the accumulated ops).
    void beginStep(int tokens);
    void endStep();
    void add(std::string_view op, double ms);
    const StepProfile& last() const { return m_last; }

    // Times the enclosing scope as `op` when profiling is on.
    class Scope {
    public:
        Scope(OpProfiler& p, std::string_view op) : m_p(p), m_op(op) {
            if (m_p.m_enabled) m_t0 = std::chrono::steady_clock::now();
        }
        ~Scope() {
            if (m_p.m_enabled)
                m_p.add(m_op, std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - m_t0).count());
        }
        Scope(const Scope&) = delete;
        Scope& operator=(const Scope&) = delete;

    private:
        OpProfiler& m_p;
        std::string_view m_op;
        std::chrono::steady_clock::time_point m_t0;
    };

private:
    bool m_enabled = false;
    StepProfile m_current, m_last;
    std::chrono::steady_clock::time_point m_stepStart;
};

}  // namespace glassbox::engine
