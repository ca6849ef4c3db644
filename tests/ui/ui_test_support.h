// Shared helpers of the GUI tests: an isolated environment (settings and
// data in a temporary directory, offscreen when there is no display), the
// default model, and waiting for the real window to finish loading or
// generating. Header-only; every tst_*.cpp includes it.
#pragma once

#include <QDir>
#include <QFile>
#include <QStandardPaths>
#include <QEventLoop>
#include <QTemporaryDir>
#include <QTimer>
#include <QTest>
#include <cstdlib>

#include "support/test_paths.h"
#include "ui/engine_client.h"
#include "ui/main_window.h"
#include "ui/playground_widget.h"
#include "ui/project_controller.h"
#include "ui/run_stack.h"
#include "ui/sampler_panel.h"

namespace glassbox::uitest {

// Settings, data and runtime directories in a fresh temporary directory, so
// tests neither read nor touch the user's. Call before QApplication exists.
inline bool isolateEnvironment() {
    static std::string root = glassbox::testing::makeTempDir("glassbox-ui");
    for (const char* name : {"XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_RUNTIME_DIR"}) {
        const std::string dir = root + "/" + name;
        QDir().mkpath(QString::fromStdString(dir));
        QFile::setPermissions(QString::fromStdString(dir), QFileDevice::ReadOwner | QFileDevice::WriteOwner |
                                                               QFileDevice::ExeOwner);
        qputenv(name, QByteArray::fromStdString(dir));
    }
    if (qEnvironmentVariableIsEmpty("DISPLAY") && qEnvironmentVariableIsEmpty("WAYLAND_DISPLAY") &&
        qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM"))
        qputenv("QT_QPA_PLATFORM", "offscreen");
    return true;
}

inline QString modelPath() { return QString::fromStdString(glassbox::testing::defaultModelPath()); }

// A path for a file in this test's scratch directory.
inline QString scratch(const QString& name) {
    static QString dir = QString::fromStdString(glassbox::testing::makeTempDir("glassbox-ui-files"));
    return QDir(dir).filePath(name);
}

inline ui::MainWindow::Options options(const QString& project, const QString& model = {}) {
    ui::MainWindow::Options o;
    o.projectPath = project;
    o.modelPath = model;
    o.restoreLayout = false;
    return o;
}

// Wait for pred() in a real event loop. Unlike QTest::qWait / qWaitFor, it
// never sleeps the UI thread between event batches, so latency measured
// meanwhile is the window's own.
template <class Pred>
bool waitInEventLoop(Pred pred, int timeoutMs) {
    if (pred()) return true;
    QEventLoop loop;
    QTimer poll;
    poll.setInterval(2);
    QObject::connect(&poll, &QTimer::timeout, &loop, [&] {
        if (pred()) loop.quit();
    });
    QTimer deadline;
    deadline.setSingleShot(true);
    QObject::connect(&deadline, &QTimer::timeout, &loop, &QEventLoop::quit);
    poll.start();
    deadline.start(timeoutMs);
    loop.exec();
    return pred();
}

inline bool waitForModel(ui::MainWindow& w, int timeoutMs = 60000) {
    return QTest::qWaitFor([&] { return w.engine()->model() && !w.engine()->isLoading(); }, timeoutMs);
}

inline bool waitForProject(ui::MainWindow& w, int timeoutMs = 20000) {
    return QTest::qWaitFor([&] { return w.project()->isOpen() && !w.project()->isOpening(); }, timeoutMs);
}

inline bool waitForIdle(ui::MainWindow& w, int timeoutMs = 60000) {
    return QTest::qWaitFor([&] { return !w.engine()->isGenerating() && !w.engine()->isLoading(); }, timeoutMs);
}

// Settings for short, reproducible test runs.
inline engine::SamplerSettings quickSettings(int maxTokens, uint64_t seed = 7) {
    engine::SamplerSettings s;
    s.temperature = 0.8f;
    s.topK = 40;
    s.topP = 0.95f;
    s.minP = 0.05f;
    s.seed = seed;
    s.maxTokens = maxTokens;
    s.topLogprobs = 10;
    return s;
}

// Type a completion prompt and run it to the end.
inline bool runCompletion(ui::MainWindow& w, const QString& prompt, int maxTokens, uint64_t seed = 7,
                          int timeoutMs = 60000) {
    w.playground()->setMode(projects::PromptMode::Completion);
    w.playground()->setPromptText(prompt);
    w.samplerPanel()->setSettings(quickSettings(maxTokens, seed));
    w.runPrompt();
    if (!w.engine()->isGenerating()) return false;
    return waitForIdle(w, timeoutMs);
}

}  // namespace glassbox::uitest

// Runs before main(), so QApplication starts in the isolated environment.
#define GLASSBOX_UI_TEST_ENVIRONMENT \
    static const bool glassboxUiTestEnvironment = glassbox::uitest::isolateEnvironment();
