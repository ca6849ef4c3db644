// ThreadPool: workers wait on a generation counter. After a job they spin on
// it for a short while (new jobs start in well under a microsecond), then
// sleep in atomic wait (a futex on Linux) so an idle pool costs no CPU. The
// caller likewise spins briefly for the last index, then sleeps, so a pool
// with more threads than free cores degrades gracefully instead of spinning
// against the threads it waits for.
//
// Every index of a job is claimed before it runs by stamping the job's
// generation into its slot (compare-and-swap), so an index runs exactly once
// even when, in runIndependent(), the caller or another worker takes it over
// from a late worker, and a worker that wakes after its job has moved on
// claims nothing. run() must not be called concurrently from two threads on
// the same pool, and the job must not throw.
#include "kernels/cpu/thread_pool.h"

#include <chrono>
#include <memory>

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

struct alignas(64) Slot {
    std::atomic<uint32_t> claimedGeneration{0};
};

}  // namespace

struct ThreadPool::Impl {
    alignas(64) std::atomic<uint32_t> generation{0};
    alignas(64) std::atomic<int> pending{0};  // indices 1.. not finished yet
    alignas(64) std::atomic<int> sleepers{0};
    std::atomic<bool> callerWaiting{false};
    std::atomic<bool> stop{false};
    const std::function<void(int, int)>* job = nullptr;
    std::atomic<bool> independent{false};
    int threadCount = 1;
    std::unique_ptr<Slot[]> slots;
    std::vector<std::thread> workers;

    void workerLoop(int index);
    uint32_t waitForNewGeneration(uint32_t seen);
    bool claim(int index, uint32_t gen);
    void runIndex(int index);
    void runOthers(int first, uint32_t gen);
    void start(const std::function<void(int, int)>& fn, bool independentIndices);
    void waitDone();
};

// Takes `index` of job `gen` unless someone already has. Stamps only move
// forward: a worker still holding an older job's generation finds a newer
// stamp and claims nothing (every job claims every index before it ends).
bool ThreadPool::Impl::claim(int index, uint32_t gen) {
    uint32_t c = slots[index].claimedGeneration.load(std::memory_order_acquire);
    while (int32_t(gen - c) > 0) {  // wrap-around safe "c is older than gen"
        if (slots[index].claimedGeneration.compare_exchange_weak(c, gen, std::memory_order_acq_rel)) return true;
    }
    return false;
}

void ThreadPool::Impl::runIndex(int index) {
    (*job)(index, threadCount);
    if (pending.fetch_sub(1, std::memory_order_seq_cst) == 1 && callerWaiting.load(std::memory_order_seq_cst))
        pending.notify_one();
}

// Runs every index from `first` on that nobody has claimed for job `gen`.
void ThreadPool::Impl::runOthers(int first, uint32_t gen) {
    for (int i = 0; i < threadCount - 1; ++i) {
        const int index = 1 + (first - 1 + i) % (threadCount - 1);
        if (claim(index, gen)) runIndex(index);
    }
}

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
        // A successful claim means job `seen` is still running, so `job` is its job.
        if (claim(index, seen)) runIndex(index);
        if (independent.load(std::memory_order_acquire)) runOthers(index, seen);
    }
}

void ThreadPool::Impl::start(const std::function<void(int, int)>& fn, bool independentIndices) {
    job = &fn;
    independent.store(independentIndices, std::memory_order_relaxed);
    pending.store(threadCount - 1, std::memory_order_relaxed);
    generation.fetch_add(1, std::memory_order_seq_cst);
    if (sleepers.load(std::memory_order_seq_cst) > 0) generation.notify_all();
}

void ThreadPool::Impl::waitDone() {
    if (spinUntil([&] { return pending.load(std::memory_order_acquire) == 0; }, kCallerSpin)) return;
    callerWaiting.store(true, std::memory_order_seq_cst);
    for (int v; (v = pending.load(std::memory_order_seq_cst)) != 0;) pending.wait(v, std::memory_order_seq_cst);
    callerWaiting.store(false, std::memory_order_relaxed);
}

ThreadPool::ThreadPool(int threadCount)
    : m_impl(new Impl), m_threadCount(threadCount < 1 ? 1 : threadCount) {
    m_impl->threadCount = m_threadCount;
    m_impl->slots = std::make_unique<Slot[]>(size_t(m_threadCount));
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
    m_impl->start(fn, false);
    fn(0, m_threadCount);
    m_impl->waitDone();
}

void ThreadPool::runIndependent(const std::function<void(int threadIndex, int threadCount)>& fn) {
    if (m_threadCount == 1) {
        fn(0, 1);
        return;
    }
    m_impl->start(fn, true);
    fn(0, m_threadCount);
    // take over whatever a late worker has not started
    m_impl->runOthers(1, m_impl->generation.load(std::memory_order_relaxed));
    m_impl->waitDone();
}

}  // namespace glassbox::kernels
