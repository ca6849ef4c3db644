// MainWindow: the GPU overlay (View ▸ GPU Overlay, F12, remembered) and the
// device the next model runs on (File ▸ Device), with the engine's notes
// about the placement it actually took shown in the message banner.
#include <QAction>
#include <QSettings>
#include <QStringList>

#include "ui/device_choice.h"
#include "ui/engine_client.h"
#include "ui/gpu_overlay.h"
#include "ui/main_window.h"

namespace glassbox::ui {
namespace {

const QString kOverlayVisibleKey = QStringLiteral("overlay/visible");

}  // namespace

void MainWindow::buildOverlayActions() {
    m_deviceChoice = new DeviceChoice(this);
    connect(m_deviceChoice, &DeviceChoice::changed, this, &MainWindow::onDeviceChoiceChanged);
    connect(m_engine, &EngineClient::devicesProbed, m_deviceChoice, &DeviceChoice::setCudaStatus);
    if (m_engine->cudaStatus()) m_deviceChoice->setCudaStatus(*m_engine->cudaStatus());

    QAction* overlay = makeAction(QStringLiteral("gpuOverlay"), tr("&GPU Overlay"), QKeySequence(Qt::Key_F12),
                                  tr("Show the device, memory, throughput, per-op timing and hardware figures "
                                     "over the window (F12)"));
    overlay->setCheckable(true);
    connect(overlay, &QAction::toggled, this, &MainWindow::setOverlayVisible);
}

void MainWindow::setOverlayVisible(bool on) {
    if (on && !m_overlay) {
        m_overlay = new GpuOverlay(centralWidget());
        connect(m_engine, &EngineClient::overlaySnapshot, m_overlay, &GpuOverlay::setSnapshot);
    }
    if (m_overlay) {
        m_overlay->setVisible(on);
        if (on) m_overlay->raise();
    }
    // Profiling costs a clock read per op: only while someone looks.
    m_engine->setOverlayActive(on);
    QSettings().setValue(kOverlayVisibleKey, on);
    if (QAction* a = action(QStringLiteral("gpuOverlay")); a && a->isChecked() != on) {
        const QSignalBlocker block(a);
        a->setChecked(on);
    }
}

bool MainWindow::isOverlayVisible() const { return m_overlay && !m_overlay->isHidden(); }

void MainWindow::showPlacementNotes(const ModelInfo& info) {
    m_lastDeviceNote.clear();
    if (info.placementNotes.isEmpty()) return;
    const bool asked = m_deviceChoice->placement() != engine::Placement::Auto;
    const QString head = asked ? tr("“%1” runs on the %2, not as File ▸ Device asked (%3).")
                                     .arg(info.name, info.device, m_deviceChoice->describe())
                               : tr("“%1” runs on the %2.").arg(info.name, info.device);
    showMessage(asked ? MessageBanner::Level::Warning : MessageBanner::Level::Info,
                head + QLatin1Char('\n') + info.placementNotes.join(QLatin1Char('\n')));
}

void MainWindow::showDeviceNote(const LaneOutcome& outcome) {
    if (outcome.deviceNote.isEmpty() || outcome.deviceNote == m_lastDeviceNote) return;
    m_lastDeviceNote = outcome.deviceNote;
    // Notes already shown at load are not news.
    const ModelInfo* model = m_engine->model();
    bool fresh = false;
    for (const QString& line : outcome.deviceNote.split(QLatin1Char('\n'), Qt::SkipEmptyParts))
        fresh = fresh || !model || !model->placementNotes.contains(line);
    if (fresh)
        showMessage(MessageBanner::Level::Warning,
                    tr("The device changed during the run.") + QLatin1Char('\n') + outcome.deviceNote);
}

void MainWindow::onDeviceChoiceChanged() {
    const ModelInfo* model = m_engine->model();
    if (!model) return;  // the next model opened uses it
    const QString path = model->path;
    showMessage(MessageBanner::Level::Info,
                tr("Device: %1. It applies when a model is next opened.").arg(m_deviceChoice->describe()),
                tr("Reopen “%1”").arg(model->name), [this, path] { openModel(path); });
}

}  // namespace glassbox::ui
