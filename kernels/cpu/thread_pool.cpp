// ThreadPool: workers wait on a generation counter. After a job they spin on
// it for a short while (new jobs start in well under a microsecond), then
// sleep in atomic wait (a futex on Linux) so an idle pool costs no CPU. The
// caller likewise spins briefly for the last worker, then sleeps, so a pool
// with more threads than free cores degrades gracefully instead of spinning
// against the threads it waits for. run() must not be called concurrently
// from two threads on the same pool.
#include "kernels/cpu/thread_pool.h"

#include <chrono>

#if defined(__x86_64__) || defined(_M_X64) || defined(__i386__) || defined(_M_IX86)
#include <immintrin.h>
#define GLASSBOX_PAUSE() _mm_pause()
#elif defined(__aarch64__)
#define GLASSBOX_PAUSE() __asm__ volatile("yield")
#else
#define GLASSBOX_PAUSE() ((void)0)
#endif

namespace glassbox::kernels {
namespace {

// How long an idle worker keeps spinning before it goes to sleep, and how
// long the caller spins for the workers to finish before it sleeps.
constexpr auto kWorkerSpin = std::chrono::microseconds(500);
constexpr auto kCallerSpin = std::chrono::microseconds(50);

// Spin until pred() or the time is up; yields now and then so a spinning
// thread does not starve a runnable one sharing its core.
template <class Pred>
bool spinUntil(Pred pred, std::chrono::microseconds budget) {
    const auto deadline = std::chrono::steady_clock::now() + budget;
    for (int i = 1;; ++i) {
        if (pred()) return true;
        GLASSBOX_PAUSE();
        if ((i & 127) == 0) {
            if (std::chrono::steady_clock::now() > deadline) return pred();
            if ((i & 1023) == 0) std::this_thread::yield();
        }
    }
}

}  // namespace

struct ThreadPool::Impl {
    alignas(64) std::atomic<uint32_t> generation{0};
    alignas(64) std::atomic<int> pending{0};
    alignas(64) std::atomic<int> sleepers{0};
    std::atomic<bool> callerWaiting{false};
    std::atomic<bool> stop{false};
    const std::function<void(int, int)>* job = nullptr;
    int threadCount = 1;
    std::vector<std::thread> workers;

    void workerLoop(int index);
    uint32_t waitForNewGeneration(uint32_t seen);
};

uint32_t ThreadPool::Impl::waitForNewGeneration(uint32_t seen) {
    uint32_t g = seen;
    if (spinUntil([&] { return (g = generation.load(std::memory_order_acquire)) != seen; }, kWorkerSpin)) return g;
    sleepers.fetch_add(1, std::memory_order_seq_cst);
    while ((g = generation.load(std::memory_order_seq_cst)) == seen) generation.wait(seen, std::memory_order_seq_cst);
    sleepers.fetch_sub(1, std::memory_order_relaxed);
    return g;
}

void ThreadPool::Impl::workerLoop(int index) {
    uint32_t seen = 0;
    for (;;) {
        seen = waitForNewGeneration(seen);
        if (stop.load(std::memory_order_acquire)) return;
        (*job)(index, threadCount);
        if (pending.fetch_sub(1, std::memory_order_seq_cst) == 1 && callerWaiting.load(std::memory_order_seq_cst))
            pending.notify_one();
    }
}

ThreadPool::ThreadPool(int threadCount)
    : m_impl(new Impl), m_threadCount(threadCount < 1 ? 1 : threadCount) {
    m_impl->threadCount = m_threadCount;
    m_impl->workers.reserve(size_t(m_threadCount - 1));
    for (int i = 1; i < m_threadCount; ++i) m_impl->workers.emplace_back([this, i] { m_impl->workerLoop(i); });
}

ThreadPool::~ThreadPool() {
    m_impl->stop.store(true, std::memory_order_release);
    m_impl->generation.fetch_add(1, std::memory_order_seq_cst);
    m_impl->generation.notify_all();
    for (auto& t : m_impl->workers) t.join();
    delete m_impl;
}

void ThreadPool::run(const std::function<void(int threadIndex, int threadCount)>& fn) {
    if (m_threadCount == 1) {
        fn(0, 1);
        return;
    }
    Impl& p = *m_impl;
    p.job = &fn;
    p.pending.store(m_threadCount - 1, std::memory_order_relaxed);
    p.generation.fetch_add(1, std::memory_order_seq_cst);
    if (p.sleepers.load(std::memory_order_seq_cst) > 0) p.generation.notify_all();
    fn(0, m_threadCount);
    if (spinUntil([&] { return p.pending.load(std::memory_order_acquire) == 0; }, kCallerSpin)) return;
    p.callerWaiting.store(true, std::memory_order_seq_cst);
    for (int v; (v = p.pending.load(std::memory_order_seq_cst)) != 0;) p.pending.wait(v, std::memory_order_seq_cst);
    p.callerWaiting.store(false, std::memory_order_relaxed);
}

}  // namespace glassbox::kernels
