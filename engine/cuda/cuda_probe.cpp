// probeCuda: what the CUDA runtime says about a device, without loading a
// model — driver and runtime versions, device count, name, compute
// capability and memory — and why a device cannot be used. Never fails:
// every problem becomes usable == false with a reason.
#include <cuda_runtime_api.h>

#include <string>

#include "engine/backend_factory.h"
#include "engine/cuda/cuda_check.h"

#ifndef GLASSBOX_CUDA_MIN_ARCH
#define GLASSBOX_CUDA_MIN_ARCH 0  // the oldest compute capability (major * 10 + minor) built for
#endif

namespace glassbox::engine {
namespace {

std::string cudaVersionText(int v) { return std::to_string(v / 1000) + "." + std::to_string((v % 1000) / 10); }

std::string driverTooOld(const CudaStatus& s) {
    return "the NVIDIA driver is too old: it supports CUDA " + cudaVersionText(s.driverVersion) +
           " (driver API version " + std::to_string(s.driverVersion) + ") but this build needs CUDA " +
           cudaVersionText(s.runtimeVersion) + " (runtime version " + std::to_string(s.runtimeVersion) +
           "); install a newer driver";
}

// Device count, name and capability; false with s.reason set when unusable.
bool probeDevice(CudaStatus& s, int device) {
    int count = 0;
    const cudaError_t e = cudaGetDeviceCount(&count);
    (void)cudaGetLastError();
    if (e == cudaErrorInsufficientDriver) {
        s.reason = driverTooOld(s);
        return false;
    }
    if (e == cudaErrorNoDevice || (e == cudaSuccess && count == 0)) {
        s.reason = "no CUDA device was found";
        return false;
    }
    if (e != cudaSuccess) {
        s.reason = "the CUDA runtime could not start (" + cuda::describe(e) + ")";
        return false;
    }
    s.deviceCount = count;
    if (device < 0 || device >= count) {
        s.reason = "CUDA device " + std::to_string(device) + " does not exist (" + std::to_string(count) +
                   " device(s) found)";
        return false;
    }
    cudaDeviceProp prop{};
    if (const cudaError_t pe = cudaGetDeviceProperties(&prop, device); pe != cudaSuccess) {
        (void)cudaGetLastError();
        s.reason = "cannot read the properties of CUDA device " + std::to_string(device) + " (" + cuda::describe(pe) + ")";
        return false;
    }
    s.deviceName = prop.name;
    s.computeMajor = prop.major;
    s.computeMinor = prop.minor;
    const int arch = prop.major * 10 + prop.minor;
    if (GLASSBOX_CUDA_MIN_ARCH > 0 && arch < GLASSBOX_CUDA_MIN_ARCH) {
        s.reason = s.deviceName + " has compute capability " + std::to_string(prop.major) + "." +
                   std::to_string(prop.minor) + "; this build's kernels need " +
                   std::to_string(GLASSBOX_CUDA_MIN_ARCH / 10) + "." + std::to_string(GLASSBOX_CUDA_MIN_ARCH % 10) +
                   " or newer";
        return false;
    }
    return true;
}

// Free and total memory (this creates the device's primary context).
bool probeMemory(CudaStatus& s, int device) {
    cuda::DeviceGuard guard(device);
    if (!guard.status()) {
        s.reason = "CUDA device " + std::to_string(device) + " cannot be selected (" + guard.status().error().message + ")";
        return false;
    }
    size_t freeBytes = 0, totalBytes = 0;
    if (const cudaError_t e = cudaMemGetInfo(&freeBytes, &totalBytes); e != cudaSuccess) {
        (void)cudaGetLastError();
        s.reason = s.deviceName + " cannot be used (" + cuda::describe(e) + ")";
        return false;
    }
    s.freeBytes = freeBytes;
    s.totalBytes = totalBytes;
    return true;
}

}  // namespace

CudaStatus probeCuda(int device) {
    CudaStatus s;
    s.compiled = true;
    (void)cudaRuntimeGetVersion(&s.runtimeVersion);
    if (cudaDriverGetVersion(&s.driverVersion) != cudaSuccess || s.driverVersion == 0) {
        (void)cudaGetLastError();
        s.driverVersion = 0;
        s.reason = "no NVIDIA driver is installed (the CUDA driver library was not found)";
        return s;
    }
    if (s.driverVersion / 1000 < s.runtimeVersion / 1000) {
        s.reason = driverTooOld(s);
        return s;
    }
    if (!probeDevice(s, device) || !probeMemory(s, device)) return s;
    s.usable = true;
    return s;
}

}  // namespace glassbox::engine
