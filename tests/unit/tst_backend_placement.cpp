// Backend placement on any machine, with or without a GPU and with or
// without CUDA compiled in: which backend each placement gives and the notes
// that say why, GLASSBOX_DEVICE, probeCuda on bad ordinals, the CPU
// backend's step profile, and the CPU layer backend that a split GPU/CPU
// placement uses for its last layers (against the whole-model CPU pass).
#include <QtTest>

#include <cmath>
#include <optional>

#include "engine/backend_factory.h"
#include "engine/capture.h"
#include "engine/cpu_backend.h"
#include "engine/cuda_faults.h"
#include "engine/model.h"
#include "engine/session.h"
#include "support/synthetic_model.h"
#include "support/test_paths.h"
#ifdef GLASSBOX_HAVE_CUDA
#include "engine/cuda/device_allocator.h"
#endif

using namespace glassbox;
using engine::Placement;

namespace {

// Sets or clears an environment variable for one scope.
class EnvGuard {
public:
    EnvGuard(const char* name, const char* value) : m_name(name) {
        if (qEnvironmentVariableIsSet(name)) m_old = qgetenv(name);
        if (value)
            qputenv(name, value);
        else
            qunsetenv(name);
    }
    ~EnvGuard() {
        if (m_old)
            qputenv(m_name, *m_old);
        else
            qunsetenv(m_name);
    }

private:
    const char* m_name;
    std::optional<QByteArray> m_old;
};

bool anyNoteContains(const std::vector<std::string>& notes, const std::string& text) {
    for (const auto& n : notes)
        if (n.find(text) != std::string::npos) return true;
    return false;
}

}  // namespace

class TestBackendPlacement : public QObject {
    Q_OBJECT
    std::shared_ptr<const engine::Model> m_model;
    engine::CudaStatus m_cuda;

    engine::BackendOptions options(Placement p) const {
        engine::BackendOptions o;
        o.contextSize = 64;
        o.threads = 2;
        o.microBatch = 8;
        o.placement = p;
        return o;
    }

    std::unique_ptr<engine::Session> session(const engine::BackendOptions& o) {
        auto s = engine::Session::create(m_model, o);
        if (!s) qFatal("%s", s.error().toString().c_str());
        return std::move(*s);
    }

    static std::vector<int32_t> tokens(int n) {
        std::vector<int32_t> t;
        for (int i = 0; i < n; ++i) t.push_back((i * 37 + 5) % 250);
        return t;
    }

private slots:
    void initTestCase() {
        testing::SyntheticModelSpec spec;
        spec.nLayers = 4;
        const std::string path = testing::makeTempDir("placement") + "/m.gguf";
        QVERIFY(testing::writeSyntheticModel(path, spec).ok());
        auto m = engine::Model::load(path);
        QVERIFY2(m.ok(), m ? "" : m.error().toString().c_str());
        m_model = *m;
        m_cuda = engine::probeCuda(0);
        qInfo("CUDA compiled: %d, usable: %d (%s)", m_cuda.compiled, m_cuda.usable, m_cuda.reason.c_str());
    }

    void probeNeverCrashes() {
        for (int device : {0, 1, -1, 99, 1 << 20}) {
            const engine::CudaStatus s = engine::probeCuda(device);
#ifdef GLASSBOX_HAVE_CUDA
            QVERIFY(s.compiled);
#else
            QVERIFY(!s.compiled);
#endif
            if (!s.usable) QVERIFY2(!s.reason.empty(), qPrintable(QString("device %1").arg(device)));
            if (s.usable) QVERIFY(s.totalBytes > 0 && !s.deviceName.empty());
        }
        QVERIFY(!engine::probeCuda(-1).usable);
        QVERIFY(!engine::probeCuda(1 << 20).usable);
    }

    // The counter behind fault injection: the n-th allocation from the call
    // on fails once; the switch for decode graphs.
    void faultInjectionCountsAndFiresOnce() {
        engine::setDeviceAllocationFault(3);
        QCOMPARE(engine::consumeDeviceAllocation(), 0);
        QCOMPARE(engine::consumeDeviceAllocation(), 0);
        QVERIFY(!engine::deviceAllocationFaultFired());
        QCOMPARE(engine::consumeDeviceAllocation(), 3);
        QVERIFY(engine::deviceAllocationFaultFired());
        QCOMPARE(engine::consumeDeviceAllocation(), 0);
        QCOMPARE(engine::deviceAllocationCount(), 4);
#ifdef GLASSBOX_HAVE_CUDA
        // An injected failure never reaches the driver: it is an
        // OutOfMemory error naming the category and the bytes.
        engine::cuda::DeviceAllocator alloc(0);
        engine::setDeviceAllocationFault(1);
        auto b = alloc.allocate(engine::cuda::MemoryKind::KvCache, 3u << 20, "K and V");
        QVERIFY(!b.ok());
        QCOMPARE(b.error().code, engine::ErrorCode::OutOfMemory);
        QCOMPARE(QString::fromStdString(b.error().field), QString("KV cache"));
        QVERIFY2(b.error().message.find("3.0 MiB") != std::string::npos, b.error().message.c_str());
        QVERIFY2(b.error().message.find("injected fault") != std::string::npos, b.error().message.c_str());
        engine::setDeviceAllocationFault(2);
        QVERIFY(alloc.admit(engine::cuda::MemoryKind::Scratch, 0, "cuBLAS handle").ok());
        QCOMPARE(alloc.admit(engine::cuda::MemoryKind::Scratch, 0, "CUDA graph").error().code,
                 engine::ErrorCode::OutOfMemory);
        QCOMPARE(alloc.deviceMemory().kvCache, uint64_t(0));
#endif
        engine::setDeviceAllocationFault(0);
        QCOMPARE(engine::consumeDeviceAllocation(), 0);
        QVERIFY(!engine::deviceAllocationFaultFired());
        const bool graphs = engine::cudaGraphsEnabled();
        engine::setCudaGraphsEnabled(!graphs);
        QCOMPARE(engine::cudaGraphsEnabled(), !graphs);
        engine::setCudaGraphsEnabled(graphs);
    }

    void cpuPlacementGivesCpu() {
        auto s = session(options(Placement::Cpu));
        QCOMPARE(s->placement(), Placement::Cpu);
        QVERIFY(s->placementNotes().empty());
        const engine::DeviceInfo d = s->backend().deviceInfo();
        QCOMPARE(QString::fromStdString(d.kind), QString("CPU"));
        QCOMPARE(d.totalLayers, m_model->config().nLayers);
        QCOMPARE(d.gpuLayers, 0);
        QVERIFY(s->evaluate(tokens(5)).ok());
    }

    void autoWithoutUsableGpuGivesCpu() {
        if (m_cuda.usable) QSKIP("a usable GPU is present; Auto takes it");
        EnvGuard env("GLASSBOX_DEVICE", nullptr);
        auto s = session(options(Placement::Auto));
        QCOMPARE(s->placement(), Placement::Cpu);
        if (m_cuda.compiled) {
            QVERIFY(!s->placementNotes().empty());
            QVERIFY2(anyNoteContains(s->placementNotes(), m_cuda.reason), s->placementNotes()[0].c_str());
        }
        QVERIFY(s->evaluate(tokens(5)).ok());
    }

    void gpuWithoutUsableGpuFallsBackWithReason() {
        if (m_cuda.usable) QSKIP("a usable GPU is present");
        auto s = session(options(Placement::Gpu));
        QCOMPARE(s->placement(), Placement::Cpu);
        QVERIFY(!s->placementNotes().empty());
        QVERIFY2(anyNoteContains(s->placementNotes(), m_cuda.reason), s->placementNotes()[0].c_str());
        QVERIFY(s->evaluate(tokens(5)).ok());
        auto direct = engine::createCudaBackend(m_model, options(Placement::Gpu));
        QVERIFY(!direct.ok());
        QCOMPARE(direct.error().code, engine::ErrorCode::Device);
        QVERIFY(!direct.error().message.empty());
    }

    void gpuLayersWithoutLayersIsCpu() {
        engine::BackendOptions o = options(Placement::GpuLayers);
        o.gpuLayers = 0;
        auto s = session(o);
        QCOMPARE(s->placement(), Placement::Cpu);
        QCOMPARE(s->backend().deviceInfo().gpuLayers, 0);
        QVERIFY(s->evaluate(tokens(5)).ok());
    }

    void deviceEnvironmentIsHonoured() {
        {
            EnvGuard env("GLASSBOX_DEVICE", "cpu");
            auto s = session(options(Placement::Auto));
            QCOMPARE(s->placement(), Placement::Cpu);
            QVERIFY(s->placementNotes().empty());  // no GPU was considered
        }
        if (!m_cuda.usable) {
            EnvGuard env("GLASSBOX_DEVICE", "gpu");
            auto s = session(options(Placement::Auto));
            QCOMPARE(s->placement(), Placement::Cpu);
            QVERIFY(!s->placementNotes().empty());
        }
        // The variable steers Auto only.
        EnvGuard env("GLASSBOX_DEVICE", "gpu");
        QCOMPARE(session(options(Placement::Cpu))->placement(), Placement::Cpu);
    }

    void cpuProfilingGivesOpsAndTotal() {
        auto s = session(options(Placement::Cpu));
        engine::Backend& b = s->backend();
        b.setProfiling(true);
        const auto prompt = tokens(20);
        QVERIFY(s->evaluate(prompt).ok());
        const engine::StepProfile p = b.lastStepProfile();
        QCOMPARE(p.tokens, 20);
        QVERIFY(!p.deviceTimed);
        QVERIFY(p.totalMs > 0.0);
        double sum = 0;
        for (const char* name : {"embedding", "rmsnorm", "qkv_proj", "rope", "kv_store", "attention", "out_proj",
                                 "residual", "gate_up_proj", "swiglu", "down_proj", "logits"}) {
            auto it = std::find_if(p.ops.begin(), p.ops.end(), [&](const engine::OpTiming& t) { return t.op == name; });
            QVERIFY2(it != p.ops.end(), name);
            QVERIFY(it->calls > 0 && it->ms >= 0.0);
        }
        for (const auto& t : p.ops) sum += t.ms;
        QVERIFY2(sum <= p.totalMs * 1.05 + 0.05, qPrintable(QString("%1 > %2").arg(sum).arg(p.totalMs)));
        const auto attention = std::find_if(p.ops.begin(), p.ops.end(),
                                            [](const engine::OpTiming& t) { return t.op == "attention"; });
        QCOMPARE(attention->calls, 3 * m_model->config().nLayers);  // 20 tokens in micro-batches of 8
        // A decode step is its own step; turning profiling off keeps the last.
        const int32_t next = 7;
        QVERIFY(s->evaluate(std::span<const int32_t>(&next, 1)).ok());
        QCOMPARE(b.lastStepProfile().tokens, 1);
        b.setProfiling(false);
        QVERIFY(s->evaluate(std::span<const int32_t>(&next, 1)).ok());
        QCOMPARE(b.lastStepProfile().tokens, 1);
    }

    // The CPU half of a split placement: layers [first, n) and the head
    // from the residual stream entering layer `first` reproduce the whole
    // pass bit for bit, records included.
    void cpuLayerBackendContinuesTheWholePass() {
        const auto& c = m_model->config();
        const int first = c.nLayers / 2;
        engine::BackendOptions o = options(Placement::Cpu);
        o.microBatch = 32;
        auto whole = engine::createCpuBackend(m_model, o);
        QVERIFY(whole.ok());
        engine::Capture full(*m_model, engine::CaptureOptions::all(), o.kvType);
        (*whole)->setCapture(&full);
        const auto prompt = tokens(12);
        const size_t v = size_t(c.nVocab), d = size_t(c.nEmbd);
        std::vector<float> expected(prompt.size() * v);
        QVERIFY((*whole)->forward(prompt, 0, engine::LogitsMode::All, expected, {}).ok());

        auto tail = engine::createCpuLayerBackend(m_model, o, first);
        QVERIFY2(tail.ok(), tail ? "" : tail.error().toString().c_str());
        QCOMPARE((*tail)->firstLayer(), first);
        std::vector<float> hidden(prompt.size() * d);
        for (size_t i = 0; i < prompt.size(); ++i) {
            const auto r = full.residual(first, int(i));
            std::copy(r.begin(), r.end(), hidden.begin() + ptrdiff_t(i * d));
        }
        engine::Capture part(*m_model, engine::CaptureOptions::all(), o.kvType);
        (*tail)->setCapture(&part);
        QVERIFY(part.beginPass(0, prompt));
        std::vector<float> got(prompt.size() * v);
        QVERIFY((*tail)->forwardFromHidden(hidden.data(), int(prompt.size()), 0, got.data(), true, true).ok());
        part.endPass();
        QVERIFY(got == expected);
        for (int pos = 0; pos < int(prompt.size()); ++pos) {
            const auto a = full.residual(c.nLayers, pos), b = part.residual(c.nLayers, pos);
            QVERIFY(std::equal(a.begin(), a.end(), b.begin()));
            QCOMPARE(part.rowSummary(first, pos, 0).entropy, full.rowSummary(first, pos, 0).entropy);
        }
        // A tail backend holds the cache of its own layers only, and refuses tokens.
        QCOMPARE((*tail)->memory().kvCache * uint64_t(c.nLayers),
                 (*whole)->memory().kvCache * uint64_t(c.nLayers - first));
        std::vector<float> scratch(v);
        QCOMPARE((*tail)->forward(prompt, 0, engine::LogitsMode::LastOnly, scratch, {}).error().code,
                 engine::ErrorCode::InvalidArgument);
        QVERIFY(!engine::createCpuLayerBackend(m_model, o, c.nLayers + 1).ok());
    }
};

QTEST_GUILESS_MAIN(TestBackendPlacement)
#include "tst_backend_placement.moc"
