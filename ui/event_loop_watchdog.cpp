// EventLoopWatchdog: tick lateness and percentiles.
#include "ui/event_loop_watchdog.h"

#include <algorithm>
#include <cmath>

namespace glassbox::ui {

EventLoopWatchdog::EventLoopWatchdog(int intervalMs, QObject* parent)
    : QObject(parent), m_intervalMs(std::max(1, intervalMs)) {
    m_timer.setTimerType(Qt::PreciseTimer);
    m_timer.setInterval(m_intervalMs);
    connect(&m_timer, &QTimer::timeout, this, &EventLoopWatchdog::tick);
}

void EventLoopWatchdog::start() {
    m_clock.start();
    m_lastNs = m_clock.nsecsElapsed();
    m_timer.start();
}

void EventLoopWatchdog::stop() { m_timer.stop(); }

void EventLoopWatchdog::reset() { m_samples.clear(); }

void EventLoopWatchdog::tick() {
    const qint64 now = m_clock.nsecsElapsed();
    const double elapsedMs = double(now - m_lastNs) / 1e6;
    m_lastNs = now;
    m_samples.push_back(std::max(0.0, elapsedMs - m_intervalMs));
}

double EventLoopWatchdog::percentile(double q) const {
    if (m_samples.empty()) return 0.0;
    std::vector<double> sorted = m_samples;
    std::sort(sorted.begin(), sorted.end());
    const size_t at = size_t(std::clamp(q, 0.0, 1.0) * double(sorted.size() - 1) + 0.5);
    return sorted[std::min(at, sorted.size() - 1)];
}

double EventLoopWatchdog::maximum() const {
    return m_samples.empty() ? 0.0 : *std::max_element(m_samples.begin(), m_samples.end());
}

}  // namespace glassbox::ui
