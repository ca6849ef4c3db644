// cpuid / xgetbv probing behind cpuFeatures().
#include "kernels/cpu/cpu_features.h"

#include <cstdint>

#include "kernels/cpu/simd_config.h"

#if GLASSBOX_KERNELS_X86
#define GLASSBOX_X86 1
#if defined(_MSC_VER)
#include <immintrin.h>
#include <intrin.h>
#else
#include <cpuid.h>
#endif
#endif

namespace glassbox::kernels {
namespace {

#if GLASSBOX_X86
struct Regs {
    uint32_t a = 0, b = 0, c = 0, d = 0;
};

Regs cpuid(uint32_t leaf, uint32_t sub) {
    Regs r;
#if defined(_MSC_VER)
    int out[4];
    __cpuidex(out, int(leaf), int(sub));
    r.a = uint32_t(out[0]);
    r.b = uint32_t(out[1]);
    r.c = uint32_t(out[2]);
    r.d = uint32_t(out[3]);
#else
    __cpuid_count(leaf, sub, r.a, r.b, r.c, r.d);
#endif
    return r;
}

uint64_t xgetbv0() {
#if defined(_MSC_VER)
    return _xgetbv(0);
#else
    uint32_t lo = 0, hi = 0;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return (uint64_t(hi) << 32) | lo;
#endif
}

bool bit(uint32_t v, int n) { return (v >> n) & 1u; }

CpuFeatures detect() {
    CpuFeatures f;
    const uint32_t maxLeaf = cpuid(0, 0).a;
    if (maxLeaf < 1) return f;
    const Regs l1 = cpuid(1, 0);
    f.sse3 = bit(l1.c, 0);
    f.ssse3 = bit(l1.c, 9);
    const bool osxsave = bit(l1.c, 27);
    const bool cpuAvx = bit(l1.c, 28);
    // XCR0: bit 1 SSE, bit 2 AVX (YMM upper), bits 5-7 opmask / ZMM_Hi256 / Hi16_ZMM.
    const uint64_t xcr0 = osxsave ? xgetbv0() : 0;
    const bool osYmm = (xcr0 & 0x6) == 0x6;
    const bool osZmm = (xcr0 & 0xe6) == 0xe6;
    f.avx = cpuAvx && osYmm;
    f.fma = f.avx && bit(l1.c, 12);
    f.f16c = f.avx && bit(l1.c, 29);
    if (maxLeaf >= 7) {
        const Regs l7 = cpuid(7, 0);
        f.avx2 = f.avx && bit(l7.b, 5);
        const bool zmm = f.avx && osZmm;
        f.avx512f = zmm && bit(l7.b, 16);
        f.avx512dq = f.avx512f && bit(l7.b, 17);
        f.avx512bw = f.avx512f && bit(l7.b, 30);
        f.avx512vl = f.avx512f && bit(l7.b, 31);
        f.avx512vbmi = f.avx512f && bit(l7.c, 1);
        f.avx512vnni = f.avx512f && bit(l7.c, 11);
        const Regs l71 = cpuid(7, 1);
        f.avxVnni = f.avx2 && bit(l71.a, 4);
        f.avx512bf16 = f.avx512f && bit(l71.a, 5);
    }
    return f;
}
#else
CpuFeatures detect() { return {}; }
#endif

}  // namespace

const CpuFeatures& cpuFeatures() {
    static const CpuFeatures features = detect();
    return features;
}

}  // namespace glassbox::kernels
