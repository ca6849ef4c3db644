// CompareWidget: lane editors, lane requests and the aligned table.
#include "ui/compare_widget.h"

#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QSplitter>
#include <QTableView>
#include <QToolButton>
#include <QVBoxLayout>

#include "ui/compare_model.h"
#include "ui/sampler_panel.h"
#include "ui/token_cells.h"

namespace glassbox::ui {

CompareWidget::CompareWidget(QWidget* parent) : QWidget(parent) {
    auto* lanesHost = new QWidget;
    m_laneLayout = new QHBoxLayout(lanesHost);
    m_laneLayout->setContentsMargins(0, 0, 0, 0);

    m_maxTokens = new QSpinBox;
    m_maxTokens->setRange(1, 4096);
    m_maxTokens->setValue(32);
    m_maxTokens->setToolTip(tr("Tokens generated in every lane."));
    m_run = new QPushButton(tr("Compare"));
    m_run->setToolTip(tr("Run the Playground's prompt in every lane (Ctrl+Shift+Enter)"));
    m_stop = new QPushButton(tr("Stop"));
    m_stop->setEnabled(false);
    m_add = new QPushButton(tr("Add lane"));
    m_remove = new QPushButton(tr("Remove lane"));
    m_divergence = new QLabel;
    m_divergence->setObjectName(QStringLiteral("compareDivergence"));
    auto* bar = new QHBoxLayout;
    bar->addWidget(new QLabel(tr("<b>Compare</b> the Playground's prompt across settings or models")));
    bar->addStretch(1);
    bar->addWidget(m_add);
    bar->addWidget(m_remove);
    bar->addWidget(new QLabel(tr("Max tokens")));
    bar->addWidget(m_maxTokens);
    bar->addWidget(m_run);
    bar->addWidget(m_stop);

    m_model = new CompareModel(this);
    m_table = new QTableView;
    m_table->setModel(m_model);
    m_table->setSelectionMode(QAbstractItemView::SingleSelection);
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->horizontalHeader()->setSectionResizeMode(QHeaderView::Stretch);
    m_table->verticalHeader()->setDefaultSectionSize(QFontMetrics(font()).height() + 6);
    m_table->setToolTip(tr("Row n holds each lane's n-th generated token; ≠ marks steps where they differ."));

    auto* top = new QWidget;
    auto* topLayout = new QVBoxLayout(top);
    topLayout->setContentsMargins(0, 0, 0, 0);
    topLayout->addLayout(bar);
    topLayout->addWidget(lanesHost);
    auto* bottom = new QWidget;
    auto* bottomLayout = new QVBoxLayout(bottom);
    bottomLayout->setContentsMargins(0, 0, 0, 0);
    bottomLayout->addWidget(m_divergence);
    bottomLayout->addWidget(m_table, 1);
    auto* split = new QSplitter(Qt::Vertical);
    split->addWidget(top);
    split->addWidget(bottom);
    split->setStretchFactor(1, 1);
    split->setChildrenCollapsible(false);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(6, 6, 6, 6);
    layout->addWidget(split);

    connect(m_table, &QTableView::clicked, this, [this](const QModelIndex& index) {
        if (index.isValid() && index.row() < m_model->laneLength(index.column()))
            emit tokenSelected(index.column(), index.row());
    });
    connect(m_run, &QPushButton::clicked, this, &CompareWidget::compareRequested);
    connect(m_stop, &QPushButton::clicked, this, &CompareWidget::stopRequested);
    connect(m_add, &QPushButton::clicked, this, &CompareWidget::addLane);
    connect(m_remove, &QPushButton::clicked, this, &CompareWidget::removeLane);

    setLaneCount(2);
    engine::SamplerSettings greedy;
    greedy.temperature = 0.0f;
    laneSettings(0)->setSettings(greedy);
    engine::SamplerSettings hot;
    hot.temperature = 1.3f;
    hot.topK = 0;
    hot.topP = 1.0f;
    hot.minP = 0.0f;
    hot.seed = 42;
    laneSettings(1)->setSettings(hot);
}

void CompareWidget::addLane() {
    if (laneCount() >= kMaxLanes) return;
    Lane lane;
    const QString name = QString(QChar('A' + laneCount()));
    auto* box = new QGroupBox(tr("Lane %1").arg(name));
    auto* layout = new QVBoxLayout(box);
    layout->setContentsMargins(6, 6, 6, 6);
    lane.settings = new SamplerPanel;
    lane.settings->setCompact(true);
    lane.modelLabel = new QLabel(tr("Model: the loaded model"));
    lane.modelLabel->setWordWrap(true);
    auto* pick = new QToolButton;
    pick->setText(tr("Other model…"));
    pick->setToolTip(tr("Run this lane on a different model file (to compare two models)."));
    auto* useCurrent = new QToolButton;
    useCurrent->setText(tr("Loaded model"));
    auto* modelRow = new QHBoxLayout;
    modelRow->addWidget(lane.modelLabel, 1);
    modelRow->addWidget(useCurrent);
    modelRow->addWidget(pick);
    layout->addLayout(modelRow);
    layout->addWidget(lane.settings);
    lane.box = box;
    const int index = laneCount();
    connect(pick, &QToolButton::clicked, this, [this, index] {
        const QString path = QFileDialog::getOpenFileName(this, tr("Model for this lane"), QString(),
                                                          tr("Models (*.gguf *.safetensors);;All files (*)"));
        if (!path.isEmpty()) setLaneModelPath(index, path);
    });
    connect(useCurrent, &QToolButton::clicked, this, [this, index] { setLaneModelPath(index, QString()); });
    m_laneLayout->addWidget(box, 1);
    m_lanes.push_back(lane);
    m_add->setEnabled(laneCount() < kMaxLanes);
    m_remove->setEnabled(laneCount() > kMinLanes);
}

void CompareWidget::removeLane() {
    if (laneCount() <= kMinLanes) return;
    delete m_lanes.back().box;
    m_lanes.pop_back();
    m_add->setEnabled(laneCount() < kMaxLanes);
    m_remove->setEnabled(laneCount() > kMinLanes);
}

void CompareWidget::setLaneCount(int count) {
    count = std::clamp(count, kMinLanes, kMaxLanes);
    while (laneCount() < count) addLane();
    while (laneCount() > count) removeLane();
}

SamplerPanel* CompareWidget::laneSettings(int lane) const { return m_lanes[size_t(lane)].settings; }

QString CompareWidget::laneModelPath(int lane) const { return m_lanes[size_t(lane)].modelPath; }

void CompareWidget::setLaneModelPath(int lane, const QString& path) {
    Lane& l = m_lanes[size_t(lane)];
    l.modelPath = path;
    l.modelLabel->setText(path.isEmpty() ? tr("Model: the loaded model")
                                         : tr("Model: %1").arg(QFileInfo(path).fileName()));
    l.modelLabel->setToolTip(path);
}

int CompareWidget::maxTokens() const { return m_maxTokens->value(); }
void CompareWidget::setMaxTokens(int tokens) { m_maxTokens->setValue(tokens); }

QString CompareWidget::settingsSummary(int lane) const {
    const engine::SamplerSettings s = laneSettings(lane)->settings();
    QString text = s.temperature == 0.0f ? tr("greedy") : tr("T %1").arg(double(s.temperature), 0, 'g', 3);
    if (s.temperature != 0.0f) {
        if (s.topK > 0) text += tr(" · k %1").arg(s.topK);
        if (s.topP < 1.0f) text += tr(" · p %1").arg(double(s.topP), 0, 'g', 3);
        if (s.minP > 0.0f) text += tr(" · min-p %1").arg(double(s.minP), 0, 'g', 3);
        if (s.seed != engine::SamplerSettings::kRandomSeed) text += tr(" · seed %1").arg(s.seed);
    }
    const QString model = laneModelPath(lane);
    if (!model.isEmpty()) text += QStringLiteral(" · ") + QFileInfo(model).fileName();
    return text;
}

QString CompareWidget::laneTitle(int lane) const {
    return QStringLiteral("%1: %2").arg(QChar('A' + lane)).arg(settingsSummary(lane));
}

std::vector<GenerationLane> CompareWidget::buildLanes(const std::vector<int32_t>& prompt, const std::string& text,
                                                      bool chat, const std::vector<std::string>& extraStops,
                                                      std::shared_ptr<const engine::Model> model) const {
    std::vector<GenerationLane> lanes;
    for (int i = 0; i < laneCount(); ++i) {
        GenerationLane lane;
        lane.request.prompt = prompt;
        lane.request.sampling = laneSettings(i)->settings();
        lane.request.sampling.maxTokens = maxTokens();
        for (const auto& stop : extraStops) {
            if (lane.request.sampling.stopStrings.size() < engine::SamplerSettings::kMaxStopStrings)
                lane.request.sampling.stopStrings.push_back(stop);
        }
        lane.modelPath = laneModelPath(i);
        if (lane.modelPath.isEmpty()) {
            lane.model = model;
        } else {
            lane.promptText = text;
            lane.promptHasSpecialTokens = chat;
        }
        lanes.push_back(std::move(lane));
    }
    return lanes;
}

void CompareWidget::begin(std::shared_ptr<const engine::Model> model) {
    m_tokensModel = std::move(model);
    QStringList titles;
    for (int i = 0; i < laneCount(); ++i) titles << laneTitle(i);
    m_model->reset(titles);
    updateDivergence();
}

void CompareWidget::appendTokens(int lane, const TokenBatch& tokens) {
    const bool sameModel = lane < laneCount() && laneModelPath(lane).isEmpty();
    m_model->append(lane, TokenCells::forGenerated(sameModel ? TokenCells::tokenizerOf(m_tokensModel) : nullptr, tokens));
    updateDivergence();
}

void CompareWidget::finishLane(int lane, const LaneOutcome& outcome) {
    if (lane < 0 || lane >= laneCount()) return;
    QString title = laneTitle(lane);
    if (!outcome.ok) title += tr(" — failed");
    else title += tr(" — %1 tok/s").arg(outcome.decodeTokensPerSecond, 0, 'f', 1);
    m_model->setLaneTitle(lane, title);
}

void CompareWidget::setRunning(bool running) {
    m_stop->setEnabled(running);
    m_add->setEnabled(!running && laneCount() < kMaxLanes);
    m_remove->setEnabled(!running && laneCount() > kMinLanes);
}

void CompareWidget::setDark(bool dark) { m_model->setDark(dark); }

QString CompareWidget::divergenceText() const { return m_divergence->text(); }

void CompareWidget::updateDivergence() {
    const int step = m_model->firstDivergence();
    if (m_model->rowCount() == 0) m_divergence->setText(tr("Press Compare to run every lane."));
    else if (step < 0) m_divergence->setText(tr("The lanes agree on every step so far."));
    else m_divergence->setText(tr("The lanes first differ at step %1.").arg(step));
}

}  // namespace glassbox::ui
