// DeviceChoice: the File ▸ Device menu and its settings.
#include "ui/device_choice.h"

#include <QActionGroup>
#include <algorithm>
#include <QHBoxLayout>
#include <QLabel>
#include <QMenu>
#include <QSettings>
#include <QSpinBox>
#include <QWidgetAction>

namespace glassbox::ui {
namespace {

const QString kPlacementKey = QStringLiteral("device/placement");
const QString kLayersKey = QStringLiteral("device/gpuLayers");
constexpr int kMaxLayers = 512;

engine::Placement placementFromName(const QString& name) {
    for (auto p : {engine::Placement::Auto, engine::Placement::Cpu, engine::Placement::Gpu,
                   engine::Placement::GpuLayers})
        if (name == QLatin1String(engine::placementName(p))) return p;
    return engine::Placement::Auto;
}

int indexOf(engine::Placement p) { return int(p); }

}  // namespace

DeviceChoice::DeviceChoice(QObject* parent) : QObject(parent) {
    QSettings settings;
    m_placement = placementFromName(settings.value(kPlacementKey).toString());
    m_gpuLayers = std::clamp(settings.value(kLayersKey, m_gpuLayers).toInt(), 1, kMaxLayers);
    m_cudaText = tr("GPU: checking…");
}

void DeviceChoice::attachMenu(QMenu* menu) {
    m_status = menu->addAction(m_cudaText);
    m_status->setObjectName(QStringLiteral("deviceStatus"));
    m_status->setEnabled(false);
    menu->addSeparator();
    m_group = new QActionGroup(this);
    m_group->setExclusive(true);
    const struct {
        engine::Placement placement;
        QString text, name, tip;
    } choices[] = {
        {engine::Placement::Auto, tr("&Automatic"), QStringLiteral("deviceAuto"),
         tr("The GPU when a usable one is present, otherwise the CPU")},
        {engine::Placement::Cpu, tr("&CPU"), QStringLiteral("deviceCpu"), tr("Run every layer on the CPU")},
        {engine::Placement::Gpu, tr("&GPU"), QStringLiteral("deviceGpu"),
         tr("Run every layer on the GPU (falls back to the CPU, and says why, when it cannot)")},
        {engine::Placement::GpuLayers, tr("&First N Layers on the GPU"), QStringLiteral("deviceGpuLayers"),
         tr("The first N layers on the GPU, the rest and the output head on the CPU")},
    };
    for (const auto& c : choices) {
        QAction* a = menu->addAction(c.text);
        a->setObjectName(c.name);
        a->setCheckable(true);
        a->setToolTip(c.tip);
        a->setStatusTip(c.tip);
        m_group->addAction(a);
        m_choices[indexOf(c.placement)] = a;
        const engine::Placement p = c.placement;
        connect(a, &QAction::triggered, this, [this, p] { setPlacement(p); });
    }
    auto* row = new QWidget(menu);
    auto* layout = new QHBoxLayout(row);
    layout->setContentsMargins(28, 2, 8, 2);
    layout->addWidget(new QLabel(tr("Layers on the GPU:"), row));
    m_layers = new QSpinBox(row);
    m_layers->setObjectName(QStringLiteral("deviceGpuLayersSpin"));
    m_layers->setRange(1, kMaxLayers);
    m_layers->setToolTip(tr("How many of the first layers run on the GPU (more than the model has means all)"));
    layout->addWidget(m_layers);
    auto* rowAction = new QWidgetAction(menu);
    rowAction->setDefaultWidget(row);
    menu->addAction(rowAction);
    connect(m_layers, &QSpinBox::valueChanged, this, [this](int n) {
        if (n != m_gpuLayers || m_placement != engine::Placement::GpuLayers)
            setPlacement(engine::Placement::GpuLayers, n);
    });
    syncWidgets();
}

void DeviceChoice::setPlacement(engine::Placement placement, int gpuLayers) {
    const int layers = gpuLayers >= 1 ? std::min(gpuLayers, kMaxLayers) : m_gpuLayers;
    if (placement == m_placement && layers == m_gpuLayers) {
        syncWidgets();
        return;
    }
    m_placement = placement;
    m_gpuLayers = layers;
    save();
    syncWidgets();
    emit changed();
}

engine::BackendOptions DeviceChoice::apply(engine::BackendOptions options) const {
    options.placement = m_placement;
    options.gpuLayers = m_placement == engine::Placement::GpuLayers ? m_gpuLayers : 0;
    return options;
}

void DeviceChoice::setCudaStatus(const engine::CudaStatus& cuda) {
    if (cuda.usable) {
        m_cudaText = tr("GPU: %1 (%2 GiB)")
                         .arg(QString::fromStdString(cuda.deviceName))
                         .arg(double(cuda.totalBytes) / double(uint64_t(1) << 30), 0, 'f', 0);
    } else if (!cuda.compiled) {
        m_cudaText = tr("GPU: none (this build has no CUDA backend)");
    } else {
        m_cudaText = tr("GPU: none (%1)").arg(QString::fromStdString(cuda.reason));
    }
    if (m_status) m_status->setText(m_cudaText);
}

QString DeviceChoice::describe() const {
    switch (m_placement) {
        case engine::Placement::Auto: return tr("Automatic");
        case engine::Placement::Cpu: return tr("CPU");
        case engine::Placement::Gpu: return tr("GPU");
        case engine::Placement::GpuLayers: return tr("First %1 layers on the GPU").arg(m_gpuLayers);
    }
    return tr("Automatic");
}

QAction* DeviceChoice::choiceAction(engine::Placement placement) const { return m_choices[indexOf(placement)]; }

void DeviceChoice::syncWidgets() {
    if (QAction* a = m_choices[indexOf(m_placement)]) a->setChecked(true);
    if (m_layers && m_layers->value() != m_gpuLayers) {
        const QSignalBlocker block(m_layers);
        m_layers->setValue(m_gpuLayers);
    }
}

void DeviceChoice::save() const {
    QSettings settings;
    settings.setValue(kPlacementKey, QString::fromLatin1(engine::placementName(m_placement)));
    settings.setValue(kLayersKey, m_gpuLayers);
}

}  // namespace glassbox::ui
