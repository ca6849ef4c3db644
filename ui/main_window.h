// MainWindow: the Glassbox workbench. Central tabs hold the Playground and
// Compare views; dockable panels hold the sampler settings, the token
// inspector, the prompt's tokens and the project's run history (their
// layout is saved and restored). The engine runs in a worker thread behind
// EngineClient; the project store writes on its own thread behind
// ProjectController; the UI thread only ever waits on neither.
//
// The implementation is split by feature: main_window.cpp (frame, docks,
// layout, theme), main_window_actions.cpp (menus, shortcuts, drag and drop),
// main_window_model.cpp (opening models), main_window_run.cpp (runs,
// branches, streaming, inspector), main_window_compare.cpp,
// main_window_project.cpp (projects, history, drafts) and
// main_window_overlay.cpp (the GPU overlay and the device choice).
#pragma once

#include <QByteArray>
#include <QMainWindow>
#include <QTimer>
#include <map>
#include <optional>
#include <vector>

#include "ui/engine_messages.h"
#include "ui/message_banner.h"
#include "ui/playground_run.h"

class QAction;
class QDockWidget;
class QMenu;
class QTabWidget;

namespace glassbox::ui {

class AttentionPanel;
class BudgetPanel;
class PromptDriftView;
class QuantLabPanel;
class CompareWidget;
class LogitLensPanel;
class ResidualPanel;
class ShapesPanel;
class DeviceChoice;
class DraftAutosaver;
class EngineClient;
class GpuOverlay;
class HistoryPanel;
class ProjectController;
class PlaygroundWidget;
class PromptTokensPanel;
class RecentFiles;
class SamplerPanel;
class StatusPanel;
class TokenInspector;

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    struct Options {
        QString modelPath;            // opened at start when set
        QString projectPath;          // opened (or created) at start when set
        bool restoreLayout = true;    // restore geometry and dock layout from QSettings
    };

    MainWindow();
    explicit MainWindow(const Options& options, QWidget* parent = nullptr);
    ~MainWindow() override;

    // Actions the menus trigger, callable directly.
    void openModel(const QString& path);
    void cancelModelLoad();
    void runPrompt();
    void stopGeneration();
    void branchFromSelection();
    void branchAt(int runIndex, int step, int32_t alternative);
    void runCompare();
    void newProject(const QString& path);
    void openProject(const QString& path);
    void saveProjectAs(const QString& path);
    void reopenRun(int64_t runId);
    void setTheme(bool dark);
    // Show or hide the GPU overlay (View ▸ GPU Overlay, F12); remembered.
    void setOverlayVisible(bool on);

    // State, for the status bar, tests and the screenshots.
    EngineClient* engine() const { return m_engine; }
    ProjectController* project() const { return m_project; }
    PlaygroundWidget* playground() const { return m_playground; }
    CompareWidget* compare() const { return m_compare; }
    SamplerPanel* samplerPanel() const { return m_sampler; }
    TokenInspector* inspector() const { return m_inspector; }
    HistoryPanel* history() const { return m_history; }
    PromptTokensPanel* promptTokens() const { return m_promptTokens; }
    StatusPanel* statusPanel() const { return m_status; }
    MessageBanner* banner() const { return m_banner; }
    QTabWidget* centralTabs() const { return m_tabs; }
    AttentionPanel* attentionPanel() const { return m_attentionPanel; }
    ShapesPanel* shapesPanel() const { return m_shapesPanel; }
    LogitLensPanel* logitLensPanel() const { return m_lensPanel; }
    ResidualPanel* residualPanel() const { return m_residualPanel; }
    BudgetPanel* budgetPanel() const { return m_budgetPanel; }
    QuantLabPanel* quantLabPanel() const { return m_quantLabPanel; }
    PromptDriftView* promptDriftView() const { return m_promptDrift; }
    // Null until the overlay is first shown.
    GpuOverlay* gpuOverlay() const { return m_overlay; }
    bool isOverlayVisible() const;
    DeviceChoice* deviceChoice() const { return m_deviceChoice; }
    // What the latest playground run recorded inside the model (may be null).
    std::shared_ptr<const engine::Capture> currentCapture() const { return m_capture; }
    int insidePosition() const { return m_insidePosition; }
    QAction* action(const QString& name) const;
    bool isBusy() const;
    // Runs saved to the project in this window's life, by project id.
    int savedRunCount() const { return m_savedRuns; }
    // The runs of the latest comparison, one per lane.
    const std::vector<PlaygroundRun>& compareRuns() const { return m_compareLanes; }

    void showMessage(MessageBanner::Level level, const QString& text, const QString& actionText = {},
                     std::function<void()> action = {});

protected:
    void closeEvent(QCloseEvent* event) override;
    void dragEnterEvent(QDragEnterEvent* event) override;
    void dropEvent(QDropEvent* event) override;
    void changeEvent(QEvent* event) override;

private:
    // main_window.cpp
    void buildCentral();
    void buildDocks();
    QDockWidget* addDock(const QString& title, const QString& name, QWidget* body, Qt::DockWidgetArea area);
    void restoreLayout();
    void saveLayout();
    void updateTitle();
    void applyThemeToViews();

    // main_window_actions.cpp
    void buildActions();
    void buildMenus();
    QAction* makeAction(const QString& name, const QString& text, const QKeySequence& key, const QString& tip);
    void chooseModelFile();
    void chooseProjectToOpen();
    void chooseNewProject();
    void chooseSaveAs();
    void showShortcuts();
    void updateActions();

    // main_window_model.cpp
    void connectEngine();
    void onModelLoaded(const ModelInfo& info);
    void onLoadFailed(const QString& message, bool cancelled);
    void schedulePromptTokens();
    void updatePromptTokens();

    // main_window_run.cpp
    void connectRuns();
    void onTokens(quint64 job, int lane, const TokenBatch& tokens, const StreamStats& stats);
    void onLaneFinished(quint64 job, int lane, const LaneOutcome& outcome);
    void onGenerationFinished(quint64 job);
    void onTokenSelected(int runIndex, int tokenIndex);
    void finishPlaygroundRun(int card, const LaneOutcome& outcome);
    void supersedeRunning();
    engine::SamplerSettings settingsForRun(const std::vector<std::string>& extraStops);

    // main_window_inside.cpp
    void buildInsidePanels();
    void connectInsidePanels();
    bool recordsInside() const;
    void updatePromptDriftModels();
    void showCapture(std::shared_ptr<const engine::Capture> capture, std::shared_ptr<const engine::Model> model,
                     int promptTokens);
    void requestLens(int firstPos, int nPos);
    void setInsidePosition(int pos);
    void followTokenInside(int tokenIndex);

    // main_window_overlay.cpp
    void buildOverlayActions();
    void showPlacementNotes(const ModelInfo& info);
    void showDeviceNote(const LaneOutcome& outcome);
    void onDeviceChoiceChanged();

    // main_window_compare.cpp
    void onCompareTokens(int lane, const TokenBatch& tokens);
    void onCompareLaneFinished(int lane, const LaneOutcome& outcome);
    void onCompareTokenSelected(int lane, int step);

    // main_window_project.cpp
    void connectProject();
    void onProjectOpened(const QString& path, bool hadUncleanExit);
    void saveRun(const PlaygroundRun& run);
    void onRunSaved(quint64 localId, int64_t id);
    void onRunLoaded(const PlaygroundRun& run);
    void offerDraftRestore(const std::vector<projects::Draft>& drafts);
    QString draftState() const;
    void applyDraftState(const QString& json);
    void scheduleDraft();

    Options m_options;
    EngineClient* m_engine = nullptr;
    ProjectController* m_project = nullptr;
    DraftAutosaver* m_autosaver = nullptr;
    RecentFiles* m_recentModels = nullptr;
    RecentFiles* m_recentProjects = nullptr;

    MessageBanner* m_banner = nullptr;
    QTabWidget* m_tabs = nullptr;
    PlaygroundWidget* m_playground = nullptr;
    CompareWidget* m_compare = nullptr;
    SamplerPanel* m_sampler = nullptr;
    TokenInspector* m_inspector = nullptr;
    HistoryPanel* m_history = nullptr;
    PromptTokensPanel* m_promptTokens = nullptr;
    StatusPanel* m_status = nullptr;
    AttentionPanel* m_attentionPanel = nullptr;
    ShapesPanel* m_shapesPanel = nullptr;
    LogitLensPanel* m_lensPanel = nullptr;
    ResidualPanel* m_residualPanel = nullptr;
    BudgetPanel* m_budgetPanel = nullptr;
    QuantLabPanel* m_quantLabPanel = nullptr;
    PromptDriftView* m_promptDrift = nullptr;
    GpuOverlay* m_overlay = nullptr;
    DeviceChoice* m_deviceChoice = nullptr;
    QString m_lastDeviceNote;  // the device fallback last reported in the banner
    std::shared_ptr<const engine::Capture> m_capture;
    std::shared_ptr<const engine::Model> m_captureModel;
    QStringList m_captureLabels;
    int m_capturePromptTokens = 0;
    int m_insidePosition = -1;
    std::map<QString, QAction*> m_actions;
    std::vector<QDockWidget*> m_docks;
    QMenu* m_viewMenu = nullptr;
    QByteArray m_defaultState;

    // The playground generation in flight: its job and the card of each lane.
    quint64 m_playJob = 0;
    std::vector<int> m_playCards;
    quint64 m_compareJob = 0;
    PlaygroundRun m_compareRun;                 // what every lane of the comparison shares
    std::vector<PlaygroundRun> m_compareLanes;  // one run per lane, saved as a compare group
    quint64 m_nextLocalId = 1;
    // Branches waiting for their parent's project id before they can be saved.
    std::vector<PlaygroundRun> m_waitingForParent;
    int m_savedRuns = 0;
    QTimer m_promptTokensTimer;
    bool m_inspectingPlayground = true;  // the inspector shows a Playground token (branchable)
    bool m_closing = false;
};

}  // namespace glassbox::ui
