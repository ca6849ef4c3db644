// Random-weight models of named shapes (engine/random_model.h,
// engine/model_shapes.h): the files load, run a forward pass on the CPU,
// carry the shape they were asked for, do not depend on the thread count,
// have the documented weight scale, fall back for rows that do not fit a
// type's blocks, and stop when cancelled. Also the per-token matrix
// footprint (engine/matmul_footprint.h) that gpu-bench divides by.
#include <QtTest>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "engine/matmul_footprint.h"
#include "engine/model.h"
#include "engine/model_shapes.h"
#include "engine/random_model.h"
#include "engine/session.h"
#include "kernels/cpu/quant_kernels.h"
#include "support/test_paths.h"

using namespace glassbox;
using engine::ModelConfig;
using engine::TensorType;

namespace {

std::vector<char> readBytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Llama-3-8B's proportions (GQA 4:1, head size 128, untied head, RoPE base
// 500000) in 2 layers of an eighth of its width and a small vocabulary.
ModelConfig smallLlama3() {
    auto shape = engine::modelShape("llama3-8b");
    if (!shape) qFatal("%s", shape.error().toString().c_str());
    shape->nLayers = 2;
    shape->nVocab = 512;
    auto narrow = engine::narrowShape(*shape, 8);
    if (!narrow) qFatal("%s", narrow.error().toString().c_str());
    return *narrow;
}

}  // namespace

class TestMakeModel : public QObject {
    Q_OBJECT

    std::string m_dir;

    std::shared_ptr<const engine::Model> write(const std::string& name, const ModelConfig& shape,
                                               const engine::RandomModelOptions& o) {
        const std::string path = m_dir + "/" + name;
        auto st = engine::writeRandomModel(path, shape, o);
        if (!st) qFatal("%s", st.error().toString().c_str());
        auto m = engine::Model::load(path);
        if (!m) qFatal("%s", m.error().toString().c_str());
        return *m;
    }

    // Logits of a short prompt on the CPU backend: finite and not constant.
    void checkForwardPass(const std::shared_ptr<const engine::Model>& m) {
        engine::BackendOptions o;
        o.placement = engine::Placement::Cpu;
        o.contextSize = 64;
        o.threads = 2;
        auto s = engine::Session::create(m, o);
        QVERIFY2(s.ok(), s.ok() ? "" : s.error().toString().c_str());
        const std::vector<int32_t> tokens = {1, 7, 42, 256, 3};
        QVERIFY((*s)->evaluate(tokens).ok());
        const auto logits = (*s)->lastLogits();
        QCOMPARE(int(logits.size()), m->config().nVocab);
        float lo = logits[0], hi = logits[0];
        for (float v : logits) {
            QVERIFY(std::isfinite(v));
            lo = std::min(lo, v);
            hi = std::max(hi, v);
        }
        QVERIFY(hi > lo);
    }

private slots:
    void initTestCase() { m_dir = testing::makeTempDir("glassbox-make-model"); }
    void cleanupTestCase() { std::filesystem::remove_all(m_dir); }

    void namedShapesHaveTheRealDimensions() {
        auto l3 = engine::modelShape("llama3-8b");
        QVERIFY(l3.ok());
        QCOMPARE(l3->nLayers, 32);
        QCOMPARE(l3->nEmbd, 4096);
        QCOMPARE(l3->nFf, 14336);
        QCOMPARE(l3->nHead, 32);
        QCOMPARE(l3->nHeadKv, 8);
        QCOMPARE(l3->headDim, 128);
        QCOMPARE(l3->nVocab, 128256);
        QCOMPARE(l3->ropeTheta, 500000.0f);
        QVERIFY(!l3->tiedEmbeddings);
        QCOMPARE(engine::shapeParameters(*l3) / 1000000, uint64_t(8030));  // 8.03 B
        QCOMPARE(engine::shapeParameters(*engine::modelShape("smollm2-135m")) / 1000000, uint64_t(134));
        for (std::string_view name : engine::modelShapeNames()) QVERIFY(engine::modelShape(name).ok());
        auto unknown = engine::modelShape("gpt-5");
        QVERIFY(!unknown.ok());
        QCOMPARE(int(unknown.error().code), int(engine::ErrorCode::NotFound));
        QVERIFY(!engine::narrowShape(*l3, 3).ok());
    }

    void tinyModelLoadsAndRuns_data() {
        QTest::addColumn<int>("type");
        for (TensorType t : {TensorType::Q4_0, TensorType::Q8_0, TensorType::F16, TensorType::Q4_K})
            QTest::newRow(std::string(engine::tensorTypeName(t)).c_str()) << int(t);
    }

    void tinyModelLoadsAndRuns() {
        QFETCH(int, type);
        auto shape = engine::modelShape("tiny");
        QVERIFY(shape.ok());
        engine::RandomModelOptions o;
        o.weightType = TensorType(type);
        o.threads = 2;
        auto m = write("tiny-" + std::to_string(type) + ".gguf", *shape, o);
        QCOMPARE(m->config().nLayers, shape->nLayers);
        QCOMPARE(m->config().nVocab, shape->nVocab);
        QCOMPARE(m->weightTypeSummary(), std::string(engine::tensorTypeName(TensorType(type))));
        QCOMPARE(m->fileBytes(), *engine::randomModelFileBytes(*shape, o));
        checkForwardPass(m);
    }

    void llama3ShapedModelLoadsAndRuns() {
        const ModelConfig shape = smallLlama3();
        engine::RandomModelOptions o;
        o.threads = 2;
        auto m = write("llama3-small.gguf", shape, o);
        const ModelConfig& c = m->config();
        QCOMPARE(c.nLayers, 2);
        QCOMPARE(c.nEmbd, 512);
        QCOMPARE(c.nHead, 4);
        QCOMPARE(c.nHeadKv, 1);
        QCOMPARE(c.headDim, 128);
        QCOMPARE(c.nFf, 1792);
        QCOMPARE(c.nVocab, 512);
        QCOMPARE(c.ropeTheta, 500000.0f);
        QVERIFY(!c.tiedEmbeddings);
        checkForwardPass(m);
    }

    void bytesDependOnSeedNotThreads() {
        const ModelConfig shape = *engine::modelShape("tiny");
        engine::RandomModelOptions o;
        o.weightType = TensorType::Q8_0;
        o.threads = 1;
        QVERIFY(engine::writeRandomModel(m_dir + "/t1.gguf", shape, o).ok());
        o.threads = 3;
        QVERIFY(engine::writeRandomModel(m_dir + "/t3.gguf", shape, o).ok());
        o.seed = 2;
        QVERIFY(engine::writeRandomModel(m_dir + "/s2.gguf", shape, o).ok());
        const auto a = readBytes(m_dir + "/t1.gguf");
        QVERIFY(!a.empty());
        QVERIFY(a == readBytes(m_dir + "/t3.gguf"));
        QVERIFY(a != readBytes(m_dir + "/s2.gguf"));
    }

    void weightsHaveTheAskedScale() {
        engine::RandomModelOptions o;
        o.weightType = TensorType::F32;
        o.weightStd = 0.02f;
        auto m = write("scale.gguf", *engine::modelShape("tiny"), o);
        const auto& w = m->layers()[0].wGate;
        const float* v = reinterpret_cast<const float*>(w.data);
        double sum = 0, sq = 0;
        for (int64_t i = 0; i < w.elements(); ++i) {
            sum += v[i];
            sq += double(v[i]) * v[i];
        }
        const double mean = sum / double(w.elements());
        const double sd = std::sqrt(sq / double(w.elements()) - mean * mean);
        QVERIFY2(std::abs(mean) < 1e-3, qPrintable(QString::number(mean)));
        QVERIFY2(std::abs(sd - 0.02) < 0.001, qPrintable(QString::number(sd)));
        const float* norm = reinterpret_cast<const float*>(m->layers()[0].attnNorm.data);
        for (int i = 0; i < m->config().nEmbd; ++i) QVERIFY(std::abs(norm[i] - 1.0f) < 0.1f);
    }

    void rowsThatDoNotFitTakeTheFallbackType() {
        ModelConfig shape = *engine::modelShape("smollm2-135m");  // rows of 576 and 1536
        shape.nLayers = 1;
        shape.nVocab = 300;
        engine::RandomModelOptions o;
        o.weightType = TensorType::Q4_K;
        auto m = write("fallback.gguf", shape, o);
        QCOMPARE(m->tokenEmbedding().type, TensorType::Q5_0);   // 576 is no multiple of 256
        QCOMPARE(m->layers()[0].wDown.type, TensorType::Q4_K);  // 1536 is
        QVERIFY(m->config().tiedEmbeddings);
    }

    void badRequestsAreErrors() {
        ModelConfig shape = *engine::modelShape("tiny");
        engine::RandomModelOptions o;
        shape.nVocab = 100;
        auto st = engine::writeRandomModel(m_dir + "/small-vocab.gguf", shape, o);
        QCOMPARE(int(st.error().code), int(engine::ErrorCode::InvalidArgument));
        shape.nVocab = 1024;
        o.weightType = TensorType::Q8_K;
        st = engine::writeRandomModel(m_dir + "/q8k.gguf", shape, o);
        QCOMPARE(int(st.error().code), int(engine::ErrorCode::InvalidArgument));
        QVERIFY(!std::filesystem::exists(m_dir + "/q8k.gguf"));
    }

    void cancellationLeavesNoFile() {
        std::stop_source stop;
        stop.request_stop();
        const std::string path = m_dir + "/cancelled.gguf";
        auto st = engine::writeRandomModel(path, *engine::modelShape("tiny"), {}, stop.get_token());
        QVERIFY(!st.ok());
        QCOMPARE(int(st.error().code), int(engine::ErrorCode::Cancelled));
        QVERIFY(!std::filesystem::exists(path));
        QVERIFY(!std::filesystem::exists(path + ".partial"));
    }

    void footprintCountsEveryMatrixOfAToken() {
        const ModelConfig shape = smallLlama3();
        engine::RandomModelOptions o;
        o.weightType = TensorType::Q4_0;
        auto m = write("footprint.gguf", shape, o);
        const engine::MatmulFootprint f = engine::matmulFootprint(*m);
        uint64_t bytes = 0;
        for (const auto& t : m->tensorTable())
            if (t.shape.size() == 2 && t.name != "token_embd.weight") bytes += t.bytes;
        QCOMPARE(f.decodeWeightBytes, bytes);
        QCOMPARE(f.headParams, uint64_t(512) * 512);
        const uint64_t perLayer = 512ull * 512 * 2 + 512ull * 128 * 2 + 512ull * 1792 * 3;
        QCOMPARE(f.layerParams, perLayer * 2);
        // q and output are both 512 × 512, k and v 128 × 512, gate and up 1792 × 512, down 512 × 1792.
        QCOMPARE(int(f.layerShapes.size()), 4);
        int matrices = 0;
        for (const auto& s : f.layerShapes) matrices += s.count;
        QCOMPARE(matrices, 14);
        QCOMPARE(f.prefillFlops(10), 2.0 * double(perLayer * 2) * 10 + 2.0 * 512 * 512);
    }
};

QTEST_GUILESS_MAIN(TestMakeModel)
#include "tst_make_model.moc"
