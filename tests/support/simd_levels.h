// Shared by the kernel tests: the SIMD levels this CPU can run (widest
// first), putting the widest back after a test, and reproducible normally
// distributed test data.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "kernels/cpu/quant_kernels.h"

namespace glassbox::testing {

// The levels this CPU runs, widest first; the portable one last when asked.
inline std::vector<std::string> simdLevels(bool withScalar) {
    std::vector<std::string> levels;
    for (const char* l : {"avx512", "avx2-vnni", "avx2"})
        if (kernels::limitSimdLevel(l)) levels.push_back(l);
    if (withScalar && kernels::limitSimdLevel("scalar")) levels.push_back("scalar");
    return levels;
}

inline void restoreWidestSimdLevel() {
    for (const char* l : {"avx512", "avx2-vnni", "avx2", "scalar"})
        if (kernels::limitSimdLevel(l)) return;
}

inline std::vector<float> normalData(size_t n, uint32_t seed, float sigma = 1.0f) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> nd(0.0f, sigma);
    std::vector<float> x(n);
    for (auto& v : x) v = nd(rng);
    return x;
}

}  // namespace glassbox::testing
