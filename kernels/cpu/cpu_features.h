// Run-time CPU feature detection for kernel dispatch (x86 cpuid + xgetbv).
// A feature counts as present only when the CPU has it and the operating
// system saves the register state it needs (YMM for AVX*, ZMM/opmask for
// AVX-512). On other architectures every flag is false.
#pragma once

namespace glassbox::kernels {

struct CpuFeatures {
    bool sse3 = false;
    bool ssse3 = false;
    bool avx = false;
    bool avx2 = false;
    bool fma = false;
    bool f16c = false;
    bool avxVnni = false;
    bool avx512f = false;
    bool avx512bw = false;
    bool avx512vl = false;
    bool avx512dq = false;
    bool avx512vnni = false;
    bool avx512bf16 = false;
    bool avx512vbmi = false;

    // AVX2 + FMA + F16C: what the *_avx2.cpp kernels are compiled for.
    bool hasAvx2Set() const { return avx2 && fma && f16c; }
    // F + BW + VL + DQ + VNNI on top of the AVX2 set: what *_avx512.cpp needs.
    bool hasAvx512Set() const {
        return hasAvx2Set() && avx512f && avx512bw && avx512vl && avx512dq && avx512vnni;
    }
};

// Detected once, on first use; thread-safe.
const CpuFeatures& cpuFeatures();

}  // namespace glassbox::kernels
