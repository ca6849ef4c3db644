// DeviceMonitor: the /proc parsers, the CPU sample and the GPU-or-CPU
// choice. The NVML half lives in device_monitor_nvml.cpp.
#include "engine/device_monitor.h"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "engine/memory_plan.h"

namespace glassbox::engine {
namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
    return s;
}

// Calls f(line) for each line of text; stops early when f returns false.
template <class F>
void forEachLine(std::string_view text, F&& f) {
    size_t pos = 0;
    while (pos < text.size()) {
        size_t eol = text.find('\n', pos);
        if (eol == std::string_view::npos) eol = text.size();
        if (!f(text.substr(pos, eol - pos))) return;
        pos = eol + 1;
    }
}

// "key<spaces/tabs>: value" → value, when the line's key is `key`.
std::optional<std::string_view> keyValue(std::string_view line, std::string_view key) {
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos || trim(line.substr(0, colon)) != key) return std::nullopt;
    return trim(line.substr(colon + 1));
}

std::optional<std::string> readText(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return std::nullopt;
    std::ostringstream text;
    text << in.rdbuf();
    if (in.bad()) return std::nullopt;
    return text.str();
}

std::optional<double> readNumber(const std::string& path) {
    const auto text = readText(path);
    if (!text) return std::nullopt;
    const std::string_view v = trim(*text);
    double value = 0;
    const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), value);
    if (ec != std::errc() || end == v.data()) return std::nullopt;
    return value;
}

std::string cpuModelFrom(std::string_view cpuinfo) {
    std::string model;
    forEachLine(cpuinfo, [&](std::string_view line) {
        if (auto v = keyValue(line, "model name")) model = std::string(*v);
        else if (auto hw = keyValue(line, "Hardware")) model = std::string(*hw);  // some ARM kernels
        return model.empty();
    });
    return model.empty() ? std::string("CPU") : model;
}

// The CPU package temperature (x86_pkg_temp) or the first thermal zone.
std::optional<double> cpuTemperature() {
    namespace fs = std::filesystem;
    std::error_code ec;
    std::optional<double> first, package;
    for (const auto& zone : fs::directory_iterator("/sys/class/thermal", ec)) {
        const std::string name = zone.path().filename().string();
        if (name.rfind("thermal_zone", 0) != 0) continue;
        const auto milli = readNumber(zone.path().string() + "/temp");
        if (!milli) continue;
        const auto type = readText(zone.path().string() + "/type");
        if (type && trim(*type) == "x86_pkg_temp") package = *milli / 1000.0;
        else if (!first) first = *milli / 1000.0;
    }
    return package ? package : first;
}

}  // namespace

const char* hardwareSourceName(HardwareSource source) {
    switch (source) {
        case HardwareSource::None: return "none";
        case HardwareSource::Nvml: return "NVML";
        case HardwareSource::Proc: return "/proc";
    }
    return "none";
}

Result<CpuTimes> parseProcStat(std::string_view text) {
    std::optional<std::string_view> cpuLine;
    forEachLine(text, [&](std::string_view line) {
        if (line.size() > 4 && line.substr(0, 4) == "cpu ") cpuLine = line.substr(4);
        return !cpuLine;
    });
    if (!cpuLine) return makeError(ErrorCode::NotFound, "no aggregate \"cpu\" line in /proc/stat", "cpu");
    // user nice system idle iowait irq softirq steal [guest guest_nice]
    uint64_t v[8] = {};
    int n = 0;
    std::string_view rest = *cpuLine;
    while (n < 8) {
        rest = trim(rest);
        if (rest.empty()) break;
        const auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), v[n]);
        if (ec != std::errc()) return makeError(ErrorCode::Malformed, "a jiffies count is not a number", "cpu");
        rest.remove_prefix(size_t(end - rest.data()));
        ++n;
    }
    if (n < 4) return makeError(ErrorCode::Malformed, "fewer than 4 jiffies counts on the cpu line", "cpu");
    CpuTimes t;
    t.busy = v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
    t.total = t.busy + v[3] + v[4];
    return t;
}

Result<double> parseCpuMHz(std::string_view cpuinfo) {
    double sum = 0;
    int count = 0;
    std::optional<Error> bad;
    forEachLine(cpuinfo, [&](std::string_view line) {
        const auto v = keyValue(line, "cpu MHz");
        if (!v) return true;
        double mhz = 0;
        const auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), mhz);
        if (ec != std::errc() || end == v->data()) {
            bad = makeError(ErrorCode::Malformed, "\"cpu MHz\" is not a number", "cpu MHz");
            return false;
        }
        sum += mhz;
        ++count;
        return true;
    });
    if (bad) return *bad;
    if (count == 0) return makeError(ErrorCode::NotFound, "no \"cpu MHz\" line in /proc/cpuinfo", "cpu MHz");
    return sum / count;
}

Result<uint64_t> parseProcessRss(std::string_view status) {
    std::optional<std::string_view> value;
    forEachLine(status, [&](std::string_view line) {
        value = keyValue(line, "VmRSS");
        return !value;
    });
    if (!value) return makeError(ErrorCode::NotFound, "no VmRSS line in /proc/self/status", "VmRSS");
    uint64_t kb = 0;
    const auto [end, ec] = std::from_chars(value->data(), value->data() + value->size(), kb);
    const std::string_view unit = trim(std::string_view(end, size_t(value->data() + value->size() - end)));
    if (ec != std::errc() || unit != "kB" || kb > UINT64_MAX / 1024)
        return makeError(ErrorCode::Malformed, "expected a size in kB", "VmRSS");
    return kb * 1024;
}

std::optional<double> cpuUtilisation(const CpuTimes& before, const CpuTimes& after) {
    if (after.total <= before.total || after.busy < before.busy) return std::nullopt;
    const double busy = double(after.busy - before.busy);
    const double total = double(after.total - before.total);
    return std::min(100.0, 100.0 * busy / total);
}

HardwareSample DeviceMonitor::sampleCpu() {
    HardwareSample s;
    s.logicalCpus = int(std::thread::hardware_concurrency());
    bool any = false;
    if (auto stat = readText("/proc/stat")) {
        if (auto times = parseProcStat(*stat)) {
            if (m_lastCpu) s.utilisation = cpuUtilisation(*m_lastCpu, *times);
            m_lastCpu = *times;
            any = true;
        }
    }
    if (auto info = readText("/proc/cpuinfo")) {
        s.device = cpuModelFrom(*info);
        if (auto mhz = parseCpuMHz(*info)) s.clockMHz = *mhz;
        any = true;
    } else {
        s.device = "CPU";
    }
    if (auto status = readText("/proc/self/status")) {
        if (auto rss = parseProcessRss(*status)) s.processBytes = *rss;
    }
    const SystemMemory ram = querySystemMemory();
    if (ram.totalRam > 0) {
        s.memoryTotalBytes = ram.totalRam;
        s.memoryUsedBytes = ram.totalRam - std::min(ram.availableRam, ram.totalRam);
        any = true;
    }
    s.temperatureC = cpuTemperature();
    // Package energy (RAPL) over the time since the previous sample.
    const auto now = std::chrono::steady_clock::now();
    if (auto uj = readNumber("/sys/class/powercap/intel-rapl:0/energy_uj")) {
        const uint64_t energy = uint64_t(*uj);
        const double seconds = std::chrono::duration<double>(now - m_lastEnergyAt).count();
        if (m_lastEnergyUj && energy >= *m_lastEnergyUj && seconds > 0.01)
            s.powerWatts = double(energy - *m_lastEnergyUj) / 1e6 / seconds;
        m_lastEnergyUj = energy;
        m_lastEnergyAt = now;
    }
    s.source = any ? HardwareSource::Proc : HardwareSource::None;
    return s;
}

HardwareSample DeviceMonitor::sample(bool gpu, int index) {
    if (!gpu) return sampleCpu();
    auto g = sampleGpu(index);
    if (g) return *g;
    HardwareSample s = sampleCpu();
    s.note = "GPU telemetry unavailable (" + g.error().message + "); showing the CPU";
    return s;
}

}  // namespace glassbox::engine
