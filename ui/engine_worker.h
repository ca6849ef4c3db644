// EngineWorker: owns the model and its sessions and runs every engine call
// (load, prefill, generation) on its own thread. It is a QObject moved to a
// QThread and reached only through queued calls; everything it reports goes
// back by queued signals tagged with the job id it was started with, so the
// UI can drop results of jobs it no longer wants. Cancellation comes in as a
// std::stop_token checked by the engine during load, between prefill
// micro-batches and after every generated token.
//
// Tokens are coalesced: a batch is emitted at most every 17 ms (≤ 60
// updates per second) however fast the model runs.
//
// While the device overlay is wanted (setOverlayWanted, callable from any
// thread) the backends profile every forward pass and the worker sends an
// OverlaySnapshot after generation steps, at most every kOverlayInterval,
// at the end of each lane and on request (refreshOverlay).
#pragma once

#include <QObject>
#include <atomic>
#include <chrono>
#include <memory>
#include <stop_token>

#include "engine/backend.h"
#include "engine/device_monitor.h"
#include "engine/session.h"
#include "ui/engine_messages.h"

namespace glassbox::ui {

class EngineWorker : public QObject {
    Q_OBJECT
public:
    // Minimum interval between two token batches.
    static constexpr std::chrono::milliseconds kBatchInterval{17};
    // Recording stops (and says so) past this many bytes per run.
    static constexpr uint64_t kCaptureBudgetBytes = uint64_t(1) << 30;
    static constexpr int kLensTopK = 5;
    // Minimum interval between two overlay snapshots during a generation.
    static constexpr std::chrono::milliseconds kOverlayInterval{100};

    explicit EngineWorker(QObject* parent = nullptr);
    ~EngineWorker() override;

    // Worker-thread entry points, called through queued invokeMethod.
    void loadModel(quint64 job, std::stop_token stop, const QString& path,
                   const engine::BackendOptions& options);
    void generate(quint64 job, std::stop_token stop, const std::vector<GenerationLane>& lanes);
    // The logit lens over positions [firstPos, firstPos + nPos) of a capture
    // recorded by `model` (run through one of that model's sessions).
    void computeLens(quint64 job, std::stop_token stop, std::shared_ptr<const engine::Model> model,
                     std::shared_ptr<const engine::Capture> capture, int firstPos, int nPos);
    // Any thread: turn profiling and overlay snapshots on or off. Takes
    // effect before the next forward pass (within a token while generating).
    void setOverlayWanted(bool on) { m_overlayWanted.store(on, std::memory_order_relaxed); }
    // Worker thread: apply the wanted state and, when on, send a snapshot now.
    void refreshOverlay();
    // Worker thread: ask the CUDA runtime what it has (devicesProbed follows).
    void probeDevices();

signals:
    void loadProgress(quint64 job, float fraction, const QString& stage);
    void modelLoaded(quint64 job, const glassbox::ui::ModelInfo& info);
    void loadFailed(quint64 job, const QString& message, bool cancelled);
    void tokensStreamed(quint64 job, int lane, const glassbox::ui::TokenBatch& tokens,
                        const glassbox::ui::StreamStats& stats);
    void laneFinished(quint64 job, int lane, const glassbox::ui::LaneOutcome& outcome);
    void jobFinished(quint64 job);
    void lensProgress(quint64 job, float fraction);
    void lensReady(quint64 job, const glassbox::engine::LogitLens& lens);
    void lensFailed(quint64 job, const QString& message, bool cancelled);
    void overlaySnapshot(const glassbox::ui::OverlaySnapshot& snapshot);
    void devicesProbed(const glassbox::engine::CudaStatus& cuda);

private:
    struct Loaded {
        std::shared_ptr<const engine::Model> model;
        std::unique_ptr<engine::Session> session;
        ModelInfo info;
    };

    // At most this many models (with their sessions) stay open: the current
    // one, a comparison model and the one being replaced.
    static constexpr size_t kMaxLoaded = 3;

    // Loads path into `out`; on failure returns the message (out untouched).
    QString loadInto(Loaded& out, quint64 job, std::stop_token stop, const QString& path,
                     const engine::BackendOptions& options, bool reportProgress, bool* cancelled);
    void keep(Loaded loaded);
    Loaded* laneTarget(quint64 job, std::stop_token stop, const GenerationLane& lane, QString* error);
    void prepareCapture(engine::Session& session, bool wanted) const;
    static engine::GenerationRequest requestFor(const GenerationLane& lane, const Loaded& target);
    LaneOutcome runLane(quint64 job, int lane, std::stop_token stop, Loaded& target,
                        const engine::GenerationRequest& request);
    // Overlay (engine_worker_overlay.cpp).
    void applyProfiling();
    // Sends a snapshot of `target` (the most recently used model when null)
    // if the overlay is wanted and, unless `force`, kOverlayInterval passed.
    void sendOverlay(const Loaded* target, const StreamStats* live, bool force);

    std::vector<Loaded> m_loaded;  // most recently used first
    engine::BackendOptions m_options;
    std::atomic<bool> m_overlayWanted{false};
    bool m_profiling = false;  // the state applied to the loaded backends
    quint64 m_overlaySequence = 0;
    std::chrono::steady_clock::time_point m_lastOverlay{};
    StreamStats m_lastRates;   // throughput of the latest finished lane
    engine::DeviceMonitor m_monitor;
};

}  // namespace glassbox::ui
