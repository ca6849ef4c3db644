// HistoryModel: run summaries for the History panel.
#include "ui/history_model.h"

#include <QDateTime>

#include "engine/generator.h"

namespace glassbox::ui {

HistoryModel::HistoryModel(QObject* parent) : QAbstractTableModel(parent) {}

void HistoryModel::setRuns(std::vector<projects::RunSummary> runs) {
    beginResetModel();
    m_runs = std::move(runs);
    endResetModel();
}

int HistoryModel::rowOfRun(int64_t id) const {
    for (size_t i = 0; i < m_runs.size(); ++i)
        if (m_runs[i].id == id) return int(i);
    return -1;
}

int HistoryModel::rowCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : int(m_runs.size()); }

int HistoryModel::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : ColumnCount; }

QVariant HistoryModel::data(const QModelIndex& index, int role) const {
    if (!index.isValid() || index.row() >= rowCount() || index.column() >= ColumnCount) return {};
    const projects::RunSummary& r = m_runs[size_t(index.row())];
    if (role == RunIdRole) return qlonglong(r.id);
    if (role == Qt::TextAlignmentRole && (index.column() == Id || index.column() == Tokens || index.column() == Speed))
        return int(Qt::AlignRight | Qt::AlignVCenter);
    if (role == Qt::ToolTipRole) {
        return tr("Run #%1 — double-click to reopen it exactly as it was.\n%2")
            .arg(r.id)
            .arg(QString::fromStdString(r.outputPreview));
    }
    if (role != Qt::DisplayRole) return {};
    switch (index.column()) {
        case Id: return qlonglong(r.id);
        case Time: return QDateTime::fromMSecsSinceEpoch(r.createdAt).toString(QStringLiteral("MMM d, HH:mm:ss"));
        case Tokens: return r.tokenCount;
        case Stop: return QString::fromLatin1(engine::stopReasonName(r.stopReason));
        case Speed: return r.decodeTokensPerSecond > 0 ? QString::number(r.decodeTokensPerSecond, 'f', 1) : QString();
        case Origin:
            if (r.parentRunId) return tr("branch of #%1 @%2").arg(*r.parentRunId).arg(r.branchTokenIndex);
            if (r.compareGroup) return tr("compare %1").arg(*r.compareGroup % 10000);
            return QString();
        case Preview: return QString::fromStdString(r.outputPreview).simplified();
    }
    return {};
}

QVariant HistoryModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return {};
    switch (section) {
        case Id: return tr("#");
        case Time: return tr("When");
        case Tokens: return tr("Tokens");
        case Stop: return tr("Stop");
        case Speed: return tr("tok/s");
        case Origin: return tr("Origin");
        case Preview: return tr("Output");
    }
    return {};
}

}  // namespace glassbox::ui
