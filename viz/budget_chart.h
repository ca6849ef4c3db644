// BudgetChart: where the memory goes as the context grows. A stacked area
// chart of the weights, the KV cache and the activations + scratch (all
// sequences together) against the context length on a log2 axis, a
// horizontal line at the usable budget (after the safety margin), a vertical
// marker at the largest context that fits and a dashed line at the chosen
// context. The series are plain byte counts from the engine's memory
// planner (budgetSeries), so what is drawn can be checked against it.
#pragma once

#include <cstdint>
#include <qcustomplot.h>
#include <vector>

#include "engine/memory_plan.h"

namespace glassbox::viz {

// The chart's data: one entry per context length, bytes for all sequences.
struct BudgetSeries {
    std::vector<int> contexts;      // ascending, 256 … the chart's maximum
    std::vector<uint64_t> weights;  // shared weights (the same at every context)
    std::vector<uint64_t> kv;       // kvBytesPerToken × context × sequences
    std::vector<uint64_t> scratch;  // planScratch(…).total() × sequences
    uint64_t usableBytes = 0;       // the budget after the margin; 0: no budget
    int maxContext = 0;             // largest context that fits; 0: none (or no budget)
    int chosenContext = 0;          // the context the plan is for

    bool empty() const { return contexts.empty(); }
    // Index of `context` in contexts, or -1.
    int indexOf(int context) const;
    // weights + kv + scratch at index i.
    uint64_t total(size_t i) const { return weights[i] + kv[i] + scratch[i]; }
};

inline constexpr int kBudgetChartMinContext = 256;

// The series for `options` (sequences, KV type, micro-batch, threads as
// given) at the powers of two from 256 to `upTo`, plus `upTo`, the chosen
// context and the plan's largest context when they fall inside. `fit` (may
// be null) supplies the budget line and the marker. Empty when the options
// cannot be planned (see planMemory's errors).
BudgetSeries budgetSeries(const engine::ModelFootprint& model, const engine::PlanOptions& options, int upTo,
                          const engine::BudgetFit* fit);

class BudgetChart : public QCustomPlot {
    Q_OBJECT
public:
    enum Layer { Weights = 0, KvCache = 1, Scratch = 2 };

    explicit BudgetChart(QWidget* parent = nullptr);

    void setSeries(BudgetSeries series);
    void clearSeries();
    const BudgetSeries& series() const { return m_series; }
    // One layer's bytes per context (not stacked), as drawn.
    std::vector<uint64_t> layerValues(Layer layer) const;
    // Where the vertical "largest context" marker stands; 0 when hidden
    // (no budget, nothing fits, or the largest context is past the chart).
    int markerContext() const { return m_markerContext; }
    // The horizontal budget line in bytes; 0 when hidden.
    uint64_t budgetLineBytes() const { return m_series.usableBytes; }
    void setDark(bool dark);

private:
    void rebuild();
    void styleAxes();
    void placeMarkers(double scale, double yMax);

    BudgetSeries m_series;
    bool m_dark = false;
    int m_markerContext = 0;
    QCPItemStraightLine* m_budgetLine = nullptr;
    QCPItemStraightLine* m_fitLine = nullptr;
    QCPItemStraightLine* m_chosenLine = nullptr;
    QCPItemText* m_budgetLabel = nullptr;
    QCPItemText* m_fitLabel = nullptr;
    QCPItemText* m_emptyLabel = nullptr;
};

}  // namespace glassbox::viz
