// EngineWorker: the device overlay's side — profiling on the loaded
// backends while the overlay is wanted, and OverlaySnapshots (device,
// memory, the last step's per-op profile, throughput, a hardware reading)
// sent at most every kOverlayInterval during a generation — and the probe
// of the CUDA device for the device choice.
#include "ui/engine_worker.h"

namespace glassbox::ui {

void EngineWorker::refreshOverlay() {
    applyProfiling();
    sendOverlay(nullptr, nullptr, true);
}

void EngineWorker::probeDevices() { emit devicesProbed(engine::probeCuda(m_options.gpuDevice)); }

void EngineWorker::applyProfiling() {
    const bool want = m_overlayWanted.load(std::memory_order_relaxed);
    if (want == m_profiling) return;
    m_profiling = want;
    for (Loaded& l : m_loaded) l.session->backend().setProfiling(want);
}

void EngineWorker::sendOverlay(const Loaded* target, const StreamStats* live, bool force) {
    if (!m_overlayWanted.load(std::memory_order_relaxed)) return;
    const auto now = std::chrono::steady_clock::now();
    if (!force && now - m_lastOverlay < kOverlayInterval) return;
    m_lastOverlay = now;
    if (!target && !m_loaded.empty()) target = &m_loaded.front();

    OverlaySnapshot snap;
    snap.sequence = ++m_overlaySequence;
    snap.running = live != nullptr;
    if (target) {
        engine::Backend& backend = target->session->backend();
        snap.haveModel = true;
        snap.modelName = target->info.name.isEmpty() ? QString::fromStdString(target->model->path())
                                                     : target->info.name;
        snap.device = backend.deviceInfo();
        snap.placement = target->info.placement;
        snap.placementNotes = target->info.placementNotes;
        snap.memory = backend.memory();
        snap.step = backend.lastStepProfile();
        snap.contextSize = target->session->contextSize();
        snap.contextUsed = target->session->position();
        snap.threads = backend.threads();
    }
    const StreamStats& rates = live ? *live : m_lastRates;
    snap.prefillTokensPerSecond = rates.prefillTokensPerSecond;
    snap.decodeTokensPerSecond = rates.decodeTokensPerSecond;
    const bool gpu = snap.device.kind != "CPU";
    snap.hardware = m_monitor.sample(gpu, m_options.gpuDevice);
    emit overlaySnapshot(snap);
}

}  // namespace glassbox::ui
