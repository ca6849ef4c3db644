// DraftAutosaver: debounced autosave of unsaved UI state. Every edit
// restarts a short timer; when the edits pause, the current state is taken
// from the provider and handed to the sink once — so a burst of typing costs
// one write, at most kDelayMs after the last keystroke.
#pragma once

#include <QObject>
#include <QTimer>
#include <functional>

namespace glassbox::ui {

class DraftAutosaver : public QObject {
    Q_OBJECT
public:
    static constexpr int kDelayMs = 1200;

    using Provider = std::function<QString()>;
    using Sink = std::function<void(const QString&)>;

    DraftAutosaver(Provider provider, Sink sink, QObject* parent = nullptr);

    // Something changed: save after the edits pause.
    void touch();
    // Save now if anything is pending.
    void flush();
    bool isPending() const { return m_timer.isActive(); }
    // Suspend while state is being restored (restoring is not an edit).
    void setSuspended(bool suspended) { m_suspended = suspended; }
    // The next save writes even an unchanged state (a different project is open).
    void forgetSaved() { m_lastSaved.clear(); }

private:
    void save();

    QTimer m_timer;
    Provider m_provider;
    Sink m_sink;
    QString m_lastSaved;
    bool m_suspended = false;
};

}  // namespace glassbox::ui
