// StagesChart: grouped bars, one group per candidate token, one bar per stage.
#include "viz/stages_chart.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace glassbox::viz {
namespace {

using engine::SamplerStageKind;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Stage colours: a cool-to-warm ramp so later stages read as "closer to the draw".
QColor stageColor(size_t index, size_t count) {
    static const QColor ramp[] = {QColor(0x9e, 0xb3, 0xc2), QColor(0x5b, 0x8d, 0xc9), QColor(0x3f, 0x6f, 0xd8),
                                  QColor(0x8a, 0x5c, 0xd6), QColor(0xd0, 0x5f, 0x9b), QColor(0xe8, 0x8a, 0x2e)};
    const size_t n = std::size(ramp);
    const size_t at = count <= 1 ? n - 1 : index * (n - 1) / (count - 1);
    return ramp[std::min(at, n - 1)];
}

QString survivorsText(const engine::SamplerStage& s) {
    return s.active ? QString::number(s.survivors) : QStringLiteral("off");
}

}  // namespace

StagesChart::StagesChart(QWidget* parent) : QCustomPlot(parent) {
    setMinimumHeight(180);
    legend->setVisible(true);
    legend->setFillOrder(QCPLegend::foColumnsFirst);
    legend->setWrap(3);
    plotLayout()->insertRow(0);
    plotLayout()->addElement(0, 0, legend);
    plotLayout()->setRowStretchFactor(0, 0.001);
    legend->setBorderPen(Qt::NoPen);
    legend->setBrush(Qt::NoBrush);
    setNoAntialiasingOnDrag(true);
    styleAxes();
}

void StagesChart::setStep(const engine::SampleResult& sample, int32_t chosen, const Labeler& label) {
    m_sample = sample;
    m_chosen = chosen;
    m_label = label;
    m_hasStep = true;
    rebuild();
}

void StagesChart::clearStep() {
    m_hasStep = false;
    m_ids.clear();
    m_series.clear();
    rebuild();
}

void StagesChart::setScale(Scale scale) {
    if (m_scale == scale) return;
    m_scale = scale;
    if (m_hasStep) rebuild();
}

void StagesChart::setCandidateCount(int count) {
    m_candidateCount = std::clamp(count, 2, 40);
    if (m_hasStep) rebuild();
}

void StagesChart::setDark(bool dark) {
    m_dark = dark;
    styleAxes();
    rebuild();
}

QStringList StagesChart::seriesNames() const {
    QStringList names;
    for (const Series& s : m_series) names << s.name;
    return names;
}

std::vector<double> StagesChart::seriesValues(int series) const {
    if (series < 0 || size_t(series) >= m_series.size()) return {};
    return m_series[size_t(series)].values;
}

void StagesChart::buildSeries(const engine::SampleResult& sample) {
    m_ids.clear();
    m_series.clear();
    const auto& raw = sample.stages[SamplerStageKind::Raw];
    const bool logit = m_scale == Scale::Logit;
    if (!sample.hasStages || raw.top.empty()) {
        // Only the top alternatives are known: one series of raw probabilities.
        Series s{QStringLiteral("model (top alternatives)"), {}};
        for (const auto& alt : sample.topAlternatives) {
            if (int(m_ids.size()) >= m_candidateCount) break;
            m_ids.push_back(alt.id);
            s.values.push_back(logit ? double(alt.logprob) : std::exp(double(alt.logprob)));
        }
        m_series.push_back(std::move(s));
        return;
    }
    for (const auto& c : raw.top) {
        if (int(m_ids.size()) >= m_candidateCount) break;
        m_ids.push_back(c.id);
    }
    if (m_chosen >= 0 && std::find(m_ids.begin(), m_ids.end(), m_chosen) == m_ids.end()) m_ids.push_back(m_chosen);

    auto addStage = [&](SamplerStageKind kind, QString name) {
        const auto& stage = sample.stages[kind];
        Series s{std::move(name), std::vector<double>(m_ids.size(), kNaN)};
        for (size_t i = 0; i < m_ids.size(); ++i) {
            auto it = std::find_if(stage.top.begin(), stage.top.end(),
                                   [&](const engine::StageCandidate& c) { return c.id == m_ids[i]; });
            if (it != stage.top.end()) s.values[i] = logit ? double(it->logit) : double(it->prob);
        }
        m_series.push_back(std::move(s));
    };
    addStage(SamplerStageKind::Raw, QStringLiteral("raw (%1)").arg(raw.survivors));
    const auto& pen = sample.stages[SamplerStageKind::Penalties];
    if (pen.active) addStage(SamplerStageKind::Penalties, QStringLiteral("penalties (%1)").arg(pen.survivors));
    const auto& temp = sample.stages[SamplerStageKind::Temperature];
    addStage(SamplerStageKind::Temperature,
             temp.active ? QStringLiteral("temperature") : QStringLiteral("temperature (off)"));
    addStage(SamplerStageKind::TopK,
             QStringLiteral("top-k (%1)").arg(survivorsText(sample.stages[SamplerStageKind::TopK])));
    addStage(SamplerStageKind::MinP, QStringLiteral("top-p %1 / min-p %2")
                                         .arg(survivorsText(sample.stages[SamplerStageKind::TopP]),
                                              survivorsText(sample.stages[SamplerStageKind::MinP])));
    addStage(SamplerStageKind::Final,
             QStringLiteral("final (%1)").arg(sample.stages[SamplerStageKind::Final].survivors));
}

void StagesChart::rebuild() {
    clearPlottables();
    clearItems();
    if (!m_hasStep) {
        xAxis->setTicker(QSharedPointer<QCPAxisTickerText>::create());
        replot(rpQueuedReplot);
        return;
    }
    buildSeries(m_sample);
    auto ticker = QSharedPointer<QCPAxisTickerText>::create();
    for (size_t i = 0; i < m_ids.size(); ++i) {
        QString text = m_label ? m_label(m_ids[i]) : QString::number(m_ids[i]);
        if (text.size() > 12) text = text.left(11) + QChar(0x2026);
        if (m_ids[i] == m_chosen) text = QChar(0x25B8) + text;
        ticker->addTick(double(i + 1), text);
    }
    xAxis->setTicker(ticker);

    auto* group = new QCPBarsGroup(this);
    group->setSpacingType(QCPBarsGroup::stAbsolute);
    group->setSpacing(1);
    const double width = 0.8 / double(std::max<size_t>(1, m_series.size()));
    double lo = 0.0, hi = 0.0;
    for (size_t s = 0; s < m_series.size(); ++s) {
        auto* bars = new QCPBars(xAxis, yAxis);
        bars->setName(m_series[s].name);
        bars->setWidth(width);
        const QColor c = stageColor(s, m_series.size());
        bars->setPen(QPen(c.darker(120)));
        bars->setBrush(c);
        bars->setBarsGroup(group);
        for (size_t i = 0; i < m_ids.size(); ++i) {
            const double v = m_series[s].values[i];
            if (std::isnan(v)) continue;
            bars->addData(double(i + 1), v);
            lo = std::min(lo, v);
            hi = std::max(hi, v);
        }
    }
    const auto chosenAt = std::find(m_ids.begin(), m_ids.end(), m_chosen);
    if (chosenAt != m_ids.end()) {
        const double x = double(chosenAt - m_ids.begin() + 1);
        auto* band = new QCPItemRect(this);
        band->setLayer(QStringLiteral("grid"));
        band->topLeft->setCoords(x - 0.5, hi + (hi - lo) * 0.2 + 1e-9);
        band->bottomRight->setCoords(x + 0.5, lo - (hi - lo) * 0.2 - 1e-9);
        QColor accent = m_dark ? QColor(255, 255, 255, 28) : QColor(30, 90, 200, 28);
        band->setBrush(accent);
        band->setPen(Qt::NoPen);
    }
    xAxis->setRange(0.4, double(m_ids.size()) + 0.6);
    const double pad = (hi - lo) * 0.08 + 1e-6;
    yAxis->setRange(lo < 0 ? lo - pad : 0.0, hi + pad);
    yAxis->setLabel(m_scale == Scale::Logit ? QStringLiteral("logit") : QStringLiteral("probability"));
    replot(rpQueuedReplot);
}

void StagesChart::styleAxes() {
    const QColor fg = m_dark ? QColor(0xd8, 0xdb, 0xe0) : QColor(0x30, 0x33, 0x38);
    const QColor grid = m_dark ? QColor(0x45, 0x48, 0x4e) : QColor(0xdd, 0xdf, 0xe3);
    setBackground(m_dark ? QColor(0x23, 0x25, 0x29) : QColor(0xfd, 0xfd, 0xfe));
    axisRect()->setBackground(Qt::NoBrush);
    for (QCPAxis* axis : {xAxis, yAxis}) {
        axis->setBasePen(QPen(fg));
        axis->setTickPen(QPen(fg));
        axis->setSubTickPen(QPen(fg));
        axis->setTickLabelColor(fg);
        axis->setLabelColor(fg);
        axis->grid()->setPen(QPen(grid, 1, Qt::DotLine));
    }
    xAxis->grid()->setVisible(false);
    xAxis->setTickLabelRotation(40);
    xAxis->setSubTicks(false);
    xAxis->setTickLength(0, 3);
    legend->setTextColor(fg);
    QFont small = font();
    small.setPointSizeF(std::max(7.0, small.pointSizeF() - 1));
    legend->setFont(small);
    xAxis->setTickLabelFont(small);
    yAxis->setTickLabelFont(small);
}

}  // namespace glassbox::viz
