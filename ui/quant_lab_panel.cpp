// The quantization lab panel: its widgets and the jobs it runs on its pool
// (reference load, analysis, re-quantization), with queued progress,
// cancellation and stale-result checks. Filling the views is in
// quant_lab_panel_view.cpp, exports in quant_lab_panel_export.cpp.
#include "ui/quant_lab_panel.h"

#include <QComboBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QListWidget>
#include <QProgressBar>
#include <QPushButton>
#include <QSplitter>
#include <QTableWidget>
#include <QVBoxLayout>
#include <qcustomplot.h>

#include "engine/model.h"
#include "ui/panel_export.h"
#include "viz/quant_heatmap.h"

namespace glassbox::ui {

namespace {

QString typeName(engine::TensorType t) { return QString::fromUtf8(engine::tensorTypeName(t).data()); }

QString errorText(const engine::Error& e) { return QString::fromStdString(e.toString()); }

const engine::QuantMetric kMetrics[] = {engine::QuantMetric::SnrDb, engine::QuantMetric::Rmse,
                                        engine::QuantMetric::RelativeRmse, engine::QuantMetric::MaxAbsError,
                                        engine::QuantMetric::Cosine};

}  // namespace

QuantLabPanel::QuantLabPanel(QWidget* parent) : QWidget(parent) {
    setObjectName(QStringLiteral("quantLabPanel"));
    m_pool.setMaxThreadCount(2);  // a job, and histograms beside it
    buildUi();
    updateControls();
}

QuantLabPanel::~QuantLabPanel() {
    m_stop.request_stop();
    m_histStop.request_stop();
    m_pool.waitForDone();
}

void QuantLabPanel::buildUi() {
    auto* split = new QSplitter(Qt::Horizontal);
    split->addWidget(buildControls());
    split->addWidget(buildResults());
    split->setStretchFactor(1, 1);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addWidget(split);
}

QWidget* QuantLabPanel::buildControls() {
    auto* box = new QWidget;
    auto* v = new QVBoxLayout(box);
    m_referenceLabel = new QLabel;
    m_referenceLabel->setWordWrap(true);
    m_referenceButton = new QPushButton(tr("Reference…"));
    m_referenceButton->setToolTip(tr("A higher-precision model of the same network to measure against"));
    connect(m_referenceButton, &QPushButton::clicked, this, &QuantLabPanel::chooseReference);
    v->addWidget(m_referenceLabel);
    v->addWidget(m_referenceButton);
    v->addWidget(new QLabel(tr("Types to measure:")));
    m_types = new QListWidget;
    m_types->setMaximumHeight(190);
    for (engine::TensorType t : engine::quantLabTypes()) {
        auto* item = new QListWidgetItem(typeName(t), m_types);
        item->setData(Qt::UserRole, uint(t));
        item->setFlags(item->flags() | Qt::ItemIsUserCheckable);
        item->setCheckState(Qt::Checked);
    }
    connect(m_types, &QListWidget::itemChanged, this, &QuantLabPanel::updateControls);
    v->addWidget(m_types, 1);
    m_analyse = new QPushButton(tr("Analyse"));
    connect(m_analyse, &QPushButton::clicked, this, [this] { analyse(); });
    m_cancel = new QPushButton(tr("Cancel"));
    connect(m_cancel, &QPushButton::clicked, this, &QuantLabPanel::cancel);
    auto* row = new QHBoxLayout;
    row->addWidget(m_analyse);
    row->addWidget(m_cancel);
    v->addLayout(row);
    m_progress = new QProgressBar;
    m_progress->setRange(0, 1000);
    m_progress->setTextVisible(false);
    v->addWidget(m_progress);
    m_statusLabel = new QLabel;
    m_statusLabel->setWordWrap(true);
    m_statusLabel->setObjectName(QStringLiteral("quantLabStatus"));
    v->addWidget(m_statusLabel);
    v->addWidget(new QLabel(tr("Re-quantize to:")));
    m_requantBox = new QComboBox;
    for (engine::TensorType t : engine::quantLabTypes()) m_requantBox->addItem(typeName(t), uint(t));
    for (engine::TensorType t : {engine::TensorType::F16, engine::TensorType::BF16, engine::TensorType::F32})
        m_requantBox->addItem(typeName(t), uint(t));
    m_saveButton = new QPushButton(tr("Save re-quantized model…"));
    connect(m_saveButton, &QPushButton::clicked, this, &QuantLabPanel::chooseRequantizePath);
    v->addWidget(m_requantBox);
    v->addWidget(m_saveButton);
    box->setMaximumWidth(260);
    return box;
}

QWidget* QuantLabPanel::buildResults() {
    auto* box = new QWidget;
    auto* v = new QVBoxLayout(box);
    auto* bar = new QHBoxLayout;
    m_typeBox = new QComboBox;
    m_metricBox = new QComboBox;
    for (engine::QuantMetric m : kMetrics)
        m_metricBox->addItem(QString::fromUtf8(engine::quantMetricName(m)), int(m));
    connect(m_typeBox, &QComboBox::currentIndexChanged, this, &QuantLabPanel::refreshResults);
    connect(m_metricBox, &QComboBox::currentIndexChanged, this, &QuantLabPanel::fillHeatmap);
    bar->addWidget(new QLabel(tr("Type:")));
    bar->addWidget(m_typeBox);
    bar->addWidget(new QLabel(tr("Heatmap metric:")));
    bar->addWidget(m_metricBox);
    bar->addStretch(1);
    bar->addWidget(PanelExport::makeButtons(
        this, QStringLiteral("quant_lab"), false,
        [this](const QString& p, QString* e) { return exportImage(p, e); },
        [this](const QString& p, QString* e) { return exportData(p, e); }));
    v->addLayout(bar);
    m_summary = new QLabel;
    m_summary->setWordWrap(true);
    v->addWidget(m_summary);

    m_table = new QTableWidget(0, ColCount);
    m_table->setHorizontalHeaderLabels({tr("Tensor"), tr("Layer"), tr("Kind"), tr("Measured as"), tr("RMSE"),
                                        tr("Max |err|"), tr("SNR dB"), tr("Cosine"), tr("Bits/weight")});
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::SingleSelection);
    m_table->verticalHeader()->setVisible(false);
    connect(m_table, &QTableWidget::itemSelectionChanged, this, [this] {
        fillOutliers();
        startHistograms();
    });
    m_heatmap = new viz::QuantHeatmapView;
    connect(m_heatmap, &viz::QuantHeatmapView::cellClicked, this, [this](int layer, int column) {
        if (!m_report) return;
        const auto kind = m_heatmap->heatmap().columns[size_t(column)];
        for (const auto& t : m_report->tensors)
            if (t.layer == layer && t.kind == kind) selectTensor(QString::fromStdString(t.name));
    });
    m_histPlot = new QCustomPlot;
    m_histPlot->setMinimumHeight(160);
    m_outliers = new QTableWidget(0, 5);
    m_outliers->setHorizontalHeaderLabels({tr("Row"), tr("Column"), tr("Reference"), tr("Quantized"), tr("Error")});
    m_outliers->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_outliers->verticalHeader()->setVisible(false);

    auto* right = new QSplitter(Qt::Vertical);
    right->addWidget(m_histPlot);
    right->addWidget(m_outliers);
    auto* middle = new QSplitter(Qt::Horizontal);
    middle->addWidget(m_heatmap);
    middle->addWidget(right);
    auto* main = new QSplitter(Qt::Vertical);
    main->addWidget(m_table);
    main->addWidget(middle);
    v->addWidget(main, 1);
    return box;
}

QString QuantLabPanel::referenceText() const {
    if (!m_reference) return tr("reference: F32 dequantized from this model");
    return tr("reference: %1").arg(QFileInfo(QString::fromStdString(m_reference->path())).fileName());
}

QString QuantLabPanel::statusText() const { return m_status; }

std::vector<engine::TensorType> QuantLabPanel::checkedTypes() const {
    std::vector<engine::TensorType> out;
    for (int i = 0; i < m_types->count(); ++i)
        if (m_types->item(i)->checkState() == Qt::Checked)
            out.push_back(engine::TensorType(m_types->item(i)->data(Qt::UserRole).toUInt()));
    return out;
}

void QuantLabPanel::setCheckedTypes(const std::vector<engine::TensorType>& types) {
    for (int i = 0; i < m_types->count(); ++i) {
        const auto t = engine::TensorType(m_types->item(i)->data(Qt::UserRole).toUInt());
        const bool on = std::find(types.begin(), types.end(), t) != types.end();
        m_types->item(i)->setCheckState(on ? Qt::Checked : Qt::Unchecked);
    }
}

void QuantLabPanel::setModel(std::shared_ptr<const engine::Model> model) {
    m_stop.request_stop();
    m_histStop.request_stop();
    ++m_generation;
    ++m_histGeneration;
    m_job = Job::None;
    m_histogramBusy = false;
    m_model = std::move(model);
    m_report.reset();
    m_histograms.reset();
    m_lastError.clear();
    m_status = m_model ? tr("Ready: %1").arg(QFileInfo(QString::fromStdString(m_model->path())).fileName())
                       : tr("No model loaded");
    m_progress->setValue(0);
    refreshResults();
    updateControls();
}

std::stop_token QuantLabPanel::beginJob(Job job, const QString& what) {
    m_stop = std::stop_source();
    ++m_generation;
    m_job = job;
    m_lastError.clear();
    m_status = what;
    m_progress->setValue(0);
    updateControls();
    return m_stop.get_token();
}

void QuantLabPanel::endJob(uint64_t generation, const QString& error) {
    if (generation != m_generation) return;  // superseded
    const Job was = m_job;
    m_job = Job::None;
    m_lastError = error;
    if (!error.isEmpty()) m_status = error;
    else if (was == Job::Requantize) m_status = tr("Re-quantized model written");
    m_progress->setValue(error.isEmpty() ? 1000 : 0);
    updateControls();
    emit jobFinished();
}

void QuantLabPanel::onProgress(uint64_t generation, float fraction, const QString& tensor) {
    if (generation != m_generation || m_job == Job::None) return;
    m_progress->setValue(int(fraction * 1000.0f));
    if (!tensor.isEmpty()) m_statusLabel->setText(tr("%1 %2").arg(m_status, tensor));
}

void QuantLabPanel::loadReference(const QString& path) {
    if (isBusy()) return;
    if (path.isEmpty()) {
        m_reference.reset();
        updateControls();
        return;
    }
    const auto stop = beginJob(Job::Reference, tr("Loading reference %1…").arg(QFileInfo(path).fileName()));
    const uint64_t gen = m_generation;
    m_pool.start([this, gen, stop, file = path.toStdString()] {
        auto loaded = engine::Model::load(file, stop);
        QMetaObject::invokeMethod(this, [this, gen, loaded = std::move(loaded)]() mutable {
            if (loaded) applyReference(gen, *loaded);
            endJob(gen, loaded ? QString() : errorText(loaded.error()));
        }, Qt::QueuedConnection);
    });
}

void QuantLabPanel::applyReference(uint64_t generation, std::shared_ptr<const engine::Model> model) {
    if (generation != m_generation) return;
    m_reference = std::move(model);
    m_status = tr("Reference loaded");
}

bool QuantLabPanel::analyse() {
    const auto types = checkedTypes();
    if (!m_model || types.empty() || isBusy()) return false;
    m_report.reset();
    m_histograms.reset();
    m_reportReference = m_reference;
    refreshResults();
    const auto stop = beginJob(Job::Analysis, tr("Analysing…"));
    const uint64_t gen = m_generation;
    engine::QuantErrorOptions options;
    options.types = types;
    options.tensors = m_tensorFilter;
    m_pool.start([this, gen, stop, options, model = m_model, ref = m_reference]() mutable {
        options.reference = ref.get();
        auto progress = [this, gen](float f, const std::string& tensor) {
            QMetaObject::invokeMethod(this, [this, gen, f, t = QString::fromStdString(tensor)] {
                onProgress(gen, f, t);
            }, Qt::QueuedConnection);
        };
        auto report = engine::analyzeQuantError(*model, options, stop, progress);
        QMetaObject::invokeMethod(this, [this, gen, report = std::move(report)]() mutable {
            if (report) applyReport(gen, std::move(*report));
            endJob(gen, report ? QString() : errorText(report.error()));
        }, Qt::QueuedConnection);
    });
    return true;
}

bool QuantLabPanel::saveRequantized(const QString& path, engine::TensorType type) {
    if (!m_model || isBusy() || path.isEmpty()) return false;
    const auto stop = beginJob(Job::Requantize, tr("Re-quantizing to %1…").arg(typeName(type)));
    const uint64_t gen = m_generation;
    m_pool.start([this, gen, stop, type, model = m_model, file = path.toStdString()] {
        auto progress = [this, gen](float f, const std::string& tensor) {
            QMetaObject::invokeMethod(this, [this, gen, f, t = QString::fromStdString(tensor)] {
                onProgress(gen, f, t);
            }, Qt::QueuedConnection);
        };
        const engine::Status st = engine::requantizeModel(*model, type, file, stop, progress);
        QMetaObject::invokeMethod(this, [this, gen, err = st ? QString() : errorText(st.error())] {
            endJob(gen, err);
        }, Qt::QueuedConnection);
    });
    return true;
}

void QuantLabPanel::cancel() {
    if (!isBusy()) return;
    m_stop.request_stop();
    m_status = tr("Cancelling…");
    updateControls();
}

void QuantLabPanel::updateControls() {
    const bool busy = isBusy();
    m_analyse->setEnabled(m_model && !busy && !checkedTypes().empty());
    m_cancel->setEnabled(busy && !m_stop.stop_requested());
    m_referenceButton->setEnabled(!busy);
    m_saveButton->setEnabled(m_model && !busy);
    m_types->setEnabled(!busy);
    m_referenceLabel->setText(referenceText());
    m_statusLabel->setText(m_status);
}

void QuantLabPanel::chooseReference() {
    const QString path = QFileDialog::getOpenFileName(this, tr("Reference model"), QString(),
                                                      tr("Models (*.gguf *.safetensors);;All files (*)"));
    if (!path.isEmpty()) loadReference(path);
}

void QuantLabPanel::chooseRequantizePath() {
    const auto type = engine::TensorType(m_requantBox->currentData().toUInt());
    QString base = m_model ? QFileInfo(QString::fromStdString(m_model->path())).completeBaseName() : QString();
    const QString path = QFileDialog::getSaveFileName(this, tr("Save re-quantized model"),
                                                      base + QLatin1Char('.') + typeName(type) + ".gguf",
                                                      tr("GGUF models (*.gguf)"));
    if (!path.isEmpty()) saveRequantized(path, type);
}

}  // namespace glassbox::ui
