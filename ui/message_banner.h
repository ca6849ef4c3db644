// MessageBanner: a non-modal strip at the top of the window for errors,
// warnings and offers (e.g. "restore unsaved drafts?"). It never blocks the
// event loop, so nothing waits on a user click, and it keeps a log of every
// message shown so they can be read back (tests do).
#pragma once

#include <QFrame>
#include <QStringList>
#include <functional>

class QLabel;
class QPushButton;
class QToolButton;

namespace glassbox::ui {

class MessageBanner : public QFrame {
    Q_OBJECT
public:
    enum class Level { Info, Warning, Error };

    explicit MessageBanner(QWidget* parent = nullptr);

    // Show a message; an action button appears when `actionText` is set.
    void showMessage(Level level, const QString& text, const QString& actionText = {},
                     std::function<void()> action = {});
    void dismiss();

    Level level() const { return m_level; }
    QString text() const;
    // Every message shown so far, oldest first, as "error: text".
    const QStringList& log() const { return m_log; }
    QPushButton* actionButton() const { return m_action; }

private:
    void applyStyle();

    QLabel* m_icon = nullptr;
    QLabel* m_text = nullptr;
    QPushButton* m_action = nullptr;
    QToolButton* m_close = nullptr;
    std::function<void()> m_callback;
    Level m_level = Level::Info;
    QStringList m_log;
};

}  // namespace glassbox::ui
