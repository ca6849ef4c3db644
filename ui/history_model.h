// HistoryModel: the project's runs as a table (id, time, tokens, stop
// reason, speed, branch / comparison, output preview), newest first.
#pragma once

#include <QAbstractTableModel>
#include <vector>

#include "projects/project_records.h"

namespace glassbox::ui {

class HistoryModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column { Id, Time, Tokens, Stop, Speed, Origin, Preview, ColumnCount };
    static constexpr int RunIdRole = Qt::UserRole + 1;

    explicit HistoryModel(QObject* parent = nullptr);

    void setRuns(std::vector<projects::RunSummary> runs);
    const projects::RunSummary& runAt(int row) const { return m_runs[size_t(row)]; }
    int rowOfRun(int64_t id) const;

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    std::vector<projects::RunSummary> m_runs;
};

}  // namespace glassbox::ui
