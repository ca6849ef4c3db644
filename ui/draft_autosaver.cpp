// DraftAutosaver: single-shot debounce timer around a provider and a sink.
#include "ui/draft_autosaver.h"

namespace glassbox::ui {

DraftAutosaver::DraftAutosaver(Provider provider, Sink sink, QObject* parent)
    : QObject(parent), m_provider(std::move(provider)), m_sink(std::move(sink)) {
    m_timer.setSingleShot(true);
    m_timer.setInterval(kDelayMs);
    connect(&m_timer, &QTimer::timeout, this, &DraftAutosaver::save);
}

void DraftAutosaver::touch() {
    if (!m_suspended) m_timer.start();
}

void DraftAutosaver::flush() {
    if (m_timer.isActive()) {
        m_timer.stop();
        save();
    }
}

void DraftAutosaver::save() {
    const QString state = m_provider();
    if (state == m_lastSaved) return;
    m_lastSaved = state;
    m_sink(state);
}

}  // namespace glassbox::ui
