// OpProfiler: per-op host timing accumulated over one forward() call.
#include "engine/op_profile.h"

#include <algorithm>

namespace glassbox::engine {

void OpProfiler::beginStep(int tokens) {
    if (!m_enabled) return;
    m_current = StepProfile{};
    m_current.tokens = tokens;
    m_stepStart = std::chrono::steady_clock::now();
}

void OpProfiler::endStep() {
    if (!m_enabled) return;
    m_current.totalMs = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - m_stepStart).count();
    m_last = std::move(m_current);
    m_current = StepProfile{};
}

void OpProfiler::add(std::string_view op, double ms) {
    auto it = std::find_if(m_current.ops.begin(), m_current.ops.end(), [&](const OpTiming& t) { return t.op == op; });
    if (it == m_current.ops.end()) {
        m_current.ops.push_back(OpTiming{std::string(op), ms, 1});
    } else {
        it->ms += ms;
        it->calls += 1;
    }
}

}  // namespace glassbox::engine
