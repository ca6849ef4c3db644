// The CUDA backend on the default model (SmolLM2-135M-Instruct) against the
// CPU reference: teacher-forced next-token distributions over the fidelity
// text (mean KL ≤ 1e-4 over ≥ 2,000 positions, top-1 agreement), greedy
// 64-token continuations of the fidelity prompts, the split placement with
// half the layers on the GPU, probes recorded on the GPU against the CPU's,
// the logit lens head, decode replayed from a CUDA graph against plain
// launches, device-event profiling, cancellation and what the backend
// reports about its device. Skipped, with the reason, without a usable GPU.
#include <QtTest>

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <algorithm>
#include <cmath>

#include "engine/backend_factory.h"
#include "engine/capture.h"
#include "engine/cuda_faults.h"
#include "engine/model.h"
#include "engine/session.h"
#include "engine/tokenizer.h"
#include "support/logit_compare.h"
#include "support/test_paths.h"

using namespace glassbox;
using engine::Placement;
using testing::LogitAgreement;

namespace {

QByteArray readData(const char* name) {
    QFile f(QString::fromStdString(testing::testDataDir()) + "/" + name);
    if (!f.open(QIODevice::ReadOnly)) qFatal("cannot read %s", name);
    return f.readAll();
}

// Greedy continuation of `prompt` for `steps` tokens; `gaps` receives the
// distance between the two best logits at each step (how close a tie was).
std::vector<int32_t> greedy(engine::Session& s, const std::vector<int32_t>& prompt, int steps,
                            std::vector<float>* gaps = nullptr) {
    s.truncate(0);
    std::vector<int32_t> out;
    if (!s.evaluate(prompt).ok()) return out;
    for (int i = 0; i < steps; ++i) {
        const auto logits = s.lastLogits();
        const int32_t next = testing::argmaxLogit(logits);
        if (gaps) {
            std::vector<float> top(logits.begin(), logits.end());
            std::nth_element(top.begin(), top.begin() + 1, top.end(), std::greater<float>());
            gaps->push_back(top[0] - top[1]);
        }
        out.push_back(next);
        if (!s.evaluate(std::span<const int32_t>(&next, 1)).ok()) break;
    }
    return out;
}

// Largest differences between two captures of the same tokens.
struct ProbeDiffs {
    double prob = 0, entropy = 0, sink = 0, residual = 0, stats = 0;
};

ProbeDiffs compareProbes(const engine::Capture& a, const engine::Capture& b) {
    ProbeDiffs d;
    const auto& g = a.geometry();
    std::vector<float> ra, rb;
    for (int layer = 0; layer < g.nLayers; ++layer)
        for (int pos = 0; pos < a.positions(); ++pos)
            for (int head = 0; head < g.nHead; head += 2) {
                if (!a.attentionRow(layer, head, pos, true, ra).ok() || !b.attentionRow(layer, head, pos, true, rb).ok())
                    return ProbeDiffs{1e9, 1e9, 1e9, 1e9, 1e9};
                for (size_t j = 0; j < ra.size(); ++j) d.prob = std::max(d.prob, double(std::fabs(ra[j] - rb[j])));
                const auto &sa = a.rowSummary(layer, pos, head), &sb = b.rowSummary(layer, pos, head);
                d.entropy = std::max(d.entropy, double(std::fabs(sa.entropy - sb.entropy)));
                d.sink = std::max(d.sink, double(std::fabs(sa.sink - sb.sink)));
            }
    for (int point = 0; point <= g.nLayers; ++point)
        for (int pos = 0; pos < a.positions(); ++pos) {
            const auto x = a.residual(point, pos), y = b.residual(point, pos);
            double num = 0, den = 0;
            for (size_t i = 0; i < x.size(); ++i) {
                num += double(x[i] - y[i]) * double(x[i] - y[i]);
                den += double(x[i]) * double(x[i]);
            }
            d.residual = std::max(d.residual, std::sqrt(num / std::max(den, 1e-30)));
        }
    for (int layer = 0; layer < g.nLayers; ++layer)
        for (int site = 0; site < engine::kActivationSites; ++site)
            for (int pos = 0; pos < a.positions(); ++pos) {
                const auto &sa = a.stats(layer, engine::ActivationSite(site), pos),
                           &sb = b.stats(layer, engine::ActivationSite(site), pos);
                d.stats = std::max(d.stats, double(std::fabs(sa.l2 - sb.l2) / std::max(sa.l2, 1e-6f)));
            }
    return d;
}

}  // namespace

class TestCudaModel : public QObject {
    Q_OBJECT
    std::shared_ptr<const engine::Model> m_model;
    engine::CudaStatus m_cuda;

    std::unique_ptr<engine::Session> session(Placement p, int contextSize, int microBatch = 256, int gpuLayers = 0) {
        engine::BackendOptions o;
        o.contextSize = contextSize;
        o.microBatch = microBatch;
        o.placement = p;
        o.gpuLayers = gpuLayers;
        auto s = engine::Session::create(m_model, o);
        if (!s) qFatal("%s", s.error().toString().c_str());
        if (p != Placement::Cpu && (*s)->placement() == Placement::Cpu) {
            std::string why;
            for (const auto& n : (*s)->placementNotes()) why += n + "; ";
            qFatal("the GPU session fell back to the CPU: %s", why.c_str());
        }
        return std::move(*s);
    }

    std::vector<int32_t> textTokens() {
        const QByteArray text = readData("fidelity_text.txt");
        return m_model->tokenizer().encode(std::string_view(text.constData(), size_t(text.size())), true, false);
    }

    // Teacher-forced rows of both sessions over `chunks` chunks of `len` tokens.
    LogitAgreement teacherForced(engine::Session& cpu, engine::Session& gpu, const std::vector<int32_t>& tokens,
                                 int len, int chunks) {
        LogitAgreement a;
        const size_t v = size_t(m_model->config().nVocab);
        for (int c = 0; c < chunks; ++c) {
            const std::span<const int32_t> chunk(tokens.data() + size_t(c) * len, size_t(len));
            cpu.truncate(0);
            gpu.truncate(0);
            auto ref = cpu.evaluateAll(chunk);
            auto got = gpu.evaluateAll(chunk);
            if (!ref || !got) qFatal("evaluateAll failed");
            for (int i = 0; i < len; ++i)
                a.add(std::span<const float>(ref->data() + size_t(i) * v, v),
                      std::span<const float>(got->data() + size_t(i) * v, v));
        }
        return a;
    }

    // Greedy continuations of every fidelity prompt on both sessions; a
    // divergence is allowed only where the CPU's two best logits nearly tie.
    void compareContinuations(engine::Session& cpu, engine::Session& gpu, int minIdentical, int maxPrompts = 100) {
        const QJsonObject doc = QJsonDocument::fromJson(readData("fidelity_prompts.json")).object();
        const int steps = doc.value("n_predict").toInt(64);
        int identical = 0, total = 0;
        for (const QJsonValue& p : doc.value("prompts").toArray()) {
            if (total == maxPrompts) break;
            const std::string text = p.toObject().value("text").toString().toStdString();
            const auto prompt = m_model->tokenizer().encode(text, true, false);
            std::vector<float> gaps;
            const auto a = greedy(cpu, prompt, steps, &gaps);
            const auto b = greedy(gpu, prompt, steps);
            QCOMPARE(int(a.size()), steps);
            ++total;
            const auto mismatch = std::mismatch(a.begin(), a.end(), b.begin(), b.end());
            if (mismatch.first == a.end()) {
                ++identical;
                continue;
            }
            const size_t at = size_t(mismatch.first - a.begin());
            qInfo("prompt '%s' diverges at step %zu (CPU top-2 gap %.4g)", qPrintable(p.toObject().value("id").toString()),
                  at, double(gaps[at]));
            QVERIFY2(gaps[at] < 0.02f, "a greedy continuation diverged where the CPU had a clear winner");
        }
        qInfo("%d of %d greedy continuations identical", identical, total);
        QVERIFY(identical >= minIdentical);
    }

private slots:
    void initTestCase() {
        m_cuda = engine::probeCuda(0);
        if (!m_cuda.usable)
            QSKIP(qPrintable("no usable CUDA device, so the GPU tests cannot run: " + QString::fromStdString(m_cuda.reason)));
        qInfo("%s, compute %d.%d, driver %d, runtime %d", m_cuda.deviceName.c_str(), m_cuda.computeMajor,
              m_cuda.computeMinor, m_cuda.driverVersion, m_cuda.runtimeVersion);
        auto m = engine::Model::load(testing::defaultModelPath());
        QVERIFY2(m.ok(), m ? "" : m.error().toString().c_str());
        m_model = *m;
        engine::setCudaGraphsEnabled(true);
    }

    void deviceInfoAndMemory() {
        const auto& c = m_model->config();
        auto s = session(Placement::Gpu, 1024);
        QCOMPARE(s->placement(), Placement::Gpu);
        const engine::DeviceInfo d = s->backend().deviceInfo();
        QCOMPARE(QString::fromStdString(d.kind), QString("CUDA"));
        QCOMPARE(d.name, m_cuda.deviceName);
        QVERIFY(d.totalBytes > 0 && d.freeBytes <= d.totalBytes);
        QCOMPARE(d.gpuLayers, c.nLayers);
        QCOMPARE(d.totalLayers, c.nLayers);
        const uint64_t kv = 2ull * uint64_t(c.nLayers) * 1024u * uint64_t(c.kvDim()) * 2u;
        QCOMPARE(d.deviceMemory.kvCache, kv);
        QCOMPARE(s->backend().memory().kvCache, kv);
        QVERIFY(d.deviceMemory.weights >= m_model->weightBytes() * 9 / 10);
        QVERIFY(d.deviceMemory.scratch > 0);
        QVERIFY2(d.note.empty(), d.note.c_str());
    }

    void teacherForcedDistributionsMatchTheCpu() {
        const auto tokens = textTokens();
        int len = 1024, chunks = int(tokens.size()) / len;
        if (chunks * len < 2000) {
            chunks = 2;
            len = int(tokens.size()) / 2;
        }
        auto cpu = session(Placement::Cpu, len);
        auto gpu = session(Placement::Gpu, len);
        const LogitAgreement a = teacherForced(*cpu, *gpu, tokens, len, chunks);
        qInfo("GPU vs CPU, %zu text tokens in %d chunks of %d: %s", tokens.size(), chunks, len, a.summary().c_str());
        QVERIFY(a.rows >= 2000);
        QVERIFY2(a.meanKl() <= 1e-4, a.summary().c_str());
        QVERIFY2(a.top1Rate() >= 0.99, a.summary().c_str());
    }

    void greedyContinuationsMatchTheCpu() {
        auto cpu = session(Placement::Cpu, 512);
        auto gpu = session(Placement::Gpu, 512);
        compareContinuations(*cpu, *gpu, 5);
    }

    void halfTheLayersOnTheGpu() {
        const int half = m_model->config().nLayers / 2;
        auto gpu = session(Placement::GpuLayers, 512, 256, half);
        QCOMPARE(gpu->placement(), Placement::GpuLayers);
        const engine::DeviceInfo d = gpu->backend().deviceInfo();
        QCOMPARE(d.gpuLayers, half);
        const uint64_t kvPerLayer = 2ull * 512u * uint64_t(m_model->config().kvDim()) * 2u;
        QCOMPARE(d.deviceMemory.kvCache, kvPerLayer * uint64_t(half));
        QCOMPARE(gpu->backend().memory().kvCache, kvPerLayer * uint64_t(m_model->config().nLayers));
        auto cpu = session(Placement::Cpu, 512);
        const LogitAgreement a = teacherForced(*cpu, *gpu, textTokens(), 512, 1);
        qInfo("GPU layers 0-%d + CPU: %s", half - 1, a.summary().c_str());
        QVERIFY2(a.meanKl() <= 1e-4, a.summary().c_str());
        QVERIFY2(a.top1Rate() >= 0.99, a.summary().c_str());
        compareContinuations(*cpu, *gpu, 2, 3);
    }

    void probesMatchTheCpu_data() {
        QTest::addColumn<int>("gpuLayers");
        QTest::newRow("all layers") << 0;
        QTest::newRow("half the layers") << m_model->config().nLayers / 2;
    }
    void probesMatchTheCpu() {
        QFETCH(int, gpuLayers);
        const auto prompt = m_model->tokenizer().encode(
            "<|im_start|>user\nWhat is the capital of France, and why is it famous?<|im_end|>\n<|im_start|>assistant\n",
            true, true);
        auto record = [&](engine::Session& s) {
            auto cap = std::make_shared<engine::Capture>(*m_model, engine::CaptureOptions::all(), engine::KvCacheType::F16);
            s.attachCapture(cap);
            if (!s.evaluate(prompt).ok()) qFatal("prompt failed");
            for (int32_t t : {42, 1000, 7})
                if (!s.evaluate(std::span<const int32_t>(&t, 1)).ok()) qFatal("decode failed");
            return cap;
        };
        auto cpu = session(Placement::Cpu, 512, 16);
        auto gpu = gpuLayers ? session(Placement::GpuLayers, 512, 16, gpuLayers) : session(Placement::Gpu, 512, 16);
        const auto a = record(*cpu), b = record(*gpu);
        QCOMPARE(b->positions(), a->positions());
        QVERIFY2(b->limitMessage().empty(), b->limitMessage().c_str());
        QCOMPARE(b->passes().size(), a->passes().size());
        for (size_t p = 0; p < a->passes().size(); ++p) {
            const auto &pa = a->passes()[p].ops, &pb = b->passes()[p].ops;
            QCOMPARE(pb.size(), pa.size());
            for (size_t i = 0; i < pa.size(); ++i) {
                QCOMPARE(pb[i].op, pa[i].op);
                QCOMPARE(pb[i].layer, pa[i].layer);
                QCOMPARE(pb[i].weight, pa[i].weight);
                QCOMPARE(pb[i].output.text(), pa[i].output.text());
            }
        }
        const ProbeDiffs d = compareProbes(*a, *b);
        qInfo("probes GPU vs CPU: max |Δp| %.3g, entropy %.3g, sink %.3g, residual rel %.3g, activation l2 rel %.3g",
              d.prob, d.entropy, d.sink, d.residual, d.stats);
        // Bounds well above the two passes' rounding differences and far
        // below what a wrong row, head, position or layer would give.
        QVERIFY(d.prob <= 2e-2);
        QVERIFY(d.entropy <= 5e-2);
        QVERIFY(d.sink <= 2e-2);
        QVERIFY(d.residual <= 2e-2);
        QVERIFY(d.stats <= 2e-2);
    }

    void logitLensHeadMatchesTheCpu() {
        auto cpu = session(Placement::Cpu, 512, 64);
        auto gpu = session(Placement::Gpu, 512, 64);
        auto cap = std::make_shared<engine::Capture>(*m_model, engine::CaptureOptions{false, true, false, false},
                                                     engine::KvCacheType::F16);
        cpu->attachCapture(cap);
        const auto tokens = m_model->tokenizer().encode("The quick brown fox jumps over the lazy dog.", true, false);
        QVERIFY(cpu->evaluate(tokens).ok());
        const auto& c = m_model->config();
        const int rows = int(tokens.size());
        LogitAgreement a;
        for (int point : {c.nLayers / 2, c.nLayers}) {
            std::vector<float> hidden;
            for (int pos = 0; pos < rows; ++pos) {
                const auto r = cap->residual(point, pos);
                hidden.insert(hidden.end(), r.begin(), r.end());
            }
            std::vector<float> ref(size_t(rows) * c.nVocab), got(ref.size());
            QVERIFY(cpu->backend().logitsFromHidden(hidden, rows, ref, {}).ok());
            QVERIFY(gpu->backend().logitsFromHidden(hidden, rows, got, {}).ok());
            for (int i = 0; i < rows; ++i)
                a.add(std::span<const float>(&ref[size_t(i) * c.nVocab], size_t(c.nVocab)),
                      std::span<const float>(&got[size_t(i) * c.nVocab], size_t(c.nVocab)));
        }
        qInfo("logit lens head GPU vs CPU: %s", a.summary().c_str());
        QVERIFY2(a.meanKl() <= 1e-5, a.summary().c_str());
        QVERIFY2(a.top1Same == a.rows, a.summary().c_str());
    }

    void graphDecodeEqualsPlainDecode() {
        auto withGraph = session(Placement::Gpu, 512);
        auto plain = session(Placement::Gpu, 512);
        const auto prompt = m_model->tokenizer().encode("Photosynthesis is the process by which plants", true, false);
        QVERIFY(withGraph->evaluate(prompt).ok());
        QVERIFY(plain->evaluate(prompt).ok());
        const uint64_t launches0 = engine::cudaGraphLaunchCount();
        double worst = 0;
        int32_t next = testing::argmaxLogit(withGraph->lastLogits());
        for (int step = 0; step < 32; ++step) {
            engine::setCudaGraphsEnabled(true);
            QVERIFY(withGraph->evaluate(std::span<const int32_t>(&next, 1)).ok());
            engine::setCudaGraphsEnabled(false);
            QVERIFY(plain->evaluate(std::span<const int32_t>(&next, 1)).ok());
            worst = std::max(worst, testing::relativeMaxDiff(plain->lastLogits(), withGraph->lastLogits()));
            QCOMPARE(testing::argmaxLogit(withGraph->lastLogits()), testing::argmaxLogit(plain->lastLogits()));
            next = testing::argmaxLogit(plain->lastLogits());
        }
        engine::setCudaGraphsEnabled(true);
        const std::string note = withGraph->backend().deviceInfo().note;
        QVERIFY2(note.empty(), note.c_str());
        QCOMPARE(engine::cudaGraphLaunchCount() - launches0, uint64_t(32));
        qInfo("graph vs plain decode: max relative logit difference %.3g over 32 steps", worst);
        QCOMPARE(worst, 0.0);  // the same deterministic kernels, only launched differently
    }

    void profilingUsesDeviceEvents() {
        auto s = session(Placement::Gpu, 512, 64);
        engine::Backend& b = s->backend();
        b.setProfiling(true);
        const auto prompt = textTokens();
        QVERIFY(s->evaluate(std::span<const int32_t>(prompt.data(), 200)).ok());
        const engine::StepProfile p = b.lastStepProfile();
        QCOMPARE(p.tokens, 200);
        QVERIFY(p.deviceTimed);
        QVERIFY(p.totalMs > 0.0);
        double sum = 0;
        for (const auto& t : p.ops) sum += t.ms;
        for (const char* name : {"embedding", "rmsnorm", "qkv_proj", "rope", "kv_store", "attention", "out_proj",
                                 "residual", "gate_up_proj", "swiglu", "down_proj", "logits"})
            QVERIFY2(std::any_of(p.ops.begin(), p.ops.end(), [&](const engine::OpTiming& t) { return t.op == name; }),
                     name);
        QVERIFY2(sum <= p.totalMs * 1.1, qPrintable(QString("%1 > %2").arg(sum).arg(p.totalMs)));
        const uint64_t launches0 = engine::cudaGraphLaunchCount();
        const int32_t next = 42;
        QVERIFY(s->evaluate(std::span<const int32_t>(&next, 1)).ok());
        QCOMPARE(b.lastStepProfile().tokens, 1);
        QVERIFY(b.lastStepProfile().deviceTimed);
        QCOMPARE(engine::cudaGraphLaunchCount(), launches0);  // profiled steps are launched one by one
    }

    void cancellationAndErrors() {
        auto s = session(Placement::Gpu, 256, 32);
        const auto tokens = textTokens();
        std::stop_source stop;
        stop.request_stop();
        const auto r = s->evaluate(std::span<const int32_t>(tokens.data(), 100), stop.get_token());
        QVERIFY(!r.ok());
        QCOMPARE(r.error().code, engine::ErrorCode::Cancelled);
        QCOMPARE(s->position(), 0);
        QCOMPARE(s->evaluate(std::span<const int32_t>(tokens.data(), 300)).error().code, engine::ErrorCode::ContextFull);
        const int32_t bad = m_model->config().nVocab;
        QCOMPARE(s->evaluate(std::span<const int32_t>(&bad, 1)).error().code, engine::ErrorCode::InvalidArgument);
        QVERIFY(s->evaluate(std::span<const int32_t>(tokens.data(), 100)).ok());
        QVERIFY(testing::allFinite(s->lastLogits()));
    }
};

QTEST_GUILESS_MAIN(TestCudaModel)
#include "tst_cuda_model.moc"
