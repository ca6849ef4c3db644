// Screenshots of the main views for the documentation, written to
// docs/screenshots/ only when GLASSBOX_WRITE_SCREENSHOTS=1 (so ordinary
// test runs leave the tree alone): the playground after a run with a token
// inspected, a branch, the comparison view, the dark theme and an error.
#include <QDir>
#include <QtTest>

#include "tests/ui/ui_test_support.h"
#include "ui/compare_widget.h"
#include "ui/message_banner.h"
#include "ui/theme.h"
#include "ui/token_inspector.h"
#include "viz/token_view.h"

GLASSBOX_UI_TEST_ENVIRONMENT

using namespace glassbox;
using namespace glassbox::ui;

class TestScreenshots : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void cleanupTestCase();
    void playground();
    void branch();
    void compare();
    void darkTheme();
    void badInput();

private:
    void save(const QString& name);
    QString m_dir;
    MainWindow* m_window = nullptr;
};

void TestScreenshots::initTestCase() {
    if (qEnvironmentVariable("GLASSBOX_WRITE_SCREENSHOTS") != QLatin1String("1"))
        QSKIP("set GLASSBOX_WRITE_SCREENSHOTS=1 to write docs/screenshots/");
    const QString source = qEnvironmentVariable("GLASSBOX_SOURCE_DIR", QStringLiteral("."));
    m_dir = QDir(source).filePath(QStringLiteral("docs/screenshots"));
    QVERIFY(QDir().mkpath(m_dir));
    m_window = new MainWindow(uitest::options(uitest::scratch(QStringLiteral("screens.glassbox")), uitest::modelPath()));
    m_window->resize(1440, 900);
    m_window->show();
    QVERIFY(QTest::qWaitForWindowExposed(m_window));
    QVERIFY(uitest::waitForModel(*m_window));
    QVERIFY(uitest::waitForProject(*m_window));
}

void TestScreenshots::cleanupTestCase() { delete m_window; }

void TestScreenshots::save(const QString& name) {
    QTest::qWait(300);  // let queued replots and layouts settle
    const QString path = QDir(m_dir).filePath(name);
    QVERIFY2(m_window->grab().save(path), qPrintable(path));
    qInfo("wrote %s", qPrintable(path));
}

void TestScreenshots::playground() {
    QVERIFY(uitest::runCompletion(*m_window, QStringLiteral("The three primary colours are"), 40, 11));
    RunStack* stack = m_window->playground()->runStack();
    const int step = std::min(3, stack->view(0)->count() - 1);
    stack->selectToken(0, step);
    int row = 0;
    while (m_window->inspector()->alternativeId(row) == stack->run(0).record.tokens[size_t(step)].id) ++row;
    m_window->inspector()->selectAlternative(row);  // ready to branch
    save(QStringLiteral("playground.png"));
}

void TestScreenshots::branch() {
    RunStack* stack = m_window->playground()->runStack();
    stack->selectToken(0, 3);
    TokenInspector* inspector = m_window->inspector();
    int row = 0;
    while (inspector->alternativeId(row) == stack->run(0).record.tokens[3].id) ++row;
    inspector->selectAlternative(row);
    m_window->branchFromSelection();
    QVERIFY(uitest::waitForIdle(*m_window));
    stack->selectToken(1, 5);
    save(QStringLiteral("branch.png"));
}

void TestScreenshots::compare() {
    m_window->compare()->setMaxTokens(24);
    m_window->runCompare();
    QVERIFY(uitest::waitForIdle(*m_window));
    save(QStringLiteral("compare.png"));
}

void TestScreenshots::darkTheme() {
    m_window->setTheme(true);
    m_window->centralTabs()->setCurrentIndex(0);
    m_window->playground()->setColorMode(viz::ColorMode::Entropy);
    m_window->playground()->runStack()->selectToken(0, 6);
    save(QStringLiteral("playground-dark.png"));
    m_window->playground()->setColorMode(viz::ColorMode::Probability);
    m_window->setTheme(false);
}

void TestScreenshots::badInput() {
    const QString bogus = uitest::scratch(QStringLiteral("notes.gguf"));
    QFile f(bogus);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write("these are my notes, not a model\n");
    f.close();
    m_window->openModel(bogus);
    QTRY_VERIFY_WITH_TIMEOUT(!m_window->engine()->isLoading(), 10000);
    QVERIFY(m_window->banner()->isVisible());
    save(QStringLiteral("bad-model.png"));
}

QTEST_MAIN(TestScreenshots)
#include "tst_screenshots.moc"
