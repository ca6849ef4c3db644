// Device allocation failures, injected one at a time at every allocation
// the CUDA backend makes on the load and first-token path (weights, KV
// cache, cuBLAS handle, scratch, pinned staging, decode graph): each must
// end in a working session — a smaller context, a CPU fallback or plain
// kernel launches — whose logits match a CPU session's, with the reason in
// placementNotes() or deviceInfo().note; a failed load is an OutOfMemory
// error naming the category, and leaves no device memory behind. Skipped,
// with the reason, without a usable GPU.
#include <QtTest>

#include "engine/backend_factory.h"
#include "engine/cuda_faults.h"
#include "engine/model.h"
#include "engine/session.h"
#include "engine/tokenizer.h"
#include "support/logit_compare.h"
#include "support/test_paths.h"

using namespace glassbox;
using engine::Placement;

class TestCudaFaults : public QObject {
    Q_OBJECT
    std::shared_ptr<const engine::Model> m_model;
    std::vector<int32_t> m_prompt;
    int32_t m_next = 0;
    std::vector<float> m_promptLogits, m_nextLogits;  // the CPU's

    engine::BackendOptions options(Placement p) const {
        engine::BackendOptions o;
        o.contextSize = 1024;
        o.microBatch = 64;  // > 8: the cuBLAS path is part of the load
        o.placement = p;
        return o;
    }

private slots:
    void initTestCase() {
        const engine::CudaStatus cuda = engine::probeCuda(0);
        if (!cuda.usable)
            QSKIP(qPrintable("no usable CUDA device, so the GPU tests cannot run: " + QString::fromStdString(cuda.reason)));
        auto m = engine::Model::load(testing::defaultModelPath());
        QVERIFY2(m.ok(), m ? "" : m.error().toString().c_str());
        m_model = *m;
        m_prompt = m_model->tokenizer().encode(
            "Once upon a time, in a small village at the edge of a forest, there lived an old clockmaker who", true,
            false);
        auto cpu = engine::Session::create(m_model, options(Placement::Cpu));
        QVERIFY(cpu.ok());
        QVERIFY((*cpu)->evaluate(m_prompt).ok());
        m_promptLogits.assign((*cpu)->lastLogits().begin(), (*cpu)->lastLogits().end());
        m_next = testing::argmaxLogit(m_promptLogits);
        QVERIFY((*cpu)->evaluate(std::span<const int32_t>(&m_next, 1)).ok());
        m_nextLogits.assign((*cpu)->lastLogits().begin(), (*cpu)->lastLogits().end());
    }

    void cleanup() { engine::setDeviceAllocationFault(0); }

    void loadFailuresNameTheCategory() {
        const uint64_t freeBefore = engine::probeCuda(0).freeBytes;
        int failures = 0;
        for (int n = 1; n <= 16; ++n) {
            engine::setDeviceAllocationFault(n);
            auto b = engine::createCudaBackend(m_model, options(Placement::Gpu));
            if (b.ok()) {
                QVERIFY(!engine::deviceAllocationFaultFired());
                break;
            }
            ++failures;
            const engine::Error& e = b.error();
            QCOMPARE(e.code, engine::ErrorCode::OutOfMemory);
            QVERIFY2(e.message.find("injected fault") != std::string::npos, e.message.c_str());
            QVERIFY2(e.field == "weights" || e.field == "KV cache" || e.field == "scratch" ||
                         e.field == "pinned host staging",
                     e.field.c_str());
            QVERIFY2(e.message.find("bytes") != std::string::npos || e.message.find("iB") != std::string::npos,
                     e.message.c_str());
            qInfo("allocation %d: %s", n, e.message.c_str());
        }
        engine::setDeviceAllocationFault(0);
        QVERIFY(failures >= 4);  // weights, KV cache, scratch, pinned at least
        const uint64_t freeAfter = engine::probeCuda(0).freeBytes;
        qInfo("free device memory before %llu, after %llu", static_cast<unsigned long long>(freeBefore),
              static_cast<unsigned long long>(freeAfter));
        QVERIFY2(freeAfter + (uint64_t(64) << 20) >= freeBefore, "device memory leaked on a failed load");
    }

    void everyAllocationFailureStillGivesAWorkingSession() {
        bool completedWithoutFault = false;
        for (int n = 1; n <= 64 && !completedWithoutFault; ++n) {
            engine::setDeviceAllocationFault(n);
            auto s = engine::Session::create(m_model, options(Placement::Gpu));
            QVERIFY2(s.ok(), s ? "" : s.error().toString().c_str());
            engine::Session& session = **s;
            QVERIFY((session.evaluate(m_prompt)).ok());
            const std::vector<float> promptLogits(session.lastLogits().begin(), session.lastLogits().end());
            QVERIFY(session.evaluate(std::span<const int32_t>(&m_next, 1)).ok());
            const auto nextLogits = session.lastLogits();
            QVERIFY(testing::allFinite(promptLogits) && testing::allFinite(nextLogits));
            const double kl = std::max(testing::klDivergence(m_promptLogits, promptLogits),
                                       testing::klDivergence(m_nextLogits, nextLogits));
            QVERIFY2(kl <= 1e-3, qPrintable(QString("fault %1: KL %2").arg(n).arg(kl)));
            QCOMPARE(testing::argmaxLogit(nextLogits), testing::argmaxLogit(m_nextLogits));
            std::string why;
            for (const auto& note : session.placementNotes()) why += note + "\n";
            why += session.backend().deviceInfo().note;
            if (!engine::deviceAllocationFaultFired()) {
                completedWithoutFault = true;
                qInfo("allocation %d was never reached: %d allocations in a full run", n,
                      engine::deviceAllocationCount());
                QCOMPARE(session.placement(), Placement::Gpu);
                continue;
            }
            qInfo("fault at allocation %d -> %s, %s", n, engine::placementName(session.placement()), why.c_str());
            QVERIFY2(why.find_first_not_of("\n") != std::string::npos, "a fault was handled without saying why");
        }
        QVERIFY(completedWithoutFault);
    }
};

QTEST_GUILESS_MAIN(TestCudaFaults)
#include "tst_cuda_faults.moc"
