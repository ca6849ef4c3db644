// GPU tests of the activation-side CUDA kernels against the CPU backend's
// arithmetic (the formulas of engine/cpu_backend.cpp and the kernels/cpu
// functions it calls): RMSNorm, RoPE (both orderings, host and device
// positions), softmax, SwiGLU, residual and bias adds, KV-cache stores,
// logits gather / argmax, flash attention (decode and prefill, GQA ratios
// 1, 3, 4, 8 and MQA, F16 and F32 caches, split keys, device positions) and
// the probing attention path (probabilities, entropy, sink). Criteria as in
// ggml's test-backend-ops; every output is checked for overwritten
// sentinels. Skips when no CUDA device is usable.
#include <QtTest>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "cuda_test_support.h"
#include "engine/tensor_types.h"
#include "kernels/cpu/attention.h"
#include "kernels/cpu/vec_ops.h"

#if defined(GLASSBOX_HAVE_CUDA)
#include "attention_cases.h"
#include "kernels/cuda/attention.cuh"
#include "kernels/cuda/kv_store.cuh"
#include "kernels/cuda/logits.cuh"
#include "kernels/cuda/residual.cuh"
#include "kernels/cuda/rmsnorm.cuh"
#include "kernels/cuda/rope.cuh"
#include "kernels/cuda/softmax.cuh"
#include "kernels/cuda/swiglu.cuh"
#endif

using namespace glassbox;
using namespace glassbox::test;

class TestCudaOps : public QObject {
    Q_OBJECT

private slots:
    void initTestCase();
    void rmsNormMatchesCpu();
    void ropeMatchesCpu();
    void softmaxMatchesCpu();
    void swigluMatchesCpu();
    void residualAndBias();
    void kvStoreIsExact();
    void logitsGatherAndArgmax();
    void flashAttentionMatchesCpu();
    void attentionWithProbsMatchesCpu();

private:
    bool m_ready = false;
    QString m_why = QStringLiteral("no CUDA device: this build has no CUDA support (GLASSBOX_HAVE_CUDA unset)");
};

#define GB_REQUIRE_CUDA() \
    if (!m_ready) QSKIP(qPrintable(m_why))

#define GB_CHECK(expr, what)                                                              \
    do {                                                                                  \
        const std::string err_ = (expr);                                                  \
        QVERIFY2(err_.empty(), qPrintable(QString::fromStdString((what) + ": " + err_))); \
    } while (0)

#if defined(GLASSBOX_HAVE_CUDA)

namespace {

namespace cu = kernels::cuda;

std::string compare(const DevBuf& got, const std::vector<float>& want, double limit) {
    const double e = nmse(got.download<float>(want.size()).data(), want.data(), want.size());
    if (!(e <= limit)) return "NMSE " + std::to_string(e);
    return got.guardsIntact() ? "" : "sentinel bytes overwritten";
}

// CpuBackend's rmsNormRow.
void cpuRmsNorm(const float* x, const float* w, int n, float eps, float* out) {
    double sum = 0.0;
    for (int i = 0; i < n; ++i) sum += double(x[i] * x[i]);
    const float scale = 1.0f / std::sqrt(float(sum / n) + eps);
    for (int i = 0; i < n; ++i) out[i] = (x[i] * scale) * w[i];
}

// CpuBackend::applyRope on rows × nHeads × headDim.
void cpuRope(float* x, int rows, int nHeads, int pos0, const cu::RopeParams& p) {
    const int half = p.ropeDims / 2;
    const float thetaScale = std::pow(p.theta, -2.0f / float(p.ropeDims));
    std::vector<float> cs(static_cast<size_t>(half)), sn(static_cast<size_t>(half));
    for (int i = 0; i < rows; ++i) {
        float theta = float(pos0 + i);
        for (int k = 0; k < half; ++k) {
            const float t = p.freqScale * theta;
            cs[size_t(k)] = std::cos(t);
            sn[size_t(k)] = std::sin(t);
            theta *= thetaScale;
        }
        for (int h = 0; h < nHeads; ++h) {
            float* v = x + (size_t(i) * nHeads + h) * p.headDim;
            for (int k = 0; k < half; ++k) {
                const int a = p.neox ? k : 2 * k, b = p.neox ? k + half : 2 * k + 1;
                const float x0 = v[a], x1 = v[b];
                v[a] = x0 * cs[size_t(k)] - x1 * sn[size_t(k)];
                v[b] = x0 * sn[size_t(k)] + x1 * cs[size_t(k)];
            }
        }
    }
}

std::string checkRope(int rows, int nHeads, int pos0, const cu::RopeParams& p, bool devicePos, uint32_t seed) {
    std::vector<float> x = normalData(size_t(rows) * nHeads * p.headDim, seed);
    auto dx = uploaded(x);
    auto dPos = uploaded(std::vector<int>{pos0});
    cpuRope(x.data(), rows, nHeads, pos0, p);
    const cudaError_t e = devicePos ? cu::ropeAt(dx->as<float>(), rows, nHeads, dPos->as<int>(), p, nullptr)
                                    : cu::rope(dx->as<float>(), rows, nHeads, pos0, p, nullptr);
    const std::string err = finish(e, "rope");
    return err.empty() ? compare(*dx, x, kNmseElementwise) : err;
}

std::string checkSoftmax(int rows, int cols, int firstValid, uint32_t seed) {
    std::vector<float> x = normalData(size_t(rows) * cols, seed, 4.0f);
    if (cols > 3) x[2] = -INFINITY;  // a masked entry
    if (rows > 1)
        for (int j = 0; j < cols; ++j) x[size_t(cols) + j] = -INFINITY;  // a fully masked row
    auto dx = uploaded(x);
    for (int i = 0; i < rows; ++i) {
        const int valid = firstValid > 0 ? std::min(cols, firstValid + i) : cols;
        float* row = &x[size_t(i) * cols];
        kernels::softmax(row, valid);
        std::fill(row + valid, row + cols, 0.0f);
    }
    const std::string err = finish(cu::softmaxRows(dx->as<float>(), rows, cols, firstValid, nullptr), "softmax");
    return err.empty() ? compare(*dx, x, kNmseElementwise) : err;
}

std::string shapeText(std::initializer_list<int> v) {
    std::string s;
    for (int x : v) s += (s.empty() ? "" : " x ") + std::to_string(x);
    return s;
}

}  // namespace

void TestCudaOps::initTestCase() { m_ready = cudaUsable(&m_why); }

void TestCudaOps::rmsNormMatchesCpu() {
    GB_REQUIRE_CUDA();
    const int shapes[][2] = {{1, 1},     {1, 7},   {3, 64},   {2, 4096},  {5, 4097},  {64, 896},  {1, 8192},
                             {17, 5120}, {4, 576}, {1, 2048}, {9, 3072},  {2, 255},   {128, 128}, {3, 14336},
                             {7, 1000},  {1, 960}, {33, 33},  {2, 16384}, {11, 4096}, {6, 1}};
    uint32_t seed = 1;
    for (const auto& s : shapes) {
        for (bool inPlace : {false, true}) {
            const int rows = s[0], dim = s[1];
            const std::vector<float> x = normalData(size_t(rows) * dim, ++seed, 3.0f);
            const std::vector<float> w = normalData(size_t(dim), ++seed);
            std::vector<float> want(x.size());
            for (int i = 0; i < rows; ++i)
                cpuRmsNorm(&x[size_t(i) * dim], w.data(), dim, 1e-5f, &want[size_t(i) * dim]);
            auto dx = uploaded(x);
            auto dw = uploaded(w);
            DevBuf out(x.size() * 4);
            float* o = inPlace ? dx->as<float>() : out.as<float>();
            std::string err =
                finish(cu::rmsNorm(dx->as<float>(), dw->as<float>(), rows, dim, 1e-5f, o, nullptr), "rmsNorm");
            if (err.empty()) err = compare(inPlace ? *dx : out, want, kNmseElementwise);
            GB_CHECK(err, "rmsNorm " + shapeText({rows, dim}) + (inPlace ? " in place" : ""));
        }
    }
}

void TestCudaOps::ropeMatchesCpu() {
    GB_REQUIRE_CUDA();
    struct Case {
        int rows, nHeads, pos0, headDim, ropeDims;
        float theta, freqScale;
        bool neox, devicePos;
    };
    const Case cases[] = {
        {1, 1, 0, 64, 64, 1e4f, 1, false, false},         {1, 32, 5, 128, 128, 5e5f, 1, false, false},
        {3, 8, 1000, 128, 128, 1e4f, 1, true, false},     {17, 4, 0, 64, 64, 1e4f, 0.25f, false, false},
        {7, 2, 100000, 128, 128, 5e5f, 1, true, false},   {1, 32, 4095, 128, 128, 5e5f, 1, false, true},
        {5, 3, 12, 128, 64, 1e4f, 1, true, false},        {5, 3, 12, 128, 64, 1e4f, 1, false, false},
        {2, 14, 31, 64, 32, 1e6f, 1, true, true},         {64, 8, 0, 64, 64, 1e4f, 1, false, false},
        {1, 1, 1, 2, 2, 1e4f, 1, false, false},           {9, 6, 77, 96, 96, 1e4f, 0.5f, true, false},
        {3, 40, 2000, 128, 128, 1e4f, 1, false, true},    {1, 9, 65535, 256, 256, 1e4f, 1, true, false},
        {12, 4, 300, 80, 80, 1e4f, 1, false, false},      {4, 4, 8191, 128, 128, 5e5f, 0.125f, true, true},
        {2, 2, 3, 64, 16, 1e4f, 1, true, false},          {128, 2, 1, 64, 64, 1e4f, 1, true, false},
        {1, 64, 123456, 128, 128, 1e4f, 1, false, false}, {33, 1, 17, 128, 128, 1e4f, 1, false, true},
    };
    uint32_t seed = 100;
    for (const Case& c : cases) {
        cu::RopeParams p;
        p.headDim = c.headDim;
        p.ropeDims = c.ropeDims;
        p.theta = c.theta;
        p.freqScale = c.freqScale;
        p.neox = c.neox;
        GB_CHECK(checkRope(c.rows, c.nHeads, c.pos0, p, c.devicePos, ++seed),
                 "rope " + shapeText({c.rows, c.nHeads, c.headDim, c.ropeDims, c.pos0}) + (c.neox ? " neox" : ""));
    }
}

void TestCudaOps::softmaxMatchesCpu() {
    GB_REQUIRE_CUDA();
    const int cases[][3] = {{1, 1, 0},        {1, 7, 0},    {4, 100, 0},      {3, 1000, 0}, {8, 8, 1},
                            {16, 2000, 1985}, {5, 4097, 0}, {2, 32000, 0},    {64, 64, 1},  {3, 300, 200},
                            {1, 128256, 0},   {7, 13, 5},   {9, 2048, 0},     {32, 33, 2},  {2, 5, 3},
                            {6, 777, 770},    {1, 256, 0},  {12, 4096, 4000}, {4, 65, 0},   {3, 2, 1}};
    uint32_t seed = 200;
    for (const auto& c : cases)
        GB_CHECK(checkSoftmax(c[0], c[1], c[2], ++seed), "softmax " + shapeText({c[0], c[1], c[2]}));
}

void TestCudaOps::swigluMatchesCpu() {
    GB_REQUIRE_CUDA();
    const int64_t sizes[] = {1,     2,     7,      31,    32,   33, 255, 1000,    4096, 14336, 14336 * 3 + 5,
                             18944, 65536, 100003, 11008, 8192, 3,  513, 1 << 20, 27648};
    uint32_t seed = 300;
    for (int64_t n : sizes) {
        std::vector<float> g = normalData(size_t(n), ++seed, 4.0f);
        const std::vector<float> u = normalData(size_t(n), ++seed);
        if (n > 4) g[0] = 100.0f, g[1] = -100.0f, g[2] = 0.0f, g[3] = -90.5f;
        auto dg = uploaded(g);
        auto du = uploaded(u);
        std::vector<float> want(g.size());
        for (size_t i = 0; i < g.size(); ++i) want[i] = (g[i] / (1.0f + std::exp(-g[i]))) * u[i];
        std::string err = finish(cu::swiGlu(dg->as<float>(), du->as<float>(), n, nullptr), "swiGlu");
        if (err.empty()) err = compare(*dg, want, kNmseElementwise);
        GB_CHECK(err, "swiglu " + std::to_string(n));
    }
}

void TestCudaOps::residualAndBias() {
    GB_REQUIRE_CUDA();
    const int shapes[][2] = {{1, 1},     {1, 7},   {3, 64},   {2, 4096},  {5, 4097},  {64, 896},  {1, 8192},
                             {17, 5120}, {4, 576}, {1, 2048}, {9, 3072},  {2, 255},   {128, 128}, {3, 14336},
                             {7, 1000},  {1, 960}, {33, 33},  {2, 16384}, {11, 4096}, {6, 1}};
    uint32_t seed = 400;
    for (const auto& s : shapes) {
        const int n = s[0], dim = s[1];
        const std::vector<float> x = normalData(size_t(n) * dim, ++seed), y = normalData(x.size(), ++seed);
        const std::vector<float> b = normalData(size_t(dim), ++seed);
        std::vector<float> sum(x.size()), biased(x.size());
        for (size_t i = 0; i < x.size(); ++i) {
            sum[i] = x[i] + y[i];
            biased[i] = x[i] + b[i % size_t(dim)];
        }
        auto dx = uploaded(x), dy = uploaded(y), dx2 = uploaded(x), db = uploaded(b);
        std::string err = finish(cu::addInPlace(dx->as<float>(), dy->as<float>(), int64_t(x.size()), nullptr), "add");
        if (err.empty()) err = compare(*dx, sum, 0.0);
        if (err.empty()) err = finish(cu::addBias(dx2->as<float>(), db->as<float>(), n, dim, nullptr), "bias");
        if (err.empty()) err = compare(*dx2, biased, 0.0);
        GB_CHECK(err, "residual/bias " + shapeText({n, dim}));
    }
}

void TestCudaOps::kvStoreIsExact() {
    GB_REQUIRE_CUDA();
    const int cases[][3] = {{1, 128, 0},   {1, 1024, 7},  {5, 512, 0},    {17, 1024, 100}, {64, 256, 3},
                            {1, 8, 4095},  {3, 4096, 11}, {128, 1024, 0}, {2, 64, 1},      {9, 640, 50},
                            {1, 2048, 0},  {33, 128, 17}, {4, 1536, 2},   {7, 96, 60},     {1, 1, 0},
                            {256, 128, 1}, {12, 384, 5},  {2, 5120, 9},   {8, 1024, 1000}, {3, 3, 3}};
    uint32_t seed = 500;
    for (const auto& c : cases)
        for (bool f16 : {true, false})
            for (bool devicePos : {false, true}) {
                const int n = c[0], kvDim = c[1], pos0 = c[2], positions = pos0 + n + 2;
                std::vector<float> src = normalData(size_t(n) * kvDim, ++seed, 50.0f);
                if (src.size() > 4) src[0] = 70000.0f, src[1] = -1e-7f, src[2] = 65519.0f, src[3] = 1e-5f;
                const size_t elem = f16 ? 2 : 4;
                std::vector<uint8_t> want(size_t(positions) * kvDim * elem, 0xff);
                uint8_t* at = want.data() + size_t(pos0) * kvDim * elem;
                if (f16)
                    kernels::storeRowF16(src.data(), reinterpret_cast<uint16_t*>(at), int64_t(src.size()));
                else
                    std::memcpy(at, src.data(), src.size() * 4);
                auto ds = uploaded(src);
                auto dPos = uploaded(std::vector<int>{pos0});
                DevBuf cache(want.size());
                const cudaError_t e =
                    devicePos ? cu::storeKvAt(ds->as<float>(), n, kvDim, cache.get(), dPos->as<int>(), f16, nullptr)
                              : cu::storeKv(ds->as<float>(), n, kvDim,
                                            cache.as<uint8_t>() + size_t(pos0) * kvDim * elem, f16, nullptr);
                std::string err = finish(e, "storeKv");
                if (err.empty() && cache.download<uint8_t>(want.size()) != want) err = "cache bytes differ";
                if (err.empty() && !cache.guardsIntact()) err = "sentinel bytes overwritten";
                GB_CHECK(err, "kv store " + shapeText({n, kvDim, pos0}) + (f16 ? " f16" : " f32"));
            }
}

void TestCudaOps::logitsGatherAndArgmax() {
    GB_REQUIRE_CUDA();
    const int cases[][3] = {{1, 1, 0},      {1, 32000, 0}, {4, 128256, 3}, {7, 100, 2}, {16, 5, 9},
                            {3, 151936, 1}, {2, 7, 0},     {64, 1000, 30}, {5, 33, 4},  {9, 2048, 0},
                            {1, 49152, 0},  {12, 12, 6},   {2, 65536, 1},  {8, 300, 7}, {3, 3, 2},
                            {20, 4096, 10}, {1, 257, 0},   {6, 50257, 5},  {10, 1, 9},  {4, 999, 0}};
    uint32_t seed = 600;
    for (const auto& c : cases) {
        const int rows = c[0], n = c[1], first = c[2];
        std::vector<float> x = normalData(size_t(rows) * n, ++seed, 5.0f);
        if (n > 10) x[7] = x[3] = 100.0f;  // tie: the lower index wins
        std::vector<int> wantIdx(static_cast<size_t>(rows));
        std::vector<float> wantVal(static_cast<size_t>(rows));
        for (int r = 0; r < rows; ++r) {
            const float* row = &x[size_t(r) * n];
            wantIdx[size_t(r)] = int(std::max_element(row, row + n) - row);
            wantVal[size_t(r)] = row[wantIdx[size_t(r)]];
        }
        const int count = rows - first;
        const std::vector<float> gathered(x.begin() + long(first) * n, x.end());
        auto dx = uploaded(x);
        DevBuf idx(size_t(rows) * 4), val(size_t(rows) * 4), dst(gathered.size() * 4);
        std::string err =
            finish(cu::argmaxRows(dx->as<float>(), rows, n, idx.as<int>(), val.as<float>(), nullptr), "argmax");
        if (err.empty())
            err = finish(cu::gatherRows(dx->as<float>(), first, count, n, dst.as<float>(), nullptr), "gather");
        if (err.empty() && idx.download<int>(size_t(rows)) != wantIdx) err = "argmax index differs";
        if (err.empty()) err = compare(val, wantVal, 0.0);
        if (err.empty()) err = compare(dst, gathered, 0.0);
        if (err.empty() && !idx.guardsIntact()) err = "sentinel bytes overwritten";
        GB_CHECK(err, "logits " + shapeText({rows, n, first}));
    }
}

void TestCudaOps::flashAttentionMatchesCpu() {
    GB_REQUIRE_CUDA();
    int checked = 0;
    for (const AttentionCase& c : attentionCases()) {
        GB_CHECK(checkFlashAttention(c), "flash " + c.text());
        ++checked;
    }
    QVERIFY(checked >= 20);
}

void TestCudaOps::attentionWithProbsMatchesCpu() {
    GB_REQUIRE_CUDA();
    int checked = 0;
    for (const AttentionCase& c : attentionCases()) {
        if (c.split) continue;  // no split in this path
        GB_CHECK(checkProbsAttention(c), "probs " + c.text());
        ++checked;
    }
    QVERIFY(checked >= 20);
}

#else  // no CUDA in this build: every test reports why it does not run

void TestCudaOps::initTestCase() {}
void TestCudaOps::rmsNormMatchesCpu() { GB_REQUIRE_CUDA(); }
void TestCudaOps::ropeMatchesCpu() { GB_REQUIRE_CUDA(); }
void TestCudaOps::softmaxMatchesCpu() { GB_REQUIRE_CUDA(); }
void TestCudaOps::swigluMatchesCpu() { GB_REQUIRE_CUDA(); }
void TestCudaOps::residualAndBias() { GB_REQUIRE_CUDA(); }
void TestCudaOps::kvStoreIsExact() { GB_REQUIRE_CUDA(); }
void TestCudaOps::logitsGatherAndArgmax() { GB_REQUIRE_CUDA(); }
void TestCudaOps::flashAttentionMatchesCpu() { GB_REQUIRE_CUDA(); }
void TestCudaOps::attentionWithProbsMatchesCpu() { GB_REQUIRE_CUDA(); }

#endif

QTEST_GUILESS_MAIN(TestCudaOps)
#include "tst_cuda_ops.moc"
