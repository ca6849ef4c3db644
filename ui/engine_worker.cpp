// EngineWorker: model loading and generation on the worker thread.
#include "ui/engine_worker.h"

#include <QFileInfo>
#include <algorithm>

#include "engine/model.h"
#include "engine/tokenizer.h"
#include "ui/error_text.h"

namespace glassbox::ui {
namespace {

using Clock = std::chrono::steady_clock;

double secondsBetween(Clock::time_point a, Clock::time_point b) {
    return std::chrono::duration<double>(b - a).count();
}

// The backend, threads, context and placement of a session.
void fillDevice(ModelInfo& info, engine::Session& session) {
    info.device = QString::fromStdString(session.backend().name());
    info.threads = session.backend().threads();
    info.contextSize = session.contextSize();
    info.placement = QString::fromLatin1(engine::placementName(session.placement()));
    info.placementNotes.clear();
    for (const std::string& note : session.placementNotes()) info.placementNotes << QString::fromStdString(note);
}

int reusablePrefix(const engine::Session& s, const std::vector<int32_t>& prompt) {
    const auto& have = s.tokens();
    const size_t usable = size_t(s.capturedPrefix());
    size_t n = 0;
    while (n < usable && n < prompt.size() && have[n] == prompt[n]) ++n;
    if (n == prompt.size() && n > 0) --n;
    return int(n);
}

}  // namespace

EngineWorker::EngineWorker(QObject* parent) : QObject(parent) {}

EngineWorker::~EngineWorker() = default;

QString EngineWorker::loadInto(Loaded& out, quint64 job, std::stop_token stop, const QString& path,
                               const engine::BackendOptions& options, bool reportProgress, bool* cancelled) {
    *cancelled = false;
    const auto t0 = Clock::now();
    const QFileInfo file(path);
    if (!file.exists()) return QStringLiteral("“%1” does not exist.\n%2").arg(file.fileName(), path);
    if (!file.isReadable())
        return QStringLiteral("“%1” cannot be read (permission denied).\n%2").arg(file.fileName(), path);
    engine::LoadProgress progress;
    if (reportProgress) {
        progress = [this, job](float fraction, const std::string& stage) {
            emit loadProgress(job, fraction, QString::fromStdString(stage));
        };
    }
    auto model = engine::Model::load(path.toStdString(), stop, progress);
    if (!model) {
        *cancelled = model.error().code == engine::ErrorCode::Cancelled;
        return ErrorText::forModelLoad(path, model.error());
    }
    if (stop.stop_requested()) {
        *cancelled = true;
        return QStringLiteral("Loading was cancelled.");
    }
    if (reportProgress) emit loadProgress(job, 1.0f, QStringLiteral("allocating context"));
    auto session = engine::Session::create(*model, options);
    if (!session) return ErrorText::forModelLoad(path, session.error());

    Loaded next;
    next.model = *model;
    next.session = std::move(*session);
    ModelInfo& info = next.info;
    info.model = next.model;
    info.path = path;
    info.name = file.fileName();
    info.architecture = QString::fromStdString(next.model->config().architecture);
    info.weightType = QString::fromStdString(next.model->weightTypeSummary());
    info.fileBytes = qint64(next.model->fileBytes());
    fillDevice(info, *next.session);
    auto chat = engine::detectChatTemplate(next.model->chatTemplate());
    if (chat) {
        info.chat = *chat;
    } else {
        info.chat = engine::chatTemplateFor(engine::ChatFormat::ChatML);
        info.chatNote = QStringLiteral("The model's chat template was not recognised (%1); ChatML is used.")
                            .arg(QString::fromStdString(chat.error().message));
    }
    info.loadSeconds = secondsBetween(t0, Clock::now());
    out = std::move(next);
    return {};
}

void EngineWorker::loadModel(quint64 job, std::stop_token stop, const QString& path,
                             const engine::BackendOptions& options) {
    bool cancelled = false;
    Loaded loaded;
    const QString error = loadInto(loaded, job, stop, path, options, true, &cancelled);
    if (!error.isEmpty()) {
        emit loadFailed(job, error, cancelled);
        return;
    }
    m_options = options;
    const ModelInfo info = loaded.info;
    keep(std::move(loaded));
    emit modelLoaded(job, info);
    applyProfiling();
    sendOverlay(nullptr, nullptr, true);
}

void EngineWorker::keep(Loaded loaded) {
    if (m_profiling) loaded.session->backend().setProfiling(true);
    m_loaded.insert(m_loaded.begin(), std::move(loaded));
    if (m_loaded.size() > kMaxLoaded) m_loaded.resize(kMaxLoaded);
}

EngineWorker::Loaded* EngineWorker::laneTarget(quint64 job, std::stop_token stop, const GenerationLane& lane,
                                               QString* error) {
    auto use = [this](size_t i) {
        if (i != 0) std::rotate(m_loaded.begin(), m_loaded.begin() + long(i), m_loaded.begin() + long(i) + 1);
        return &m_loaded.front();
    };
    for (size_t i = 0; i < m_loaded.size(); ++i) {
        if (lane.model ? m_loaded[i].model == lane.model : m_loaded[i].info.path == lane.modelPath) return use(i);
    }
    if (lane.model) {
        // Evicted earlier: give it a fresh session.
        auto session = engine::Session::create(lane.model, m_options);
        if (!session) {
            *error = ErrorText::forGeneration(session.error());
            return nullptr;
        }
        Loaded loaded;
        loaded.model = lane.model;
        loaded.session = std::move(*session);
        loaded.info.model = lane.model;
        loaded.info.path = QString::fromStdString(lane.model->path());
        fillDevice(loaded.info, *loaded.session);
        keep(std::move(loaded));
        return &m_loaded.front();
    }
    if (lane.modelPath.isEmpty()) {
        *error = QStringLiteral("No model is loaded.");
        return nullptr;
    }
    bool cancelled = false;
    Loaded loaded;
    *error = loadInto(loaded, job, stop, lane.modelPath, m_options, false, &cancelled);
    if (!error->isEmpty()) return nullptr;
    keep(std::move(loaded));
    return &m_loaded.front();
}

LaneOutcome EngineWorker::runLane(quint64 job, int lane, std::stop_token stop, Loaded& target,
                                  const engine::GenerationRequest& request) {
    engine::Session& session = *target.session;
    StreamStats stats;
    stats.contextSize = session.contextSize();
    const int reuse = reusablePrefix(session, request.prompt);
    const int prefillTokens = int(request.prompt.size()) - reuse;
    TokenBatch pending;
    int generated = 0;
    const auto t0 = Clock::now();
    Clock::time_point firstToken{};
    Clock::time_point lastEmit = t0 - kBatchInterval;
    auto flush = [&](Clock::time_point now) {
        if (pending.empty()) return;
        stats.contextUsed = int(request.prompt.size()) + generated;
        emit tokensStreamed(job, lane, pending, stats);
        pending.clear();
        lastEmit = now;
    };
    auto onToken = [&](const engine::GeneratedToken& t) {
        const auto now = Clock::now();
        if (t.index >= 0 && generated++ == 0) {
            firstToken = now;
            const double s = secondsBetween(t0, now);
            stats.prefillTokensPerSecond = s > 0 ? prefillTokens / s : 0;
        } else if (t.index >= 0) {
            const double s = secondsBetween(firstToken, now);
            stats.decodeTokensPerSecond = s > 0 ? (generated - 1) / s : 0;
        }
        pending.push_back(t);
        if (now - lastEmit >= kBatchInterval) flush(now);
        if (m_overlayWanted.load(std::memory_order_relaxed) != m_profiling) applyProfiling();
        if (m_profiling) sendOverlay(&target, &stats, false);
    };
    engine::GenerationRequest req = request;
    req.keepTokens = false;
    auto result = engine::generate(session, req, onToken, stop);
    flush(Clock::now());
    std::shared_ptr<const engine::Capture> snapshot;
    if (session.capture()) {
        try {
            snapshot = std::make_shared<const engine::Capture>(*session.capture());
        } catch (const std::bad_alloc&) {
            // The run stands; its panels stay empty.
        }
    }

    LaneOutcome out;
    out.capture = std::move(snapshot);
    out.hardware = QStringLiteral("%1, %2 threads").arg(target.info.device).arg(target.info.threads);
    out.deviceNote = QString::fromStdString(session.backend().deviceInfo().note);
    out.stats = stats;
    out.stats.contextUsed = session.position();
    if (!result) {
        out.ok = false;
        out.error = ErrorText::forGeneration(result.error());
        return out;
    }
    out.stopReason = result->stopReason;
    out.seed = result->seed;
    out.prefillSeconds = result->prefillSeconds;
    out.decodeSeconds = result->decodeSeconds;
    out.reusedPromptTokens = result->reusedPromptTokens;
    out.text = QString::fromStdString(result->text);
    out.promptTokens = result->promptTokens;
    // The result counts only what it kept; compute rates from what streamed.
    const int n = int(result->promptTokens.size()) - result->reusedPromptTokens;
    out.prefillTokensPerSecond = result->prefillSeconds > 0 ? n / result->prefillSeconds : 0;
    out.decodeTokensPerSecond =
        result->decodeSeconds > 0 ? std::max(0, generated - 1) / result->decodeSeconds : 0;
    out.stats.prefillTokensPerSecond = out.prefillTokensPerSecond;
    out.stats.decodeTokensPerSecond = out.decodeTokensPerSecond;
    m_lastRates = out.stats;
    return out;
}

engine::GenerationRequest EngineWorker::requestFor(const GenerationLane& lane, const Loaded& target) {
    engine::GenerationRequest request = lane.request;
    if (lane.model || lane.promptText.empty()) return request;
    // Another model: its own tokenizer must split the prompt.
    const engine::Tokenizer& tok = target.model->tokenizer();
    const bool chat = lane.promptHasSpecialTokens;
    request.prompt = tok.encode(lane.promptText, !chat, chat);
    if (chat && tok.addBos() && (request.prompt.empty() || request.prompt.front() != tok.bos()))
        request.prompt.insert(request.prompt.begin(), tok.bos());
    return request;
}

void EngineWorker::generate(quint64 job, std::stop_token stop, const std::vector<GenerationLane>& lanes) {
    for (size_t i = 0; i < lanes.size(); ++i) {
        LaneOutcome outcome;
        QString error;
        Loaded* target = stop.stop_requested() ? nullptr : laneTarget(job, stop, lanes[i], &error);
        if (stop.stop_requested()) {
            outcome.stopReason = engine::StopReason::Cancelled;
        } else if (!target) {
            outcome.ok = false;
            outcome.error = error;
        } else {
            prepareCapture(*target->session, lanes[i].capture);
            applyProfiling();
            outcome = runLane(job, int(i), stop, *target, requestFor(lanes[i], *target));
            sendOverlay(target, nullptr, true);
        }
        emit laneFinished(job, int(i), outcome);
    }
    emit jobFinished(job);
}

// A session keeps its capture between runs (so a branch re-records only
// its new tokens) and drops it when a run does not want one (no cost).
void EngineWorker::prepareCapture(engine::Session& session, bool wanted) const {
    if (!wanted) {
        if (session.capture()) session.attachCapture(nullptr);
        return;
    }
    if (session.capture()) return;
    engine::CaptureOptions options = engine::CaptureOptions::all();
    options.maxBytes = kCaptureBudgetBytes;
    session.attachCapture(std::make_shared<engine::Capture>(session.model(), options, m_options.kvType));
}

void EngineWorker::computeLens(quint64 job, std::stop_token stop, std::shared_ptr<const engine::Model> model,
                               std::shared_ptr<const engine::Capture> capture, int firstPos, int nPos) {
    auto it = std::find_if(m_loaded.begin(), m_loaded.end(), [&](const Loaded& l) { return l.model == model; });
    if (it == m_loaded.end() || !capture) {
        emit lensFailed(job, QStringLiteral("The model of this run is no longer open."), false);
        return;
    }
    auto lens = engine::computeLogitLens(*it->session, *capture, firstPos, nPos, kLensTopK, stop,
                                         [this, job](float f) { emit lensProgress(job, f); });
    if (!lens) {
        const bool cancelled = lens.error().code == engine::ErrorCode::Cancelled;
        emit lensFailed(job, cancelled ? QStringLiteral("Cancelled.") : QString::fromStdString(lens.error().message),
                        cancelled);
        return;
    }
    emit lensReady(job, *lens);
}

}  // namespace glassbox::ui
