// StatusPanel: the status bar's permanent widgets — model load progress
// with a cancel button, the device, threads, context used / context size and
// the prefill and decode speeds of the latest run.
#pragma once

#include <QObject>

#include "ui/engine_messages.h"

class QLabel;
class QProgressBar;
class QStatusBar;
class QToolButton;

namespace glassbox::ui {

class StatusPanel : public QObject {
    Q_OBJECT
public:
    explicit StatusPanel(QStatusBar* bar);

    void setModel(const ModelInfo* model);
    void setStats(const StreamStats& stats);
    void setLoading(bool loading);
    void setLoadProgress(float fraction, const QString& stage);

    QString deviceText() const;
    QString threadsText() const;
    QString contextText() const;
    QString speedText() const;
    bool loadingVisible() const;
    QToolButton* cancelButton() const { return m_cancel; }
    QProgressBar* progressBar() const { return m_progress; }

signals:
    void cancelLoadRequested();

private:
    QLabel* m_device = nullptr;
    QLabel* m_threads = nullptr;
    QLabel* m_context = nullptr;
    QLabel* m_speed = nullptr;
    QProgressBar* m_progress = nullptr;
    QToolButton* m_cancel = nullptr;
    int m_contextSize = 0;
};

}  // namespace glassbox::ui
