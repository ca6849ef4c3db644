// System memory for the planner: total and available RAM from
// /proc/meminfo on Linux, sysconf on other POSIX systems and
// GlobalMemoryStatusEx on Windows. Accelerator memory is left empty here.
#include <charconv>
#include <fstream>
#include <sstream>

#include "engine/checked_math.h"
#include "engine/memory_plan.h"

#if defined(_WIN32)
#define WIN32_LEAN_AND_MEAN
#define NOMINMAX
#include <windows.h>
#else
#include <unistd.h>
#endif

namespace glassbox::engine {
namespace {

// The value of "Key:   123 kB" in meminfo text, in bytes.
Result<std::optional<uint64_t>> meminfoValue(std::string_view text, std::string_view key) {
    size_t pos = 0;
    while (pos < text.size()) {
        size_t eol = text.find('\n', pos);
        if (eol == std::string_view::npos) eol = text.size();
        const std::string_view line = text.substr(pos, eol - pos);
        pos = eol + 1;
        if (line.size() <= key.size() || line.substr(0, key.size()) != key || line[key.size()] != ':') continue;
        std::string_view rest = line.substr(key.size() + 1);
        while (!rest.empty() && (rest.front() == ' ' || rest.front() == '\t')) rest.remove_prefix(1);
        uint64_t kb = 0;
        const auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), kb);
        std::string_view unit(end, size_t(rest.data() + rest.size() - end));
        while (!unit.empty() && unit.front() == ' ') unit.remove_prefix(1);
        while (!unit.empty() && (unit.back() == ' ' || unit.back() == '\r')) unit.remove_suffix(1);
        const auto bytes = checkedMul(kb, 1024);
        if (ec != std::errc() || unit != "kB" || !bytes)
            return makeError(ErrorCode::Malformed, "expected a size in kB", std::string(key));
        return std::optional<uint64_t>(*bytes);
    }
    return std::optional<uint64_t>();
}

}  // namespace

Result<SystemMemory> parseMeminfo(std::string_view text) {
    SystemMemory m;
    m.source = "/proc/meminfo";
    GB_ASSIGN_OR_RETURN(std::optional<uint64_t> total, meminfoValue(text, "MemTotal"));
    if (!total) return makeError(ErrorCode::NotFound, "no MemTotal line", "MemTotal");
    GB_ASSIGN_OR_RETURN(std::optional<uint64_t> available, meminfoValue(text, "MemAvailable"));
    if (!available) {  // kernels before 3.14
        GB_ASSIGN_OR_RETURN(available, meminfoValue(text, "MemFree"));
        if (!available) return makeError(ErrorCode::NotFound, "no MemAvailable or MemFree line", "MemAvailable");
    }
    m.totalRam = *total;
    m.availableRam = std::min(*available, *total);
    return m;
}

SystemMemory querySystemMemory() {
    SystemMemory m;
    m.source = "unknown";
#if defined(_WIN32)
    MEMORYSTATUSEX status{};
    status.dwLength = sizeof status;
    if (GlobalMemoryStatusEx(&status)) {
        m.totalRam = status.ullTotalPhys;
        m.availableRam = status.ullAvailPhys;
        m.source = "GlobalMemoryStatusEx";
    }
#else
    std::ifstream in("/proc/meminfo");
    if (in) {
        std::ostringstream text;
        text << in.rdbuf();
        if (auto parsed = parseMeminfo(text.str())) return *parsed;
    }
    const long pages = sysconf(_SC_PHYS_PAGES);
    const long pageSize = sysconf(_SC_PAGESIZE);
    if (pages > 0 && pageSize > 0) {
        m.totalRam = checkedMul(uint64_t(pages), uint64_t(pageSize)).value_or(0);
        m.source = "sysconf";
#if defined(_SC_AVPHYS_PAGES)
        const long avail = sysconf(_SC_AVPHYS_PAGES);
        if (avail > 0) m.availableRam = checkedMul(uint64_t(avail), uint64_t(pageSize)).value_or(0);
#endif
    }
#endif
    return m;
}

}  // namespace glassbox::engine
