// EngineClient: job ids, stale-result filtering and the worker thread's life.
#include "ui/engine_client.h"

#include <algorithm>

#if defined(__linux__)
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

#include "ui/engine_worker.h"

namespace glassbox::ui {

EngineClient::EngineClient(QObject* parent) : QObject(parent) {
    qRegisterMetaType<ModelInfo>();
    qRegisterMetaType<StreamStats>();
    qRegisterMetaType<LaneOutcome>();
    qRegisterMetaType<TokenBatch>();
    qRegisterMetaType<engine::LogitLens>();
    qRegisterMetaType<OverlaySnapshot>();
    qRegisterMetaType<engine::CudaStatus>();
    auto* worker = new EngineWorker;
    worker->moveToThread(&m_thread);
    m_worker = worker;
    connect(&m_thread, &QThread::finished, worker, &QObject::deleteLater);
    connect(worker, &EngineWorker::loadProgress, this, &EngineClient::onLoadProgress, Qt::QueuedConnection);
    connect(worker, &EngineWorker::modelLoaded, this, &EngineClient::onModelLoaded, Qt::QueuedConnection);
    connect(worker, &EngineWorker::loadFailed, this, &EngineClient::onLoadFailed, Qt::QueuedConnection);
    connect(worker, &EngineWorker::tokensStreamed, this, &EngineClient::onTokens, Qt::QueuedConnection);
    connect(worker, &EngineWorker::laneFinished, this, &EngineClient::onLaneFinished, Qt::QueuedConnection);
    connect(worker, &EngineWorker::jobFinished, this, &EngineClient::onJobFinished, Qt::QueuedConnection);
    connect(worker, &EngineWorker::lensProgress, this,
            [this](quint64 job, float f) { if (job == m_lensJob) emit lensProgress(f); }, Qt::QueuedConnection);
    connect(worker, &EngineWorker::lensReady, this, [this](quint64 job, const engine::LogitLens& lens) {
        if (job != m_lensJob) return;
        m_lensJob = 0;
        emit lensReady(lens);
    }, Qt::QueuedConnection);
    connect(worker, &EngineWorker::lensFailed, this, [this](quint64 job, const QString& message, bool cancelled) {
        if (job != m_lensJob) return;
        m_lensJob = 0;
        emit lensFailed(message, cancelled);
    }, Qt::QueuedConnection);
    connect(worker, &EngineWorker::overlaySnapshot, this, [this](const OverlaySnapshot& snapshot) {
        if (m_overlayActive) emit overlaySnapshot(snapshot);
    }, Qt::QueuedConnection);
    connect(worker, &EngineWorker::devicesProbed, this, [this](const engine::CudaStatus& cuda) {
        m_cuda = cuda;
        emit devicesProbed(cuda);
    }, Qt::QueuedConnection);
    m_thread.setObjectName(QStringLiteral("glassbox-engine"));
    m_thread.start();
    QMetaObject::invokeMethod(worker, [] { lowerCurrentThreadPriority(); }, Qt::QueuedConnection);
    QMetaObject::invokeMethod(worker, [w = m_worker] { if (w) w->probeDevices(); }, Qt::QueuedConnection);
}

void EngineClient::setOverlayActive(bool on) {
    if (on == m_overlayActive) return;
    m_overlayActive = on;
    // Only an atomic store on the worker: nothing here waits for it.
    if (m_worker) m_worker->setOverlayWanted(on);
    requestOverlaySnapshot();
}

void EngineClient::requestOverlaySnapshot() {
    QMetaObject::invokeMethod(m_worker, [w = m_worker] { if (w) w->refreshOverlay(); }, Qt::QueuedConnection);
}

void EngineClient::lowerCurrentThreadPriority() {
    // The engine thread (and the compute threads it starts, which inherit
    // its nice value) yields to the UI thread when both want the CPU.
#if defined(__linux__)
    const pid_t tid = pid_t(syscall(SYS_gettid));
    const int current = getpriority(PRIO_PROCESS, id_t(tid));
    setpriority(PRIO_PROCESS, id_t(tid), std::min(19, current + 5));
#else
    QThread::currentThread()->setPriority(QThread::LowPriority);
#endif
}

EngineClient::~EngineClient() {
    m_loadStop.request_stop();
    m_genStop.request_stop();
    m_lensStop.request_stop();
    m_thread.quit();
    m_thread.wait();
}

int EngineClient::defaultThreads() { return std::max(1, QThread::idealThreadCount() - 1); }

quint64 EngineClient::loadModel(const QString& path, const engine::BackendOptions& options) {
    m_loadStop.request_stop();
    m_loadStop = std::stop_source();
    const quint64 job = m_nextJob++;
    m_loadJob = job;
    engine::BackendOptions opts = options;
    if (opts.threads <= 0) opts.threads = defaultThreads();
    emit loadStarted(path);
    QMetaObject::invokeMethod(
        m_worker, [w = m_worker, job, stop = m_loadStop.get_token(), path, opts] {
            if (w) w->loadModel(job, stop, path, opts);
        },
        Qt::QueuedConnection);
    return job;
}

quint64 EngineClient::generate(std::vector<GenerationLane> lanes) {
    // A newer generation makes the running one stale: stop it, drop its results.
    m_genStop.request_stop();
    m_genStop = std::stop_source();
    const quint64 job = m_nextJob++;
    m_genJob = job;
    QMetaObject::invokeMethod(
        m_worker, [w = m_worker, job, stop = m_genStop.get_token(), lanes = std::move(lanes)] {
            if (w) w->generate(job, stop, lanes);
        },
        Qt::QueuedConnection);
    return job;
}

quint64 EngineClient::computeLens(std::shared_ptr<const engine::Model> model,
                                  std::shared_ptr<const engine::Capture> capture, int firstPos, int nPos) {
    m_lensStop.request_stop();
    m_lensStop = std::stop_source();
    const quint64 job = m_nextJob++;
    m_lensJob = job;
    QMetaObject::invokeMethod(
        m_worker,
        [w = m_worker, job, stop = m_lensStop.get_token(), model = std::move(model), capture = std::move(capture),
         firstPos, nPos] {
            if (w) w->computeLens(job, stop, model, capture, firstPos, nPos);
        },
        Qt::QueuedConnection);
    return job;
}

void EngineClient::cancelLens() {
    if (!m_lensJob) return;
    m_lensStop.request_stop();
}

void EngineClient::cancelLoad() {
    // Immediately stale: the window keeps the model it had, whatever the
    // worker finishes. Generations name their model, so nothing mixes up.
    if (!m_loadJob) return;
    m_loadStop.request_stop();
    m_loadJob = 0;
    emit loadFailed(tr("Loading was cancelled."), true);
}

void EngineClient::cancelGeneration() {
    // The job stays current: what it generated so far and how it ended still
    // arrive (within one token).
    if (m_genJob) m_genStop.request_stop();
}

void EngineClient::onLoadProgress(quint64 job, float fraction, const QString& stage) {
    if (job == m_loadJob) emit loadProgress(fraction, stage);
}

void EngineClient::onModelLoaded(quint64 job, const ModelInfo& info) {
    if (job != m_loadJob) return;
    m_loadJob = 0;
    m_model = info;
    emit modelLoaded(info);
}

void EngineClient::onLoadFailed(quint64 job, const QString& message, bool cancelled) {
    if (job != m_loadJob) return;
    m_loadJob = 0;
    emit loadFailed(message, cancelled);
}

void EngineClient::onTokens(quint64 job, int lane, const TokenBatch& tokens, const StreamStats& stats) {
    if (job == m_genJob) emit tokensArrived(job, lane, tokens, stats);
}

void EngineClient::onLaneFinished(quint64 job, int lane, const LaneOutcome& outcome) {
    if (job == m_genJob) emit laneFinished(job, lane, outcome);
}

void EngineClient::onJobFinished(quint64 job) {
    if (job != m_genJob) return;
    m_genJob = 0;
    emit generationFinished(job);
}

}  // namespace glassbox::ui
