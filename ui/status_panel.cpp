// StatusPanel: labels and load progress in the status bar.
#include "ui/status_panel.h"

#include <QLabel>
#include <QProgressBar>
#include <QStatusBar>
#include <QToolButton>

namespace glassbox::ui {
namespace {

QLabel* field(const QString& tip, const QString& name) {
    auto* l = new QLabel;
    l->setToolTip(tip);
    l->setObjectName(name);
    l->setContentsMargins(6, 0, 6, 0);
    return l;
}

}  // namespace

StatusPanel::StatusPanel(QStatusBar* bar) : QObject(bar) {
    m_progress = new QProgressBar;
    m_progress->setRange(0, 1000);
    m_progress->setMaximumWidth(220);
    m_progress->setTextVisible(true);
    m_progress->setObjectName(QStringLiteral("loadProgress"));
    m_cancel = new QToolButton;
    m_cancel->setText(tr("Cancel"));
    m_cancel->setToolTip(tr("Cancel loading the model (the current model stays)"));
    m_cancel->setObjectName(QStringLiteral("cancelLoad"));
    connect(m_cancel, &QToolButton::clicked, this, &StatusPanel::cancelLoadRequested);
    m_device = field(tr("The compute backend running the model"), QStringLiteral("statusDevice"));
    m_threads = field(tr("Threads the engine computes with (one core is left for the window)"),
                      QStringLiteral("statusThreads"));
    m_context = field(tr("Context used by the last run / context size of the session"),
                      QStringLiteral("statusContext"));
    m_speed = field(tr("Prompt processing (prefill) and generation (decode) speed of the last run"),
                    QStringLiteral("statusSpeed"));
    bar->addPermanentWidget(m_progress);
    bar->addPermanentWidget(m_cancel);
    bar->addPermanentWidget(m_device);
    bar->addPermanentWidget(m_threads);
    bar->addPermanentWidget(m_context);
    bar->addPermanentWidget(m_speed);
    setModel(nullptr);
    setLoading(false);
}

void StatusPanel::setModel(const ModelInfo* model) {
    if (!model) {
        m_device->setText(tr("no model"));
        m_threads->setText(QString());
        m_context->setText(QString());
        m_speed->setText(QString());
        m_contextSize = 0;
        return;
    }
    m_contextSize = model->contextSize;
    m_device->setText(tr("Device: %1").arg(model->device));
    m_threads->setText(tr("Threads: %1").arg(model->threads));
    m_context->setText(tr("Context: 0 / %1").arg(model->contextSize));
    m_speed->setText(tr("Prefill: – tok/s · Decode: – tok/s"));
}

void StatusPanel::setStats(const StreamStats& stats) {
    const int size = stats.contextSize > 0 ? stats.contextSize : m_contextSize;
    m_context->setText(tr("Context: %1 / %2").arg(stats.contextUsed).arg(size));
    auto rate = [](double v) { return v > 0 ? QString::number(v, 'f', 1) : QStringLiteral("–"); };
    m_speed->setText(tr("Prefill: %1 tok/s · Decode: %2 tok/s")
                         .arg(rate(stats.prefillTokensPerSecond), rate(stats.decodeTokensPerSecond)));
}

void StatusPanel::setLoading(bool loading) {
    m_progress->setVisible(loading);
    m_cancel->setVisible(loading);
    if (loading) {
        m_progress->setValue(0);
        m_progress->setFormat(tr("Loading…"));
    }
}

void StatusPanel::setLoadProgress(float fraction, const QString& stage) {
    m_progress->setValue(int(fraction * 1000));
    m_progress->setFormat(QStringLiteral("%1 %p%").arg(stage));
}

QString StatusPanel::deviceText() const { return m_device->text(); }
QString StatusPanel::threadsText() const { return m_threads->text(); }
QString StatusPanel::contextText() const { return m_context->text(); }
QString StatusPanel::speedText() const { return m_speed->text(); }
bool StatusPanel::loadingVisible() const { return !m_progress->isHidden(); }

}  // namespace glassbox::ui
