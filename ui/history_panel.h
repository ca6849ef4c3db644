// HistoryPanel: the project's runs, newest first. Double-clicking (or
// pressing Enter on) a run asks to reopen it exactly as it was recorded.
#pragma once

#include <QWidget>

#include "projects/project_records.h"

class QLabel;
class QTableView;

namespace glassbox::ui {

class HistoryModel;

class HistoryPanel : public QWidget {
    Q_OBJECT
public:
    explicit HistoryPanel(QWidget* parent = nullptr);

    void setRuns(std::vector<projects::RunSummary> runs);
    void setProjectName(const QString& name);
    HistoryModel* model() const { return m_model; }
    QTableView* view() const { return m_view; }
    // Select a run's row and ask to reopen it (what a double-click does).
    void activateRun(int64_t runId);

signals:
    void reopenRequested(int64_t runId);

private:
    QLabel* m_title = nullptr;
    QTableView* m_view = nullptr;
    HistoryModel* m_model = nullptr;
};

}  // namespace glassbox::ui
