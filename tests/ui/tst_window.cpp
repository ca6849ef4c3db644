// The window itself: dock layout and theme saved and restored, menus and
// keyboard shortcuts (Ctrl+Enter runs, Esc stops, Ctrl+O opens a model),
// opening a model by drag and drop and from the recent list, tooltips on
// every sampler control, and the glassbox executable's default start (the
// default model and a demo project with a sample prompt).
#include <QDockWidget>
#include <QDropEvent>
#include <QLineEdit>
#include <QMenu>
#include <QMenuBar>
#include <QMimeData>
#include <QPlainTextEdit>
#include <QProcess>
#include <QSpinBox>
#include <QtTest>

#include "projects/project_store.h"
#include "tests/ui/ui_test_support.h"
#include "ui/app_paths.h"
#include "ui/theme.h"

GLASSBOX_UI_TEST_ENVIRONMENT

using namespace glassbox;
using namespace glassbox::ui;

class TestWindow : public QObject {
    Q_OBJECT
private slots:
    void restoresLayoutAndTheme();
    void hasShortcutsAndMenus();
    void opensModelByDragAndDrop();
    void runsAndStopsFromKeyboard();
    void reopensRecentModel();
    void explainsEverySamplerControl();
    void startsWithDefaultModelAndDemoProject();
};

void TestWindow::restoresLayoutAndTheme() {
    MainWindow::Options o = uitest::options(QString());
    o.restoreLayout = true;
    {
        MainWindow w(o);
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        auto* history = w.findChild<QDockWidget*>(QStringLiteral("historyDock"));
        auto* inspector = w.findChild<QDockWidget*>(QStringLiteral("inspectorDock"));
        QVERIFY(history && inspector);
        history->hide();
        w.addDockWidget(Qt::LeftDockWidgetArea, inspector);
        w.setTheme(true);
        QVERIFY(w.close());
    }
    MainWindow w(o);
    w.show();
    QVERIFY(QTest::qWaitForWindowExposed(&w));
    auto* history = w.findChild<QDockWidget*>(QStringLiteral("historyDock"));
    auto* inspector = w.findChild<QDockWidget*>(QStringLiteral("inspectorDock"));
    QVERIFY(history->isHidden());
    QCOMPARE(w.dockWidgetArea(inspector), Qt::LeftDockWidgetArea);
    QVERIFY(Theme::isDark());
    QVERIFY(QApplication::palette().color(QPalette::Window).lightness() < 128);
    w.action(QStringLiteral("resetLayout"))->trigger();
    QVERIFY(!history->isHidden());
    QCOMPARE(w.dockWidgetArea(inspector), Qt::RightDockWidgetArea);
    w.setTheme(false);
    QVERIFY(QApplication::palette().color(QPalette::Window).lightness() > 128);
}

void TestWindow::hasShortcutsAndMenus() {
    MainWindow w(uitest::options(QString()));
    QCOMPARE(w.action(QStringLiteral("run"))->shortcut(), QKeySequence(Qt::CTRL | Qt::Key_Return));
    QCOMPARE(w.action(QStringLiteral("stop"))->shortcut(), QKeySequence(Qt::Key_Escape));
    QCOMPARE(w.action(QStringLiteral("openModel"))->shortcut(), QKeySequence(QKeySequence::Open));
    QCOMPARE(w.action(QStringLiteral("newProject"))->shortcut(), QKeySequence(QKeySequence::New));
    QCOMPARE(w.action(QStringLiteral("branch"))->shortcut(), QKeySequence(Qt::CTRL | Qt::Key_B));
    QCOMPARE(w.action(QStringLiteral("compare"))->shortcut(), QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_Return));
    QStringList menus;
    for (QAction* a : w.menuBar()->actions()) menus << a->text().remove(QLatin1Char('&'));
    QCOMPARE(menus, (QStringList{"File", "Run", "View", "Help"}));
    // Nothing to run without a model; nothing to stop while idle.
    QVERIFY(!w.action(QStringLiteral("run"))->isEnabled());
    QVERIFY(!w.action(QStringLiteral("stop"))->isEnabled());
    w.runPrompt();
    QVERIFY(w.banner()->text().contains(QStringLiteral("No model")));
}

void TestWindow::opensModelByDragAndDrop() {
    MainWindow w(uitest::options(QString()));
    w.show();
    QVERIFY(QTest::qWaitForWindowExposed(&w));
    QMimeData data;
    data.setUrls({QUrl::fromLocalFile(uitest::modelPath())});
    QDragEnterEvent enter(QPoint(50, 50), Qt::CopyAction, &data, Qt::LeftButton, Qt::NoModifier);
    QApplication::sendEvent(&w, &enter);
    QVERIFY(enter.isAccepted());
    QDropEvent drop(QPointF(50, 50), Qt::CopyAction, &data, Qt::LeftButton, Qt::NoModifier);
    QApplication::sendEvent(&w, &drop);
    QVERIFY(w.engine()->isLoading());
    QVERIFY(uitest::waitForModel(w));
    QCOMPARE(QFileInfo(w.engine()->model()->path), QFileInfo(uitest::modelPath()));
}

void TestWindow::runsAndStopsFromKeyboard() {
    MainWindow w(uitest::options(QString(), uitest::modelPath()));
    w.show();
    w.activateWindow();
    QVERIFY(QTest::qWaitForWindowActive(&w));
    QVERIFY(uitest::waitForModel(w));
    w.samplerPanel()->setSettings(uitest::quickSettings(300));
    QPlainTextEdit* editor = w.playground()->editor();
    editor->setFocus();
    QTest::keyClicks(editor, QStringLiteral("Tell me a story"));
    QTest::keyClick(editor, Qt::Key_Return, Qt::ControlModifier);
    QVERIFY(w.engine()->isGenerating());
    QCOMPARE(editor->toPlainText(), QStringLiteral("Tell me a story"));  // Ctrl+Enter did not type a newline
    QTRY_VERIFY_WITH_TIMEOUT(w.playground()->runStack()->view(0)->count() >= 2, 20000);
    QTest::keyClick(editor, Qt::Key_Escape);
    QVERIFY(uitest::waitForIdle(w, 5000));
    QCOMPARE(w.playground()->runStack()->run(0).record.stopReason, engine::StopReason::Cancelled);
}

void TestWindow::reopensRecentModel() {
    MainWindow w(uitest::options(QString()));
    QMenu* recent = nullptr;
    for (QMenu* menu : w.findChildren<QMenu*>())
        if (menu->title().contains(QStringLiteral("Recent &Models"))) recent = menu;
    QVERIFY(recent);
    QAction* entry = nullptr;
    for (QAction* a : recent->actions())
        if (a->text().contains(QFileInfo(uitest::modelPath()).fileName())) entry = a;
    QVERIFY2(entry, "the model opened earlier is in the recent list");
    entry->trigger();
    QVERIFY(w.engine()->isLoading());
    QVERIFY(uitest::waitForModel(w));
}

void TestWindow::explainsEverySamplerControl() {
    MainWindow w(uitest::options(QString()));
    int controls = 0;
    for (QWidget* child : w.samplerPanel()->findChildren<QWidget*>()) {
        if (!qobject_cast<QAbstractSpinBox*>(child) && !qobject_cast<QLineEdit*>(child) &&
            !qobject_cast<QPlainTextEdit*>(child))
            continue;
        if (qobject_cast<QLineEdit*>(child) && qobject_cast<QAbstractSpinBox*>(child->parentWidget())) continue;
        ++controls;
        QVERIFY2(child->toolTip().size() > 20, qPrintable(child->objectName() + QLatin1Char(' ') + child->metaObject()->className()));
    }
    QCOMPARE(controls, 12);
}

void TestWindow::startsWithDefaultModelAndDemoProject() {
    const QString exe = QDir(qEnvironmentVariable("GLASSBOX_BINARY_DIR", QStringLiteral(".."))).filePath(QStringLiteral("app/glassbox"));
    if (!QFileInfo::exists(exe)) QSKIP("the glassbox executable is not built");
    QProcess app;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("QT_QPA_PLATFORM"), QStringLiteral("offscreen"));
    app.setProcessEnvironment(env);
    app.start(exe, {});
    QVERIFY(app.waitForStarted());
    // Long enough to open the demo project and autosave its sample prompt.
    const QString testName = QCoreApplication::applicationName();
    QCoreApplication::setOrganizationName(QStringLiteral("Glassbox"));
    QCoreApplication::setApplicationName(QStringLiteral("Glassbox"));
    const QString demo = AppPaths::demoProjectPath();
    QCoreApplication::setOrganizationName(QString());
    QCoreApplication::setApplicationName(testName);
    QVERIFY(QTest::qWaitFor([&] {
        if (!QFileInfo::exists(demo)) return false;
        auto store = projects::ProjectStore::open(demo.toStdString(), projects::ProjectStore::OpenMode::ReadOnly);
        if (!store) return false;
        auto drafts = (*store)->drafts();
        return drafts && !drafts->empty() &&
               drafts->front().text.find(AppPaths::samplePrompt().toStdString()) != std::string::npos;
    }, 20000));
    app.terminate();
    QVERIFY(app.waitForFinished(10000));
    QVERIFY(!AppPaths::defaultModelPath().isEmpty());
}

QTEST_MAIN(TestWindow)
#include "tst_window.moc"
