// Bytes the C heap holds right now (glibc mallinfo2), for tests that check
// predicted memory against real allocations. Unavailable (GLASSBOX_HAVE_HEAP_USAGE
// undefined) without glibc >= 2.33 or under AddressSanitizer, which replaces
// malloc so glibc's counters see nothing.
#pragma once

#include <cstdint>

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define GLASSBOX_UNDER_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define GLASSBOX_UNDER_ASAN 1
#endif
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33)) && !defined(GLASSBOX_UNDER_ASAN)
#include <malloc.h>
#define GLASSBOX_HAVE_HEAP_USAGE 1
#endif

namespace glassbox::testing {

#ifdef GLASSBOX_HAVE_HEAP_USAGE
inline uint64_t heapInUse() {
    const struct mallinfo2 mi = mallinfo2();
    return uint64_t(mi.uordblks) + uint64_t(mi.hblkhd);
}
#endif

}  // namespace glassbox::testing
