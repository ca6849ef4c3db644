// Tests for ThreadPool: every index runs exactly once per run() and
// runIndependent() (also mixed, and with more threads than cores), the
// caller is thread 0, size 1 runs inline, results are visible after run()
// returns, workers wake up again after sleeping, and pools are safe to
// destroy busy or idle. The per-run overhead is printed, not asserted.
#include <QtTest>

#include <atomic>
#include <chrono>
#include <set>
#include <thread>
#include <vector>

#include "kernels/cpu/thread_pool.h"

using glassbox::kernels::ThreadPool;

class TestThreadPool : public QObject {
    Q_OBJECT

private slots:
    void everyIndexRunsOnce_data() {
        QTest::addColumn<int>("threads");
        for (int n : {1, 2, 3, 4, 8}) QTest::newRow(qPrintable(QString::number(n))) << n;
    }

    void everyIndexRunsOnce() {
        QFETCH(int, threads);
        ThreadPool pool(threads);
        QCOMPARE(pool.size(), threads);
        for (int iter = 0; iter < 100; ++iter) {
            std::vector<std::atomic<int>> hits(static_cast<size_t>(threads));
            std::atomic<int> badCount{0};
            pool.run([&](int index, int count) {
                if (count != threads || index < 0 || index >= count) ++badCount;
                else ++hits[size_t(index)];
            });
            QCOMPARE(badCount.load(), 0);
            for (auto& h : hits) QCOMPARE(h.load(), 1);
        }
    }

    void independentIndicesRunOnce_data() {
        QTest::addColumn<int>("threads");
        for (int n : {2, 3, 8}) QTest::newRow(qPrintable(QString::number(n))) << n;
    }

    void independentIndicesRunOnce() {
        QFETCH(int, threads);
        ThreadPool pool(threads);
        std::vector<std::atomic<int>> hits(static_cast<size_t>(threads));
        std::atomic<int> badCount{0};
        const auto job = [&](int index, int count) {
            if (count != threads || index < 0 || index >= count) ++badCount;
            else ++hits[size_t(index)];
        };
        const int rounds = 3000;
        for (int iter = 0; iter < rounds; ++iter) {
            if (iter % 3 == 2) pool.run(job);  // strict and independent jobs interleaved
            else pool.runIndependent(job);
            if (iter % 500 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(2));  // let workers sleep
        }
        QCOMPARE(badCount.load(), 0);
        for (auto& h : hits) QCOMPARE(h.load(), rounds);
    }

    void independentJobsFinishWithoutWorkers() {
        // the caller may do all the work; the result must not depend on who ran what
        ThreadPool pool(4);
        std::vector<int64_t> data(1 << 14, 0);
        for (int iter = 1; iter <= 200; ++iter)
            pool.runIndependent([&](int t, int n) {
                const size_t b = data.size() * size_t(t) / size_t(n), e = data.size() * size_t(t + 1) / size_t(n);
                for (size_t i = b; i < e; ++i) data[i] += 1;
            });
        for (int64_t v : data) QCOMPARE(v, int64_t(200));
    }

    void callerIsThreadZero() {
        ThreadPool pool(3);
        std::thread::id zero, others[3];
        pool.run([&](int index, int) { others[index] = std::this_thread::get_id(); });
        zero = others[0];
        QCOMPARE(zero, std::this_thread::get_id());
        QVERIFY(others[1] != zero && others[2] != zero && others[1] != others[2]);
    }

    void sizeOneRunsInline() {
        ThreadPool pool(1);
        std::thread::id seen;
        int calls = 0;
        pool.run([&](int index, int count) {
            QCOMPARE(index, 0);
            QCOMPARE(count, 1);
            seen = std::this_thread::get_id();
            ++calls;
        });
        QCOMPARE(calls, 1);
        QCOMPARE(seen, std::this_thread::get_id());
        QCOMPARE(ThreadPool(0).size(), 1);
    }

    void writesAreVisibleAfterRun() {
        ThreadPool pool(4);
        std::vector<int64_t> data(1 << 16);
        for (int iter = 1; iter <= 50; ++iter) {
            pool.run([&](int t, int n) {
                const size_t b = data.size() * size_t(t) / size_t(n), e = data.size() * size_t(t + 1) / size_t(n);
                for (size_t i = b; i < e; ++i) data[i] += int64_t(i) * iter;
            });
        }
        for (size_t i = 0; i < data.size(); ++i) QCOMPARE(data[i], int64_t(i) * 1275);
    }

    void wakesAfterSleeping() {
        ThreadPool pool(2);
        std::atomic<int> total{0};
        for (int round = 0; round < 3; ++round) {
            // longer than the spin phase, so the worker is asleep in the wait
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
            pool.run([&](int index, int) { total += index + 1; });
        }
        QCOMPARE(total.load(), 9);
    }

    void destroyRightAfterWork() {
        for (int i = 0; i < 50; ++i) {
            ThreadPool pool(3);
            std::atomic<int> n{0};
            pool.run([&](int, int) { ++n; });
            QCOMPARE(n.load(), 3);
        }
        ThreadPool idle(4);  // never used
    }

    void reportsRunOverhead() {
        for (int threads : {2, 4}) {
            ThreadPool pool(threads);
            std::atomic<int> sink{0};
            const auto job = [&](int index, int) { sink.fetch_add(index, std::memory_order_relaxed); };
            for (int i = 0; i < 200; ++i) pool.run(job);
            const int runs = 2000;
            auto t0 = std::chrono::steady_clock::now();
            for (int i = 0; i < runs; ++i) pool.run(job);
            const double us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
            t0 = std::chrono::steady_clock::now();
            for (int i = 0; i < runs; ++i) pool.runIndependent(job);
            const double usIndependent = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
            qInfo("ThreadPool(%d): %.2f us per empty run(), %.2f us per empty runIndependent()", threads, us / runs,
                  usIndependent / runs);
        }
    }
};

QTEST_GUILESS_MAIN(TestThreadPool)
#include "tst_thread_pool.moc"
