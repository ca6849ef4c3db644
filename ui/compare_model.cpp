// CompareModel: step-aligned lanes of tokens.
#include "ui/compare_model.h"

#include <QBrush>
#include <algorithm>

#include "viz/probability_palette.h"

namespace glassbox::ui {

CompareModel::CompareModel(QObject* parent) : QAbstractTableModel(parent) {}

void CompareModel::reset(const QStringList& titles) {
    beginResetModel();
    m_titles = titles;
    m_lanes.assign(size_t(titles.size()), {});
    m_rows = 0;
    endResetModel();
}

void CompareModel::append(int lane, const std::vector<viz::TokenCell>& cells) {
    if (lane < 0 || lane >= laneCount() || cells.empty()) return;
    auto& tokens = m_lanes[size_t(lane)];
    const int firstChanged = int(tokens.size());
    tokens.insert(tokens.end(), cells.begin(), cells.end());
    const int rows = maxLength();
    if (rows > m_rows) {
        beginInsertRows({}, m_rows, rows - 1);
        m_rows = rows;
        endInsertRows();
    }
    const int lastChanged = int(tokens.size()) - 1;
    if (firstChanged < m_rows)
        emit dataChanged(index(firstChanged, 0), index(std::min(lastChanged, m_rows - 1), laneCount() - 1));
    emit headerDataChanged(Qt::Vertical, firstChanged, std::min(lastChanged, m_rows - 1));
}

void CompareModel::setLaneTitle(int lane, const QString& title) {
    if (lane < 0 || lane >= m_titles.size()) return;
    m_titles[lane] = title;
    emit headerDataChanged(Qt::Horizontal, lane, lane);
}

void CompareModel::setDark(bool dark) {
    m_dark = dark;
    if (m_rows > 0) emit dataChanged(index(0, 0), index(m_rows - 1, laneCount() - 1));
}

int CompareModel::maxLength() const {
    int n = 0;
    for (const auto& lane : m_lanes) n = std::max(n, int(lane.size()));
    return n;
}

bool CompareModel::differsAt(int step) const {
    int32_t seen = -1;
    for (const auto& lane : m_lanes) {
        if (step >= int(lane.size())) continue;
        const int32_t id = lane[size_t(step)].id;
        if (seen >= 0 && id != seen) return true;
        seen = id;
    }
    return false;
}

int CompareModel::firstDivergence() const {
    for (int step = 0; step < m_rows; ++step)
        if (differsAt(step)) return step;
    return -1;
}

int CompareModel::rowCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : m_rows; }

int CompareModel::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : laneCount(); }

QVariant CompareModel::data(const QModelIndex& index, int role) const {
    if (!index.isValid() || index.column() >= laneCount() || index.row() >= m_rows) return {};
    const auto& lane = m_lanes[size_t(index.column())];
    if (index.row() >= int(lane.size())) return {};
    const viz::TokenCell& c = lane[size_t(index.row())];
    switch (role) {
        case Qt::DisplayRole: {
            QString t = c.text;
            t.replace(QLatin1Char('\n'), QStringLiteral("↵"));
            return t;
        }
        case Qt::BackgroundRole: return QBrush(viz::ProbabilityPalette::forProbability(c.probability, m_dark));
        case Qt::ForegroundRole:
            return QBrush(viz::ProbabilityPalette::textOn(viz::ProbabilityPalette::forProbability(c.probability, m_dark)));
        case Qt::ToolTipRole:
            return tr("<b>%1</b> id %2<br>probability %3%<br>%4")
                .arg(c.text.toHtmlEscaped())
                .arg(c.id)
                .arg(c.probability * 100, 0, 'f', 2)
                .arg(c.detail);
        case ProbabilityRole: return c.probability;
        case TokenIdRole: return c.id;
    }
    return {};
}

QVariant CompareModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (role != Qt::DisplayRole && role != Qt::ToolTipRole) return {};
    if (orientation == Qt::Horizontal) {
        if (section < 0 || section >= m_titles.size()) return {};
        return m_titles[section];
    }
    if (role == Qt::ToolTipRole) return differsAt(section) ? tr("The lanes differ at this step") : QVariant();
    return differsAt(section) ? QStringLiteral("%1 ≠").arg(section) : QString::number(section);
}

}  // namespace glassbox::ui
