// CompareModel: two to four generations of the same prompt side by side,
// aligned by step — row i holds every lane's i-th generated token, coloured
// by its probability. Rows where the lanes disagree are flagged, and the
// first such row is where the settings (or models) made them diverge.
#pragma once

#include <QAbstractTableModel>
#include <QStringList>
#include <vector>

#include "viz/token_view.h"

namespace glassbox::ui {

class CompareModel : public QAbstractTableModel {
    Q_OBJECT
public:
    static constexpr int ProbabilityRole = Qt::UserRole + 1;
    static constexpr int TokenIdRole = Qt::UserRole + 2;

    explicit CompareModel(QObject* parent = nullptr);

    // Start over with `titles.size()` empty lanes.
    void reset(const QStringList& titles);
    void append(int lane, const std::vector<viz::TokenCell>& cells);
    void setLaneTitle(int lane, const QString& title);
    void setDark(bool dark);

    int laneCount() const { return int(m_lanes.size()); }
    int laneLength(int lane) const { return int(m_lanes[size_t(lane)].size()); }
    const viz::TokenCell& cell(int lane, int step) const { return m_lanes[size_t(lane)][size_t(step)]; }
    // The first step where two lanes that both have a token disagree; -1 if none.
    int firstDivergence() const;
    bool differsAt(int step) const;

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    int maxLength() const;

    std::vector<std::vector<viz::TokenCell>> m_lanes;
    QStringList m_titles;
    int m_rows = 0;
    bool m_dark = false;
};

}  // namespace glassbox::ui
