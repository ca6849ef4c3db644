// BudgetChart: the planner's byte counts as stacked areas on a log2
// context axis, with the budget line and the fit markers.
#include "viz/budget_chart.h"

#include <algorithm>
#include <cmath>

namespace glassbox::viz {
namespace {

const QColor kWeightColor(0x5b, 0x7f, 0xa6);
const QColor kKvColor(0xe0, 0x8a, 0x2e);
const QColor kScratchColor(0x5c, 0xa8, 0x6e);

QString contextLabel(int64_t tokens) {
    if (tokens >= (1 << 20) && tokens % (1 << 20) == 0) return QStringLiteral("%1M").arg(tokens >> 20);
    if (tokens >= 1024 && tokens % 1024 == 0) return QStringLiteral("%1K").arg(tokens >> 10);
    return QString::number(tokens);
}

QString thousands(uint64_t v) { return QString::fromStdString(engine::formatThousands(v)); }

}  // namespace

int BudgetSeries::indexOf(int context) const {
    const auto it = std::lower_bound(contexts.begin(), contexts.end(), context);
    return it != contexts.end() && *it == context ? int(it - contexts.begin()) : -1;
}

BudgetSeries budgetSeries(const engine::ModelFootprint& model, const engine::PlanOptions& options, int upTo,
                          const engine::BudgetFit* fit) {
    BudgetSeries s;
    const auto perToken = engine::kvBytesPerToken(model.config, options.kvType);
    if (!perToken || options.sequences < 1) return s;
    upTo = std::clamp(upTo, kBudgetChartMinContext, engine::kPlanMaxContext);
    for (int64_t c = kBudgetChartMinContext; c <= upTo; c *= 2) s.contexts.push_back(int(c));
    s.contexts.push_back(upTo);
    if (options.contextSize >= kBudgetChartMinContext && options.contextSize <= upTo)
        s.contexts.push_back(options.contextSize);
    if (fit && fit->maxContext >= kBudgetChartMinContext && fit->maxContext <= upTo)
        s.contexts.push_back(fit->maxContext);
    std::sort(s.contexts.begin(), s.contexts.end());
    s.contexts.erase(std::unique(s.contexts.begin(), s.contexts.end()), s.contexts.end());
    const uint64_t sequences = uint64_t(options.sequences);
    for (int c : s.contexts) {
        engine::PlanOptions at = options;
        at.contextSize = c;
        s.weights.push_back(model.weightBytes);
        s.kv.push_back(*perToken * uint64_t(c) * sequences);
        s.scratch.push_back(engine::planScratch(model, at).total() * sequences);
    }
    s.chosenContext = options.contextSize;
    if (fit) {
        s.usableBytes = fit->usableBytes;
        s.maxContext = fit->maxContext;
    }
    return s;
}

BudgetChart::BudgetChart(QWidget* parent) : QCustomPlot(parent) {
    setMinimumHeight(220);
    const QColor colors[] = {kWeightColor, kKvColor, kScratchColor};
    const QString names[] = {tr("weights"), tr("KV cache"), tr("activations + scratch")};
    for (int i = 0; i < 3; ++i) {
        QCPGraph* g = addGraph();
        g->setName(names[i]);
        g->setPen(QPen(colors[i].darker(120), 1.5));
        QColor fill = colors[i];
        fill.setAlpha(170);
        g->setBrush(fill);
        if (i > 0) g->setChannelFillGraph(graph(i - 1));
    }
    xAxis->setScaleType(QCPAxis::stLogarithmic);
    xAxis->setLabel(tr("context length (tokens per sequence, log₂)"));
    legend->setVisible(true);
    axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignLeft | Qt::AlignTop);
    m_budgetLine = new QCPItemStraightLine(this);
    m_budgetLine->setPen(QPen(QColor(0xc0, 0x30, 0x30), 2, Qt::SolidLine));
    m_fitLine = new QCPItemStraightLine(this);
    m_fitLine->setPen(QPen(QColor(0xc0, 0x30, 0x30), 1.5, Qt::DashDotLine));
    m_chosenLine = new QCPItemStraightLine(this);
    m_chosenLine->setPen(QPen(QColor(0x70, 0x70, 0x70), 1, Qt::DashLine));
    m_budgetLabel = new QCPItemText(this);
    m_budgetLabel->setPositionAlignment(Qt::AlignRight | Qt::AlignBottom);
    m_budgetLabel->setColor(QColor(0xc0, 0x30, 0x30));
    m_fitLabel = new QCPItemText(this);
    m_fitLabel->setColor(QColor(0xc0, 0x30, 0x30));
    m_emptyLabel = new QCPItemText(this);
    m_emptyLabel->position->setType(QCPItemPosition::ptAxisRectRatio);
    m_emptyLabel->position->setCoords(0.5, 0.5);
    m_emptyLabel->setText(tr("Nothing planned yet"));
    styleAxes();
    rebuild();
}

void BudgetChart::setSeries(BudgetSeries series) {
    m_series = std::move(series);
    rebuild();
}

void BudgetChart::clearSeries() {
    m_series = {};
    rebuild();
}

std::vector<uint64_t> BudgetChart::layerValues(Layer layer) const {
    switch (layer) {
    case Weights: return m_series.weights;
    case KvCache: return m_series.kv;
    case Scratch: return m_series.scratch;
    }
    return {};
}

void BudgetChart::setDark(bool dark) {
    m_dark = dark;
    styleAxes();
    replot(QCustomPlot::rpQueuedReplot);
}

void BudgetChart::styleAxes() {
    const QColor fg = m_dark ? QColor(0xd8, 0xdb, 0xe0) : QColor(0x30, 0x33, 0x38);
    setBackground(m_dark ? QColor(0x23, 0x25, 0x29) : QColor(0xfd, 0xfd, 0xfe));
    axisRect()->setBackground(Qt::NoBrush);
    for (QCPAxis* axis : {xAxis, yAxis}) {
        axis->setBasePen(QPen(fg));
        axis->setTickPen(QPen(fg));
        axis->setSubTickPen(QPen(fg));
        axis->setTickLabelColor(fg);
        axis->setLabelColor(fg);
        axis->grid()->setPen(QPen(m_dark ? QColor(0x44, 0x47, 0x4c) : QColor(0xe2, 0xe4, 0xe8), 1, Qt::DotLine));
    }
    legend->setBrush(m_dark ? QColor(0x2c, 0x2e, 0x33, 220) : QColor(0xff, 0xff, 0xff, 220));
    legend->setTextColor(fg);
    legend->setBorderPen(QPen(m_dark ? QColor(0x55, 0x58, 0x5e) : QColor(0xc8, 0xca, 0xd0)));
    m_emptyLabel->setColor(fg);
}

void BudgetChart::rebuild() {
    const BudgetSeries& s = m_series;
    m_emptyLabel->setVisible(s.empty());
    if (s.empty()) {
        for (int i = 0; i < 3; ++i) graph(i)->data()->clear();
        for (QCPAbstractItem* item : {static_cast<QCPAbstractItem*>(m_budgetLine), static_cast<QCPAbstractItem*>(m_fitLine),
                                      static_cast<QCPAbstractItem*>(m_chosenLine), static_cast<QCPAbstractItem*>(m_budgetLabel),
                                      static_cast<QCPAbstractItem*>(m_fitLabel)})
            item->setVisible(false);
        m_markerContext = 0;
        replot(QCustomPlot::rpQueuedReplot);
        return;
    }
    uint64_t top = 0;
    for (size_t i = 0; i < s.contexts.size(); ++i) top = std::max(top, s.total(i));
    // Far past the budget the curve leaves the top, so the crossing stays readable.
    uint64_t yTop = std::max(top, s.usableBytes);
    if (s.usableBytes > 0 && top / 3 > s.usableBytes) {
        const int chosen = s.indexOf(s.chosenContext);
        yTop = std::max(3 * s.usableBytes, chosen >= 0 ? s.total(size_t(chosen)) : 0);
    }
    const double yMaxBytes = double(yTop) * 1.08;
    const bool gb = yMaxBytes >= 2e9;
    const double scale = gb ? 1e9 : 1e6;
    yAxis->setLabel(gb ? tr("memory (GB)") : tr("memory (MB)"));
    QVector<double> x, stack[3];
    for (size_t i = 0; i < s.contexts.size(); ++i) {
        x << s.contexts[i];
        const double w = double(s.weights[i]), k = double(s.kv[i]), a = double(s.scratch[i]);
        stack[0] << w / scale;
        stack[1] << (w + k) / scale;
        stack[2] << (w + k + a) / scale;
    }
    for (int i = 0; i < 3; ++i) graph(i)->setData(x, stack[i], true);
    auto ticker = QSharedPointer<QCPAxisTickerText>::create();
    const int span = int(std::log2(double(s.contexts.back()) / s.contexts.front()));
    const int step = std::max(1, (span + 9) / 10);  // at most ~10 labels
    for (int64_t c = s.contexts.front(), n = 0; c <= s.contexts.back(); c *= 2, ++n)
        if (n % step == 0) ticker->addTick(double(c), contextLabel(c));
    xAxis->setTicker(ticker);
    xAxis->setRange(s.contexts.front(), std::max(s.contexts.back(), s.contexts.front() + 1));
    yAxis->setRange(0, yMaxBytes / scale);
    placeMarkers(scale, yMaxBytes / scale);
    replot(QCustomPlot::rpQueuedReplot);
}

void BudgetChart::placeMarkers(double scale, double yMax) {
    const BudgetSeries& s = m_series;
    const double x0 = s.contexts.front(), x1 = s.contexts.back();
    const bool budget = s.usableBytes > 0;
    const double budgetY = double(s.usableBytes) / scale;
    m_budgetLine->setVisible(budget);
    m_budgetLabel->setVisible(budget);
    if (budget) {
        m_budgetLine->point1->setCoords(x0, budgetY);
        m_budgetLine->point2->setCoords(x1, budgetY);
        m_budgetLabel->position->setCoords(x1, budgetY);
        m_budgetLabel->setText(tr("usable budget %1").arg(QString::fromStdString(engine::formatBytes(s.usableBytes))));
    }
    const bool chosen = s.chosenContext >= x0 && s.chosenContext <= x1;
    m_chosenLine->setVisible(chosen);
    if (chosen) {
        m_chosenLine->point1->setCoords(s.chosenContext, 0);
        m_chosenLine->point2->setCoords(s.chosenContext, yMax);
    }
    m_markerContext = budget && s.maxContext >= x0 && s.maxContext <= x1 ? s.maxContext : 0;
    m_fitLine->setVisible(m_markerContext > 0);
    m_fitLabel->setVisible(budget);
    if (!budget) return;
    m_fitLabel->position->setType(QCPItemPosition::ptPlotCoords);
    if (m_markerContext > 0) {
        m_fitLine->point1->setCoords(m_markerContext, 0);
        m_fitLine->point2->setCoords(m_markerContext, yMax);
        const bool right = std::log2(double(m_markerContext) / x0) < 0.75 * std::log2(x1 / x0);
        m_fitLabel->setPositionAlignment((right ? Qt::AlignLeft : Qt::AlignRight) | Qt::AlignTop);
        m_fitLabel->position->setCoords(m_markerContext, yMax * 0.88);
        m_fitLabel->setText(tr(" largest context %1 ").arg(thousands(uint64_t(m_markerContext))));
    } else {
        m_fitLabel->setPositionAlignment(Qt::AlignRight | Qt::AlignTop);
        m_fitLabel->position->setCoords(x1, yMax * 0.88);
        m_fitLabel->setText(s.maxContext > 0 ? tr("fits past the chart: up to %1 tokens ")
                                                   .arg(thousands(uint64_t(s.maxContext)))
                                             : tr("nothing fits: not even 1 token "));
    }
}

}  // namespace glassbox::viz
