// Bad input never crashes the window: a file that is not a model, a model
// of an unsupported architecture, a truncated model, a missing file, a
// corrupt or foreign project file, a read-only location and a full disk
// each give a clear message in the banner (non-modal, readable here), the
// window keeps working and nothing saved before is lost.
#include <QPushButton>
#include <QSignalSpy>
#include <QtTest>
#include <sqlite3.h>
#include <unistd.h>

#include "support/synthetic_model.h"
#include "tests/ui/ui_test_support.h"
#include "ui/history_model.h"
#include "ui/history_panel.h"
#include "ui/message_banner.h"

GLASSBOX_UI_TEST_ENVIRONMENT

using namespace glassbox;
using namespace glassbox::ui;

namespace {

QString writeFile(const QString& name, const QByteArray& bytes) {
    const QString path = uitest::scratch(name);
    QFile f(path);
    if (!f.open(QIODevice::WriteOnly)) return {};
    f.write(bytes);
    return path;
}

}  // namespace

class TestBadInput : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void cleanupTestCase();
    void rejectsModels_data();
    void rejectsModels();
    void rejectsProjects_data();
    void rejectsProjects();
    void reportsReadOnlyLocation();
    void reportsFullDiskAndKeepsSavedRuns();

private:
    bool expectError(const QString& fragment);
    MainWindow* m_window = nullptr;
    QString m_project;
};

void TestBadInput::initTestCase() {
    m_project = uitest::scratch(QStringLiteral("good.glassbox"));
    m_window = new MainWindow(uitest::options(m_project, uitest::modelPath()));
    m_window->show();
    QVERIFY(uitest::waitForModel(*m_window));
    QVERIFY(uitest::waitForProject(*m_window));
    QVERIFY(uitest::runCompletion(*m_window, QStringLiteral("Water boils at"), 6));
    QTRY_COMPARE_WITH_TIMEOUT(m_window->savedRunCount(), 1, 10000);
}

void TestBadInput::cleanupTestCase() { delete m_window; }

bool TestBadInput::expectError(const QString& fragment) {
    if (!QTest::qWaitFor([&] { return m_window->banner()->isVisible(); }, 10000)) return false;
    const QString text = m_window->banner()->text();
    qInfo("banner: %s", qPrintable(QString(text).replace(QLatin1Char('\n'), QStringLiteral(" | "))));
    if (m_window->banner()->level() != MessageBanner::Level::Error || !text.contains(fragment, Qt::CaseInsensitive)) {
        qWarning("banner: %s", qPrintable(text));
        return false;
    }
    return true;
}

void TestBadInput::rejectsModels_data() {
    QTest::addColumn<QString>("path");
    QTest::addColumn<QString>("message");
    QTest::newRow("text file") << writeFile(QStringLiteral("notes.gguf"), "just some notes, not weights\n")
                               << QStringLiteral("not a model Glassbox can read");
    QTest::newRow("empty file") << writeFile(QStringLiteral("empty.gguf"), {}) << QStringLiteral("notes");
    const QString arch = uitest::scratch(QStringLiteral("gpt2.gguf"));
    testing::SyntheticModelSpec spec;
    spec.architecture = "gpt2";
    QVERIFY(testing::writeSyntheticModel(arch.toStdString(), spec).ok());
    QTest::newRow("unsupported architecture") << arch << QStringLiteral("does not support");
    QFile model(uitest::modelPath());
    QVERIFY(model.open(QIODevice::ReadOnly));
    QTest::newRow("truncated model") << writeFile(QStringLiteral("truncated.gguf"), model.read(model.size() / 3))
                                     << QStringLiteral("incomplete");
    QTest::newRow("missing file") << uitest::scratch(QStringLiteral("nowhere.gguf")) << QStringLiteral("does not exist");
    QTest::newRow("a folder") << uitest::scratch(QString()) << QStringLiteral("loaded");
}

void TestBadInput::rejectsModels() {
    QFETCH(QString, path);
    QFETCH(QString, message);
    m_window->banner()->dismiss();
    const auto before = m_window->engine()->model()->model;
    m_window->openModel(path);
    QVERIFY(QTest::qWaitFor([&] { return !m_window->engine()->isLoading(); }, 20000));
    if (message == QLatin1String("notes")) message = QStringLiteral("“empty.gguf”");
    if (message == QLatin1String("loaded")) message = QStringLiteral("Still using");
    QVERIFY(expectError(message));
    QVERIFY(m_window->banner()->text().contains(QStringLiteral("Still using")));
    // The window keeps the model it had and keeps working.
    QCOMPARE(m_window->engine()->model()->model, before);
    QVERIFY(m_window->action(QStringLiteral("run"))->isEnabled());
}

void TestBadInput::rejectsProjects_data() {
    QTest::addColumn<QString>("path");
    QTest::addColumn<QString>("message");
    QByteArray noise(8192, '\0');
    for (int i = 0; i < noise.size(); ++i) noise[i] = char((i * 7919) ^ (i >> 3));
    QTest::newRow("random bytes") << writeFile(QStringLiteral("noise.glassbox"), noise)
                                  << QStringLiteral("not a Glassbox project");
    // A valid SQLite database of some other program.
    const QString foreign = uitest::scratch(QStringLiteral("foreign.glassbox"));
    sqlite3* db = nullptr;
    QCOMPARE(sqlite3_open(foreign.toUtf8().constData(), &db), SQLITE_OK);
    QCOMPARE(sqlite3_exec(db, "CREATE TABLE bookmarks(url TEXT); INSERT INTO bookmarks VALUES('x');", nullptr,
                          nullptr, nullptr),
             SQLITE_OK);
    sqlite3_close(db);
    QTest::newRow("another program's database") << foreign << QStringLiteral("another program");
    // A real project cut in half.
    QFile good(m_project);
    QVERIFY(good.open(QIODevice::ReadOnly));
    QTest::newRow("truncated project") << writeFile(QStringLiteral("half.glassbox"), good.read(good.size() / 2 + 100))
                                       << QStringLiteral("Could not open");
    QTest::newRow("missing project") << uitest::scratch(QStringLiteral("gone.glassbox"))
                                     << QStringLiteral("does not exist");
}

void TestBadInput::rejectsProjects() {
    QFETCH(QString, path);
    QFETCH(QString, message);
    m_window->banner()->dismiss();
    m_window->openProject(path);
    QVERIFY(expectError(message));
    // The open project stays, with its runs.
    QCOMPARE(m_window->project()->path(), QFileInfo(m_project).absoluteFilePath());
    QVERIFY(m_window->banner()->text().contains(QStringLiteral("stays open")));
    QCOMPARE(m_window->history()->model()->rowCount(), 1);
}

void TestBadInput::reportsReadOnlyLocation() {
    // Root may write anywhere on a normal disk; /proc refuses everyone.
    QString dir = QStringLiteral("/proc");
    if (geteuid() != 0) {
        dir = uitest::scratch(QStringLiteral("locked"));
        QVERIFY(QDir().mkpath(dir));
        QVERIFY(QFile::setPermissions(dir, QFileDevice::ReadOwner | QFileDevice::ExeOwner));
    }
    m_window->banner()->dismiss();
    m_window->newProject(QDir(dir).filePath(QStringLiteral("new.glassbox")));
    QVERIFY(expectError(QStringLiteral("read-only")));
    QCOMPARE(m_window->project()->path(), QFileInfo(m_project).absoluteFilePath());

    m_window->banner()->dismiss();
    m_window->saveProjectAs(QDir(dir).filePath(QStringLiteral("copy.glassbox")));
    QVERIFY(expectError(QStringLiteral("Could not save")));
    QCOMPARE(m_window->project()->path(), QFileInfo(m_project).absoluteFilePath());
}

void TestBadInput::reportsFullDiskAndKeepsSavedRuns() {
    const int64_t saved = m_window->playground()->runStack()->run(0).record.id;
    QVERIFY(saved > 0);
    const auto tokens = m_window->playground()->runStack()->run(0).record.tokens;
    // No room left: the file may not grow any more.
    m_window->project()->setMaxPageCount(1);
    m_window->banner()->dismiss();
    QVERIFY(uitest::runCompletion(*m_window, QStringLiteral("The moon is"), 40));
    QVERIFY(expectError(QStringLiteral("disk is full")));
    QVERIFY(m_window->banner()->text().contains(QStringLiteral("intact")));
    // The run is still on screen, and the window still runs.
    QVERIFY(m_window->playground()->runStack()->view(0)->count() > 0);
    QVERIFY(m_window->action(QStringLiteral("run"))->isEnabled());

    // Reopen the project: the run saved before the disk filled is intact.
    delete m_window;
    m_window = new MainWindow(uitest::options(m_project, uitest::modelPath()));
    m_window->show();
    QVERIFY(uitest::waitForProject(*m_window));
    QTRY_COMPARE_WITH_TIMEOUT(m_window->history()->model()->rowCount(), 1, 10000);
    m_window->history()->activateRun(saved);
    RunStack* stack = m_window->playground()->runStack();
    QTRY_VERIFY_WITH_TIMEOUT(stack->count() == 1 && stack->run(0).record.id == saved, 10000);
    QCOMPARE(stack->run(0).record.tokens.size(), tokens.size());
    for (size_t i = 0; i < tokens.size(); ++i) QCOMPARE(stack->run(0).record.tokens[i].id, tokens[i].id);
}

QTEST_MAIN(TestBadInput)
#include "tst_bad_input.moc"
