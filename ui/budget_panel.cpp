// BudgetPanel: the controls, the sources (the loaded model, or a file read
// on the worker thread) and replanning when anything changes.
#include "ui/budget_panel.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDir>
#include <QDoubleSpinBox>
#include <QElapsedTimer>
#include <QEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QFontDatabase>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QMenu>
#include <QPlainTextEdit>
#include <QPointer>
#include <QPushButton>
#include <QSignalBlocker>
#include <QSlider>
#include <QSpinBox>
#include <QSplitter>
#include <QTableWidget>
#include <QToolButton>
#include <QVBoxLayout>
#include <cmath>
#include <thread>

#include "engine/model.h"
#include "ui/error_text.h"
#include "ui/panel_export.h"

namespace glassbox::ui {
namespace {

using engine::TensorType;

constexpr int kSliderSteps = 8;  // slider positions per doubling of the context
constexpr int kDefaultContext = 4096;
constexpr int kAsInFile = -1;
constexpr int kBudgetNameRole = Qt::UserRole + 1;  // "available RAM", "RTX 4060 8 GB, what if"

const TensorType kWhatIfWeightTypes[] = {TensorType::F32,  TensorType::F16,  TensorType::BF16, TensorType::Q8_0,
                                         TensorType::Q6_K, TensorType::Q5_K, TensorType::Q5_1, TensorType::Q5_0,
                                         TensorType::Q4_K, TensorType::Q4_1, TensorType::Q4_0, TensorType::Q3_K,
                                         TensorType::Q2_K};

int sliderFromContext(int context) { return int(std::lround(kSliderSteps * std::log2(double(std::max(context, 1))))); }

// Powers of two land exactly; in between, a multiple of 256 tokens.
int contextFromSlider(int position) {
    const double raw = std::exp2(double(position) / kSliderSteps);
    if (position % kSliderSteps == 0) return int(std::lround(raw));
    return std::max(viz::kBudgetChartMinContext, int(std::lround(raw / 256.0)) * 256);
}

QString bytesText(uint64_t bytes) { return QString::fromStdString(engine::formatBytes(bytes)); }

// The file the planner should read for `path`: a checkpoint's folder when
// the path is its index or one shard of a sharded checkpoint.
QString resolvePlanPath(const QString& path) {
    const QFileInfo info(path);
    if (info.fileName() == QLatin1String("model.safetensors.index.json")) return info.absolutePath();
    if (info.suffix().compare(QLatin1String("safetensors"), Qt::CaseInsensitive) == 0 &&
        QFileInfo::exists(info.dir().filePath(QStringLiteral("model.safetensors.index.json"))))
        return info.absolutePath();
    return path;
}

}  // namespace

BudgetPanel::BudgetPanel(QWidget* parent) : QWidget(parent) {
    m_pool.setMaxThreadCount(1);
    buildUi();
    connectControls();
    clearViews();
}

BudgetPanel::~BudgetPanel() {
    ++m_generation;
    m_pool.waitForDone();
}

void BudgetPanel::buildUi() {
    m_sourceLabel = new QLabel;
    m_sourceLabel->setObjectName(QStringLiteral("budgetSource"));
    m_sourceLabel->setWordWrap(true);
    m_sourceLabel->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_modelButton = new QPushButton(tr("Loaded model"));
    m_modelButton->setObjectName(QStringLiteral("budgetUseModel"));
    m_modelButton->setToolTip(tr("Plan for the model loaded in the workbench"));
    m_modelButton->setEnabled(false);
    m_openButton = new QToolButton;
    m_openButton->setObjectName(QStringLiteral("budgetOpenFile"));
    m_openButton->setText(tr("Plan another file…"));
    m_openButton->setToolTip(tr("A GGUF file, a .safetensors checkpoint or a bare config.json: only its header "
                                "is read"));
    m_openButton->setPopupMode(QToolButton::MenuButtonPopup);
    auto* menu = new QMenu(m_openButton);
    menu->addAction(tr("Model file or config.json…"), this, [this] { askForFile(false); });
    menu->addAction(tr("Safetensors checkpoint folder…"), this, [this] { askForFile(true); });
    m_openButton->setMenu(menu);
    connect(m_openButton, &QToolButton::clicked, this, [this] { askForFile(false); });
    connect(m_modelButton, &QPushButton::clicked, this, &BudgetPanel::useLoadedModel);
    auto* top = new QHBoxLayout;
    top->addWidget(m_sourceLabel, 1);
    top->addWidget(m_modelButton);
    top->addWidget(m_openButton);
    top->addWidget(PanelExport::makeButtons(this, QStringLiteral("memory-budget"), false,
                                            [this](const QString& p, QString* e) { return exportImage(p, e); },
                                            [this](const QString& p, QString* e) { return exportData(p, e); }));
    m_error = new QLabel;
    m_error->setObjectName(QStringLiteral("budgetError"));
    m_error->setWordWrap(true);
    m_error->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_error->setStyleSheet(QStringLiteral("QLabel { background: #fbe3e1; color: #8a1f17; border: 1px solid #e4a29b; "
                                          "border-radius: 3px; padding: 4px; }"));
    m_error->hide();
    auto* split = new QSplitter(Qt::Horizontal);
    split->addWidget(buildControls());
    split->addWidget(buildResults());
    split->setStretchFactor(0, 0);
    split->setStretchFactor(1, 1);
    split->setSizes({330, 900});
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addLayout(top);
    layout->addWidget(m_error);
    layout->addWidget(split, 1);
}

QWidget* BudgetPanel::buildControls() {
    m_weightType = new QComboBox;
    m_weightType->setObjectName(QStringLiteral("budgetWeightType"));
    m_weightType->addItem(tr("As in the file"), kAsInFile);
    for (TensorType t : kWhatIfWeightTypes)
        m_weightType->addItem(tr("%1 (estimated)").arg(QString::fromUtf8(engine::tensorTypeName(t).data())), int(t));
    m_weightType->setToolTip(tr("Another type prices every matrix as if quantized to it (1-D tensors stay F32)"));
    m_kvType = new QComboBox;
    m_kvType->setObjectName(QStringLiteral("budgetKvType"));
    for (TensorType t : {TensorType::F32, TensorType::F16, TensorType::Q8_0, TensorType::Q4_0})
        m_kvType->addItem(QString::fromUtf8(engine::tensorTypeName(t).data()), int(t));
    m_kvType->setCurrentIndex(1);
    m_kvType->setToolTip(tr("How the KV cache stores K and V. Glassbox's CPU backend stores F32 or F16; Q8_0 and "
                            "Q4_0 price what quantized caches of other engines need."));
    m_contextSlider = new QSlider(Qt::Horizontal);
    m_contextSlider->setObjectName(QStringLiteral("budgetContextSlider"));
    m_contextSpin = new QSpinBox;
    m_contextSpin->setObjectName(QStringLiteral("budgetContext"));
    m_contextSpin->setGroupSeparatorShown(true);
    m_contextSpin->setSingleStep(256);
    m_contextSpin->setSuffix(tr(" tokens"));
    m_fullRange = new QCheckBox(tr("up to 1M"));
    m_fullRange->setObjectName(QStringLiteral("budgetFullRange"));
    m_fullRange->setToolTip(tr("Let the context (and the chart) run to the backend's limit of 1,048,576 tokens "
                               "instead of 4 × the training context"));
    auto* contextRow = new QHBoxLayout;
    contextRow->addWidget(m_contextSpin, 1);
    contextRow->addWidget(m_fullRange);
    auto spin = [](const char* name, int lo, int hi, int value) {
        auto* s = new QSpinBox;
        s->setObjectName(QString::fromLatin1(name));
        s->setRange(lo, hi);
        s->setValue(value);
        return s;
    };
    m_sequences = spin("budgetSequences", 1, 64, 1);
    m_sequences->setToolTip(tr("Concurrent sequences (Sessions), each with its own KV cache and scratch, sharing "
                               "one copy of the weights"));
    m_microBatch = spin("budgetMicroBatch", 1, 4096, 256);
    m_microBatch->setToolTip(tr("Prompt rows processed per step; the activation buffers hold this many rows"));
    m_threads = spin("budgetThreads", 0, engine::kPlanMaxThreads, 0);
    m_threads->setSpecialValueText(tr("auto (%1)").arg(std::max(1u, std::thread::hardware_concurrency())));
    m_threads->setToolTip(tr("Each thread keeps its own attention score rows"));
    m_margin = new QDoubleSpinBox;
    m_margin->setObjectName(QStringLiteral("budgetMargin"));
    m_margin->setRange(0, 90);
    m_margin->setDecimals(0);
    m_margin->setValue(10);
    m_margin->setSuffix(tr(" %"));
    m_margin->setToolTip(tr("Part of the budget kept free for the system, other programs and allocator slack"));
    m_budget = new QComboBox;
    m_budget->setObjectName(QStringLiteral("budgetTarget"));
    fillBudgetBox();
    auto* form = new QFormLayout;
    form->addRow(tr("Weights"), m_weightType);
    form->addRow(tr("KV cache"), m_kvType);
    form->addRow(tr("Context"), contextRow);
    form->addRow(QString(), m_contextSlider);
    form->addRow(tr("Sequences"), m_sequences);
    form->addRow(tr("Micro-batch"), m_microBatch);
    form->addRow(tr("Threads"), m_threads);
    form->addRow(tr("Safety margin"), m_margin);
    form->addRow(tr("Budget"), m_budget);
    m_weightTable = new QTableWidget(0, 5);
    m_weightTable->setObjectName(QStringLiteral("budgetWeights"));
    m_weightTable->setHorizontalHeaderLabels({tr("Type"), tr("Tensors"), tr("Elements"), tr("Bytes"), tr("Size")});
    m_weightTable->verticalHeader()->hide();
    m_weightTable->setEditTriggers(QAbstractItemView::NoEditTriggers);
    auto* box = new QWidget;
    auto* layout = new QVBoxLayout(box);
    layout->setContentsMargins(0, 0, 4, 0);
    layout->addLayout(form);
    layout->addWidget(new QLabel(tr("Weights by storage type")));
    layout->addWidget(m_weightTable, 1);
    return box;
}

QWidget* BudgetPanel::buildResults() {
    m_fits = new QLabel;
    m_fits->setObjectName(QStringLiteral("budgetFits"));
    m_fits->setWordWrap(true);
    m_fits->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_chart = new viz::BudgetChart;
    m_chart->setObjectName(QStringLiteral("budgetChart"));
    auto makeTable = [](const char* name, const QStringList& headers) {
        auto* t = new QTableWidget(0, int(headers.size()));
        t->setObjectName(QString::fromLatin1(name));
        t->setHorizontalHeaderLabels(headers);
        t->verticalHeader()->hide();
        t->setEditTriggers(QAbstractItemView::NoEditTriggers);
        t->setSelectionBehavior(QAbstractItemView::SelectRows);
        return t;
    };
    m_planTable = makeTable("budgetPlan", {tr("Item"), tr("Bytes"), tr("Size")});
    m_planTable->horizontalHeader()->setSectionResizeMode(0, QHeaderView::Stretch);
    m_attentionTable = makeTable("budgetAttention", {tr("Layout"), tr("KV heads"), tr("KV bytes / token"),
                                                     tr("KV at context"), QString()});
    m_attentionTable->horizontalHeader()->setSectionResizeMode(4, QHeaderView::Stretch);
    m_formula = new QPlainTextEdit;
    m_formula->setObjectName(QStringLiteral("budgetFormula"));
    m_formula->setReadOnly(true);
    m_formula->setLineWrapMode(QPlainTextEdit::NoWrap);
    m_formula->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    auto* right = new QWidget;
    auto* rightLayout = new QVBoxLayout(right);
    rightLayout->setContentsMargins(0, 0, 0, 0);
    rightLayout->addWidget(new QLabel(tr("Attention layouts for the same model")));
    rightLayout->addWidget(m_attentionTable, 1);
    rightLayout->addWidget(new QLabel(tr("The KV cache, worked out")));
    rightLayout->addWidget(m_formula, 2);
    auto* bottom = new QSplitter(Qt::Horizontal);
    bottom->addWidget(m_planTable);
    bottom->addWidget(right);
    bottom->setSizes({420, 520});
    auto* top = new QWidget;
    auto* topLayout = new QVBoxLayout(top);
    topLayout->setContentsMargins(0, 0, 0, 0);
    topLayout->addWidget(m_fits);
    topLayout->addWidget(m_chart, 1);
    auto* split = new QSplitter(Qt::Vertical);
    split->addWidget(top);
    split->addWidget(bottom);
    split->setStretchFactor(0, 3);
    split->setStretchFactor(1, 2);
    return split;
}

void BudgetPanel::fillBudgetBox() {
    const engine::SystemMemory sys = engine::querySystemMemory();
    const QString from = QString::fromStdString(sys.source);
    auto add = [this](const QString& name, const QString& text, uint64_t bytes, const QString& tip) {
        m_budget->addItem(text, QVariant::fromValue<qulonglong>(bytes));
        m_budget->setItemData(m_budget->count() - 1, name, kBudgetNameRole);
        m_budget->setItemData(m_budget->count() - 1, tip, Qt::ToolTipRole);
    };
    add(tr("available RAM"),
        sys.availableRam ? tr("Available RAM (%1)").arg(bytesText(sys.availableRam)) : tr("Available RAM (unknown)"),
        sys.availableRam, tr("What new allocations can use without swapping, from %1").arg(from));
    add(tr("total RAM"), sys.totalRam ? tr("Total RAM (%1)").arg(bytesText(sys.totalRam)) : tr("Total RAM (unknown)"),
        sys.totalRam, tr("All of the machine's RAM, from %1").arg(from));
    for (const engine::GpuPreset& gpu : engine::commonGpus()) {
        const QString name = QString::fromStdString(gpu.name);
        add(tr("%1, what if").arg(name), tr("What if: %1").arg(name), gpu.bytes,
            tr("%1 bytes of accelerator memory (nominal; drivers keep a little)")
                .arg(QString::fromStdString(engine::formatThousands(gpu.bytes))));
    }
}

QString BudgetPanel::budgetName() const { return m_budget->currentData(kBudgetNameRole).toString(); }

void BudgetPanel::connectControls() {
    auto replanNow = [this] { replan(); };
    connect(m_kvType, &QComboBox::currentIndexChanged, this, replanNow);
    connect(m_budget, &QComboBox::currentIndexChanged, this, replanNow);
    for (QSpinBox* s : {m_sequences, m_microBatch, m_threads})
        connect(s, &QSpinBox::valueChanged, this, replanNow);
    connect(m_margin, &QDoubleSpinBox::valueChanged, this, replanNow);
    connect(m_contextSpin, &QSpinBox::valueChanged, this, [this](int context) {
        const QSignalBlocker block(m_contextSlider);
        m_contextSlider->setValue(sliderFromContext(context));
        replan();
    });
    connect(m_contextSlider, &QSlider::valueChanged, this, [this](int position) {
        m_contextSpin->setValue(std::min(contextFromSlider(position), m_contextSpin->maximum()));
    });
    connect(m_fullRange, &QCheckBox::toggled, this, [this] {
        updateContextRange();
        replan();
    });
    connect(m_weightType, &QComboBox::currentIndexChanged, this, [this] {
        if (!m_fileFootprint) return;
        rebuildFootprint();
        replan();
        showSource();
    });
    updateContextRange();
    setContext(kDefaultContext);
}

int BudgetPanel::contextLimit() const {
    if (m_fullRange && m_fullRange->isChecked()) return engine::kPlanMaxContext;
    const int64_t train = m_fileFootprint ? int64_t(m_fileFootprint->config.nCtxTrain) : 8192;
    return int(std::clamp<int64_t>(4 * train, 1024, engine::kPlanMaxContext));
}

void BudgetPanel::updateContextRange() {
    const int limit = contextLimit();
    const QSignalBlocker blockSpin(m_contextSpin), blockSlider(m_contextSlider);
    m_contextSpin->setRange(viz::kBudgetChartMinContext, limit);
    m_contextSlider->setRange(sliderFromContext(viz::kBudgetChartMinContext), sliderFromContext(limit));
    m_contextSlider->setValue(sliderFromContext(m_contextSpin->value()));
}

void BudgetPanel::setContext(int context) {
    m_contextSpin->setValue(std::clamp(context, m_contextSpin->minimum(), m_contextSpin->maximum()));
}

engine::PlanOptions BudgetPanel::planOptions() const {
    engine::PlanOptions o;
    o.contextSize = m_contextSpin->value();
    o.sequences = m_sequences->value();
    o.microBatch = m_microBatch->value();
    o.threads = m_threads->value();
    o.kvType = TensorType(m_kvType->currentData().toInt());
    o.budgetBytes = m_budget->currentData().toULongLong();
    o.safetyMargin = m_margin->value() / 100.0;
    return o;
}

void BudgetPanel::askForFile(bool folder) {
    const QString start = m_source == Source::File ? QFileInfo(m_sourcePath).absolutePath() : QDir::homePath();
    const QString path =
        folder ? QFileDialog::getExistingDirectory(this, tr("Plan a safetensors checkpoint"), start)
               : QFileDialog::getOpenFileName(this, tr("Plan a model file"), start,
                                              tr("Models and configs (*.gguf *.safetensors *.json);;All files (*)"));
    if (!path.isEmpty()) planFile(path);
}

void BudgetPanel::setModel(std::shared_ptr<const engine::Model> model) {
    m_model = std::move(model);
    m_modelButton->setEnabled(m_model != nullptr);
    if (m_model) {
        useLoadedModel();
        return;
    }
    if (m_source != Source::LoadedModel) return;
    m_source = Source::None;
    m_sourcePath.clear();
    m_fileFootprint.reset();
    m_footprint = {};
    m_plan.reset();
    showError({});
    updateContextRange();
    clearViews();
    emit planChanged();
}

void BudgetPanel::useLoadedModel() {
    if (!m_model) return;
    ++m_generation;  // a file still being read no longer matters
    m_busy = false;
    setSourceFootprint(Source::LoadedModel, QString::fromStdString(m_model->path()),
                       engine::footprintFromModel(*m_model));
}

void BudgetPanel::planFile(const QString& path) {
    const uint64_t generation = ++m_generation;
    m_busy = true;
    showSource();
    QPointer<BudgetPanel> self(this);
    m_pool.start([self, path, generation] {
        const QString planned = resolvePlanPath(path);
        engine::Result<engine::ModelFootprint> result = engine::footprintFromPath(planned.toStdString());
        // The panel waits for this thread in its destructor, so it is alive here.
        QMetaObject::invokeMethod(self.data(), [self, generation, planned, result = std::move(result)]() mutable {
            if (self) self->applyFootprint(generation, planned, std::move(result));
        }, Qt::QueuedConnection);
    });
}

void BudgetPanel::applyFootprint(uint64_t generation, const QString& path,
                                 engine::Result<engine::ModelFootprint> result) {
    if (generation != m_generation) return;  // superseded by a newer request
    m_busy = false;
    if (!result) {
        const QString name = QFileInfo(path).fileName();
        const QString head = m_plan ? tr("Could not plan “%1”; the plan shown is unchanged.").arg(name)
                                    : tr("Could not plan “%1”.").arg(name);
        const QString text = head + QLatin1Char('\n') + ErrorText::detail(result.error());
        showSource();
        showError(text);
        emit planFailed(text);
        return;
    }
    setSourceFootprint(Source::File, path, std::move(*result));
}

void BudgetPanel::setSourceFootprint(Source source, const QString& path, engine::ModelFootprint footprint) {
    m_source = source;
    m_sourcePath = path;
    m_fileFootprint = std::move(footprint);
    {
        const QSignalBlocker block(m_weightType);
        m_weightType->setCurrentIndex(0);
        m_weightType->setItemText(0, m_fileFootprint->weightsEstimated ? tr("As in config.json (estimated)")
                                                                       : tr("As in the file"));
    }
    showError({});
    updateContextRange();
    rebuildFootprint();
    replan();
    showSource();
}

// The footprint with the chosen weight type: the source's own, or one
// estimated from its shapes. A type the shapes cannot take is refused and
// the selector goes back to the type in use.
void BudgetPanel::rebuildFootprint() {
    const int type = m_weightType->currentData().toInt();
    if (type == kAsInFile) {
        showError({});
        m_weightIndex = 0;
        m_footprint = *m_fileFootprint;
        return;
    }
    auto estimated = engine::footprintFromConfig(m_fileFootprint->config, TensorType(type));
    if (!estimated) {
        showError(tr("These weights cannot be stored as %1: %2")
                      .arg(m_weightType->currentText(), ErrorText::detail(estimated.error())));
        const QSignalBlocker block(m_weightType);
        m_weightType->setCurrentIndex(m_weightIndex);
        return;
    }
    showError({});
    m_weightIndex = m_weightType->currentIndex();
    m_footprint = std::move(*estimated);
}

void BudgetPanel::replan() {
    if (!m_fileFootprint) return;
    QElapsedTimer timer;
    timer.start();
    auto plan = engine::planMemory(m_footprint, planOptions());
    if (!plan) {
        showError(tr("These options cannot be planned for this model; the plan shown is unchanged.\n%1")
                      .arg(ErrorText::detail(plan.error())));
        m_optionsError = true;
        return;
    }
    if (m_optionsError) showError({});
    m_optionsError = false;
    m_plan = std::move(*plan);
    const engine::BudgetFit* fit = m_plan->fit ? &*m_plan->fit : nullptr;
    m_chart->setSeries(viz::budgetSeries(m_footprint, m_plan->options, contextLimit(), fit));
    fillWeightTable();
    fillPlanTable();
    fillAttentionTable();
    fillFormula();
    fillFits();
    m_lastReplanMs = double(timer.nsecsElapsed()) / 1e6;
    emit planChanged();
}

void BudgetPanel::showError(const QString& text) {
    m_optionsError = false;
    m_error->setText(text);
    m_error->setVisible(!text.isEmpty());
}

QString BudgetPanel::errorText() const { return m_error->text(); }

void BudgetPanel::changeEvent(QEvent* event) {
    if (event->type() == QEvent::PaletteChange) {
        m_chart->setDark(palette().color(QPalette::Window).lightness() < 128);
        if (m_plan) fillFits();
    }
    QWidget::changeEvent(event);
}

}  // namespace glassbox::ui
