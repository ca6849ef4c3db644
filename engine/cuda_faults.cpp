// Process-wide counters behind the CUDA backend's fault injection and graph
// switch (see cuda_faults.h). Plain atomics: no CUDA needed to build them.
#include "engine/cuda_faults.h"

#include <atomic>
#include <cstdlib>
#include <mutex>
#include <string_view>

namespace glassbox::engine {
namespace {

std::atomic<int> g_count{0};
std::atomic<int> g_faultAt{0};
std::atomic<bool> g_fired{false};
std::atomic<bool> g_graphs{true};
std::atomic<uint64_t> g_graphLaunches{0};
std::once_flag g_envOnce;

// GLASSBOX_CUDA_FAIL_ALLOC and GLASSBOX_CUDA_GRAPHS, read once; an explicit
// call made before overrides them.
void readEnvironment() {
    std::call_once(g_envOnce, [] {
        if (const char* v = std::getenv("GLASSBOX_CUDA_FAIL_ALLOC")) {
            const int n = std::atoi(v);
            if (n > 0) g_faultAt.store(n);
        }
        if (const char* v = std::getenv("GLASSBOX_CUDA_GRAPHS")) {
            const std::string_view s(v);
            if (s == "0" || s == "off" || s == "false") g_graphs.store(false);
        }
    });
}

}  // namespace

void setDeviceAllocationFault(int n) {
    readEnvironment();
    g_faultAt.store(n > 0 ? n : 0);
    g_count.store(0);
    g_fired.store(false);
}

int deviceAllocationCount() { return g_count.load(); }

bool deviceAllocationFaultFired() { return g_fired.load(); }

int consumeDeviceAllocation() {
    readEnvironment();
    const int n = g_count.fetch_add(1) + 1;
    if (n != g_faultAt.load()) return 0;
    g_fired.store(true);
    return n;
}

void setCudaGraphsEnabled(bool on) {
    readEnvironment();
    g_graphs.store(on);
}

bool cudaGraphsEnabled() {
    readEnvironment();
    return g_graphs.load();
}

uint64_t cudaGraphLaunchCount() { return g_graphLaunches.load(); }

void noteCudaGraphLaunch() { g_graphLaunches.fetch_add(1); }

}  // namespace glassbox::engine
