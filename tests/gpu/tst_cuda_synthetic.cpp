// The CUDA backend against the CPU reference on small synthetic models,
// one per layout the engine supports: every weight type the kernels take
// (F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K, Q5_K, Q6_K), tied and
// separate output heads, GQA and MQA, Qwen2's QKV biases with NeoX RoPE,
// F16 and F32 KV caches, and a split GPU/CPU placement. Prefill runs in
// micro-batches of 32 (the cuBLAS path) with an 8-token tail (the
// matrix-vector path), then decode steps. Skipped, with the reason, without
// a usable GPU.
#include <QtTest>

#include "engine/backend_factory.h"
#include "engine/model.h"
#include "engine/session.h"
#include "support/logit_compare.h"
#include "support/synthetic_model.h"
#include "support/test_paths.h"

using namespace glassbox;
using engine::KvCacheType;
using engine::Placement;
using engine::TensorType;

Q_DECLARE_METATYPE(glassbox::testing::SyntheticModelSpec)

class TestCudaSynthetic : public QObject {
    Q_OBJECT
    std::string m_dir;
    int m_models = 0;

    static std::unique_ptr<engine::Session> session(const std::shared_ptr<const engine::Model>& m, Placement p,
                                                    KvCacheType kv, int gpuLayers = 0) {
        engine::BackendOptions o;
        o.contextSize = 128;
        o.microBatch = 32;
        o.threads = 4;
        o.kvType = kv;
        o.placement = p;
        o.gpuLayers = gpuLayers;
        auto s = engine::Session::create(m, o);
        if (!s) qFatal("%s", s.error().toString().c_str());
        return std::move(*s);
    }

private slots:
    void initTestCase() {
        const engine::CudaStatus cuda = engine::probeCuda(0);
        if (!cuda.usable)
            QSKIP(qPrintable("no usable CUDA device, so the GPU tests cannot run: " + QString::fromStdString(cuda.reason)));
        m_dir = testing::makeTempDir("cuda-synthetic");
    }

    void agreesWithTheCpu_data() {
        QTest::addColumn<testing::SyntheticModelSpec>("spec");
        QTest::addColumn<int>("kv");  // 0: F16, 1: F32
        QTest::addColumn<int>("gpuLayers");  // 0: all
        auto spec = [](const char* arch, TensorType w, TensorType emb, int nEmbd, int nFf, int kvHeads, bool tied) {
            testing::SyntheticModelSpec s;
            s.architecture = arch;
            s.weightType = w;
            s.embeddingType = emb;
            s.nEmbd = nEmbd;
            s.nFf = nFf;
            s.nHeadKv = kvHeads;
            s.tiedEmbeddings = tied;
            return s;
        };
        using T = TensorType;
        QTest::newRow("f32 gqa tied") << spec("llama", T::F32, T::F32, 64, 128, 2, true) << 0 << 0;
        QTest::newRow("f16 f32-cache untied") << spec("llama", T::F16, T::F16, 64, 128, 2, false) << 1 << 0;
        QTest::newRow("bf16") << spec("llama", T::BF16, T::F32, 64, 128, 2, false) << 0 << 0;
        QTest::newRow("q8_0 qwen2 biases neox") << spec("qwen2", T::Q8_0, T::Q8_0, 64, 128, 2, false) << 0 << 0;
        QTest::newRow("q4_0 mqa") << spec("llama", T::Q4_0, T::F32, 64, 128, 1, true) << 0 << 0;
        QTest::newRow("q4_1") << spec("llama", T::Q4_1, T::Q4_1, 64, 128, 2, false) << 0 << 0;
        QTest::newRow("q5_0 f32-cache") << spec("llama", T::Q5_0, T::F32, 64, 128, 4, false) << 1 << 0;
        QTest::newRow("q5_1 qwen2") << spec("qwen2", T::Q5_1, T::F32, 64, 128, 2, true) << 0 << 0;
        QTest::newRow("q4_k") << spec("llama", T::Q4_K, T::Q4_K, 256, 512, 2, false) << 0 << 0;
        QTest::newRow("q5_k") << spec("llama", T::Q5_K, T::F32, 256, 512, 2, false) << 0 << 0;
        QTest::newRow("q6_k qwen2") << spec("qwen2", T::Q6_K, T::Q6_K, 256, 512, 1, false) << 0 << 0;
        QTest::newRow("q8_0 split 1 of 2") << spec("llama", T::Q8_0, T::F32, 64, 128, 2, false) << 0 << 1;
        QTest::newRow("q4_k split, f32 cache") << spec("qwen2", T::Q4_K, T::F32, 256, 512, 2, true) << 1 << 1;
    }
    void agreesWithTheCpu() {
        QFETCH(testing::SyntheticModelSpec, spec);
        QFETCH(int, kv);
        QFETCH(int, gpuLayers);
        const std::string path = m_dir + "/m" + std::to_string(m_models++) + ".gguf";
        QVERIFY(testing::writeSyntheticModel(path, spec).ok());
        auto m = engine::Model::load(path);
        QVERIFY2(m.ok(), m ? "" : m.error().toString().c_str());
        const KvCacheType kvType = kv ? KvCacheType::F32 : KvCacheType::F16;
        auto cpu = session(*m, Placement::Cpu, kvType);
        auto gpu = gpuLayers ? session(*m, Placement::GpuLayers, kvType, gpuLayers) : session(*m, Placement::Gpu, kvType);
        QVERIFY2(gpu->placement() != Placement::Cpu,
                 gpu->placementNotes().empty() ? "" : gpu->placementNotes().back().c_str());
        std::vector<int32_t> prompt;
        for (int i = 0; i < 40; ++i) prompt.push_back((i * 37 + 11) % 256);
        auto ref = cpu->evaluateAll(prompt);
        auto got = gpu->evaluateAll(prompt);
        QVERIFY(ref.ok() && got.ok());
        const size_t v = size_t((*m)->config().nVocab);
        testing::LogitAgreement prefill, decode;
        for (size_t i = 0; i < prompt.size(); ++i)
            prefill.add(std::span<const float>(ref->data() + i * v, v), std::span<const float>(got->data() + i * v, v));
        for (int step = 0; step < 6; ++step) {
            const int32_t t = (step * 53 + 3) % 256;
            QVERIFY(cpu->evaluate(std::span<const int32_t>(&t, 1)).ok());
            QVERIFY(gpu->evaluate(std::span<const int32_t>(&t, 1)).ok());
            decode.add(cpu->lastLogits(), gpu->lastLogits());
        }
        qInfo("prefill %s", prefill.summary().c_str());
        qInfo("decode  %s", decode.summary().c_str());
        QVERIFY2(prefill.diffMax <= 1e-2, prefill.summary().c_str());
        QVERIFY2(decode.diffMax <= 5e-3, decode.summary().c_str());
        QVERIFY2(prefill.meanKl() <= 1e-4 && decode.meanKl() <= 1e-4, "distributions differ");
    }
};

QTEST_GUILESS_MAIN(TestCudaSynthetic)
#include "tst_cuda_synthetic.moc"
