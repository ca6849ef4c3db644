// DeviceMonitor: the /proc parsers on hand-written texts (good, missing and
// malformed lines), the utilisation arithmetic, and a real sample on this
// machine: the CPU answers (also when a GPU is asked for and NVML is
// absent, with a note saying so) with figures in sane ranges.
#include <QtTest>

#include <thread>

#include "engine/device_monitor.h"

using namespace glassbox::engine;

class TestDeviceMonitor : public QObject {
    Q_OBJECT
private slots:
    void parsesProcStat();
    void rejectsBadProcStat();
    void parsesCpuMHz();
    void parsesProcessRss();
    void computesUtilisation();
    void samplesThisMachine();
    void gpuRequestFallsBackWithNote();
};

void TestDeviceMonitor::parsesProcStat() {
    const char* text =
        "cpu  100 20 30 400 50 6 7 8 0 0\n"
        "cpu0 50 10 15 200 25 3 3 4 0 0\n"
        "intr 12345\n";
    auto t = parseProcStat(text);
    QVERIFY(t.ok());
    QCOMPARE(t->busy, uint64_t(100 + 20 + 30 + 6 + 7 + 8));
    QCOMPARE(t->total, uint64_t(100 + 20 + 30 + 6 + 7 + 8 + 400 + 50));
    // Old kernels: only user nice system idle.
    auto old = parseProcStat("cpu 1 2 3 4\n");
    QVERIFY(old.ok());
    QCOMPARE(old->busy, uint64_t(6));
    QCOMPARE(old->total, uint64_t(10));
}

void TestDeviceMonitor::rejectsBadProcStat() {
    auto none = parseProcStat("cpu0 1 2 3 4\nintr 5\n");
    QVERIFY(!none.ok());
    QCOMPARE(none.error().code, ErrorCode::NotFound);
    auto bad = parseProcStat("cpu  1 2 x 4\n");
    QVERIFY(!bad.ok());
    QCOMPARE(bad.error().code, ErrorCode::Malformed);
    QCOMPARE(bad.error().field, std::string("cpu"));
    auto shortLine = parseProcStat("cpu  1 2\n");
    QVERIFY(!shortLine.ok());
    QCOMPARE(shortLine.error().code, ErrorCode::Malformed);
}

void TestDeviceMonitor::parsesCpuMHz() {
    const char* text =
        "processor\t: 0\nmodel name\t: Test CPU\ncpu MHz\t\t: 2000.000\n\n"
        "processor\t: 1\nmodel name\t: Test CPU\ncpu MHz\t\t: 3000.500\n";
    auto mhz = parseCpuMHz(text);
    QVERIFY(mhz.ok());
    QCOMPARE(*mhz, 2500.25);
    auto none = parseCpuMHz("processor\t: 0\nBogoMIPS\t: 50.00\n");  // e.g. ARM
    QVERIFY(!none.ok());
    QCOMPARE(none.error().code, ErrorCode::NotFound);
    auto bad = parseCpuMHz("cpu MHz\t\t: fast\n");
    QVERIFY(!bad.ok());
    QCOMPARE(bad.error().code, ErrorCode::Malformed);
}

void TestDeviceMonitor::parsesProcessRss() {
    auto rss = parseProcessRss("Name:\tglassbox\nVmPeak:\t  9000 kB\nVmRSS:\t    1968 kB\nThreads:\t3\n");
    QVERIFY(rss.ok());
    QCOMPARE(*rss, uint64_t(1968) * 1024);
    auto none = parseProcessRss("Name:\tkthread\n");
    QVERIFY(!none.ok());
    QCOMPARE(none.error().code, ErrorCode::NotFound);
    auto badUnit = parseProcessRss("VmRSS:\t 12 MB\n");
    QVERIFY(!badUnit.ok());
    QCOMPARE(badUnit.error().code, ErrorCode::Malformed);
    auto overflow = parseProcessRss("VmRSS:\t 99999999999999999999 kB\n");
    QVERIFY(!overflow.ok());
}

void TestDeviceMonitor::computesUtilisation() {
    QCOMPARE(*cpuUtilisation({100, 400}, {150, 500}), 50.0);
    QCOMPARE(*cpuUtilisation({0, 0}, {10, 10}), 100.0);
    QVERIFY(!cpuUtilisation({100, 400}, {100, 400}).has_value());  // no time passed
    QVERIFY(!cpuUtilisation({100, 400}, {90, 500}).has_value());   // counters went back
}

void TestDeviceMonitor::samplesThisMachine() {
    DeviceMonitor monitor;
    const HardwareSample first = monitor.sampleCpu();
    QCOMPARE(first.source, HardwareSource::Proc);
    QCOMPARE(QString(hardwareSourceName(first.source)), QStringLiteral("/proc"));
    QVERIFY(!first.device.empty());
    QVERIFY(first.logicalCpus >= 1);
    QVERIFY(!first.utilisation.has_value());  // needs two readings
    QVERIFY(first.memoryTotalBytes > (uint64_t(64) << 20));
    QVERIFY(first.memoryUsedBytes > 0 && first.memoryUsedBytes <= first.memoryTotalBytes);
    QVERIFY(first.processBytes > (uint64_t(1) << 20));  // this test is more than 1 MiB resident
    QVERIFY(first.processBytes < first.memoryTotalBytes);
    if (first.clockMHz) QVERIFY(*first.clockMHz > 10 && *first.clockMHz < 10000);
    if (first.temperatureC) QVERIFY(*first.temperatureC > -40 && *first.temperatureC < 150);

    // Keep a core busy a little so the second reading has jiffies to compare.
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(120);
    volatile double sink = 0;
    while (std::chrono::steady_clock::now() < until) sink = sink + 1.0;
    const HardwareSample second = monitor.sampleCpu();
    QVERIFY(second.utilisation.has_value());
    QVERIFY(*second.utilisation >= 0.0 && *second.utilisation <= 100.0);
    QVERIFY(second.note.empty());
}

void TestDeviceMonitor::gpuRequestFallsBackWithNote() {
    DeviceMonitor monitor;
    auto gpu = monitor.sampleGpu(0);
    if (gpu.ok()) {
        // A machine with an NVIDIA driver: the GPU answered.
        QCOMPARE(gpu->source, HardwareSource::Nvml);
        QVERIFY(!gpu->device.empty());
        QVERIFY(gpu->memoryTotalBytes > 0);
        if (gpu->utilisation) QVERIFY(*gpu->utilisation >= 0 && *gpu->utilisation <= 100);
        QVERIFY(!monitor.sampleGpu(4096).ok());  // no such GPU: an error, not a crash
        return;
    }
    QCOMPARE(gpu.error().code, ErrorCode::Device);
    QVERIFY(!gpu.error().message.empty());
    const HardwareSample s = monitor.sample(true, 0);
    QCOMPARE(s.source, HardwareSource::Proc);
    QVERIFY(s.note.find("GPU telemetry unavailable") != std::string::npos);
    QVERIFY(s.note.find(gpu.error().message) != std::string::npos);
}

QTEST_GUILESS_MAIN(TestDeviceMonitor)
#include "tst_device_monitor.moc"
