// Values passed between the UI thread and the engine worker thread by
// queued signals: model descriptions, generation lanes, streamed token
// batches, live statistics, per-lane outcomes and the device overlay's
// snapshots. Plain copyable values; the only shared object is the
// immutable, thread-safe Model.
#pragma once

#include <QMetaType>
#include <QString>
#include <QStringList>
#include <memory>
#include <optional>
#include <vector>

#include "engine/backend.h"
#include "engine/backend_factory.h"
#include "engine/capture.h"
#include "engine/chat_template.h"
#include "engine/device_monitor.h"
#include "engine/generator.h"
#include "engine/logit_lens.h"
#include "engine/model.h"

namespace glassbox::ui {

// A loaded model as the window shows it.
struct ModelInfo {
    std::shared_ptr<const engine::Model> model;  // immutable, safe to read from any thread
    QString path;
    QString name;            // file name without directories
    QString architecture;
    QString weightType;      // e.g. "Q4_1"
    qint64 fileBytes = 0;
    QString device;          // the backend, e.g. "CPU"
    int threads = 0;
    int contextSize = 0;
    std::optional<engine::ChatTemplateInfo> chat;  // the model's chat layout, if recognised
    QString chatNote;        // why chat uses a fallback layout, if it does
    QString placement;       // where the layers run: "auto", "cpu", "gpu", "gpu-layers"
    QStringList placementNotes;  // why the placement differs from what was asked, one line each
    double loadSeconds = 0;
};

// One generation of a job: what to run and on which model.
struct GenerationLane {
    engine::GenerationRequest request;
    std::shared_ptr<const engine::Model> model;  // the model to run (as loaded by the client)
    QString modelPath;  // when model is null: a model file to open for this lane (comparisons)
    // With modelPath: the prompt as text, tokenized by that model's own
    // tokenizer (request.prompt holds the loaded model's ids).
    std::string promptText;
    bool promptHasSpecialTokens = false;  // a chat prompt (template markers are tokens)
    bool capture = false;  // record attention, shapes, activations and the residual stream
};

// Throughput and context use, updated while a lane runs.
struct StreamStats {
    double prefillTokensPerSecond = 0;
    double decodeTokensPerSecond = 0;
    int contextUsed = 0;
    int contextSize = 0;
};

// How a lane ended.
struct LaneOutcome {
    bool ok = true;
    QString error;                 // when !ok
    engine::StopReason stopReason = engine::StopReason::MaxTokens;
    uint64_t seed = 0;
    double prefillSeconds = 0;
    double decodeSeconds = 0;
    double prefillTokensPerSecond = 0;
    double decodeTokensPerSecond = 0;
    int reusedPromptTokens = 0;
    QString text;                  // the visible completion
    std::vector<int32_t> promptTokens;  // the prompt as run (differs for another model)
    StreamStats stats;
    QString hardware;              // "CPU, 2 threads"
    QString deviceNote;            // a device fallback the backend took (e.g. mid-run to the CPU)
    // With lane.capture: what the run recorded (a snapshot; null otherwise).
    std::shared_ptr<const engine::Capture> capture;
};

using TokenBatch = std::vector<engine::GeneratedToken>;

// What the device overlay shows: the backend's device and memory, the last
// forward pass's per-op profile, the throughput of the latest run and a
// hardware reading. Sent after generation steps (at most every
// EngineWorker::kOverlayInterval) and on request while the overlay is on.
struct OverlaySnapshot {
    quint64 sequence = 0;           // increases with every snapshot
    bool haveModel = false;         // false: nothing is loaded (the rest stays default)
    QString modelName;
    engine::DeviceInfo device;
    QString placement;              // as in ModelInfo
    QStringList placementNotes;
    engine::BackendMemory memory;   // the backend's memory()
    engine::StepProfile step;       // the last forward() (empty before profiling saw one)
    bool running = false;           // taken during a generation
    double prefillTokensPerSecond = 0;  // of the running or latest run
    double decodeTokensPerSecond = 0;
    int contextUsed = 0;
    int contextSize = 0;
    int threads = 0;
    engine::HardwareSample hardware;
};

}  // namespace glassbox::ui

Q_DECLARE_METATYPE(glassbox::ui::ModelInfo)
Q_DECLARE_METATYPE(glassbox::ui::StreamStats)
Q_DECLARE_METATYPE(glassbox::ui::LaneOutcome)
Q_DECLARE_METATYPE(glassbox::ui::TokenBatch)
Q_DECLARE_METATYPE(glassbox::ui::OverlaySnapshot)
Q_DECLARE_METATYPE(glassbox::engine::CudaStatus)
Q_DECLARE_METATYPE(glassbox::engine::LogitLens)
