// Reference measurements on a CUDA device, taken in the same run as the
// backend's own figures so that they can be judged against what the device
// can do: the memory bandwidth of a device-to-device copy (the bound of
// decode) and the cuBLAS half-precision GEMM rate on a model's matrix shapes
// (the bound of prefill). Each call allocates what it needs, frees it before
// returning, and times with CUDA events. A build without CUDA returns Device
// errors ("built without CUDA").
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "engine/matmul_footprint.h"
#include "engine/result.h"

namespace glassbox::engine {

struct CopyBandwidth {
    std::string device;          // the device's name
    uint64_t bufferBytes = 0;    // bytes copied per copy
    int repeats = 0;             // timed copies (after one warm-up)
    double bestSeconds = 0.0;    // the fastest copy
    // Bytes read plus bytes written per second in the fastest copy
    // (2 × bufferBytes / bestSeconds), the traffic decode's reads compete with.
    double bytesPerSecond = 0.0;
};

// cudaMemcpyAsync between two device buffers of `bufferBytes` (at least
// 1 GiB is sensible: far beyond the L2 cache), `repeats` times.
// Errors: Device (no CUDA device, built without CUDA, a CUDA failure),
// OutOfMemory (the buffers do not fit), InvalidArgument (bufferBytes or
// repeats not positive).
Result<CopyBandwidth> measureCopyBandwidth(int device, uint64_t bufferBytes = uint64_t(1) << 30, int repeats = 10);

struct GemmShapeRate {
    MatmulShape shape;
    double seconds = 0.0;        // one GEMM of this shape, best of the repeats
    double flopsPerSecond = 0.0;
};

struct GemmRate {
    std::string device;
    int tokens = 0;              // n: activation rows of every GEMM
    double flops = 0.0;          // Σ count × 2 × rows × cols × n
    double seconds = 0.0;        // Σ count × the shape's best time
    double flopsPerSecond = 0.0; // flops / seconds: the rate of all the model's layer matrices
    std::vector<GemmShapeRate> shapes;
};

// Y (n × rows, float) = X (n × cols, half) · Wᵀ (W rows × cols, half) through
// the same cuBLAS call the backend's prefill uses, for each shape with
// n = `tokens`, timed `repeats` times after a warm-up; each shape weighs by
// its count. Inputs hold random values in [-1, 1].
// Errors: Device (as above, or cuBLAS could not be loaded or failed),
// OutOfMemory, InvalidArgument (no shapes, a size not positive).
Result<GemmRate> measureGemmRate(int device, std::span<const MatmulShape> shapes, int tokens, int repeats = 10);

}  // namespace glassbox::engine
