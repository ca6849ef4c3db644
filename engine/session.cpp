// Session bookkeeping over a backend.
#include "engine/session.h"

#include <algorithm>

#include "engine/backend_factory.h"
#include "engine/model.h"

namespace glassbox::engine {

Result<std::unique_ptr<Session>> Session::create(std::shared_ptr<const Model> model, const BackendOptions& options) {
    if (!model) return makeError(ErrorCode::InvalidArgument, "no model");
    std::unique_ptr<Session> s(new Session());
    s->m_model = model;
    GB_ASSIGN_OR_RETURN(BackendChoice choice, createBackend(model, options));
    s->m_backend = std::move(choice.backend);
    s->m_placement = choice.placement;
    s->m_placementNotes = std::move(choice.notes);
    s->m_lastLogits.assign(size_t(model->config().nVocab), 0.0f);
    return s;
}

Status Session::evaluate(std::span<const int32_t> tokens, std::stop_token stop) {
    const int start = position();
    GB_TRY(m_backend->forward(tokens, start, LogitsMode::LastOnly, m_lastLogits, stop));
    m_tokens.insert(m_tokens.end(), tokens.begin(), tokens.end());
    return {};
}

Result<std::vector<float>> Session::evaluateAll(std::span<const int32_t> tokens, std::stop_token stop) {
    const size_t nVocab = size_t(m_model->config().nVocab);
    std::vector<float> logits;
    try {
        logits.resize(tokens.size() * nVocab);
    } catch (const std::bad_alloc&) {
        return makeError(ErrorCode::OutOfMemory, "cannot allocate logits for " + std::to_string(tokens.size()) + " tokens");
    }
    GB_TRY(m_backend->forward(tokens, position(), LogitsMode::All, logits, stop));
    m_tokens.insert(m_tokens.end(), tokens.begin(), tokens.end());
    if (!tokens.empty())
        std::copy(logits.end() - std::ptrdiff_t(nVocab), logits.end(), m_lastLogits.begin());
    return logits;
}

void Session::truncate(int nTokens) {
    nTokens = std::clamp(nTokens, 0, position());
    m_tokens.resize(size_t(nTokens));
    if (m_capture) m_capture->truncate(nTokens);
}

void Session::attachCapture(std::shared_ptr<Capture> capture) {
    m_capture = std::move(capture);
    if (m_capture) m_capture->truncate(position());
    m_backend->setCapture(m_capture.get());
}

int Session::capturedPrefix() const {
    return m_capture ? std::min(position(), m_capture->positions()) : position();
}

}  // namespace glassbox::engine
