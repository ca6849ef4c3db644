// MainWindow: frame, central tabs, docks, layout persistence, theme, close.
#include "ui/main_window.h"

#include <QApplication>
#include <QCloseEvent>
#include <QDockWidget>
#include <QFileInfo>
#include <QMenu>
#include <QSettings>
#include <QStatusBar>
#include <QTabWidget>
#include <QVBoxLayout>

#include "ui/compare_widget.h"
#include "ui/draft_autosaver.h"
#include "ui/engine_client.h"
#include "ui/history_panel.h"
#include "ui/playground_widget.h"
#include "ui/project_controller.h"
#include "ui/prompt_tokens_panel.h"
#include "ui/recent_files.h"
#include "ui/sampler_panel.h"
#include "ui/status_panel.h"
#include "ui/theme.h"
#include "ui/token_inspector.h"

namespace glassbox::ui {

MainWindow::MainWindow() : MainWindow(Options{}) {}

MainWindow::MainWindow(const Options& options, QWidget* parent) : QMainWindow(parent), m_options(options) {
    setObjectName(QStringLiteral("glassboxMainWindow"));
    setAcceptDrops(true);
    setDockNestingEnabled(true);
    resize(1360, 860);
    m_engine = new EngineClient(this);
    m_project = new ProjectController(this);
    m_recentModels = new RecentFiles(QStringLiteral("recent/models"), this);
    m_recentProjects = new RecentFiles(QStringLiteral("recent/projects"), this);
    m_autosaver = new DraftAutosaver([this] { return draftState(); },
                                     [this](const QString& state) {
                                         m_project->saveDraft(QStringLiteral("playground"), state);
                                     },
                                     this);
    buildCentral();
    buildInsidePanels();
    buildDocks();
    m_status = new StatusPanel(statusBar());
    buildActions();
    buildMenus();
    connectEngine();
    connectRuns();
    connectInsidePanels();
    connectProject();
    m_defaultState = saveState();
    if (options.restoreLayout) restoreLayout();
    else Theme::apply(Theme::current());
    applyThemeToViews();
    updateTitle();
    updateActions();
    if (QSettings().value(QStringLiteral("overlay/visible"), false).toBool()) setOverlayVisible(true);

    if (!options.projectPath.isEmpty()) {
        if (QFileInfo::exists(options.projectPath)) openProject(options.projectPath);
        else newProject(options.projectPath);
    }
    if (!options.modelPath.isEmpty()) openModel(options.modelPath);
}

MainWindow::~MainWindow() {
    m_closing = true;
    m_engine->cancelLoad();
    m_engine->cancelGeneration();
}

void MainWindow::buildCentral() {
    m_banner = new MessageBanner;
    m_playground = new PlaygroundWidget;
    m_compare = new CompareWidget;
    m_tabs = new QTabWidget;
    m_tabs->setDocumentMode(true);
    m_tabs->addTab(m_playground, tr("Playground"));
    m_tabs->addTab(m_compare, tr("Compare"));
    auto* central = new QWidget;
    auto* layout = new QVBoxLayout(central);
    layout->setContentsMargins(4, 4, 4, 0);
    layout->setSpacing(4);
    layout->addWidget(m_banner);
    layout->addWidget(m_tabs, 1);
    setCentralWidget(central);
}

QDockWidget* MainWindow::addDock(const QString& title, const QString& name, QWidget* body, Qt::DockWidgetArea area) {
    auto* dock = new QDockWidget(title, this);
    dock->setObjectName(name);
    dock->setWidget(body);
    dock->setFeatures(QDockWidget::DockWidgetMovable | QDockWidget::DockWidgetFloatable |
                      QDockWidget::DockWidgetClosable);
    addDockWidget(area, dock);
    m_docks.push_back(dock);
    return dock;
}

void MainWindow::buildDocks() {
    m_sampler = new SamplerPanel;
    engine::SamplerSettings defaults;
    defaults.topLogprobs = 10;
    defaults.maxTokens = 64;
    m_sampler->setSettings(defaults);
    m_inspector = new TokenInspector;
    m_history = new HistoryPanel;
    m_promptTokens = new PromptTokensPanel;
    QDockWidget* sampler = addDock(tr("Sampler"), QStringLiteral("samplerDock"), m_sampler, Qt::LeftDockWidgetArea);
    QDockWidget* history = addDock(tr("History"), QStringLiteral("historyDock"), m_history, Qt::LeftDockWidgetArea);
    QDockWidget* inspector =
        addDock(tr("Token Inspector"), QStringLiteral("inspectorDock"), m_inspector, Qt::RightDockWidgetArea);
    QDockWidget* tokens =
        addDock(tr("Prompt Tokens"), QStringLiteral("promptTokensDock"), m_promptTokens, Qt::BottomDockWidgetArea);
    splitDockWidget(sampler, history, Qt::Vertical);
    resizeDocks({sampler, inspector}, {340, 470}, Qt::Horizontal);
    resizeDocks({sampler, history}, {470, 330}, Qt::Vertical);
    resizeDocks({tokens}, {130}, Qt::Vertical);
}

void MainWindow::restoreLayout() {
    QSettings settings;
    const QByteArray geometry = settings.value(QStringLiteral("window/geometry")).toByteArray();
    const QByteArray state = settings.value(QStringLiteral("window/state")).toByteArray();
    if (!geometry.isEmpty()) restoreGeometry(geometry);
    if (!state.isEmpty()) restoreState(state);
    const QString theme = settings.value(QStringLiteral("window/theme"), QStringLiteral("light")).toString();
    Theme::apply(Theme::fromName(theme));
}

void MainWindow::saveLayout() {
    QSettings settings;
    settings.setValue(QStringLiteral("window/geometry"), saveGeometry());
    settings.setValue(QStringLiteral("window/state"), saveState());
    settings.setValue(QStringLiteral("window/theme"), Theme::name(Theme::current()));
}

void MainWindow::updateTitle() {
    QStringList parts{QStringLiteral("Glassbox")};
    if (m_project->isOpen()) parts << QFileInfo(m_project->path()).fileName();
    if (const ModelInfo* m = m_engine->model()) parts << m->name;
    setWindowTitle(parts.join(QStringLiteral(" — ")));
}

void MainWindow::setTheme(bool dark) {
    Theme::apply(dark ? Theme::Kind::Dark : Theme::Kind::Light);
    applyThemeToViews();
    if (QAction* a = action(QStringLiteral("darkTheme"))) a->setChecked(dark);
}

void MainWindow::applyThemeToViews() {
    const bool dark = Theme::isDark();
    m_inspector->setDark(dark);
    m_compare->setDark(dark);
}

void MainWindow::changeEvent(QEvent* event) {
    QMainWindow::changeEvent(event);
    if (event->type() == QEvent::PaletteChange) applyThemeToViews();
}

void MainWindow::showMessage(MessageBanner::Level level, const QString& text, const QString& actionText,
                             std::function<void()> action) {
    m_banner->showMessage(level, text, actionText, std::move(action));
    statusBar()->showMessage(text.section(QLatin1Char('\n'), 0, 0), 8000);
}

bool MainWindow::isBusy() const { return m_engine->isLoading() || m_engine->isGenerating() || m_project->isOpening(); }

void MainWindow::closeEvent(QCloseEvent* event) {
    m_closing = true;
    m_autosaver->flush();
    saveLayout();
    m_engine->cancelLoad();
    m_engine->cancelGeneration();
    event->accept();
}

}  // namespace glassbox::ui
