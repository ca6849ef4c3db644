// MainWindow: actions, menus, keyboard shortcuts, file dialogs, drag and drop.
#include <QActionGroup>
#include <QSettings>
#include <QApplication>
#include <QDockWidget>
#include <QDragEnterEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QMenuBar>
#include <QMessageBox>
#include <QMimeData>
#include <QPushButton>
#include <QTabWidget>

#include "ui/compare_widget.h"
#include "ui/device_choice.h"
#include "ui/engine_client.h"
#include "ui/attention_panel.h"
#include "ui/main_window.h"
#include "ui/playground_widget.h"
#include "ui/project_controller.h"
#include "ui/recent_files.h"
#include "ui/theme.h"
#include "ui/token_inspector.h"

namespace glassbox::ui {
namespace {

const QString kProjectFilter = QStringLiteral("Glassbox projects (*.glassbox);;All files (*)");
const QString kModelFilter = QStringLiteral("Models (*.gguf *.safetensors);;All files (*)");

bool isProjectFile(const QString& path) { return path.endsWith(QLatin1String(".glassbox"), Qt::CaseInsensitive); }

}  // namespace

QAction* MainWindow::makeAction(const QString& name, const QString& text, const QKeySequence& key,
                                const QString& tip) {
    auto* a = new QAction(text, this);
    a->setObjectName(name);
    if (!key.isEmpty()) a->setShortcut(key);
    a->setToolTip(tip);
    a->setStatusTip(tip);
    a->setShortcutContext(Qt::WindowShortcut);
    addAction(a);
    m_actions[name] = a;
    return a;
}

QAction* MainWindow::action(const QString& name) const {
    const auto it = m_actions.find(name);
    return it == m_actions.end() ? nullptr : it->second;
}

void MainWindow::buildActions() {
    connect(makeAction("newProject", tr("&New Project…"), QKeySequence::New, tr("Create a new project file")),
            &QAction::triggered, this, &MainWindow::chooseNewProject);
    connect(makeAction("openProject", tr("Open &Project…"), QKeySequence(tr("Ctrl+Shift+O")),
                       tr("Open a project file")),
            &QAction::triggered, this, &MainWindow::chooseProjectToOpen);
    connect(makeAction("saveProjectAs", tr("Save Project &As…"), QKeySequence::SaveAs,
                       tr("Copy the project to a new file and continue there")),
            &QAction::triggered, this, &MainWindow::chooseSaveAs);
    connect(makeAction("openModel", tr("&Open Model…"), QKeySequence::Open, tr("Open a GGUF or safetensors model")),
            &QAction::triggered, this, &MainWindow::chooseModelFile);
    connect(makeAction("cancelLoad", tr("&Cancel Loading"), {}, tr("Stop loading the model")), &QAction::triggered,
            this, &MainWindow::cancelModelLoad);
    connect(makeAction("quit", tr("&Quit"), QKeySequence::Quit, tr("Close Glassbox")), &QAction::triggered, this,
            &QWidget::close);

    QAction* run = makeAction("run", tr("&Run"), QKeySequence(Qt::CTRL | Qt::Key_Return), tr("Generate (Ctrl+Enter)"));
    run->setShortcuts({QKeySequence(Qt::CTRL | Qt::Key_Return), QKeySequence(Qt::CTRL | Qt::Key_Enter)});
    connect(run, &QAction::triggered, this, &MainWindow::runPrompt);
    connect(makeAction("stop", tr("&Stop"), QKeySequence(Qt::Key_Escape), tr("Stop generating (Esc)")),
            &QAction::triggered, this, &MainWindow::stopGeneration);
    connect(makeAction("branch", tr("&Branch Here"), QKeySequence(Qt::CTRL | Qt::Key_B),
                       tr("Continue from the selected token with the selected alternative")),
            &QAction::triggered, this, &MainWindow::branchFromSelection);
    QAction* compare = makeAction("compare", tr("&Compare"), QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_Return),
                                  tr("Run the prompt in every comparison lane"));
    connect(compare, &QAction::triggered, this, &MainWindow::runCompare);

    QAction* dark = makeAction("darkTheme", tr("&Dark Theme"), QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_T),
                               tr("Switch between the light and dark theme"));
    dark->setCheckable(true);
    dark->setChecked(Theme::isDark());
    connect(dark, &QAction::toggled, this, [this](bool on) {
        if (on != Theme::isDark()) setTheme(on);
    });
    connect(makeAction("entropyColors", tr("Colour by &Entropy"), QKeySequence(Qt::CTRL | Qt::Key_E),
                       tr("Switch token colours between probability and entropy")),
            &QAction::triggered, this, [this] {
                m_playground->setColorMode(m_playground->colorMode() == viz::ColorMode::Probability
                                               ? viz::ColorMode::Entropy
                                               : viz::ColorMode::Probability);
            });
    QAction* inside = makeAction("recordInside", tr("Record &Inside the Model"), QKeySequence(Qt::CTRL | Qt::Key_I),
                                 tr("Record attention, shapes, activations and the residual stream of every run "
                                    "(about 160 KB per token for SmolLM2)"));
    inside->setCheckable(true);
    inside->setChecked(QSettings().value(QStringLiteral("inside/record"), true).toBool());
    connect(inside, &QAction::toggled, this, [](bool on) { QSettings().setValue(QStringLiteral("inside/record"), on); });
    connect(makeAction("insideTabs", tr("&Attention"), QKeySequence(Qt::CTRL | Qt::Key_3), tr("Show the attention maps")),
            &QAction::triggered, this, [this] { m_tabs->setCurrentWidget(m_attentionPanel); });
    connect(makeAction("resetLayout", tr("&Reset Layout"), {}, tr("Put every panel back in its place")),
            &QAction::triggered, this, [this] {
                restoreState(m_defaultState);
                for (QDockWidget* d : m_docks) d->show();
            });
    connect(makeAction("playgroundTab", tr("&Playground"), QKeySequence(Qt::CTRL | Qt::Key_1), tr("Show the Playground")),
            &QAction::triggered, this, [this] { m_tabs->setCurrentIndex(0); });
    connect(makeAction("compareTab", tr("&Compare"), QKeySequence(Qt::CTRL | Qt::Key_2), tr("Show Compare")),
            &QAction::triggered, this, [this] { m_tabs->setCurrentIndex(1); });
    connect(makeAction("shortcuts", tr("&Keyboard Shortcuts"), QKeySequence::HelpContents, tr("List the shortcuts")),
            &QAction::triggered, this, &MainWindow::showShortcuts);
    connect(makeAction("about", tr("&About Glassbox"), {}, tr("About this program")), &QAction::triggered, this, [this] {
        QMessageBox::about(this, tr("About Glassbox"),
                           tr("<b>Glassbox %1</b><p>A workbench for looking inside language models while they run: "
                              "token probabilities, sampler stages, branches and comparisons.</p>")
                               .arg(QStringLiteral(GLASSBOX_VERSION)));
    });

    buildOverlayActions();

    connect(m_playground, &PlaygroundWidget::runRequested, this, &MainWindow::runPrompt);
    connect(m_playground, &PlaygroundWidget::stopRequested, this, &MainWindow::stopGeneration);
    connect(m_compare, &CompareWidget::compareRequested, this, &MainWindow::runCompare);
    connect(m_compare, &CompareWidget::stopRequested, this, &MainWindow::stopGeneration);
    connect(m_compare, &CompareWidget::tokenSelected, this, &MainWindow::onCompareTokenSelected);
}

void MainWindow::buildMenus() {
    QMenu* file = menuBar()->addMenu(tr("&File"));
    file->addAction(action("newProject"));
    file->addAction(action("openProject"));
    m_recentProjects->attachMenu(file->addMenu(tr("Recent P&rojects")));
    file->addAction(action("saveProjectAs"));
    file->addSeparator();
    file->addAction(action("openModel"));
    m_recentModels->attachMenu(file->addMenu(tr("Recent &Models")));
    QMenu* device = file->addMenu(tr("&Device"));
    device->setObjectName(QStringLiteral("deviceMenu"));
    device->setToolTipsVisible(true);
    m_deviceChoice->attachMenu(device);
    file->addAction(action("cancelLoad"));
    file->addSeparator();
    file->addAction(action("quit"));
    connect(m_recentModels, &RecentFiles::openRequested, this, &MainWindow::openModel);
    connect(m_recentProjects, &RecentFiles::openRequested, this, &MainWindow::openProject);

    QMenu* run = menuBar()->addMenu(tr("&Run"));
    run->addAction(action("run"));
    run->addAction(action("stop"));
    run->addAction(action("branch"));
    run->addSeparator();
    run->addAction(action("compare"));

    m_viewMenu = menuBar()->addMenu(tr("&View"));
    m_viewMenu->addAction(action("playgroundTab"));
    m_viewMenu->addAction(action("compareTab"));
    m_viewMenu->addAction(action("insideTabs"));
    m_viewMenu->addAction(action("recordInside"));
    m_viewMenu->addAction(action("gpuOverlay"));
    m_viewMenu->addSeparator();
    QMenu* panels = m_viewMenu->addMenu(tr("&Panels"));
    for (QDockWidget* d : m_docks) panels->addAction(d->toggleViewAction());
    m_viewMenu->addAction(action("resetLayout"));
    m_viewMenu->addSeparator();
    m_viewMenu->addAction(action("darkTheme"));
    m_viewMenu->addAction(action("entropyColors"));

    QMenu* help = menuBar()->addMenu(tr("&Help"));
    help->addAction(action("shortcuts"));
    help->addAction(action("about"));
}

void MainWindow::updateActions() {
    const bool loading = m_engine->isLoading();
    const bool generating = m_engine->isGenerating();
    const bool haveModel = m_engine->model() != nullptr;
    action("run")->setEnabled(haveModel && !loading);
    action("compare")->setEnabled(haveModel && !loading);
    action("stop")->setEnabled(generating);
    action("cancelLoad")->setEnabled(loading);
    action("saveProjectAs")->setEnabled(m_project->isOpen());
    m_playground->runButton()->setEnabled(haveModel && !loading);
    m_compare->compareButton()->setEnabled(haveModel && !loading);
    m_playground->setRunning(generating && m_playJob != 0);
    m_compare->setRunning(generating && m_compareJob != 0);
    m_inspector->setBranchEnabled(haveModel && !loading && m_inspectingPlayground);
}

void MainWindow::chooseModelFile() {
    const QString path = QFileDialog::getOpenFileName(this, tr("Open Model"), QString(), kModelFilter);
    if (!path.isEmpty()) openModel(path);
}

void MainWindow::chooseProjectToOpen() {
    const QString path = QFileDialog::getOpenFileName(this, tr("Open Project"), QString(), kProjectFilter);
    if (!path.isEmpty()) openProject(path);
}

void MainWindow::chooseNewProject() {
    QString path = QFileDialog::getSaveFileName(this, tr("New Project"), QString(), kProjectFilter);
    if (path.isEmpty()) return;
    if (!isProjectFile(path)) path += QStringLiteral(".glassbox");
    newProject(path);
}

void MainWindow::chooseSaveAs() {
    QString path = QFileDialog::getSaveFileName(this, tr("Save Project As"), QString(), kProjectFilter);
    if (path.isEmpty()) return;
    if (!isProjectFile(path)) path += QStringLiteral(".glassbox");
    saveProjectAs(path);
}

void MainWindow::showShortcuts() {
    QString rows;
    for (const auto& [name, a] : m_actions) {
        if (a->shortcut().isEmpty()) continue;
        rows += QStringLiteral("<tr><td>%1</td><td><b>%2</b></td></tr>")
                    .arg(a->text().remove(QLatin1Char('&')), a->shortcut().toString(QKeySequence::NativeText));
    }
    auto* box = new QMessageBox(QMessageBox::Information, tr("Keyboard Shortcuts"),
                                QStringLiteral("<table cellspacing=6>%1</table>").arg(rows), QMessageBox::Close, this);
    box->setAttribute(Qt::WA_DeleteOnClose);
    box->open();
}

void MainWindow::dragEnterEvent(QDragEnterEvent* event) {
    if (event->mimeData()->hasUrls() && !event->mimeData()->urls().isEmpty() &&
        event->mimeData()->urls().first().isLocalFile())
        event->acceptProposedAction();
}

void MainWindow::dropEvent(QDropEvent* event) {
    const QList<QUrl> urls = event->mimeData()->urls();
    if (urls.isEmpty() || !urls.first().isLocalFile()) return;
    const QString path = urls.first().toLocalFile();
    if (isProjectFile(path)) openProject(path);
    else openModel(path);
    event->acceptProposedAction();
}

}  // namespace glassbox::ui
