// Dispatch of the quant kernels: picks the widest instruction set the CPU
// (and OS) supports once, with per-type fallback to the portable code.
#include "kernels/cpu/quant_kernels.h"

#include <atomic>
#include <cstdlib>
#include <cstring>

#include "kernels/cpu/cpu_features.h"
#include "kernels/cpu/quant_impl.h"

namespace glassbox::kernels {
namespace {

using detail::SimdLevel;

SimdLevel detectLevel() {
    const CpuFeatures& f = cpuFeatures();
    if (f.hasAvx512Set()) return SimdLevel::Avx512;
    if (f.hasAvx2Set()) return f.avxVnni ? SimdLevel::Avx2Vnni : SimdLevel::Avx2;
    return SimdLevel::Scalar;
}

std::atomic<bool> g_forceScalar{false};
std::atomic<int> g_levelCap{int(SimdLevel::Avx512)};

// Whether this CPU can run `level` (levels are not strictly nested: an
// AVX-512 CPU need not have the VEX-encoded AVX-VNNI).
bool runnable(SimdLevel level) {
    const CpuFeatures& f = cpuFeatures();
    switch (level) {
    case SimdLevel::Avx512: return f.hasAvx512Set();
    case SimdLevel::Avx2Vnni: return f.hasAvx2Set() && f.avxVnni;
    case SimdLevel::Avx2: return f.hasAvx2Set();
    default: return true;
    }
}

SimdLevel parseLevel(const char* name, bool& ok) {
    ok = true;
    if (std::strcmp(name, "avx512") == 0) return SimdLevel::Avx512;
    if (std::strcmp(name, "avx2-vnni") == 0) return SimdLevel::Avx2Vnni;
    if (std::strcmp(name, "avx2") == 0) return SimdLevel::Avx2;
    if (std::strcmp(name, "scalar") == 0) return SimdLevel::Scalar;
    ok = false;
    return SimdLevel::Scalar;
}

// The detected level, lowered by GLASSBOX_SIMD=avx2|scalar when set.
SimdLevel detectedLevel() {
    static const SimdLevel level = [] {
        SimdLevel l = detectLevel();
        if (const char* env = std::getenv("GLASSBOX_SIMD")) {
            bool ok = false;
            const SimdLevel want = parseLevel(env, ok);
            if (ok && int(want) < int(l) && runnable(want)) l = want;
        }
        return l;
    }();
    return level;
}

SimdLevel activeLevel() {
    if (g_forceScalar.load(std::memory_order_relaxed)) return SimdLevel::Scalar;
    const int cap = g_levelCap.load(std::memory_order_relaxed);
    const SimdLevel l = detectedLevel();
    return int(l) < cap ? l : SimdLevel(cap);
}

detail::VecDotFn pickVecDot(TensorType t) {
    detail::VecDotFn fn = nullptr;
    switch (activeLevel()) {
    case SimdLevel::Avx512: fn = detail::avx512::vecDotFor(t); [[fallthrough]];
    case SimdLevel::Avx2Vnni:
    case SimdLevel::Avx2: if (!fn) fn = detail::avx2::vecDotFor(t); [[fallthrough]];
    case SimdLevel::Scalar: if (!fn) fn = detail::scalar::vecDotFor(t);
    }
    return fn;
}

detail::DequantizeFn pickDequantize(TensorType t) {
    detail::DequantizeFn fn = nullptr;
    switch (activeLevel()) {
    case SimdLevel::Avx512: fn = detail::avx512::dequantizeFor(t); [[fallthrough]];
    case SimdLevel::Avx2Vnni:
    case SimdLevel::Avx2: if (!fn) fn = detail::avx2::dequantizeFor(t); [[fallthrough]];
    case SimdLevel::Scalar: if (!fn) fn = detail::scalar::dequantizeFor(t);
    }
    return fn;
}

}  // namespace

detail::SimdLevel detail::activeSimdLevel() { return activeLevel(); }

bool isSupportedWeightType(TensorType type) {
    switch (type) {
    case TensorType::F32:
    case TensorType::F16:
    case TensorType::BF16:
    case TensorType::Q4_0:
    case TensorType::Q4_1:
    case TensorType::Q5_0:
    case TensorType::Q5_1:
    case TensorType::Q8_0:
    case TensorType::Q4_K:
    case TensorType::Q5_K:
    case TensorType::Q6_K: return true;
    default: return false;
    }
}

void dequantizeRow(TensorType type, const void* src, float* dst, int64_t n) {
    if (auto fn = pickDequantize(type)) fn(src, dst, n);
}

bool quantizeRow(TensorType type, const float* src, void* dst, int64_t n) {
    const auto fn = detail::scalar::quantizeFor(type);
    if (!fn || n % engine::traitsOf(type).blockSize != 0) return false;
    fn(src, dst, n);
    return true;
}

TensorType vecDotType(TensorType weightType) {
    switch (weightType) {
    case TensorType::Q4_0:
    case TensorType::Q5_0:
    case TensorType::Q8_0: return TensorType::Q8_0;
    case TensorType::Q4_1:
    case TensorType::Q5_1: return TensorType::Q8_1;
    case TensorType::Q4_K:
    case TensorType::Q5_K:
    case TensorType::Q6_K: return TensorType::Q8_K;
    default: return TensorType::F32;
    }
}

float vecDot(TensorType weightType, const void* weightRow, const void* activationRow, int64_t n) {
    const auto fn = pickVecDot(weightType);
    return fn ? fn(weightRow, activationRow, n) : 0.0f;
}

const char* simdLevelName() {
    switch (activeLevel()) {
    case SimdLevel::Avx512: return "avx512";
    case SimdLevel::Avx2Vnni: return "avx2-vnni";
    case SimdLevel::Avx2: return "avx2";
    default: return "scalar";
    }
}

bool forceScalarKernels(bool force) { return g_forceScalar.exchange(force); }

bool limitSimdLevel(const char* name) {
    bool ok = false;
    const SimdLevel want = parseLevel(name ? name : "", ok);
    if (!ok || int(want) > int(detectedLevel()) || !runnable(want)) return false;
    g_levelCap.store(int(want));
    return true;
}

}  // namespace glassbox::kernels
