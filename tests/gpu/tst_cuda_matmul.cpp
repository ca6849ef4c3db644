// GPU tests of the weight-side CUDA kernels against the CPU backend's own
// code, for all 11 weight types: activation quantization (A8 rows
// byte-identical with kernels::quantizeActivations, and their q·d halves),
// decode matVec and the prefill path (dequantize to F16 + activations as
// halves + cuBLAS) against kernels::matmulRows on the CPU's quantized
// activations, and dequantization and embedding lookup against
// kernels::dequantizeRow. Skips when no CUDA device is usable.
#include <QtTest>

#include <algorithm>
#include <string>
#include <vector>

#include "cuda_test_support.h"
#include "engine/tensor_types.h"
#include "kernels/cpu/matmul.h"
#include "kernels/cpu/quant_kernels.h"

#if defined(GLASSBOX_HAVE_CUDA)
#include "kernels/cuda/dequantize.cuh"
#include "kernels/cuda/embedding.cuh"
#include "kernels/cuda/gemm.cuh"
#include "kernels/cuda/matvec.cuh"
#include "kernels/cuda/quantize_activations.cuh"
#endif

using namespace glassbox;
using namespace glassbox::test;
using engine::TensorType;

class TestCudaMatmul : public QObject {
    Q_OBJECT

private slots:
    void initTestCase();
    void quantizeActivationsMatchCpu();
    void matVecMatchesCpu();
    void prefillGemmMatchesCpu();
    void dequantizeMatchesCpu();
    void embeddingMatchesCpu();

private:
    bool m_ready = false;
    QString m_why = QStringLiteral("no CUDA device: this build has no CUDA support (GLASSBOX_HAVE_CUDA unset)");
};

#define GB_REQUIRE_CUDA() \
    if (!m_ready) QSKIP(qPrintable(m_why))

#if defined(GLASSBOX_HAVE_CUDA)

namespace {

const TensorType kTypes[] = {TensorType::F32,  TensorType::F16,  TensorType::BF16, TensorType::Q4_0,
                             TensorType::Q4_1, TensorType::Q5_0, TensorType::Q5_1, TensorType::Q8_0,
                             TensorType::Q4_K, TensorType::Q5_K, TensorType::Q6_K};

struct Shape {
    int64_t rows, cols;
    int n;  // activation rows (matVec vectors, GEMM rows, embedding ids)
};

// Shapes with cols % 256 == 0 (every type), then 32-multiples, then odd
// sizes (plain float types only); a type takes those its block size fits.
const Shape kMatVecShapes[] = {
    {1, 256, 1},     {2, 256, 1},    {7, 256, 2},    {33, 512, 1},    {64, 512, 3},  {128, 768, 4}, {5, 1024, 5},
    {100, 1024, 8},  {257, 256, 6},  {31, 1280, 7},  {1024, 4096, 1}, {3, 4096, 8},  {96, 2048, 2}, {1, 14336, 1},
    {256, 14336, 1}, {4096, 512, 1}, {1000, 256, 4}, {513, 1536, 1},  {17, 2560, 3}, {2, 3072, 8},  {64, 4096, 2},
    {3, 32, 1},      {17, 96, 2},    {9, 160, 8},    {65, 4128, 1},   {1, 32, 5},    {40, 1056, 1}, {5, 1, 1},
    {3, 7, 2},       {11, 33, 3},    {2, 1001, 1},   {4, 12, 8}};

const Shape kGemmShapes[] = {{64, 256, 1},      {96, 512, 7},    {256, 1024, 33}, {128, 4096, 128}, {512, 512, 512},
                             {33, 2048, 16},    {1000, 256, 3},  {17, 768, 512},  {256, 256, 256},  {1, 256, 1},
                             {2, 512, 2},       {300, 1280, 64}, {64, 14336, 8},  {4096, 256, 4},   {128, 3072, 100},
                             {40, 2560, 511},   {7, 1024, 9},    {512, 4096, 32}, {256, 768, 200},  {129, 1536, 65},
                             {1024, 1024, 128}, {5, 96, 3},      {48, 4128, 17},  {6, 33, 5}};

const Shape kDequantShapes[] = {
    {1, 256, 0},   {2, 512, 0},   {3, 768, 0},  {16, 1024, 0}, {7, 4096, 0},  {100, 256, 0},  {33, 2560, 0},
    {1, 14336, 0}, {64, 2048, 0}, {5, 1280, 0}, {128, 512, 0}, {9, 3072, 0},  {257, 256, 0},  {1000, 256, 0},
    {4, 5120, 0},  {31, 1536, 0}, {2, 8192, 0}, {65, 768, 0},  {11, 1792, 0}, {512, 1024, 0}, {1, 32, 0},
    {3, 96, 0},    {17, 4128, 0}, {1, 1, 0},    {3, 7, 0},     {5, 1001, 0}};

bool fits(TensorType t, int64_t cols) { return cols % int64_t(engine::traitsOf(t).blockSize) == 0; }

struct Weights {
    TensorType type;
    int64_t rows = 0, cols = 0;
    uint64_t rowBytes = 0;
    std::vector<uint8_t> bytes;

    engine::TensorView view() const {
        engine::TensorView v;
        v.type = type;
        v.nDims = 2;
        v.ne = {cols, rows, 1, 1};
        v.data = bytes.data();
        v.bytes = bytes.size();
        return v;
    }
};

Weights makeWeights(TensorType t, int64_t rows, int64_t cols, uint32_t seed) {
    Weights w;
    w.type = t;
    w.rows = rows;
    w.cols = cols;
    w.rowBytes = *engine::rowBytes(t, uint64_t(cols));
    w.bytes.resize(size_t(w.rowBytes * uint64_t(rows)));
    std::vector<float> f = normalData(size_t(rows * cols), seed);
    for (int64_t r = 0; r < rows; ++r) {
        float* row = &f[size_t(r * cols)];
        for (int64_t j = 0; j < cols; ++j) row[j] *= 0.25f + float(r % 5);  // per-row scales matter
        if (!kernels::quantizeRow(t, row, &w.bytes[size_t(r) * w.rowBytes], cols)) qFatal("quantizeRow failed");
    }
    return w;
}

// CPU reference y (n × rows) on the CPU's own quantized activations.
std::vector<float> cpuProduct(const Weights& w, const std::vector<float>& x, int n) {
    std::vector<uint8_t> xq;
    kernels::quantizeActivations(w.type, x.data(), n, w.cols, xq);
    std::vector<float> y(size_t(n * w.rows));
    kernels::matmulRows(w.view(), xq.data(), n, y.data(), w.rows, 0, w.rows);
    return y;
}

// Activations with an all-zero block and exact .5 ties (amax 127 → d = 1).
std::vector<float> activations(int n, int64_t cols, uint32_t seed) {
    std::vector<float> x = normalData(size_t(n * cols), seed, 2.0f);
    if (cols >= 64) {
        std::fill(x.begin(), x.begin() + 32, 0.0f);
        const float ties[8] = {127.0f, 2.5f, -2.5f, 0.5f, -0.5f, 1.5f, -126.5f, 3.5f};
        for (int j = 0; j < 32; ++j) x[size_t(32 + j)] = ties[j % 8];
    }
    return x;
}

std::string describe(TensorType t, const Shape& s) {
    return std::string(engine::tensorTypeName(t)) + " rows " + std::to_string(s.rows) + " cols " +
           std::to_string(s.cols) + " n " + std::to_string(s.n);
}

namespace cu = kernels::cuda;

std::string checkQuantize(TensorType t, int n, int64_t cols, uint32_t seed) {
    const std::vector<float> x = activations(n, cols, seed);
    std::vector<uint8_t> want;
    const uint64_t stride = kernels::quantizeActivations(t, x.data(), n, cols, want);
    const size_t bytes = cu::quantizedActivationBytes(t, n, cols);
    if (!engine::traitsOf(t).quantized) return bytes == 0 ? "" : "float type reports quantized bytes";
    if (bytes != size_t(stride) * size_t(n)) return "byte count differs from the CPU's";
    auto dx = uploaded(x);
    DevBuf q(bytes), h(size_t(n * cols) * 2);
    std::string err = finish(cu::quantizeActivations(t, dx->as<float>(), n, cols, q.get(), nullptr), "quantize");
    if (!err.empty()) return err;
    if (q.download<uint8_t>(bytes) != std::vector<uint8_t>(want.begin(), want.begin() + long(bytes)))
        return "A8 bytes differ from the CPU's";
    err = finish(cu::quantizedActivationsToF16(t, q.get(), n, cols, h.as<uint16_t>(), nullptr), "to F16");
    if (!err.empty()) return err;
    const std::vector<uint16_t> got = h.download<uint16_t>(size_t(n * cols));
    for (int r = 0; r < n; ++r) {
        const uint8_t* row = want.data() + size_t(r) * stride;
        for (int64_t j = 0; j < cols; ++j) {
            float d;
            std::memcpy(&d, row + cols + 4 * (j / 32), 4);
            const uint16_t expect = engine::floatToFp16(float(int8_t(row[j])) * d);
            if (got[size_t(r * cols + j)] != expect) return "q·d halves differ at " + std::to_string(r * cols + j);
        }
    }
    return q.guardsIntact() && h.guardsIntact() ? "" : "sentinel bytes overwritten";
}

std::string checkMatVec(TensorType t, const Shape& s, uint32_t seed, double* worst) {
    const Weights w = makeWeights(t, s.rows, s.cols, seed);
    const std::vector<float> x = activations(s.n, s.cols, seed + 1);
    const std::vector<float> want = cpuProduct(w, x, s.n);
    auto dw = uploaded(w.bytes);
    auto dx = uploaded(x);
    const size_t qBytes = cu::quantizedActivationBytes(t, s.n, s.cols);
    DevBuf q(std::max<size_t>(qBytes, 1)), y(want.size() * 4);
    const void* xq = dx->get();
    if (qBytes) {
        const std::string err =
            finish(cu::quantizeActivations(t, dx->as<float>(), s.n, s.cols, q.get(), nullptr), "quantize");
        if (!err.empty()) return err;
        xq = q.get();
    }
    const std::string err = finish(cu::matVec(t, dw->get(), s.rows, s.cols, xq, s.n, y.as<float>(), nullptr), "matVec");
    if (!err.empty()) return err;
    const double e = nmse(y.download<float>(want.size()).data(), want.data(), want.size());
    *worst = std::max(*worst, e);
    if (!(e <= kNmseProduct)) return "NMSE " + std::to_string(e);
    return y.guardsIntact() ? "" : "sentinel bytes overwritten";
}

// x as the halves the prefill GEMM multiplies (q·d, or plain floats).
std::string activationHalves(TensorType t, const DevBuf& x, int n, int64_t cols, DevBuf& x16) {
    const size_t qBytes = cu::quantizedActivationBytes(t, n, cols);
    if (!qBytes)
        return finish(cu::convertF32ToF16(x.as<float>(), int64_t(n) * cols, x16.as<uint16_t>(), nullptr), "to F16");
    DevBuf q(qBytes);
    const std::string err = finish(cu::quantizeActivations(t, x.as<float>(), n, cols, q.get(), nullptr), "quantize");
    if (!err.empty()) return err;
    return finish(cu::quantizedActivationsToF16(t, q.get(), n, cols, x16.as<uint16_t>(), nullptr), "q to F16");
}

std::string checkGemm(cu::Cublas& blas, TensorType t, const Shape& s, uint32_t seed, double* worst) {
    const Weights w = makeWeights(t, s.rows, s.cols, seed);
    const std::vector<float> x = activations(s.n, s.cols, seed + 1);
    const std::vector<float> want = cpuProduct(w, x, s.n);
    auto dw = uploaded(w.bytes);
    auto dx = uploaded(x);
    DevBuf w16(size_t(s.rows * s.cols) * 2), x16(size_t(s.n * s.cols) * 2), y(want.size() * 4);
    std::string err = finish(cu::dequantizeToF16(t, dw->get(), s.rows, s.cols, w16.as<uint16_t>(), nullptr), "dequant");
    if (err.empty()) err = activationHalves(t, *dx, s.n, s.cols, x16);
    if (err.empty())
        err = blas.gemmF16(w16.as<uint16_t>(), x16.as<uint16_t>(), y.as<float>(), int(s.rows), int(s.cols), s.n);
    if (err.empty()) err = finish(cudaSuccess, "gemmF16");
    if (!err.empty()) return err;
    double e = nmse(y.download<float>(want.size()).data(), want.data(), want.size());
    if (t == TensorType::F32 && e <= kNmseProduct) {  // the F32 GEMM as well
        DevBuf w32(size_t(s.rows * s.cols) * 4), y32(want.size() * 4);
        err = finish(cu::dequantizeToF32(t, dw->get(), s.rows, s.cols, w32.as<float>(), nullptr), "dequant F32");
        if (err.empty())
            err = blas.gemmF32(w32.as<float>(), dx->as<float>(), y32.as<float>(), int(s.rows), int(s.cols), s.n);
        if (err.empty()) err = finish(cudaSuccess, "gemmF32");
        if (!err.empty()) return err;
        e = std::max(e, nmse(y32.download<float>(want.size()).data(), want.data(), want.size()));
        if (!y32.guardsIntact()) return "sentinel bytes overwritten (F32)";
    }
    *worst = std::max(*worst, e);
    if (!(e <= kNmseProduct)) return "NMSE " + std::to_string(e);
    return y.guardsIntact() && w16.guardsIntact() && x16.guardsIntact() ? "" : "sentinel bytes overwritten";
}

std::string checkDequant(TensorType t, const Shape& s, uint32_t seed, size_t* mismatches) {
    const Weights w = makeWeights(t, s.rows, s.cols, seed);
    std::vector<float> want(size_t(s.rows * s.cols));
    for (int64_t r = 0; r < s.rows; ++r)
        kernels::dequantizeRow(t, &w.bytes[size_t(r) * w.rowBytes], &want[size_t(r * s.cols)], s.cols);
    auto dw = uploaded(w.bytes);
    DevBuf f32(want.size() * 4), f16(want.size() * 2);
    std::string err = finish(cu::dequantizeToF32(t, dw->get(), s.rows, s.cols, f32.as<float>(), nullptr), "to F32");
    if (err.empty())
        err = finish(cu::dequantizeToF16(t, dw->get(), s.rows, s.cols, f16.as<uint16_t>(), nullptr), "to F16");
    if (!err.empty()) return err;
    const std::vector<float> got = f32.download<float>(want.size());
    const std::vector<uint16_t> got16 = f16.download<uint16_t>(want.size());
    std::vector<float> half(want.size()), want16(want.size());
    for (size_t i = 0; i < want.size(); ++i) {
        *mismatches += std::memcmp(&got[i], &want[i], 4) != 0;
        half[i] = engine::fp16ToFloat(got16[i]);
        want16[i] = engine::fp16ToFloat(engine::floatToFp16(want[i]));
    }
    const double e =
        std::max(nmse(got.data(), want.data(), want.size()), nmse(half.data(), want16.data(), want.size()));
    if (!(e <= kNmseElementwise)) return "NMSE " + std::to_string(e);
    return f32.guardsIntact() && f16.guardsIntact() ? "" : "sentinel bytes overwritten";
}

std::string checkEmbedding(TensorType t, const Shape& s, uint32_t seed) {
    const Weights table = makeWeights(t, s.rows, s.cols, seed);
    std::mt19937 rng(seed);
    std::vector<int32_t> ids(size_t(s.n));
    for (auto& id : ids) id = int32_t(rng() % uint32_t(s.rows));
    ids.front() = int32_t(s.rows - 1);
    ids.back() = 0;
    std::vector<float> want(size_t(s.n * s.cols));
    for (int i = 0; i < s.n; ++i)
        kernels::dequantizeRow(t, &table.bytes[size_t(ids[size_t(i)]) * table.rowBytes], &want[size_t(i * s.cols)],
                               s.cols);
    auto dt = uploaded(table.bytes);
    auto di = uploaded(ids);
    DevBuf out(want.size() * 4);
    const std::string err = finish(
        cu::embedding(t, dt->get(), table.rowBytes, di->as<int32_t>(), s.n, int(s.cols), out.as<float>(), nullptr),
        "embedding");
    if (!err.empty()) return err;
    const double e = nmse(out.download<float>(want.size()).data(), want.data(), want.size());
    if (!(e <= kNmseElementwise)) return "NMSE " + std::to_string(e);
    return out.guardsIntact() ? "" : "sentinel bytes overwritten";
}

}  // namespace

void TestCudaMatmul::initTestCase() { m_ready = cudaUsable(&m_why); }

void TestCudaMatmul::quantizeActivationsMatchCpu() {
    GB_REQUIRE_CUDA();
    const int rows[] = {1, 2, 3, 7, 16};
    const int64_t cols[] = {32, 64, 96, 160, 256, 512, 768, 1024, 2048, 4096, 4128, 14336};
    uint32_t seed = 100;
    for (TensorType t : kTypes) {
        int shapes = 0;
        for (int64_t c : cols) {
            if (!fits(t, c) && engine::traitsOf(t).quantized) continue;
            for (int n : rows) {
                const std::string err = checkQuantize(t, n, c, ++seed);
                QVERIFY2(err.empty(), qPrintable(QString::fromStdString(describe(t, {n, c, n}) + ": " + err)));
                ++shapes;
            }
        }
        QVERIFY(shapes >= 20);
    }
}

void TestCudaMatmul::matVecMatchesCpu() {
    GB_REQUIRE_CUDA();
    uint32_t seed = 1000;
    for (TensorType t : kTypes) {
        double worst = 0;
        int shapes = 0;
        for (const Shape& s : kMatVecShapes) {
            if (!fits(t, s.cols)) continue;
            const std::string err = checkMatVec(t, s, ++seed, &worst);
            QVERIFY2(err.empty(), qPrintable(QString::fromStdString(describe(t, s) + ": " + err)));
            ++shapes;
        }
        QVERIFY(shapes >= 20);
        qInfo("matVec %s: %d shapes, worst NMSE %.3g", std::string(engine::tensorTypeName(t)).c_str(), shapes, worst);
    }
}

void TestCudaMatmul::prefillGemmMatchesCpu() {
    GB_REQUIRE_CUDA();
    std::string why;
    const std::unique_ptr<cu::Cublas> blas = cu::Cublas::create(nullptr, &why);
    QVERIFY2(blas, qPrintable(QString::fromStdString("cuBLAS: " + why)));
    uint32_t seed = 5000;
    for (TensorType t : kTypes) {
        double worst = 0;
        int shapes = 0;
        for (const Shape& s : kGemmShapes) {
            if (!fits(t, s.cols)) continue;
            const std::string err = checkGemm(*blas, t, s, ++seed, &worst);
            QVERIFY2(err.empty(), qPrintable(QString::fromStdString(describe(t, s) + ": " + err)));
            ++shapes;
        }
        QVERIFY(shapes >= 20);
        qInfo("prefill GEMM %s: %d shapes, worst NMSE %.3g", std::string(engine::tensorTypeName(t)).c_str(), shapes,
              worst);
    }
}

void TestCudaMatmul::dequantizeMatchesCpu() {
    GB_REQUIRE_CUDA();
    uint32_t seed = 9000;
    for (TensorType t : kTypes) {
        size_t mismatches = 0;
        int shapes = 0;
        for (const Shape& s : kDequantShapes) {
            if (!fits(t, s.cols)) continue;
            const std::string err = checkDequant(t, s, ++seed, &mismatches);
            QVERIFY2(err.empty(), qPrintable(QString::fromStdString(describe(t, s) + ": " + err)));
            ++shapes;
        }
        QVERIFY(shapes >= 20);
        if (mismatches)
            qWarning("dequantize %s: %zu values not bit-identical", std::string(engine::tensorTypeName(t)).c_str(),
                     mismatches);
    }
    // Float -> half conversion, including subnormal, huge and tie values.
    std::vector<float> x = normalData(4099, 77, 1000.0f);
    const float special[] = {0.0f, -0.0f, 1e-8f, -6e-5f, 65504.0f, 65520.0f, 1e6f, -1e6f, 2049.0f, 2051.0f};
    std::copy(std::begin(special), std::end(special), x.begin());
    auto dx = uploaded(x);
    DevBuf h(x.size() * 2);
    const std::string err =
        finish(cu::convertF32ToF16(dx->as<float>(), int64_t(x.size()), h.as<uint16_t>(), nullptr), "convert");
    QVERIFY2(err.empty(), err.c_str());
    const std::vector<uint16_t> got = h.download<uint16_t>(x.size());
    for (size_t i = 0; i < x.size(); ++i) QCOMPARE(got[i], engine::floatToFp16(x[i]));
    QVERIFY(h.guardsIntact());
}

void TestCudaMatmul::embeddingMatchesCpu() {
    GB_REQUIRE_CUDA();
    const int64_t tableRows[] = {1, 9, 300};
    const int64_t dims[] = {1, 7, 32, 96, 256, 768, 2048, 4096, 4128};
    const int ids[] = {1, 3, 64};
    uint32_t seed = 12000;
    for (TensorType t : kTypes) {
        int shapes = 0;
        for (int64_t d : dims) {
            if (!fits(t, d)) continue;
            for (int64_t rows : tableRows)
                for (int n : ids) {
                    const std::string err = checkEmbedding(t, {rows, d, n}, ++seed);
                    QVERIFY2(err.empty(), qPrintable(QString::fromStdString(describe(t, {rows, d, n}) + ": " + err)));
                    ++shapes;
                }
        }
        QVERIFY(shapes >= 20);
    }
}

#else  // no CUDA in this build: every test reports why it does not run

void TestCudaMatmul::initTestCase() {}
void TestCudaMatmul::quantizeActivationsMatchCpu() { GB_REQUIRE_CUDA(); }
void TestCudaMatmul::matVecMatchesCpu() { GB_REQUIRE_CUDA(); }
void TestCudaMatmul::prefillGemmMatchesCpu() { GB_REQUIRE_CUDA(); }
void TestCudaMatmul::dequantizeMatchesCpu() { GB_REQUIRE_CUDA(); }
void TestCudaMatmul::embeddingMatchesCpu() { GB_REQUIRE_CUDA(); }

#endif

QTEST_GUILESS_MAIN(TestCudaMatmul)
#include "tst_cuda_matmul.moc"
