// Device-event op timing for the CUDA backend (see cuda_op_timer.h).
#include "engine/cuda/cuda_op_timer.h"

#include <algorithm>

namespace glassbox::engine::cuda {
namespace {

constexpr size_t kMaxPendingEvents = 4096;  // fold before the pool grows beyond this

void addOp(StepProfile& p, std::string_view op, double ms, int calls) {
    auto it = std::find_if(p.ops.begin(), p.ops.end(), [&](const OpTiming& t) { return t.op == op; });
    if (it == p.ops.end()) {
        p.ops.push_back(OpTiming{std::string(op), ms, calls});
    } else {
        it->ms += ms;
        it->calls += calls;
    }
}

}  // namespace

OpTimer::~OpTimer() {
    for (cudaEvent_t e : m_events) (void)cudaEventDestroy(e);
}

void OpTimer::beginStep(int tokens, cudaStream_t stream) {
    if (!m_enabled) return;
    m_stream = stream;
    m_current = StepProfile{};
    m_current.tokens = tokens;
    m_ok = true;
    m_used = 0;
    m_names.clear();
    m_start = std::chrono::steady_clock::now();
}

void OpTimer::mark(std::string_view op) {
    if (!m_enabled || !m_ok) return;
    if (m_used == kMaxPendingEvents) fold();
    if (m_used == m_events.size()) {
        cudaEvent_t e = nullptr;
        if (cudaEventCreate(&e) != cudaSuccess) {
            (void)cudaGetLastError();
            m_ok = false;
            return;
        }
        m_events.push_back(e);
    }
    if (cudaEventRecord(m_events[m_used], m_stream) != cudaSuccess) {
        (void)cudaGetLastError();
        m_ok = false;
        return;
    }
    m_names.resize(m_used + 1);
    m_names[m_used] = std::string(op);
    ++m_used;
}

// Turns marks [0, m_used) into op times; the last mark stays as the start
// of whatever op is still open.
void OpTimer::fold() {
    if (m_used == 0) return;
    if (cudaEventSynchronize(m_events[m_used - 1]) != cudaSuccess) {
        (void)cudaGetLastError();
        m_ok = false;
        return;
    }
    for (size_t i = 0; i + 1 < m_used; ++i) {
        if (m_names[i].empty()) continue;
        float ms = 0.0f;
        if (cudaEventElapsedTime(&ms, m_events[i], m_events[i + 1]) != cudaSuccess) {
            (void)cudaGetLastError();
            m_ok = false;
            return;
        }
        addOp(m_current, m_names[i], double(ms), 1);
    }
    std::swap(m_events[0], m_events[m_used - 1]);
    m_names[0] = m_names[m_used - 1];
    m_names.resize(1);
    m_used = 1;
}

void OpTimer::addHostOps(const std::vector<OpTiming>& ops) {
    if (!m_enabled) return;
    for (const OpTiming& t : ops) addOp(m_current, t.op, t.ms, t.calls);
}

void OpTimer::endStep() {
    if (!m_enabled) return;
    mark("");
    fold();
    m_current.totalMs = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - m_start).count();
    m_current.deviceTimed = m_ok;
    m_last = std::move(m_current);
    m_current = StepProfile{};
    m_used = 0;
}

}  // namespace glassbox::engine::cuda

