// ShapesPanel: selectors, the flow of one layer and the details of the
// selected block (weight, statistics, residual histogram).
#include "ui/shapes_panel.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QScrollArea>
#include <QSignalBlocker>
#include <QSpinBox>
#include <QSplitter>
#include <QTableWidget>
#include <QVBoxLayout>
#include <algorithm>
#include <cmath>
#include <qcustomplot.h>
#include <set>

#include "ui/panel_export.h"
#include "viz/shape_flow.h"

namespace glassbox::ui {
namespace {

using engine::ActivationSite;
using engine::OpKind;

constexpr int kHistogramBins = 48;

QString number(float v) { return QString::number(double(v), 'g', 4); }

}  // namespace

ShapesPanel::ShapesPanel(QWidget* parent) : QWidget(parent) { buildUi(); }

void ShapesPanel::buildUi() {
    m_passBox = new QComboBox;
    m_passBox->setObjectName(QStringLiteral("shapesPass"));
    m_passBox->setToolTip(tr("Each prefill micro-batch and each decode step is one pass through the model"));
    m_passBox->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    m_layerBox = new QComboBox;
    m_layerBox->setObjectName(QStringLiteral("shapesLayer"));
    m_layerBox->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    m_layerBox->setToolTip(tr("Every layer has the same steps; their weights' types may differ"));
    m_tokenBox = new QSpinBox;
    m_tokenBox->setObjectName(QStringLiteral("shapesToken"));
    m_tokenBox->setToolTip(tr("The token whose statistics are shown"));
    m_tokenText = new QLabel;
    auto* top = new QHBoxLayout;
    top->addWidget(new QLabel(tr("Pass")));
    top->addWidget(m_passBox);
    top->addSpacing(8);
    top->addWidget(new QLabel(tr("Layer")));
    top->addWidget(m_layerBox);
    top->addSpacing(8);
    top->addWidget(new QLabel(tr("Token")));
    top->addWidget(m_tokenBox);
    top->addWidget(m_tokenText, 1);
    top->addWidget(PanelExport::makeButtons(this, QStringLiteral("shapes"), false,
                                            [this](const QString& p, QString* e) { return exportImage(p, e); },
                                            [this](const QString& p, QString* e) { return exportData(p, e); }));
    m_summary = new QLabel;
    m_summary->setObjectName(QStringLiteral("shapesSummary"));
    m_summary->setWordWrap(true);

    m_flow = new viz::ShapeFlow;
    m_flow->setObjectName(QStringLiteral("shapeFlow"));
    m_flow->setPlaceholder(tr("Run a prompt with capture on to see the shape of every tensor in the forward pass."));
    auto* scroll = new QScrollArea;
    scroll->setWidget(m_flow);
    scroll->setWidgetResizable(false);
    scroll->setAlignment(Qt::AlignHCenter | Qt::AlignTop);
    scroll->setBackgroundRole(QPalette::Base);

    auto* split = new QSplitter(Qt::Horizontal);
    split->addWidget(scroll);
    split->addWidget(buildDetails());
    split->setStretchFactor(0, 3);
    split->setStretchFactor(1, 2);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addLayout(top);
    layout->addWidget(m_summary);
    layout->addWidget(split, 1);

    connect(m_passBox, &QComboBox::currentIndexChanged, this, [this](int i) {
        if (!m_updating) userPickedPass(i);
    });
    connect(m_layerBox, &QComboBox::currentIndexChanged, this, [this](int i) {
        if (!m_updating && i >= 0) setLayer(i);
    });
    connect(m_tokenBox, &QSpinBox::valueChanged, this, [this](int v) {
        if (!m_updating) userPickedPosition(v);
    });
    connect(m_flow, &viz::ShapeFlow::blockSelected, this, [this](int index) {
        m_op = m_flow->blocks()[size_t(index)].op;
        showDetails();
    });
    showDetails();
}

// The right-hand side: the selected block, its weight, its statistics and
// the residual histogram.
QWidget* ShapesPanel::buildDetails() {
    m_blockTitle = new QLabel;
    m_blockTitle->setWordWrap(true);
    m_blockTitle->setTextFormat(Qt::RichText);
    m_weights = new QTableWidget(0, 4);
    m_weights->setObjectName(QStringLiteral("shapesWeights"));
    m_weights->setHorizontalHeaderLabels({tr("Weight"), tr("Shape"), tr("Type"), tr("Bytes")});
    m_weights->horizontalHeader()->setSectionResizeMode(0, QHeaderView::Stretch);
    m_weights->verticalHeader()->hide();
    m_weights->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_weights->setMaximumHeight(72);
    m_stats = new QLabel;
    m_stats->setObjectName(QStringLiteral("shapesStats"));
    m_stats->setWordWrap(true);
    m_stats->setTextFormat(Qt::RichText);
    m_stats->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_histogram = new QCustomPlot;
    m_histogram->setObjectName(QStringLiteral("shapesHistogram"));
    m_histogram->setMinimumHeight(180);
    m_histogram->xAxis->setLabel(tr("value"));
    m_histogram->yAxis->setLabel(tr("dimensions (log)"));
    m_histogram->yAxis->setScaleType(QCPAxis::stLogarithmic);
    m_histogram->yAxis->setTicker(QSharedPointer<QCPAxisTickerLog>::create());
    auto* details = new QWidget;
    auto* detailsLayout = new QVBoxLayout(details);
    detailsLayout->setContentsMargins(4, 0, 0, 0);
    detailsLayout->addWidget(m_blockTitle);
    detailsLayout->addWidget(m_weights);
    detailsLayout->addWidget(m_stats);
    detailsLayout->addWidget(m_histogram, 1);
    return details;
}

void ShapesPanel::setCapture(std::shared_ptr<const engine::Capture> capture, const QStringList& tokenLabels) {
    m_capture = std::move(capture);
    m_labels = tokenLabels;
    const int positions = m_capture ? m_capture->positions() : 0;
    if (m_position >= positions || m_position < 0) m_position = positions - 1;
    if (m_capture) m_layer = std::clamp(m_layer, 0, std::max(0, m_capture->geometry().nLayers - 1));
    {
        QSignalBlocker block(m_tokenBox);
        m_tokenBox->setRange(0, std::max(0, positions - 1));
        m_tokenBox->setValue(std::max(0, m_position));
        m_tokenBox->setEnabled(positions > 0);
    }
    rebuildPasses();
    m_pass = m_capture ? passForPosition(m_capture->passes(), m_position) : -1;
    rebuildLayers();
    rebuildFlow();
}

void ShapesPanel::setSelectedPosition(int position) {
    if (!m_capture || position < 0 || position >= m_capture->positions()) return;
    m_position = position;
    {
        QSignalBlocker block(m_tokenBox);
        m_tokenBox->setValue(position);
    }
    const int pass = passForPosition(m_capture->passes(), position);
    if (pass != m_pass) {
        m_pass = pass;
        rebuildLayers();
        rebuildFlow();
    } else {
        updateTokenLabel();
        showDetails();
    }
}

void ShapesPanel::setLayer(int layer) {
    if (!m_capture || layer < 0 || layer >= m_capture->geometry().nLayers) return;
    m_layer = layer;
    rebuildFlow();
}

void ShapesPanel::setPassIndex(int index) {
    if (!m_capture || index < 0 || index >= passCount()) return;
    const engine::ExecutedPass& p = m_capture->passes()[size_t(index)];
    m_pass = index;
    if (m_position < p.startPos || m_position >= p.startPos + p.nTokens)
        m_position = std::min(p.startPos + p.nTokens, m_capture->positions()) - 1;
    {
        QSignalBlocker block(m_tokenBox);
        m_tokenBox->setValue(std::max(0, m_position));
    }
    rebuildLayers();
    rebuildFlow();
}

int ShapesPanel::passCount() const { return m_capture ? int(m_capture->passes().size()) : 0; }

QString ShapesPanel::passLabel(const engine::ExecutedPass& pass) {
    if (pass.nTokens == 1)
        return pass.startPos == 0 ? tr("prefill token 0") : tr("decode token %1").arg(pass.startPos);
    return tr("prefill tokens %1–%2").arg(pass.startPos).arg(pass.startPos + pass.nTokens - 1);
}

QString ShapesPanel::passLabel(int index) const {
    return index >= 0 && index < passCount() ? passLabel(m_capture->passes()[size_t(index)]) : QString();
}

int ShapesPanel::passForPosition(const std::vector<engine::ExecutedPass>& passes, int position) {
    for (int i = int(passes.size()) - 1; i >= 0; --i) {
        const engine::ExecutedPass& p = passes[size_t(i)];
        if (position >= p.startPos && position < p.startPos + p.nTokens) return i;
    }
    return -1;
}

void ShapesPanel::selectOp(OpKind op) {
    m_op = op;
    m_flow->setSelectedBlock(m_flow->indexOf(op));
    showDetails();
}

std::optional<OpKind> ShapesPanel::selectedOp() const {
    const int i = m_flow->selectedBlock();
    return i >= 0 ? std::optional(m_flow->blocks()[size_t(i)].op) : std::nullopt;
}

QString ShapesPanel::statsText() const { return m_stats->text(); }

QString ShapesPanel::layerLabel(int layer) const {
    return layer >= 0 && layer < m_layerBox->count() ? m_layerBox->itemText(layer) : QString();
}

void ShapesPanel::userPickedPosition(int position) {
    setSelectedPosition(position);
    emit positionSelected(position);
}

void ShapesPanel::userPickedPass(int index) {
    const int before = m_position;
    setPassIndex(index);
    if (m_position != before && m_position >= 0) emit positionSelected(m_position);
}

// Passes only grow while a run streams in, so keep the entries already
// listed when they still match and append the new ones.
void ShapesPanel::rebuildPasses() {
    m_updating = true;
    const std::vector<engine::ExecutedPass> none;
    const auto& passes = m_capture ? m_capture->passes() : none;
    int keep = std::min(m_passBox->count(), int(passes.size()));
    for (int i = 0; i < keep; ++i)
        if (m_passBox->itemText(i) != passLabel(passes[size_t(i)])) keep = i;
    while (m_passBox->count() > keep) m_passBox->removeItem(m_passBox->count() - 1);
    QStringList added;
    for (size_t i = size_t(keep); i < passes.size(); ++i) added << passLabel(passes[i]);
    m_passBox->addItems(added);
    m_passBox->setEnabled(m_passBox->count() > 0);
    m_updating = false;
}

// Layer names carry the types of the weights the layer read in this pass
// ("layer 3 · Q4_1 + Q8_0"), since quantization can differ per layer.
void ShapesPanel::rebuildLayers() {
    m_updating = true;
    const int layers = m_capture ? m_capture->geometry().nLayers : 0;
    std::vector<std::set<QString>> types(size_t(std::max(0, layers)));
    if (m_pass >= 0) {
        for (const engine::OpRecord& r : m_capture->passes()[size_t(m_pass)].ops) {
            if (r.layer < 0 || r.layer >= layers || r.weight < 0) continue;
            const engine::WeightDesc& w = m_capture->weights()[size_t(r.weight)];
            if (w.shape.size() >= 2) types[size_t(r.layer)].insert(viz::weightTypeText(w));
        }
    }
    if (m_layerBox->count() != layers) {
        m_layerBox->clear();
        for (int l = 0; l < layers; ++l) m_layerBox->addItem(QString());
    }
    for (int l = 0; l < layers; ++l) {
        const QStringList names(types[size_t(l)].begin(), types[size_t(l)].end());
        m_layerBox->setItemText(l, names.isEmpty() ? tr("layer %1").arg(l)
                                                   : tr("layer %1 · %2").arg(l).arg(names.join(QStringLiteral(" + "))));
    }
    m_layerBox->setCurrentIndex(layers ? m_layer : -1);
    m_layerBox->setEnabled(layers > 0);
    {
        QSignalBlocker block(m_passBox);
        m_passBox->setCurrentIndex(m_pass);
    }
    m_updating = false;
}

void ShapesPanel::rebuildFlow() {
    {
        QSignalBlocker block(m_layerBox);
        if (m_layer < m_layerBox->count()) m_layerBox->setCurrentIndex(m_layer);
    }
    if (!m_capture || m_pass < 0) {
        m_flow->setPlaceholder(m_capture && !m_capture->options().shapes
                                   ? tr("This run did not record shapes.")
                                   : tr("Run a prompt with capture on to see the shape of every tensor in the "
                                        "forward pass."));
        m_flow->clear();
        m_summary->setText(m_capture && !m_capture->limitMessage().empty()
                               ? QString::fromStdString(m_capture->limitMessage())
                               : QString());
        updateTokenLabel();
        showDetails();
        return;
    }
    const engine::ExecutedPass& pass = m_capture->passes()[size_t(m_pass)];
    m_flow->setBlocks(viz::buildShapeFlow(pass, m_layer, m_capture->weights()), m_capture->geometry().nLayers);
    m_flow->setSelectedBlock(m_op ? m_flow->indexOf(*m_op) : -1);
    QString summary = tr("Pass %1 of %2: %3 · %4 ops recorded · keys attended: %5")
                          .arg(m_pass + 1)
                          .arg(passCount())
                          .arg(passLabel(pass))
                          .arg(pass.ops.size())
                          .arg(pass.startPos + pass.nTokens);
    if (!m_capture->limitMessage().empty()) summary += QStringLiteral(" · ") + QString::fromStdString(m_capture->limitMessage());
    m_summary->setText(summary);
    updateTokenLabel();
    showDetails();
}

void ShapesPanel::updateTokenLabel() {
    if (m_position < 0) return m_tokenText->clear();
    const QString label = m_position < m_labels.size() ? m_labels[m_position] : QString();
    m_tokenText->setText(label.isEmpty() ? QString() : QStringLiteral("“%1”").arg(label.toHtmlEscaped()));
}

void ShapesPanel::showDetails() {
    const int index = m_flow->selectedBlock();
    m_shownStats.reset();
    if (index < 0 || !m_capture) {
        m_blockTitle->setText(tr("<i>Select a block to see its weight and the activations it produced.</i>"));
        m_weights->setRowCount(0);
        m_stats->clear();
        showHistogram(-1);
        return;
    }
    const viz::FlowBlock& b = m_flow->blocks()[size_t(index)];
    QString title = QStringLiteral("<b>%1</b>").arg(b.title.toHtmlEscaped());
    if (b.layer >= 0) title += tr(" · layer %1").arg(b.layer);
    title += b.executed() ? tr("<br>in %1 → out %2").arg(viz::shapeText(b.input), viz::shapeText(b.output))
                          : tr("<br>not computed in this pass");
    m_blockTitle->setText(title);
    const engine::ExecutedPass& pass = m_capture->passes()[size_t(m_pass)];
    showWeight(b.executed() ? &pass.ops[size_t(b.opIndex)] : nullptr);
    showStats(m_layer, b.op);
    showHistogram(m_layer);
}

void ShapesPanel::showWeight(const engine::OpRecord* record) {
    m_weights->setRowCount(0);
    if (!record || record->weight < 0 || size_t(record->weight) >= m_capture->weights().size()) return;
    const engine::WeightDesc& w = m_capture->weights()[size_t(record->weight)];
    m_weights->setRowCount(1);
    const QStringList cells = {QString::fromStdString(w.name), viz::weightShapeText(w), viz::weightTypeText(w),
                               viz::byteText(w.bytes)};
    for (int c = 0; c < cells.size(); ++c) {
        auto* item = new QTableWidgetItem(cells[c]);
        item->setToolTip(cells[c]);
        m_weights->setItem(0, c, item);
    }
    m_weights->resizeColumnsToContents();
}

// Statistics come from the nearest recorded site: the attention output for
// attention steps, the FFN output for feed-forward steps, the residual
// stream after the layer for its last step; the embedding and the output
// head read the residual stream itself.
void ShapesPanel::showStats(int layer, OpKind op) {
    const engine::Capture& cap = *m_capture;
    const int pos = m_position;
    const int nLayers = cap.geometry().nLayers;
    if (pos < 0 || pos >= cap.positions()) return m_stats->setText(tr("<i>No token selected.</i>"));
    if (op == OpKind::Embedding || op == OpKind::FinalNorm || op == OpKind::Logits) {
        if (!cap.options().residuals) return m_stats->setText(tr("<i>The residual stream was not recorded.</i>"));
        const int point = op == OpKind::Embedding ? 0 : nLayers;
        const auto r = cap.residual(point, pos);
        m_shownStats = engine::computeActivationStats(r.data(), int(r.size()));
        m_statsSource = op == OpKind::Embedding ? tr("embedding output") : tr("residual stream after the last layer");
    } else {
        if (!cap.options().activations) return m_stats->setText(tr("<i>Activation statistics were not recorded.</i>"));
        const ActivationSite site = op >= OpKind::FfnNorm && op <= OpKind::DownProj ? ActivationSite::FfnOutput
                                    : op == OpKind::FfnResidual                      ? ActivationSite::Residual
                                                                                     : ActivationSite::AttentionOutput;
        m_shownStats = cap.stats(layer, site, pos);
        m_statsSource = tr("layer %1 %2").arg(layer).arg(QLatin1String(engine::activationSiteName(site)));
    }
    const engine::ActivationStats& s = *m_shownStats;
    QStringList top;
    for (int k = 0; k < engine::kTopDims; ++k)
        if (s.topDim[size_t(k)] >= 0) top << QStringLiteral("d%1 = %2").arg(s.topDim[size_t(k)]).arg(number(s.topValue[size_t(k)]));
    m_stats->setText(tr("<b>Activations</b> at the %1, token %2:<br>"
                        "mean %3 · std %4 · min %5 · max %6 · L2 %7<br>largest |value|: %8")
                         .arg(m_statsSource)
                         .arg(pos)
                         .arg(number(s.mean), number(s.stdev), number(s.min), number(s.max), number(s.l2))
                         .arg(top.join(QStringLiteral(", "))));
}

void ShapesPanel::showHistogram(int layer) {
    m_histogram->clearPlottables();
    m_histCounts.clear();
    const bool ok = layer >= 0 && m_capture && m_capture->options().residuals && m_position >= 0 &&
                    m_position < m_capture->positions();
    if (ok) {
        const auto r = m_capture->residual(layer + 1, m_position);
        const auto [lo, hi] = std::minmax_element(r.begin(), r.end());
        const double min = *lo, span = std::max(1e-6, double(*hi) - min);
        const double width = span / kHistogramBins;
        m_histCounts.assign(kHistogramBins, 0);
        for (float v : r) ++m_histCounts[size_t(std::min(kHistogramBins - 1, int((double(v) - min) / width)))];
        // Counts on a log axis, so the few outlier dimensions stay visible.
        auto* bars = new QCPBars(m_histogram->xAxis, m_histogram->yAxis);
        bars->setBaseValue(0.7);
        QVector<double> keys, values;
        for (int i = 0; i < kHistogramBins; ++i) {
            if (m_histCounts[size_t(i)] == 0) continue;
            keys << min + (i + 0.5) * width;
            values << m_histCounts[size_t(i)];
        }
        bars->setData(keys, values, true);
        bars->setWidth(width);
        bars->setPen(Qt::NoPen);
        bars->setBrush(palette().color(QPalette::Highlight));
        bars->setName(tr("residual after layer %1, token %2").arg(layer).arg(m_position));
        m_histogram->xAxis->setRange(min - width, min + span + width);
        m_histogram->yAxis->setRange(0.7, *std::max_element(m_histCounts.begin(), m_histCounts.end()) * 1.6);
        m_histogram->xAxis->setLabel(tr("residual stream after layer %1 · token %2 (%3 values)")
                                         .arg(layer)
                                         .arg(m_position)
                                         .arg(r.size()));
    } else {
        m_histogram->xAxis->setLabel(tr("value"));
    }
    m_histogram->replot();
}

}  // namespace glassbox::ui
