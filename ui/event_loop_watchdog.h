// EventLoopWatchdog: measures how responsive the UI thread is. A precise
// timer asks to fire every interval; how late each tick arrives is the time
// the event loop was busy. The percentiles of those delays say whether the
// window stayed responsive (p99 below one 60 Hz frame = 16 ms).
#pragma once

#include <QElapsedTimer>
#include <QObject>
#include <QTimer>
#include <vector>

namespace glassbox::ui {

class EventLoopWatchdog : public QObject {
    Q_OBJECT
public:
    explicit EventLoopWatchdog(int intervalMs = 1, QObject* parent = nullptr);

    void start();
    void stop();
    void reset();

    // Lateness of each tick, in milliseconds.
    const std::vector<double>& samples() const { return m_samples; }
    // q in [0, 1]; 0 with no samples.
    double percentile(double q) const;
    double maximum() const;
    int sampleCount() const { return int(m_samples.size()); }

private:
    void tick();

    QTimer m_timer;
    QElapsedTimer m_clock;
    qint64 m_lastNs = 0;
    int m_intervalMs;
    std::vector<double> m_samples;
};

}  // namespace glassbox::ui
