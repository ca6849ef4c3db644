// The CPU kernels on real weights (SmolLM2-135M Q4_1: Q4_1 matrices, a Q8_0
// token embedding used as the output head, F32 norms): dequantization
// against per-element formulas, dot products and matmul at every SIMD level
// against the portable kernels and a float product. When
// GLASSBOX_QUANT_REF_DIR points at the output of scripts/validate_quants.py,
// also compares bit-exactly with the gguf package / ggml references there.
#include <QtTest>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <random>
#include <regex>
#include <string>
#include <vector>

#include "engine/gguf_file.h"
#include "engine/mapped_file.h"
#include "kernels/cpu/matmul.h"
#include "kernels/cpu/quant_kernels.h"
#include "support/test_paths.h"
#include "support/simd_levels.h"

using namespace glassbox;
using engine::TensorType;

using glassbox::testing::normalData;
using glassbox::testing::restoreWidestSimdLevel;
using glassbox::testing::simdLevels;

namespace {

// A .npy array: little-endian float32 or uint8, C order, 1 or 2 dimensions.
struct Npy {
    std::string descr;
    int64_t rows = 0, cols = 0;
    std::vector<uint8_t> data;
};

std::optional<Npy> readNpy(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    char magic[8];
    if (!in.read(magic, 8) || std::memcmp(magic, "\x93NUMPY", 6) != 0) return std::nullopt;
    uint32_t headerLen = 0;
    if (magic[6] == 1) {
        uint16_t h;
        in.read(reinterpret_cast<char*>(&h), 2);
        headerLen = h;
    } else {
        in.read(reinterpret_cast<char*>(&headerLen), 4);
    }
    std::string header(headerLen, '\0');
    in.read(header.data(), headerLen);
    std::smatch mDescr, mShape;
    if (!std::regex_search(header, mDescr, std::regex("'descr': *'([^']+)'")) ||
        !std::regex_search(header, mShape, std::regex("'shape': *\\(([0-9]+),? *([0-9]*)\\)")) ||
        header.find("'fortran_order': False") == std::string::npos)
        return std::nullopt;
    Npy n;
    n.descr = mDescr[1];
    n.rows = mShape[2].str().empty() ? 1 : std::stoll(mShape[1]);
    n.cols = mShape[2].str().empty() ? std::stoll(mShape[1]) : std::stoll(mShape[2]);
    const size_t item = n.descr == "<f4" ? 4 : (n.descr == "|u1" ? 1 : 0);
    if (item == 0) return std::nullopt;
    n.data.resize(size_t(n.rows * n.cols) * item);
    if (!in.read(reinterpret_cast<char*>(n.data.data()), std::streamsize(n.data.size()))) return std::nullopt;
    return n;
}

float half(const uint8_t* p) {
    uint16_t h;
    std::memcpy(&h, p, 2);
    return engine::fp16ToFloat(h);
}

// ggml's dequantization of element i, written out per element.
float elementOf(TensorType t, const uint8_t* row, int64_t i) {
    switch (t) {
    case TensorType::F32: {
        float f;
        std::memcpy(&f, row + 4 * i, 4);
        return f;
    }
    case TensorType::Q8_0: return float(int8_t(row[(i / 32) * 34 + 2 + i % 32])) * half(row + (i / 32) * 34);
    case TensorType::Q4_1: {
        const uint8_t* b = row + (i / 32) * 20;
        const int j = int(i % 32);
        const int q = j < 16 ? b[4 + j] & 15 : b[4 + j - 16] >> 4;
        return float(q) * half(b) + half(b + 2);
    }
    default: qFatal("unexpected type"); return 0;
    }
}

bool sameBits(float a, float b) { return std::memcmp(&a, &b, 4) == 0; }

}  // namespace

class TestKernelsRealWeights : public QObject {
    Q_OBJECT

    engine::MappedFile m_file;
    std::optional<engine::GgufFile> m_gguf;

    engine::TensorView tensor(const char* name) {
        const engine::GgufTensorInfo* info = m_gguf->findTensor(name);
        if (!info) qFatal("tensor %s missing", name);
        return m_gguf->view(*info);
    }

    // The first `rows` rows of a matrix as its own view.
    static engine::TensorView firstRows(engine::TensorView v, int64_t rows) {
        const uint64_t stride = v.rowStride();
        v.ne[1] = std::min(v.ne[1], rows);
        v.bytes = stride * uint64_t(v.ne[1]);
        return v;
    }

private slots:
    void initTestCase() {
        const std::string path = testing::defaultModelPath();
        if (!std::filesystem::exists(path)) QSKIP("SmolLM2-135M-Instruct.Q4_1.gguf not found (GLASSBOX_MODELS_DIR)");
        auto mapped = engine::MappedFile::open(path);
        QVERIFY(mapped.ok());
        m_file = std::move(mapped).value();
        auto parsed = engine::GgufFile::parse(m_file.bytes());
        QVERIFY(parsed.ok());
        m_gguf.emplace(std::move(parsed).value());
    }

    void cleanup() {
        kernels::forceScalarKernels(false);
        restoreWidestSimdLevel();
    }

    void expectedTensorTypes() {
        const engine::TensorView q = tensor("blk.0.attn_q.weight");
        QCOMPARE(q.type, TensorType::Q4_1);
        QCOMPARE(q.ne[0], int64_t(576));
        QCOMPARE(q.ne[1], int64_t(576));
        const engine::TensorView e = tensor("token_embd.weight");
        QCOMPARE(e.type, TensorType::Q8_0);
        QCOMPARE(e.ne[1], int64_t(49152));
        QCOMPARE(tensor("output_norm.weight").type, TensorType::F32);
    }

    void dequantizeMatchesFormula_data() {
        QTest::addColumn<QString>("name");
        for (const char* n : {"token_embd.weight", "blk.0.attn_q.weight", "blk.29.ffn_down.weight", "output_norm.weight"})
            QTest::newRow(n) << QString(n);
    }

    void dequantizeMatchesFormula() {
        QFETCH(QString, name);
        const engine::TensorView v = tensor(name.toUtf8().constData());
        const int64_t k = v.ne[0], rows = std::min<int64_t>(v.rows(), 300);
        std::vector<float> out(static_cast<size_t>(k));
        for (int64_t r = 0; r < rows; ++r) {
            const uint8_t* row = v.data + uint64_t(r) * v.rowStride();
            kernels::dequantizeRow(v.type, row, out.data(), k);
            for (int64_t i = 0; i < k; ++i)
                if (!sameBits(out[size_t(i)], elementOf(v.type, row, i)))
                    QFAIL(qPrintable(QString("row %1 element %2").arg(r).arg(i)));
        }
    }

    void matmulMatchesScalar_data() {
        QTest::addColumn<QString>("name");
        QTest::addColumn<int>("rows");
        QTest::addColumn<int>("m");
        for (const char* n : {"blk.0.attn_q.weight", "blk.3.attn_k.weight", "blk.7.ffn_gate.weight", "blk.29.ffn_down.weight"}) {
            QTest::newRow((std::string(n) + " m=1").c_str()) << QString(n) << 100000 << 1;
            QTest::newRow((std::string(n) + " m=9").c_str()) << QString(n) << 100000 << 9;
        }
        QTest::newRow("output head m=1") << QString("token_embd.weight") << 4099 << 1;
        QTest::newRow("output head m=6") << QString("token_embd.weight") << 1031 << 6;
    }

    void matmulMatchesScalar() {
        QFETCH(QString, name);
        QFETCH(int, rows);
        QFETCH(int, m);
        const engine::TensorView w = firstRows(tensor(name.toUtf8().constData()), rows);
        const int64_t k = w.ne[0], n = w.ne[1];
        std::mt19937 rng(42);
        std::normal_distribution<float> nd(0.0f, 1.0f);
        std::vector<float> x(size_t(m * k));
        for (auto& v : x) v = nd(rng);

        std::vector<float> wd(size_t(n * k));
        for (int64_t r = 0; r < n; ++r) kernels::dequantizeRow(w.type, w.data + uint64_t(r) * w.rowStride(), &wd[size_t(r * k)], k);

        kernels::ThreadPool pool(2);
        std::vector<uint8_t> scratch;
        std::vector<float> ref(size_t(m * n)), y(size_t(m * n));
        kernels::forceScalarKernels(true);
        kernels::matmul(w, x.data(), m, ref.data(), pool, scratch);
        kernels::forceScalarKernels(false);
        for (int64_t r = 0; r < m; ++r)
            for (int64_t i = 0; i < n; ++i) {
                double exact = 0, mag = 0;
                for (int64_t j = 0; j < k; ++j) {
                    const double p = double(wd[size_t(i * k + j)]) * double(x[size_t(r * k + j)]);
                    exact += p;
                    mag += std::fabs(p);
                }
                QVERIFY(std::fabs(ref[size_t(r * n + i)] - exact) <= 5e-3 * mag);
            }
        for (const std::string& level : simdLevels(false)) {
            QVERIFY(kernels::limitSimdLevel(level.c_str()));
            kernels::matmul(w, x.data(), m, y.data(), pool, scratch);
            for (int64_t r = 0; r < m; ++r)
                for (int64_t i = 0; i < n; ++i) {
                    double mag = 0;
                    for (int64_t j = 0; j < k; ++j) mag += std::fabs(double(wd[size_t(i * k + j)]) * double(x[size_t(r * k + j)]));
                    const float a = y[size_t(r * n + i)], b = ref[size_t(r * n + i)];
                    QVERIFY2(std::fabs(a - b) <= 2e-6 * mag + 1e-6,
                             qPrintable(QString("%1 row %2 out %3: %4 vs %5").arg(level.c_str()).arg(r).arg(i).arg(double(a)).arg(double(b))));
                }
        }
    }

    void vecDotMatchesScalar() {
        const engine::TensorView w = tensor("blk.11.ffn_up.weight");
        const int64_t k = w.ne[0];
        std::mt19937 rng(3);
        std::normal_distribution<float> nd(0.0f, 1.0f);
        std::vector<float> x(static_cast<size_t>(k));
        for (auto& v : x) v = nd(rng);
        std::vector<uint8_t> a(size_t(*engine::rowBytes(kernels::vecDotType(w.type), uint64_t(k))));
        QVERIFY(kernels::quantizeRow(kernels::vecDotType(w.type), x.data(), a.data(), k));
        std::vector<float> wd(static_cast<size_t>(k));
        for (int64_t r = 0; r < 64; ++r) {
            const uint8_t* row = w.data + uint64_t(r) * w.rowStride();
            kernels::dequantizeRow(w.type, row, wd.data(), k);
            double mag = 0;
            for (int64_t j = 0; j < k; ++j) mag += std::fabs(double(wd[size_t(j)]) * double(x[size_t(j)]));
            kernels::forceScalarKernels(true);
            const float ref = kernels::vecDot(w.type, row, a.data(), k);
            kernels::forceScalarKernels(false);
            for (const std::string& level : simdLevels(false)) {
                QVERIFY(kernels::limitSimdLevel(level.c_str()));
                QVERIFY(std::fabs(kernels::vecDot(w.type, row, a.data(), k) - ref) <= 1e-5 * mag);
            }
            restoreWidestSimdLevel();
        }
    }

    void matchesReferenceFiles() {
        const char* dir = std::getenv("GLASSBOX_QUANT_REF_DIR");
        if (!dir || !*dir) QSKIP("GLASSBOX_QUANT_REF_DIR not set (see scripts/validate_quants.py)");
        int checked = 0;
        for (const auto& entry : std::filesystem::directory_iterator(dir)) {
            const std::string file = entry.path().filename().string();
            std::smatch match;
            if (std::regex_match(file, match, std::regex("gen_(.+)_input\\.npy"))) {
                checkGenerated(dir, match[1]);
                ++checked;
            } else if (std::regex_match(file, match, std::regex("tensor_(.+)\\.npy"))) {
                checkTensor(entry.path().string(), match[1]);
                ++checked;
            }
        }
        QVERIFY2(checked > 0, "no reference files found");
        qInfo("%d reference sets matched bit-exactly", checked);
    }

private:
    void checkGenerated(const std::string& dir, const std::string& typeName) {
        const auto type = engine::tensorTypeFromName(typeName);
        QVERIFY(type.has_value());
        const auto input = readNpy(dir + "/gen_" + typeName + "_input.npy");
        const auto ref = readNpy(dir + "/gen_" + typeName + "_ref.npy");
        const auto deq = readNpy(dir + "/gen_" + typeName + "_dequant.npy");
        QVERIFY(input && ref && deq);
        const int64_t k = input->cols;
        const uint64_t rowBytes = *engine::rowBytes(*type, uint64_t(k));
        QCOMPARE(uint64_t(ref->cols), rowBytes);
        std::vector<uint8_t> q(rowBytes);
        std::vector<float> d(static_cast<size_t>(k));
        for (int64_t r = 0; r < input->rows; ++r) {
            QVERIFY(kernels::quantizeRow(*type, reinterpret_cast<const float*>(input->data.data()) + r * k, q.data(), k));
            const uint8_t* refRow = ref->data.data() + uint64_t(r) * rowBytes;
            for (uint64_t i = 0; i < rowBytes; ++i)
                if (q[i] != refRow[i]) QFAIL(qPrintable(QString("%1 row %2 byte %3").arg(typeName.c_str()).arg(r).arg(i)));
            kernels::dequantizeRow(*type, refRow, d.data(), k);
            QVERIFY2(std::memcmp(d.data(), deq->data.data() + uint64_t(r * k) * 4, size_t(k) * 4) == 0,
                     qPrintable(QString("%1 dequantization row %2").arg(typeName.c_str()).arg(r)));
        }
    }

    void checkTensor(const std::string& path, const std::string& name) {
        const auto ref = readNpy(path);
        QVERIFY(ref && ref->descr == "<f4");
        const engine::TensorView v = tensor(name.c_str());
        QCOMPARE(ref->cols, v.ne[0]);
        std::vector<float> d(static_cast<size_t>(v.ne[0]));
        for (int64_t r = 0; r < ref->rows; ++r) {
            kernels::dequantizeRow(v.type, v.data + uint64_t(r) * v.rowStride(), d.data(), v.ne[0]);
            QVERIFY2(std::memcmp(d.data(), ref->data.data() + uint64_t(r * v.ne[0]) * 4, size_t(v.ne[0]) * 4) == 0,
                     qPrintable(QString("%1 row %2").arg(name.c_str()).arg(r)));
        }
    }
};

QTEST_GUILESS_MAIN(TestKernelsRealWeights)
#include "tst_kernels_real_weights.moc"
