// DeviceChoice: where the layers of the next model run — Automatic, CPU,
// GPU, or the first N layers on the GPU — offered as the File ▸ Device
// menu and remembered in QSettings (device/placement, device/gpuLayers).
// It writes the choice into the BackendOptions of a load and shows what the
// CUDA probe found at the top of the menu. The engine falls back (and says
// why) when the choice cannot be honoured, so every choice is allowed.
#pragma once

#include <QObject>
#include <QString>

#include "engine/backend.h"
#include "engine/backend_factory.h"

class QAction;
class QActionGroup;
class QMenu;
class QSpinBox;

namespace glassbox::ui {

class DeviceChoice : public QObject {
    Q_OBJECT
public:
    explicit DeviceChoice(QObject* parent = nullptr);

    // Fills `menu` with the status line, the four choices and the layer count.
    void attachMenu(QMenu* menu);

    engine::Placement placement() const { return m_placement; }
    int gpuLayers() const { return m_gpuLayers; }
    // Select and remember; gpuLayers < 1 keeps the current count.
    void setPlacement(engine::Placement placement, int gpuLayers = 0);
    // `options` with the placement and GPU layer count of the choice.
    engine::BackendOptions apply(engine::BackendOptions options) const;

    // The probe's answer, shown at the top of the menu.
    void setCudaStatus(const engine::CudaStatus& cuda);
    QString cudaText() const { return m_cudaText; }
    // "Automatic", "CPU", "GPU", "First 12 layers on the GPU".
    QString describe() const;

    QAction* choiceAction(engine::Placement placement) const;
    QSpinBox* layersSpinBox() const { return m_layers; }

signals:
    // The user picked another device (applies from the next load).
    void changed();

private:
    void syncWidgets();
    void save() const;

    engine::Placement m_placement = engine::Placement::Auto;
    int m_gpuLayers = 8;
    QString m_cudaText;
    QAction* m_status = nullptr;
    QActionGroup* m_group = nullptr;
    QAction* m_choices[4] = {};
    QSpinBox* m_layers = nullptr;
};

}  // namespace glassbox::ui
