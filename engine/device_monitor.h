// Hardware telemetry sampled on demand for the overlays: utilisation,
// clocks, memory, temperature and power of the device a backend runs on.
// NVIDIA GPUs are read through NVML, loaded at run time with dlopen (no
// link-time dependency: a machine without the driver simply has no NVML);
// the CPU is read from /proc (utilisation from /proc/stat deltas, clock
// from /proc/cpuinfo, this process's RSS from /proc/self/status, RAM from
// /proc/meminfo) and, where readable, /sys (temperature, package power).
// Every figure a source cannot give stays empty; nothing here throws.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "engine/result.h"

namespace glassbox::engine {

enum class HardwareSource {
    None,  // nothing could be read
    Nvml,  // an NVIDIA GPU through NVML
    Proc,  // the CPU through /proc and /sys
};
const char* hardwareSourceName(HardwareSource source);  // "none", "NVML", "/proc"

// One reading. Percentages are 0–100; a std::nullopt figure is one the
// source does not provide (or could not read this time).
struct HardwareSample {
    HardwareSource source = HardwareSource::None;
    std::string device;                        // GPU name or CPU model
    int logicalCpus = 0;                       // CPU source: cores × threads
    std::optional<double> utilisation;         // GPU: SM busy; CPU: all cores busy since the previous sample
    std::optional<double> memoryUtilisation;   // GPU: memory controller busy
    std::optional<double> clockMHz;            // GPU: SM clock; CPU: mean current clock of the cores
    std::optional<double> memoryClockMHz;      // GPU only
    std::optional<double> temperatureC;        // GPU die, or the CPU package / first thermal zone
    std::optional<double> powerWatts;          // GPU board, or the CPU package (RAPL) since the previous sample
    uint64_t memoryTotalBytes = 0;             // VRAM, or RAM
    uint64_t memoryUsedBytes = 0;              // VRAM used, or RAM in use (total − available)
    uint64_t processBytes = 0;                 // CPU source: this process's resident set
    std::string note;                          // why a GPU was asked for and the CPU answered, if so
};

// Jiffies of the aggregate "cpu" line of /proc/stat.
struct CpuTimes {
    uint64_t busy = 0;   // user + nice + system + irq + softirq + steal
    uint64_t total = 0;  // busy + idle + iowait
};

// Parsers of /proc texts, given as strings (testable without /proc).
// Errors: NotFound (no "cpu" line / no "cpu MHz" line / no VmRSS line),
// Malformed (a value that is not a number, naming the field).
Result<CpuTimes> parseProcStat(std::string_view text);
Result<double> parseCpuMHz(std::string_view cpuinfo);        // mean over the "cpu MHz" lines
Result<uint64_t> parseProcessRss(std::string_view status);   // VmRSS, in bytes
// Busy percentage between two readings; nullopt when no time passed.
std::optional<double> cpuUtilisation(const CpuTimes& before, const CpuTimes& after);

class NvmlLibrary;

// Samples one device. Keeps what it needs between samples (the previous
// /proc/stat and RAPL readings, the NVML handle). Not thread-safe: one
// monitor per thread.
class DeviceMonitor {
public:
    DeviceMonitor();
    ~DeviceMonitor();
    DeviceMonitor(const DeviceMonitor&) = delete;
    DeviceMonitor& operator=(const DeviceMonitor&) = delete;

    // The NVIDIA GPU `index` through NVML. NVML is loaded at the first call.
    // Errors: Device (no NVML library, NVML failed to start, no such GPU;
    // the message says which).
    Result<HardwareSample> sampleGpu(int index);
    // The CPU. Never fails: unreadable figures stay empty (source None when
    // nothing at all could be read).
    HardwareSample sampleCpu();
    // The GPU when `gpu` is set and NVML answers, else the CPU with a note
    // saying why the GPU could not be read.
    HardwareSample sample(bool gpu, int index = 0);

private:
    std::unique_ptr<NvmlLibrary> m_nvml;
    bool m_nvmlTried = false;
    std::string m_nvmlError;
    std::optional<CpuTimes> m_lastCpu;
    std::optional<uint64_t> m_lastEnergyUj;
    std::chrono::steady_clock::time_point m_lastEnergyAt;
};

}  // namespace glassbox::engine
