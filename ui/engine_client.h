// EngineClient: the UI thread's handle on the engine worker. It owns the
// worker thread, starts jobs by queued calls and forwards the worker's
// results as its own signals — only for the newest load and the newest
// generation; results of superseded jobs are dropped (each job has an id; a
// newer request makes older ones stale and cancels them). Cancelling is a
// std::stop_source request, which the worker sees within one token.
//
// The device overlay: setOverlayActive turns profiling and snapshots on in
// the worker (effective within a token, even mid-generation); snapshots
// arrive as overlaySnapshot, whichever job is running. At start the worker
// probes the CUDA device once (cudaStatus, devicesProbed).
#pragma once

#include <QObject>
#include <QPointer>
#include <QThread>
#include <optional>
#include <stop_token>

#include "engine/backend.h"
#include "ui/engine_messages.h"

namespace glassbox::ui {

class EngineWorker;

class EngineClient : public QObject {
    Q_OBJECT
public:
    explicit EngineClient(QObject* parent = nullptr);
    ~EngineClient() override;

    // Start loading a model; any load in progress is cancelled and its result
    // dropped. Returns the job id.
    quint64 loadModel(const QString& path, const engine::BackendOptions& options = {});
    // Start a generation of one or more lanes (run one after another); a
    // generation in progress is cancelled and its further results dropped.
    // Returns the job id.
    quint64 generate(std::vector<GenerationLane> lanes);
    // Stop the load now: loadFailed(cancelled) is emitted at once and the
    // current model stays.
    void cancelLoad();
    // Ask the running generation to stop; its tokens so far, laneFinished
    // (stop reason Cancelled) and generationFinished still follow.
    void cancelGeneration();

    // Start computing the logit lens for positions [firstPos, firstPos + nPos)
    // of a run's capture; a lens in progress is cancelled. Returns the job id.
    quint64 computeLens(std::shared_ptr<const engine::Model> model, std::shared_ptr<const engine::Capture> capture,
                        int firstPos, int nPos);
    void cancelLens();
    bool isComputingLens() const { return m_lensJob != 0; }

    // Profiling and overlay snapshots on or off; on sends one snapshot now.
    void setOverlayActive(bool on);
    bool isOverlayActive() const { return m_overlayActive; }
    // One snapshot now (when the overlay is active and the worker is free;
    // during a generation they arrive anyway).
    void requestOverlaySnapshot();
    // What the CUDA probe found; empty until devicesProbed.
    const std::optional<engine::CudaStatus>& cudaStatus() const { return m_cuda; }

    bool isLoading() const { return m_loadJob != 0; }
    bool isGenerating() const { return m_genJob != 0; }
    quint64 currentGeneration() const { return m_genJob; }
    // The loaded model, if any.
    const ModelInfo* model() const { return m_model ? &*m_model : nullptr; }
    // The default thread count: every core but one, so the window keeps a core.
    static int defaultThreads();
    // Lower the calling thread's scheduling priority (used on the engine thread).
    static void lowerCurrentThreadPriority();

signals:
    void loadStarted(const QString& path);
    void loadProgress(float fraction, const QString& stage);
    void modelLoaded(const glassbox::ui::ModelInfo& info);
    void loadFailed(const QString& message, bool cancelled);
    void tokensArrived(quint64 job, int lane, const glassbox::ui::TokenBatch& tokens,
                       const glassbox::ui::StreamStats& stats);
    void laneFinished(quint64 job, int lane, const glassbox::ui::LaneOutcome& outcome);
    void generationFinished(quint64 job);
    void lensProgress(float fraction);
    void lensReady(const glassbox::engine::LogitLens& lens);
    void lensFailed(const QString& message, bool cancelled);
    void overlaySnapshot(const glassbox::ui::OverlaySnapshot& snapshot);
    void devicesProbed(const glassbox::engine::CudaStatus& cuda);

private:
    void onLoadProgress(quint64 job, float fraction, const QString& stage);
    void onModelLoaded(quint64 job, const ModelInfo& info);
    void onLoadFailed(quint64 job, const QString& message, bool cancelled);
    void onTokens(quint64 job, int lane, const TokenBatch& tokens, const StreamStats& stats);
    void onLaneFinished(quint64 job, int lane, const LaneOutcome& outcome);
    void onJobFinished(quint64 job);

    QThread m_thread;
    QPointer<EngineWorker> m_worker;
    quint64 m_nextJob = 1;
    quint64 m_loadJob = 0;
    quint64 m_genJob = 0;
    quint64 m_lensJob = 0;
    std::stop_source m_lensStop;
    std::stop_source m_loadStop;
    std::stop_source m_genStop;
    std::optional<ModelInfo> m_model;
    std::optional<engine::CudaStatus> m_cuda;
    bool m_overlayActive = false;
};

}  // namespace glassbox::ui
