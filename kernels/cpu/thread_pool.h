// A fixed pool of worker threads for data-parallel kernels. run() executes
// fn(threadIndex, threadCount) on every thread (the caller is thread 0) and
// returns when all have finished. Workers spin briefly between jobs so the
// hundreds of small ops of one decode step do not pay a futex wake each.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <thread>
#include <vector>

namespace glassbox::kernels {

class ThreadPool {
public:
    explicit ThreadPool(int threadCount);
    ~ThreadPool();
    ThreadPool(const ThreadPool&) = delete;
    ThreadPool& operator=(const ThreadPool&) = delete;

    int size() const { return m_threadCount; }
    void run(const std::function<void(int threadIndex, int threadCount)>& fn);
    // Like run(), for jobs whose indices are independent of each other (no
    // waiting between them): an index whose worker has not started it yet
    // may be run by the caller or another worker instead, so a worker that
    // the OS has descheduled does not hold up the whole job. Every index
    // still runs exactly once; the caller runs index 0.
    void runIndependent(const std::function<void(int threadIndex, int threadCount)>& fn);

private:
    struct Impl;
    Impl* m_impl;
    int m_threadCount;
};

}  // namespace glassbox::kernels
