// AttentionPanel: controls, the three views, the summary charts, and the
// request / frame cycle that keeps the UI thread free while maps compute.
#include "ui/attention_panel.h"

#include <QButtonGroup>
#include <QCheckBox>
#include <QComboBox>
#include <QEvent>
#include <QFileDialog>
#include <QHBoxLayout>
#include <QLabel>
#include <QMessageBox>
#include <QSignalBlocker>
#include <QSpinBox>
#include <QSplitter>
#include <QStackedWidget>
#include <QToolButton>
#include <QVBoxLayout>
#include <algorithm>

#include "ui/attention_export.h"
#include "viz/attention_heatmap.h"
#include "viz/attention_lines.h"
#include "viz/head_grid.h"
#include "viz/head_stats_chart.h"

namespace glassbox::ui {
namespace {

constexpr int kThumbnailSide = 96;

QString headName(int head) {
    if (head == kMeanOverHeads) return QStringLiteral("mean");
    if (head == kMaxOverHeads) return QStringLiteral("max");
    return QString::number(head);
}

}  // namespace

AttentionPanel::AttentionPanel(QWidget* parent) : QWidget(parent) {
    m_maps = new AttentionMaps(this);
    m_heatmap = new viz::AttentionHeatmap;
    m_lines = new viz::AttentionLines;
    m_grid = new viz::HeadGrid;
    m_stack = new QStackedWidget;
    m_stack->addWidget(m_heatmap);
    m_stack->addWidget(m_lines);
    m_stack->addWidget(m_grid);
    m_info = new QLabel;
    m_info->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_statusLabel = new QLabel;
    m_statusLabel->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_statusLabel->setMinimumWidth(100);

    auto* splitter = new QSplitter(Qt::Vertical);
    splitter->addWidget(m_stack);
    splitter->addWidget(buildCharts());
    splitter->setStretchFactor(0, 3);
    splitter->setStretchFactor(1, 1);

    auto* infoRow = new QHBoxLayout;
    infoRow->addWidget(m_info);
    infoRow->addStretch(1);
    infoRow->addWidget(m_statusLabel, 2);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addWidget(buildControls());
    layout->addLayout(infoRow);
    layout->addWidget(splitter, 1);
    connectViews();
    setCapture(nullptr, {});
}

QWidget* AttentionPanel::buildControls() {
    auto* bar = new QWidget;
    auto* row = new QHBoxLayout(bar);
    row->setContentsMargins(0, 0, 0, 0);
    m_layerBox = new QSpinBox;
    m_layerBox->setToolTip(tr("Transformer layer"));
    m_headBox = new QComboBox;
    m_headBox->setToolTip(tr("Query head, or the mean / max over all heads of the layer"));
    m_valuesBox = new QComboBox;
    m_valuesBox->addItems({tr("probabilities"), tr("scores (pre-softmax)")});
    m_valuesBox->setToolTip(tr("Attention probabilities, or the scaled scores q·k/√d before the softmax"));
    m_logBox = new QCheckBox(tr("log scale"));
    row->addWidget(new QLabel(tr("Layer")));
    row->addWidget(m_layerBox);
    row->addWidget(new QLabel(tr("Head")));
    row->addWidget(m_headBox);
    row->addWidget(m_valuesBox);
    row->addWidget(m_logBox);
    auto* group = new QButtonGroup(bar);
    const QString names[3] = {tr("Map"), tr("Lines"), tr("Heads")};
    for (int i = 0; i < 3; ++i) {
        m_viewButtons[i] = new QToolButton;
        m_viewButtons[i]->setText(names[i]);
        m_viewButtons[i]->setCheckable(true);
        group->addButton(m_viewButtons[i], i);
        row->addWidget(m_viewButtons[i]);
    }
    m_viewButtons[0]->setChecked(true);
    connect(group, &QButtonGroup::idClicked, this, [this](int id) { setView(View(id)); });
    auto* topN = new QSpinBox;
    topN->setRange(2, 200);
    topN->setValue(m_lines->topN());
    topN->setPrefix(tr("top "));
    topN->setToolTip(tr("How many of the strongest keys the lines view draws"));
    connect(topN, &QSpinBox::valueChanged, m_lines, &viz::AttentionLines::setTopN);
    row->addWidget(topN);
    row->addStretch(1);
    auto* exportImage = new QToolButton;
    exportImage->setText(tr("Export image…"));
    exportImage->setToolTip(tr("Save the current view as PNG or SVG"));
    auto* exportData = new QToolButton;
    exportData->setText(tr("Export data…"));
    exportData->setToolTip(tr("Save the current matrix as CSV, JSON or NumPy .npy"));
    row->addWidget(exportImage);
    row->addWidget(exportData);
    connect(exportImage, &QToolButton::clicked, this, [this] { chooseExport(true); });
    connect(exportData, &QToolButton::clicked, this, [this] { chooseExport(false); });
    connect(m_layerBox, &QSpinBox::valueChanged, this, &AttentionPanel::setLayer);
    connect(m_headBox, &QComboBox::currentIndexChanged, this,
            [this](int i) { if (i >= 0) setHead(m_headBox->itemData(i).toInt()); });
    connect(m_valuesBox, &QComboBox::currentIndexChanged, this, [this](int i) { setProbabilities(i == 0); });
    connect(m_logBox, &QCheckBox::toggled, this, &AttentionPanel::setLogScale);
    return bar;
}

QWidget* AttentionPanel::buildCharts() {
    auto* box = new QWidget;
    auto* row = new QHBoxLayout(box);
    row->setContentsMargins(0, 0, 0, 0);
    m_entropy = new viz::HeadStatsChart;
    m_sink = new viz::HeadStatsChart;
    m_entropy->setToolTip(tr("Mean entropy of each head's attention rows (nats): low = focused, high = spread out"));
    m_sink->setToolTip(tr("Mean attention each head puts on the first token (the \"attention sink\")"));
    row->addWidget(m_entropy);
    row->addWidget(m_sink);
    for (viz::HeadStatsChart* chart : {m_entropy, m_sink}) {
        connect(chart, &viz::HeadStatsChart::cellClicked, this, [this](int layer, int head) {
            setLayer(layer);
            setHead(head);
        });
    }
    return box;
}

void AttentionPanel::connectViews() {
    connect(m_maps, &AttentionMaps::frameReady, this,
            [this](const AttentionKey& key, const viz::AttentionFrame& frame, uint64_t) { onFrame(key, frame); });
    connect(m_maps, &AttentionMaps::thumbnailReady, this, [this](int layer, int head, const QImage& image) {
        if (layer == m_grid->layer()) m_grid->setThumbnail(head, image);
    });
    connect(m_maps, &AttentionMaps::failed, this, [this](const QString& message) {
        m_pending = false;
        m_status = message;
        m_statusLabel->setText(message);
    });
    connect(m_heatmap, &viz::AttentionHeatmap::rowSelected, this, &AttentionPanel::selectPosition);
    connect(m_lines, &viz::AttentionLines::positionClicked, this, &AttentionPanel::selectPosition);
    connect(m_heatmap, &viz::AttentionHeatmap::cellHovered, this, [this](int row, int, const QString& text) {
        m_statusLabel->setText(row >= 0 ? text : m_status);
    });
    connect(m_grid, &viz::HeadGrid::headSelected, this, [this](int head) {
        setHead(head);
        setView(View::Map);
    });
}

void AttentionPanel::setCapture(std::shared_ptr<const engine::Capture> capture, const QStringList& tokenLabels) {
    if (capture && !capture->options().attention) capture = nullptr;
    m_maps->setCapture(std::move(capture));
    m_labels = tokenLabels;
    m_heatmap->setLabels(m_labels);
    m_lines->setLabels(m_labels);
    m_heatmap->clear();
    m_lines->clear();
    m_grid->clear();
    m_gridLayer = -1;
    m_pending = false;
    const auto& cap = m_maps->capture();
    const int layers = cap ? cap->geometry().nLayers : 0;
    {
        const QSignalBlocker block(m_layerBox);
        m_layerBox->setRange(0, std::max(0, layers - 1));
        m_key.layer = std::clamp(m_key.layer, 0, std::max(0, layers - 1));
        m_layerBox->setValue(m_key.layer);
    }
    if (m_key.head >= nHeads()) m_key.head = 0;
    fillHeadChoices();
    fillSummaries();
    if (m_position >= m_maps->positions()) m_position = -1;
    m_status = !cap ? tr("No attention captured for this run")
                    : QString::fromStdString(cap->limitMessage());
    m_statusLabel->setText(m_status);
    updateInfo();
    requestMap();
}

void AttentionPanel::fillHeadChoices() {
    const QSignalBlocker block(m_headBox);
    m_headBox->clear();
    m_headBox->addItem(tr("mean over heads"), kMeanOverHeads);
    m_headBox->addItem(tr("max over heads"), kMaxOverHeads);
    const auto& cap = m_maps->capture();
    for (int h = 0; h < nHeads(); ++h)
        m_headBox->addItem(tr("head %1 · KV %2").arg(h).arg(cap->geometry().kvHeadOf(h)), h);
    m_headBox->setCurrentIndex(std::max(0, m_headBox->findData(m_key.head)));
}

void AttentionPanel::fillSummaries() {
    const auto& cap = m_maps->capture();
    const int n = cap ? cap->positions() : 0;
    if (!cap || n == 0 || nHeads() == 0) {
        m_entropy->clearValues();
        m_sink->clearValues();
        return;
    }
    const int layers = cap->geometry().nLayers, heads = nHeads();
    std::vector<double> entropy(size_t(layers) * size_t(heads)), sink(entropy.size());
    for (int l = 0; l < layers; ++l) {
        for (int h = 0; h < heads; ++h) {
            double e = 0, s = 0;
            for (int p = 0; p < n; ++p) {
                const engine::AttentionRowSummary& r = cap->rowSummary(l, p, h);
                e += r.entropy;
                s += r.sink;
            }
            entropy[size_t(l) * size_t(heads) + size_t(h)] = e / n;
            sink[size_t(l) * size_t(heads) + size_t(h)] = s / n;
        }
    }
    m_entropy->setValues(tr("Entropy per head (nats, mean over positions)"), tr("nats"), layers, heads,
                         std::move(entropy));
    m_sink->setValues(tr("Attention to the first token (mean)"), tr("of the weight"), layers, heads, std::move(sink));
    m_entropy->setCurrent(m_key.layer, m_key.head);
    m_sink->setCurrent(m_key.layer, m_key.head);
}

int AttentionPanel::nHeads() const {
    const auto& cap = m_maps->capture();
    return cap ? cap->geometry().nHead : 0;
}

bool AttentionPanel::dark() const { return palette().color(QPalette::Window).lightness() < 128; }

void AttentionPanel::setSelectedPosition(int pos) {
    if (pos < -1 || pos >= m_maps->positions()) pos = -1;
    m_position = pos;
    m_heatmap->setSelectedRow(pos);
    updateLines();
}

void AttentionPanel::selectPosition(int pos) {
    setSelectedPosition(pos);
    emit positionSelected(pos);
}

void AttentionPanel::setLayer(int layer) {
    const auto& cap = m_maps->capture();
    if (!cap || layer < 0 || layer >= cap->geometry().nLayers || layer == m_key.layer) return;
    m_key.layer = layer;
    const QSignalBlocker block(m_layerBox);
    m_layerBox->setValue(layer);
    requestMap();
}

void AttentionPanel::setHead(int head) {
    if (head < kMaxOverHeads || head >= nHeads() || head == m_key.head) return;
    m_key.head = head;
    const QSignalBlocker block(m_headBox);
    m_headBox->setCurrentIndex(std::max(0, m_headBox->findData(head)));
    requestMap();
}

void AttentionPanel::setProbabilities(bool probabilities) {
    if (probabilities == m_key.probabilities) return;
    m_key.probabilities = probabilities;
    const QSignalBlocker block(m_valuesBox);
    m_valuesBox->setCurrentIndex(probabilities ? 0 : 1);
    m_logBox->setEnabled(probabilities);
    requestMap();
}

void AttentionPanel::setLogScale(bool log) {
    if (log == m_log) return;
    m_log = log;
    const QSignalBlocker block(m_logBox);
    m_logBox->setChecked(log);
    requestMap();
}

void AttentionPanel::setView(View view) {
    m_stack->setCurrentIndex(int(view));
    m_viewButtons[int(view)]->setChecked(true);
    if (view == View::Lines) updateLines();
}

AttentionPanel::View AttentionPanel::view() const { return View(m_stack->currentIndex()); }

void AttentionPanel::requestMap() {
    m_heatmap->setSelectedRow(m_position);
    m_grid->setSelectedHead(m_key.head);
    updateInfo();
    if (m_maps->positions() == 0) {
        m_pending = false;
        return;
    }
    m_clock.restart();
    m_pending = true;
    m_maps->request(m_key, m_log, dark());
    prefetch();
}

void AttentionPanel::prefetch() {
    if (m_gridLayer == m_key.layer && m_gridProbabilities == m_key.probabilities && m_gridLog == m_log) return;
    m_gridLayer = m_key.layer;
    m_gridProbabilities = m_key.probabilities;
    m_gridLog = m_log;
    const auto& cap = m_maps->capture();
    std::vector<int> kvOf;
    for (int h = 0; h < nHeads(); ++h) kvOf.push_back(cap->geometry().kvHeadOf(h));
    m_grid->setHeads(m_key.layer, std::move(kvOf));
    m_grid->setSelectedHead(m_key.head);
    // After this layer's heads, the same head one layer up and down, so
    // stepping through layers usually finds its map ready.
    std::vector<AttentionKey> warm;
    if (m_key.head >= 0) {
        warm.push_back({m_key.layer + 1, m_key.head, m_key.probabilities});
        warm.push_back({m_key.layer - 1, m_key.head, m_key.probabilities});
    }
    m_maps->prefetchLayer(m_key.layer, m_key.probabilities, m_log, dark(), kThumbnailSide, std::move(warm));
}

void AttentionPanel::onFrame(const AttentionKey& key, const viz::AttentionFrame& frame) {
    if (!(key == m_key)) return;
    m_heatmap->setFrame(frame);
    updateLines();
    if (m_stack->currentWidget()->isVisible()) m_stack->currentWidget()->repaint();
    m_lastRedrawMs = double(m_clock.nsecsElapsed()) / 1e6;
    m_pending = false;
    m_status = tr("layer %1, head %2: %3 × %3 in %4 ms")
                   .arg(key.layer)
                   .arg(headName(key.head))
                   .arg(frame.n)
                   .arg(m_lastRedrawMs, 0, 'f', 1);
    m_statusLabel->setText(m_status);
    // The charts' frames move after the map is on screen: their replots
    // would otherwise run first and delay it.
    m_entropy->setCurrent(key.layer, key.head);
    m_sink->setCurrent(key.layer, key.head);
    emit mapUpdated();
}

int AttentionPanel::queryRow() const {
    const int n = m_heatmap->frame().n;
    return m_position >= 0 && m_position < n ? m_position : n - 1;
}

void AttentionPanel::updateLines() {
    const viz::AttentionFrame& f = m_heatmap->frame();
    const int q = queryRow();
    if (f.isNull() || q < 0) {
        m_lines->clear();
        return;
    }
    const float* row = f.values->data() + size_t(q) * size_t(f.n);
    m_lines->setRow(q, std::vector<float>(row, row + q + 1), f.scale.probabilities, f.scale.dark);
}

QString AttentionPanel::gqaText() const {
    const auto& cap = m_maps->capture();
    if (!cap) return {};
    const engine::CaptureGeometry& g = cap->geometry();
    const int group = g.nHeadKv > 0 ? g.nHead / g.nHeadKv : 1;
    if (m_key.head < 0)
        return tr("%1 over %2 heads; %3 KV heads, each read by %4 heads")
            .arg(headName(m_key.head))
            .arg(g.nHead)
            .arg(g.nHeadKv)
            .arg(group);
    if (group <= 1) return tr("head %1 has its own KV head").arg(m_key.head);
    const int kv = g.kvHeadOf(m_key.head);
    return tr("head %1 reads KV head %2 (shared by heads %3–%4)")
        .arg(m_key.head)
        .arg(kv)
        .arg(kv * group)
        .arg(kv * group + group - 1);
}

QString AttentionPanel::statusText() const { return m_statusLabel->text(); }

void AttentionPanel::updateInfo() { m_info->setText(gqaText()); }

bool AttentionPanel::exportImage(const QString& path, QString* error) {
    if (m_heatmap->frame().isNull()) {
        if (error) *error = tr("There is no attention map to export.");
        return false;
    }
    QWidget* current = m_stack->currentWidget();
    // The map is square; the other views take the shape they have on screen.
    const QSize size = current == m_heatmap ? QSize(900, 940) : current->size().expandedTo(QSize(800, 800));
    return writeAttentionImage(path, size, [this, current](QPainter& p, const QRect& r) {
        if (current == m_lines)
            m_lines->paintTo(p, r);
        else if (current == m_grid)
            m_grid->paintTo(p, r);
        else
            m_heatmap->paintTo(p, r);
    }, error);
}

bool AttentionPanel::exportData(const QString& path, QString* error) {
    if (!m_maps->capture() || m_maps->positions() == 0) {
        if (error) *error = tr("There is no attention map to export.");
        return false;
    }
    auto values = m_maps->compute(m_key);
    if (!values) {
        if (error) *error = QString::fromStdString(values.error().toString());
        return false;
    }
    const AttentionExportInfo info{m_key.layer, headName(m_key.head), m_key.probabilities};
    return writeAttentionData(path, **values, m_maps->positions(), m_labels, info, error);
}

void AttentionPanel::chooseExport(bool image) {
    const QString base = QStringLiteral("attention-L%1-H%2").arg(m_key.layer).arg(headName(m_key.head));
    const QString path =
        image ? QFileDialog::getSaveFileName(this, tr("Export attention image"), base + QStringLiteral(".png"),
                                             tr("PNG image (*.png);;SVG drawing (*.svg)"))
              : QFileDialog::getSaveFileName(this, tr("Export attention data"), base + QStringLiteral(".csv"),
                                             tr("CSV table (*.csv);;JSON (*.json);;NumPy array (*.npy)"));
    if (path.isEmpty()) return;
    QString error;
    if (!(image ? exportImage(path, &error) : exportData(path, &error)))
        QMessageBox::warning(this, tr("Export failed"), error);
}

void AttentionPanel::changeEvent(QEvent* event) {
    QWidget::changeEvent(event);
    if (event->type() != QEvent::PaletteChange) return;
    m_entropy->setDark(dark());
    m_sink->setDark(dark());
    m_gridLayer = -1;
    requestMap();
}

}  // namespace glassbox::ui
