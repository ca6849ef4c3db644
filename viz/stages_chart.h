// StagesChart: how the sampler shaped one step's distribution. For the most
// likely candidates (by the model's raw logits) it draws one bar per sampler
// stage: raw -> (penalties) -> temperature -> top-k -> top-p / min-p ->
// final, so a learner sees which tokens each stage removed and how the
// remaining probability mass was renormalised. The chosen token is shaded.
#pragma once

#include <QStringList>
#include <functional>
#include <qcustomplot.h>
#include <vector>

#include "engine/sampler.h"

namespace glassbox::viz {

class StagesChart : public QCustomPlot {
    Q_OBJECT
public:
    enum class Scale { Probability, Logit };
    using Labeler = std::function<QString(int32_t id)>;

    explicit StagesChart(QWidget* parent = nullptr);

    // Show one step. `label` turns token ids into short display strings.
    void setStep(const engine::SampleResult& sample, int32_t chosen, const Labeler& label);
    void clearStep();

    void setScale(Scale scale);
    Scale scale() const { return m_scale; }
    // How many candidates the x axis holds (the chosen token is added when
    // it ranks lower).
    void setCandidateCount(int count);
    void setDark(bool dark);

    // Legend entries, one per plotted stage ("raw (49152)", "top-k (40)" ...).
    QStringList seriesNames() const;
    // Token ids along the x axis, left to right.
    const std::vector<int32_t>& candidates() const { return m_ids; }
    // Bar heights of one series, NaN where the stage removed the token.
    std::vector<double> seriesValues(int series) const;

private:
    struct Series {
        QString name;
        std::vector<double> values;  // per candidate, NaN = removed
    };
    void rebuild();
    void buildSeries(const engine::SampleResult& sample);
    void styleAxes();

    Scale m_scale = Scale::Probability;
    int m_candidateCount = 10;
    bool m_dark = false;
    bool m_hasStep = false;
    engine::SampleResult m_sample;
    int32_t m_chosen = -1;
    Labeler m_label;
    std::vector<int32_t> m_ids;
    std::vector<Series> m_series;
};

}  // namespace glassbox::viz
