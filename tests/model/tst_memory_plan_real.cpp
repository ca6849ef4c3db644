// The memory planner on the real default model (SmolLM2-135M-Instruct):
// weights from the GGUF header against the loaded model, KV per token, and
// predicted KV + scratch + logits against the heap growth that creating N
// Sessions and running a first full micro-batch in each really causes
// (glibc mallinfo2), across contexts of 512 to 8,192 tokens and 1 to 8
// sessions.
#include <QtTest>

#include <cmath>
#include <filesystem>

#include "engine/memory_plan.h"
#include "engine/model.h"
#include "engine/session.h"
#include "support/test_paths.h"

#include "support/heap_usage.h"

using namespace glassbox;

namespace {

#ifdef GLASSBOX_HAVE_HEAP_USAGE
using testing::heapInUse;
#endif

}  // namespace

class TestMemoryPlanReal : public QObject {
    Q_OBJECT
    std::shared_ptr<const engine::Model> m_model;

private slots:
    void initTestCase() {
        auto m = engine::Model::load(testing::defaultModelPath());
        QVERIFY2(m.ok(), m ? "" : m.error().toString().c_str());
        m_model = *m;
    }

    void weightsMatchTheFile() {
        for (const char* name : {"SmolLM2-135M-Instruct.Q4_1.gguf", "SmolLM2-135M-Instruct.Q8_0.gguf",
                                 "SmolLM2-135M-Instruct.F16.gguf"}) {
            const std::string path = testing::modelsDir() + "/" + name;
            if (!std::filesystem::exists(path)) continue;  // only the Q4_1 model is required
            auto model = engine::Model::load(path);
            QVERIFY(model.ok());
            auto fp = engine::footprintFromGguf(path);
            QVERIFY2(fp.ok(), fp ? "" : fp.error().toString().c_str());
            QCOMPARE(fp->weightBytes, (*model)->weightBytes());
            QCOMPARE(fp->weightTensors, int((*model)->tensorTable().size()));
            const engine::ModelFootprint loaded = engine::footprintFromModel(**model);
            QCOMPARE(loaded.weightBytes, fp->weightBytes);
            QCOMPARE(int(loaded.layers.size()), fp->config.nLayers);
            QCOMPARE(loaded.outputType, fp->outputType);
            qInfo("%-34s weights %s (%s): planned %llu, file tensors %llu", name, fp->weights[0].type.c_str(),
                  engine::formatBytes(fp->weightBytes).c_str(), static_cast<unsigned long long>(fp->weightBytes),
                  static_cast<unsigned long long>((*model)->weightBytes()));
        }
    }

    void kvPerToken() {
        const engine::ModelConfig& c = m_model->config();
        QCOMPARE(*engine::kvBytesPerToken(c, engine::TensorType::F16), uint64_t(2 * 30 * 3 * 64 * 2));
        QCOMPARE(engine::kvFormula(c, engine::TensorType::F16, 8192),
                 std::string("2 × 30 layers × 3 KV heads × 64 dims × 8,192 tokens × 2 bytes = "
                             "188,743,680 bytes (188.7 MB)"));
    }

    void plannerMatchesSessionAllocations_data() {
        QTest::addColumn<int>("ctx");
        QTest::addColumn<int>("sequences");
        QTest::addColumn<int>("threads");
        QTest::addColumn<int>("microBatch");
        for (int ctx : {512, 2048, 8192})
            for (int n : {1, 4, 8})
                QTest::addRow("ctx %d x%d t2 ub64", ctx, n) << ctx << n << 2 << 64;
        QTest::addRow("ctx 4096 x2 t2 ub256") << 4096 << 2 << 2 << 256;
        QTest::addRow("ctx 1024 x3 t1 ub128") << 1024 << 3 << 1 << 128;
    }

    void plannerMatchesSessionAllocations() {
#ifndef GLASSBOX_HAVE_HEAP_USAGE
        QSKIP("needs glibc mallinfo2() (not available under AddressSanitizer)");
#else
        QFETCH(int, ctx);
        QFETCH(int, sequences);
        QFETCH(int, threads);
        QFETCH(int, microBatch);
        auto fp = engine::footprintFromGguf(testing::defaultModelPath());
        QVERIFY(fp.ok());
        engine::PlanOptions po;
        po.contextSize = ctx;
        po.sequences = sequences;
        po.threads = threads;
        po.microBatch = microBatch;
        auto plan = engine::planMemory(*fp, po);
        QVERIFY(plan.ok());
        std::vector<int32_t> tokens;
        for (int i = 0; i < std::min(microBatch, ctx); ++i) tokens.push_back((i * 7919 + 13) % 49000);
        engine::BackendOptions bo;
        bo.contextSize = ctx;
        bo.threads = threads;
        bo.microBatch = microBatch;
        std::vector<std::unique_ptr<engine::Session>> sessions;
        sessions.reserve(size_t(sequences));
        const uint64_t before = heapInUse();
        for (int n = 0; n < sequences; ++n) {
            auto s = engine::Session::create(m_model, bo);
            QVERIFY2(s.ok(), s ? "" : s.error().toString().c_str());
            QVERIFY((*s)->evaluate(tokens).ok());
            sessions.push_back(std::move(*s));
        }
        const double actual = double(heapInUse() - before);
        const double predicted = double(plan->totalBytes - plan->weightBytes);
        const double err = (predicted - actual) / actual;
        // The KV cache dominates here; the rest (scratch, logits) on its own too.
        const double kv = double(plan->kvBytesTotal);
        const double scratchErr = (predicted - actual) / (actual - kv);
        qInfo("ctx %5d x%d t%d ub%3d: KV %s + scratch %s per sequence; predicted %.0f actual %.0f (%+.3f%%, "
              "scratch alone %+.2f%%)",
              ctx, sequences, threads, microBatch, engine::formatBytes(plan->kvBytesPerSequence).c_str(),
              engine::formatBytes(plan->scratch.total()).c_str(), predicted, actual, 100.0 * err, 100.0 * scratchErr);
        QVERIFY2(std::fabs(err) < 0.05, "prediction more than 5% off");
        QVERIFY2(std::fabs(scratchErr) < 0.05, "scratch prediction more than 5% off");
        // The backend's own account agrees on the KV cache.
        QCOMPARE(sessions[0]->backend().memory().kvCache, plan->kvBytesPerSequence);
#endif
    }
};

QTEST_GUILESS_MAIN(TestMemoryPlanReal)
#include "tst_memory_plan_real.moc"
