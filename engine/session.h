// A Session is one conversation with a Model: its backend state (KV cache),
// the tokens evaluated so far and the logits of the last step. Not
// thread-safe; use one Session per worker thread. Rewinding (truncate) lets
// the caller branch from any earlier position.
#pragma once

#include <memory>
#include <span>
#include <stop_token>
#include <string>
#include <vector>

#include "engine/backend.h"
#include "engine/capture.h"
#include "engine/result.h"

namespace glassbox::engine {

class Model;

class Session {
public:
    // The backend follows options.placement with the fallbacks of
    // createBackend (engine/backend_factory.h); placementNotes() says why
    // when it is not what was asked. Errors: those of createCpuBackend.
    static Result<std::unique_ptr<Session>> create(std::shared_ptr<const Model> model,
                                                   const BackendOptions& options = {});

    const Model& model() const { return *m_model; }
    Backend& backend() { return *m_backend; }
    int contextSize() const { return m_backend->contextSize(); }
    int position() const { return int(m_tokens.size()); }
    const std::vector<int32_t>& tokens() const { return m_tokens; }

    // Append tokens and run them; afterwards lastLogits() holds the
    // distribution for the next token. Errors: the backend's (ContextFull,
    // InvalidArgument, Cancelled); on error the session is unchanged.
    Status evaluate(std::span<const int32_t> tokens, std::stop_token stop = {});

    // Append tokens and return logits for every one of them (row i predicts
    // the token after tokens[i]).
    Result<std::vector<float>> evaluateAll(std::span<const int32_t> tokens, std::stop_token stop = {});

    std::span<const float> lastLogits() const { return m_lastLogits; }

    // Where the layers actually run, and one line per fallback taken at
    // creation (the backend's deviceInfo().note adds any mid-run fallback).
    Placement placement() const { return m_placement; }
    const std::vector<std::string>& placementNotes() const { return m_placementNotes; }

    // Forget everything after the first nTokens tokens.
    void truncate(int nTokens);

    // Record later forward passes into `capture` (nullptr detaches). The
    // capture follows the session when it is rewound. Positions evaluated
    // before the capture was attached are not in it: the generator re-runs
    // them (see capturedPrefix()).
    void attachCapture(std::shared_ptr<Capture> capture);
    const std::shared_ptr<Capture>& capture() const { return m_capture; }
    // How many leading positions the attached capture holds (the session's
    // position when none is attached).
    int capturedPrefix() const;

private:
    Session() = default;
    std::shared_ptr<const Model> m_model;
    std::unique_ptr<Backend> m_backend;
    Placement m_placement = Placement::Cpu;
    std::vector<std::string> m_placementNotes;
    std::vector<int32_t> m_tokens;
    std::vector<float> m_lastLogits;
    std::shared_ptr<Capture> m_capture;
};

}  // namespace glassbox::engine
