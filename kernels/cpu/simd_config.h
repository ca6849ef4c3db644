// Compile-time switches shared by the SIMD kernel files: whether x86
// intrinsics are available at all (other targets, or builds defining
// GLASSBOX_NO_X86_KERNELS, compile stubs and use the portable kernels), and a
// forced-inline attribute for small helpers.
#pragma once

#if (defined(__x86_64__) || defined(_M_X64)) && !defined(GLASSBOX_NO_X86_KERNELS)
#define GLASSBOX_KERNELS_X86 1
#else
#define GLASSBOX_KERNELS_X86 0
#endif

#if defined(_MSC_VER) && !defined(__clang__)
#define GLASSBOX_FORCE_INLINE __forceinline
#else
#define GLASSBOX_FORCE_INLINE inline __attribute__((always_inline))
#endif
