// HistoryPanel: table of runs with reopen on activation.
#include "ui/history_panel.h"

#include <QHeaderView>
#include <QLabel>
#include <QTableView>
#include <QVBoxLayout>

#include "ui/history_model.h"

namespace glassbox::ui {

HistoryPanel::HistoryPanel(QWidget* parent) : QWidget(parent) {
    m_title = new QLabel(tr("No project"));
    m_title->setObjectName(QStringLiteral("historyTitle"));
    m_model = new HistoryModel(this);
    m_view = new QTableView;
    m_view->setModel(m_model);
    m_view->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_view->setSelectionMode(QAbstractItemView::SingleSelection);
    m_view->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_view->verticalHeader()->setVisible(false);
    m_view->verticalHeader()->setDefaultSectionSize(QFontMetrics(font()).height() + 6);
    m_view->horizontalHeader()->setStretchLastSection(true);
    m_view->setAlternatingRowColors(true);
    m_view->setWordWrap(false);
    m_view->setToolTip(tr("Every run of this project. Double-click one to reopen it."));
    connect(m_view, &QTableView::activated, this, [this](const QModelIndex& index) {
        emit reopenRequested(m_model->data(index, HistoryModel::RunIdRole).toLongLong());
    });
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addWidget(m_title);
    layout->addWidget(m_view, 1);
}

void HistoryPanel::setRuns(std::vector<projects::RunSummary> runs) {
    m_model->setRuns(std::move(runs));
    m_view->resizeColumnsToContents();
    m_view->horizontalHeader()->setStretchLastSection(true);
}

void HistoryPanel::setProjectName(const QString& name) {
    m_title->setText(name.isEmpty() ? tr("No project") : tr("<b>%1</b>").arg(name.toHtmlEscaped()));
}

void HistoryPanel::activateRun(int64_t runId) {
    const int row = m_model->rowOfRun(runId);
    if (row < 0) return;
    m_view->selectRow(row);
    emit reopenRequested(runId);
}

}  // namespace glassbox::ui
