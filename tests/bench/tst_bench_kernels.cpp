// Kernel benchmarks on SmolLM2-135M shapes (hidden 576, q/o 576x576, k/v
// 192x576, gate/up 1536x576, down 576x1536, output head 49152x576 Q8_0),
// for Q4_1 and Q8_0 weights at 1 and 2 threads: decode (one activation row;
// the weights are replicated to ~100 MB so they stream from memory as in a
// real decode step) and prefill (512 rows). Prints time, weight GB/s and
// GFLOP/s per case plus a per-token matmul estimate; asserts only that the
// kernels ran. GLASSBOX_BENCH_SECONDS sets the time per case (default 0.3).
#include <QtTest>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "engine/tensor_types.h"
#include "kernels/cpu/matmul.h"
#include "kernels/cpu/quant_kernels.h"
#include "kernels/cpu/vec_ops.h"

using namespace glassbox;
using engine::TensorType;

namespace {

struct Shape {
    const char* name;
    int64_t rows, k;
    int perLayer;  // matrices of this shape per layer (0: the output head)
};

constexpr Shape kShapes[] = {
    {"attn_q/o", 576, 576, 2}, {"attn_k/v", 192, 576, 2}, {"ffn_gate/up", 1536, 576, 2},
    {"ffn_down", 576, 1536, 1}, {"output", 49152, 576, 0},
};
constexpr int kLayers = 30;

double benchSeconds() {
    const char* s = std::getenv("GLASSBOX_BENCH_SECONDS");
    const double v = s ? std::atof(s) : 0.0;
    return v > 0 ? v : 0.3;
}

double now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

struct Result {
    double seconds = 0;  // best time per call
    double checksum = 0;
};

// Best time per call over batches, cycling through `copies` weight copies.
Result timeMatmul(TensorType type, const Shape& s, int64_t m, int threads) {
    const uint64_t rowBytes = *engine::rowBytes(type, uint64_t(s.k));
    const uint64_t bytes = rowBytes * uint64_t(s.rows);
    const int copies = m == 1 ? int(std::max<uint64_t>(1, 100'000'000 / bytes)) : 1;
    std::mt19937 rng(1);
    std::normal_distribution<float> nd(0.0f, 1.0f);
    std::vector<float> row(static_cast<size_t>(s.k)), x(size_t(m * s.k));
    std::vector<uint8_t> weights(bytes * uint64_t(copies));
    for (int64_t r = 0; r < s.rows; ++r) {
        for (auto& v : row) v = nd(rng);
        kernels::quantizeRow(type, row.data(), weights.data() + uint64_t(r) * rowBytes, s.k);
    }
    for (int c = 1; c < copies; ++c) std::copy_n(weights.begin(), bytes, weights.begin() + std::ptrdiff_t(bytes * uint64_t(c)));
    for (auto& v : x) v = nd(rng);

    kernels::ThreadPool pool(threads);
    std::vector<uint8_t> scratch;
    std::vector<float> y(size_t(m * s.rows));
    engine::TensorView w;
    w.type = type;
    w.nDims = 2;
    w.ne = {s.k, s.rows, 1, 1};
    w.bytes = bytes;
    int next = 0;
    const auto call = [&] {
        w.data = weights.data() + bytes * uint64_t(next);
        next = (next + 1) % copies;
        kernels::matmul(w, x.data(), m, y.data(), pool, scratch);
    };
    for (int c = 0; c < copies; ++c) call();  // warm up, touch every copy
    Result res;
    res.seconds = 1e30;
    const int batch = std::max(1, std::min(copies, 50));
    const double end = now() + benchSeconds();
    do {
        const double t0 = now();
        for (int i = 0; i < batch; ++i) call();
        res.seconds = std::min(res.seconds, (now() - t0) / batch);
    } while (now() < end);
    for (float v : y) res.checksum += double(v);
    return res;
}

}  // namespace

class TestBenchKernels : public QObject {
    Q_OBJECT

private slots:
    void initTestCase() {
        qInfo("SIMD level: %s, %u hardware threads", kernels::simdLevelName(), std::thread::hardware_concurrency());
    }

    void matmulSmolLM2() {
        const int maxThreads = std::max(1u, std::min(2u, std::thread::hardware_concurrency()));
        for (TensorType type : {TensorType::Q4_1, TensorType::Q8_0}) {
            for (int threads = 1; threads <= maxThreads; ++threads) {
                double decodeToken = 0, prefillToken = 0;
                for (const Shape& s : kShapes) {
                    // the head of the Q4_1 model is the Q8_0 token embedding
                    const TensorType t = s.perLayer == 0 ? TensorType::Q8_0 : type;
                    const uint64_t bytes = *engine::rowBytes(t, uint64_t(s.k)) * uint64_t(s.rows);
                    for (int64_t m : {int64_t(1), int64_t(512)}) {
                        if (s.perLayer == 0 && m > 1) continue;  // prefill computes logits for one row
                        const Result r = timeMatmul(t, s, m, threads);
                        QVERIFY(std::isfinite(r.checksum));
                        const double flops = 2.0 * double(s.rows) * double(s.k) * double(m);
                        qInfo("%-4s T%d %-12s %5lldx%-5lld m=%-3lld %9.1f us %7.1f GB/s %8.1f GFLOP/s",
                              std::string(engine::tensorTypeName(t)).c_str(), threads, s.name, (long long)s.rows,
                              (long long)s.k, (long long)m, r.seconds * 1e6, double(bytes) / r.seconds / 1e9,
                              flops / r.seconds / 1e9);
                        const double perToken = r.seconds * (s.perLayer ? s.perLayer * kLayers : 1);
                        if (m == 1) decodeToken += perToken;
                        else prefillToken += perToken / double(m);
                    }
                }
                qInfo("%s T%d: matmuls of one decode step %.2f ms (%.0f tok/s); prefill %.3f ms per token (%.0f tok/s)",
                      std::string(engine::tensorTypeName(type)).c_str(), threads, decodeToken * 1e3, 1.0 / decodeToken,
                      prefillToken * 1e3, 1.0 / prefillToken);
            }
        }
    }

    void vecOps() {
        std::vector<float> a(4096, 0.5f), b(4096, 0.25f), out(4096);
        std::vector<uint16_t> h(4096, engine::floatToFp16(0.5f));
        struct Op {
            const char* name;
            std::function<void()> fn;
        };
        volatile float sink = 0;
        const Op ops[] = {
            {"rmsNorm 576", [&] { kernels::rmsNorm(a.data(), b.data(), 576, 1e-5f, out.data()); }},
            {"softmax 1024", [&] { std::copy_n(b.begin(), 1024, out.begin()); kernels::softmax(out.data(), 1024); }},
            {"swiglu 1536", [&] { kernels::swiglu(a.data(), b.data(), 1536, out.data()); }},
            {"dotF16 64", [&] { sink = sink + kernels::dotF16(h.data(), a.data(), 64); }},
            {"axpyF16 64", [&] { kernels::axpyF16(0.1f, h.data(), out.data(), 64); }},
        };
        for (const Op& op : ops) {
            const int n = 20000;
            const double t0 = now();
            for (int i = 0; i < n; ++i) op.fn();
            qInfo("%-14s %8.1f ns", op.name, (now() - t0) / n * 1e9);
        }
    }

    void threadPoolOverhead() {
        const int maxThreads = int(std::max(2u, std::thread::hardware_concurrency()));
        kernels::ThreadPool pool(std::min(maxThreads, 2));
        const auto job = [](int, int) {};
        for (int i = 0; i < 100; ++i) pool.run(job);
        const int n = 5000;
        const double t0 = now();
        for (int i = 0; i < n; ++i) pool.run(job);
        qInfo("ThreadPool(%d) empty run(): %.2f us", pool.size(), (now() - t0) / n * 1e6);
    }
};

QTEST_GUILESS_MAIN(TestBenchKernels)
#include "tst_bench_kernels.moc"
