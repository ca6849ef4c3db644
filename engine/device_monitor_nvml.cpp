// DeviceMonitor's GPU half: NVML loaded at run time with dlopen. Only the
// handful of entry points the sample needs are declared here (the NVML C
// ABI: every call returns 0 on success); no NVIDIA header or library is
// needed to build, and a machine without the driver reports why.
#include <cstring>

#include "engine/device_monitor.h"

#if !defined(_WIN32)
#include <dlfcn.h>
#endif

namespace glassbox::engine {
namespace {

using NvmlReturn = int;  // nvmlReturn_t; NVML_SUCCESS == 0
using NvmlDevice = struct NvmlDeviceOpaque*;

struct NvmlUtilization {
    unsigned int gpu;
    unsigned int memory;
};
struct NvmlMemory {
    unsigned long long total;
    unsigned long long free;
    unsigned long long used;
};

constexpr int kClockSm = 1;           // NVML_CLOCK_SM
constexpr int kClockMem = 2;          // NVML_CLOCK_MEM
constexpr int kTemperatureGpu = 0;    // NVML_TEMPERATURE_GPU
constexpr unsigned kNameLength = 96;  // NVML_DEVICE_NAME_V2_BUFFER_SIZE

using InitFn = NvmlReturn (*)();
using ShutdownFn = NvmlReturn (*)();
using HandleByIndexFn = NvmlReturn (*)(unsigned int, NvmlDevice*);
using NameFn = NvmlReturn (*)(NvmlDevice, char*, unsigned int);
using UtilizationFn = NvmlReturn (*)(NvmlDevice, NvmlUtilization*);
using ClockFn = NvmlReturn (*)(NvmlDevice, int, unsigned int*);
using MemoryFn = NvmlReturn (*)(NvmlDevice, NvmlMemory*);
using TemperatureFn = NvmlReturn (*)(NvmlDevice, int, unsigned int*);
using PowerFn = NvmlReturn (*)(NvmlDevice, unsigned int*);
using ErrorStringFn = const char* (*)(NvmlReturn);

}  // namespace

// The loaded library and its entry points; shut down and unloaded with it.
class NvmlLibrary {
public:
    // Errors: Device naming what was missing or failed.
    static Result<std::unique_ptr<NvmlLibrary>> load();
    ~NvmlLibrary();

    Result<HardwareSample> sample(int index) const;

private:
    NvmlLibrary() = default;
    std::string errorText(NvmlReturn r) const;

    void* m_handle = nullptr;
    bool m_initialised = false;
    ShutdownFn m_shutdown = nullptr;
    HandleByIndexFn m_handleByIndex = nullptr;
    NameFn m_name = nullptr;
    UtilizationFn m_utilization = nullptr;
    ClockFn m_clock = nullptr;
    MemoryFn m_memory = nullptr;
    TemperatureFn m_temperature = nullptr;
    PowerFn m_power = nullptr;
    ErrorStringFn m_errorString = nullptr;
};

Result<std::unique_ptr<NvmlLibrary>> NvmlLibrary::load() {
#if defined(_WIN32)
    return makeError(ErrorCode::Device, "NVML is not loaded on this platform");
#else
    std::unique_ptr<NvmlLibrary> lib(new NvmlLibrary);
    lib->m_handle = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!lib->m_handle) return makeError(ErrorCode::Device, "no NVIDIA driver library (libnvidia-ml.so.1)");
    auto sym = [&](const char* name) { return dlsym(lib->m_handle, name); };
    auto init = reinterpret_cast<InitFn>(sym("nvmlInit_v2"));
    lib->m_shutdown = reinterpret_cast<ShutdownFn>(sym("nvmlShutdown"));
    lib->m_handleByIndex = reinterpret_cast<HandleByIndexFn>(sym("nvmlDeviceGetHandleByIndex_v2"));
    lib->m_name = reinterpret_cast<NameFn>(sym("nvmlDeviceGetName"));
    lib->m_utilization = reinterpret_cast<UtilizationFn>(sym("nvmlDeviceGetUtilizationRates"));
    lib->m_clock = reinterpret_cast<ClockFn>(sym("nvmlDeviceGetClockInfo"));
    lib->m_memory = reinterpret_cast<MemoryFn>(sym("nvmlDeviceGetMemoryInfo"));
    lib->m_temperature = reinterpret_cast<TemperatureFn>(sym("nvmlDeviceGetTemperature"));
    lib->m_power = reinterpret_cast<PowerFn>(sym("nvmlDeviceGetPowerUsage"));
    lib->m_errorString = reinterpret_cast<ErrorStringFn>(sym("nvmlErrorString"));
    if (!init || !lib->m_shutdown || !lib->m_handleByIndex || !lib->m_name || !lib->m_utilization ||
        !lib->m_clock || !lib->m_memory || !lib->m_temperature || !lib->m_power)
        return makeError(ErrorCode::Device, "libnvidia-ml.so.1 lacks an NVML entry point (driver too old?)");
    if (const NvmlReturn r = init(); r != 0)
        return makeError(ErrorCode::Device, "NVML did not start: " + lib->errorText(r));
    lib->m_initialised = true;
    return lib;
#endif
}

NvmlLibrary::~NvmlLibrary() {
#if !defined(_WIN32)
    if (m_initialised) m_shutdown();
    if (m_handle) dlclose(m_handle);
#endif
}

std::string NvmlLibrary::errorText(NvmlReturn r) const {
    const char* s = m_errorString ? m_errorString(r) : nullptr;
    return s ? std::string(s) : "NVML error " + std::to_string(r);
}

Result<HardwareSample> NvmlLibrary::sample(int index) const {
    NvmlDevice device = nullptr;
    if (index < 0) return makeError(ErrorCode::Device, "no GPU " + std::to_string(index));
    if (const NvmlReturn r = m_handleByIndex(unsigned(index), &device); r != 0)
        return makeError(ErrorCode::Device, "no GPU " + std::to_string(index) + ": " + errorText(r));
    HardwareSample s;
    s.source = HardwareSource::Nvml;
    char name[kNameLength] = {};
    if (m_name(device, name, kNameLength) == 0) s.device.assign(name, strnlen(name, kNameLength));
    NvmlUtilization util{};
    if (m_utilization(device, &util) == 0) {
        s.utilisation = double(util.gpu);
        s.memoryUtilisation = double(util.memory);
    }
    unsigned int value = 0;
    if (m_clock(device, kClockSm, &value) == 0) s.clockMHz = double(value);
    if (m_clock(device, kClockMem, &value) == 0) s.memoryClockMHz = double(value);
    if (m_temperature(device, kTemperatureGpu, &value) == 0) s.temperatureC = double(value);
    if (m_power(device, &value) == 0) s.powerWatts = double(value) / 1000.0;
    NvmlMemory mem{};
    if (m_memory(device, &mem) == 0) {
        s.memoryTotalBytes = mem.total;
        s.memoryUsedBytes = mem.used;
    }
    return s;
}

DeviceMonitor::DeviceMonitor() = default;
DeviceMonitor::~DeviceMonitor() = default;

Result<HardwareSample> DeviceMonitor::sampleGpu(int index) {
    if (!m_nvmlTried) {
        m_nvmlTried = true;
        auto lib = NvmlLibrary::load();
        if (lib) m_nvml = std::move(*lib);
        else m_nvmlError = lib.error().message;
    }
    if (!m_nvml) return makeError(ErrorCode::Device, m_nvmlError);
    return m_nvml->sample(index);
}

}  // namespace glassbox::engine
