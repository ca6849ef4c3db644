// The GPU overlay in the real window on the default model: F12 shows it
// (remembered), ImGui draws its five windows with OpenGL, a generation
// sends snapshots with real numbers (per-op times that add up to no more
// than the step, the backend's memory by category, the CPU as the device
// and as the hardware source on a machine without a GPU), at most ~10 per
// second; clicks outside its windows reach the widgets underneath; F12
// again hides it and profiling stops. Also File ▸ Device: the choice is
// remembered, applies at the next load, and a placement the engine could
// not honour is explained in the banner; Device errors have clear wording;
// left on, the overlay is back in the next window.
// With GLASSBOX_WRITE_SCREENSHOTS=1 it writes docs/screenshots/gpu_overlay.png.
#include <QAction>
#include <QDir>
#include <QPushButton>
#include <QSettings>
#include <QSignalSpy>
#include <QSpinBox>
#include <QtTest>
#include <set>

#include "engine/model.h"
#include "engine/session.h"
#include "tests/ui/ui_test_support.h"
#include "ui/device_choice.h"
#include "ui/error_text.h"
#include "ui/gpu_overlay.h"
#include "ui/message_banner.h"

GLASSBOX_UI_TEST_ENVIRONMENT

using namespace glassbox;
using namespace glassbox::ui;

class TestGpuOverlay : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void cleanupTestCase();
    void showsWithF12AndDraws();
    void snapshotHasRealNumbers();
    void clicksOutsideReachTheWindow();
    void dragsAWindowAndKeepsItThere();
    void screenshot();
    void hidesWithF12AndStopsProfiling();
    void explainsDeviceErrors();
    void remembersDeviceChoice();
    void comesBackAtStart();

private:
    GpuOverlay* overlay() const { return m_window->gpuOverlay(); }
    MainWindow* m_window = nullptr;
};

void TestGpuOverlay::initTestCase() {
    QVERIFY2(QFile::exists(uitest::modelPath()), "the default model is missing");
    m_window = new MainWindow(
        uitest::options(uitest::scratch(QStringLiteral("overlay.glassbox")), uitest::modelPath()));
    m_window->resize(1440, 900);
    m_window->show();
    QVERIFY(QTest::qWaitForWindowExposed(m_window));
    m_window->activateWindow();
    QVERIFY(QTest::qWaitForWindowActive(m_window));
    QVERIFY(uitest::waitForModel(*m_window));
    QVERIFY(uitest::waitForProject(*m_window));
}

void TestGpuOverlay::cleanupTestCase() { delete m_window; }

void TestGpuOverlay::showsWithF12AndDraws() {
    QAction* toggle = m_window->action(QStringLiteral("gpuOverlay"));
    QVERIFY(toggle);
    QCOMPARE(toggle->shortcut(), QKeySequence(Qt::Key_F12));
    for (QAction* a : m_window->findChildren<QAction*>())  // no other action claims F12
        if (a != toggle) QVERIFY2(!a->shortcuts().contains(QKeySequence(Qt::Key_F12)), qPrintable(a->objectName()));
    QVERIFY(!m_window->isOverlayVisible());

    QTest::keyClick(m_window, Qt::Key_F12);
    QVERIFY(m_window->isOverlayVisible());
    QVERIFY(toggle->isChecked());
    QVERIFY(m_window->engine()->isOverlayActive());
    QVERIFY(QSettings().value(QStringLiteral("overlay/visible")).toBool());
    QCOMPARE(overlay()->geometry(), m_window->centralWidget()->rect());
    QVERIFY(overlay()->testAttribute(Qt::WA_AlwaysStackOnTop));

    // Showing asks for a snapshot at once; ImGui draws it.
    QTRY_VERIFY_WITH_TIMEOUT(overlay()->snapshotsReceived() >= 1, 10000);
    QTRY_VERIFY_WITH_TIMEOUT(overlay()->frameStats().frames >= 1 && overlay()->shown().kind == "CPU", 10000);
    QVERIFY2(overlay()->problem().isEmpty(), qPrintable(overlay()->problem()));
    const GpuOverlay::FrameStats& f = overlay()->frameStats();
    QVERIFY(f.drawLists >= 5);  // one per window at least
    QVERIFY(f.drawCalls >= 5);
    QVERIFY(f.vertices > 500);
    QVERIFY(f.indices >= f.vertices);
    QCOMPARE(overlay()->shown().windows,
             (QStringList{"Device", "Memory", "Hardware", "Throughput", "Last token"}));
    QVERIFY(overlay()->snapshot().haveModel);
    // Qt moved the window to OpenGL composition; it is still the active one.
    QTRY_VERIFY_WITH_TIMEOUT(m_window->isActiveWindow(), 5000);
}

void TestGpuOverlay::snapshotHasRealNumbers() {
    QSignalSpy snapshots(m_window->engine(), &EngineClient::overlaySnapshot);
    QElapsedTimer clock;
    clock.start();
    QVERIFY(uitest::runCompletion(*m_window, QStringLiteral("The capital of France is"), 24, 5));
    const double seconds = double(clock.elapsed()) / 1000.0;
    QTRY_VERIFY_WITH_TIMEOUT(!overlay()->snapshot().running && overlay()->snapshot().step.tokens > 0, 10000);
    // Rate-limited: ≤ 10 per second while running, plus the start and end ones.
    QVERIFY2(snapshots.count() >= 2, qPrintable(QString::number(snapshots.count())));
    QVERIFY2(snapshots.count() <= int(seconds * 10.0) + 4,
             qPrintable(QStringLiteral("%1 snapshots in %2 s").arg(snapshots.count()).arg(seconds)));
    QVERIFY(!overlay()->decodeHistory().empty());

    const OverlaySnapshot& s = overlay()->snapshot();
    QCOMPARE(s.device.kind, std::string("CPU"));
    QCOMPARE(s.placement, QStringLiteral("cpu"));
    QCOMPARE(s.hardware.source, engine::HardwareSource::Proc);
    QVERIFY(s.hardware.memoryTotalBytes > 0 && s.hardware.processBytes > 0);
    QVERIFY(s.prefillTokensPerSecond > 0 && s.decodeTokensPerSecond > 0);
    QCOMPARE(s.step.deviceTimed, false);

    // Per-op times: all positive, adding up to no more than the step.
    std::set<std::string> names;
    double sum = 0;
    for (const engine::OpTiming& op : s.step.ops) {
        QVERIFY2(op.ms > 0 && op.calls > 0, op.op.c_str());
        names.insert(op.op);
        sum += op.ms;
    }
    QVERIFY2(sum <= s.step.totalMs + 1e-9, qPrintable(QStringLiteral("%1 > %2").arg(sum).arg(s.step.totalMs)));
    for (const char* op : {"embedding", "rmsnorm", "qkv_proj", "attention", "gate_up_proj", "down_proj", "logits"})
        QVERIFY2(names.count(op), op);

    // The memory categories are the backend's: a fresh session with the same
    // options holds the same weights and KV cache (scratch only grows).
    const ModelInfo* info = m_window->engine()->model();
    engine::BackendOptions options;
    options.contextSize = info->contextSize;
    options.threads = info->threads;
    options.placement = engine::Placement::Cpu;
    auto fresh = engine::Session::create(info->model, options);
    QVERIFY(fresh.ok());
    const engine::BackendMemory expect = (*fresh)->backend().memory();
    QCOMPARE(s.memory.weights, expect.weights);
    QCOMPARE(s.memory.weights, info->model->weightBytes());
    QCOMPARE(s.memory.kvCache, expect.kvCache);
    QVERIFY(s.memory.scratch >= expect.scratch && s.memory.scratch > 0);

    // And the overlay drew what it received.
    QTRY_VERIFY_WITH_TIMEOUT(overlay()->shown().sequence == s.sequence, 5000);
    QCOMPARE(overlay()->shown().opBars, int(s.step.ops.size()));
    const GpuOverlay::Shown& shown = overlay()->shown();
    QCOMPARE(shown.kind, QStringLiteral("CPU"));
    QVERIFY(shown.cpuEquivalents);
    QCOMPARE(shown.memoryBars.weights, s.memory.weights);
    QCOMPARE(shown.memoryBars.kvCache, s.memory.kvCache);
    QCOMPARE(shown.memoryBars.scratch, s.memory.scratch);
    QVERIFY(qAbs(shown.opMsSum - sum) < 1e-9);
    QCOMPARE(shown.historyPoints, int(overlay()->decodeHistory().size()));
    QVERIFY(overlay()->frameStats().vertices > 1000);
}

void TestGpuOverlay::clicksOutsideReachTheWindow() {
    QWidget* central = m_window->centralWidget();
    const QRegion windows = overlay()->windowRegion();
    QVERIFY(!windows.isEmpty());
    QCOMPARE(overlay()->mask(), windows);
    const QRect first = *windows.begin();
    QCOMPARE(central->childAt(first.center()), static_cast<QWidget*>(overlay()));
    // Bottom left is far from the windows (they start at the right).
    const QPoint outside(20, central->height() - 20);
    QVERIFY(!windows.contains(outside));
    QWidget* under = central->childAt(outside);
    QVERIFY(under && under != overlay());
}

// Drives ImGui through Qt mouse events: the Device window's title bar is
// dragged; the window follows, stays there, and the others keep their place.
void TestGpuOverlay::dragsAWindowAndKeepsItThere() {
    GpuOverlay* o = overlay();
    const QRect device = o->shown().windowRects.value(0);
    const QRect memory = o->shown().windowRects.value(1);
    QCOMPARE(o->shown().windows.value(0), QStringLiteral("Device"));
    QVERIFY(device.isValid() && memory.isValid());
    const QPoint grip(device.x() + device.width() / 2, device.y() + 8);  // the title bar
    const QPoint delta(-260, 330);
    auto frameAfter = [o](auto&& step) {
        const quint64 frames = o->frameStats().frames;
        step();
        return QTest::qWaitFor([&] { return o->frameStats().frames > frames; }, 5000);
    };
    QVERIFY(frameAfter([&] { QTest::mouseMove(o, grip); }));
    QVERIFY(frameAfter([&] { QTest::mousePress(o, Qt::LeftButton, {}, grip); }));
    for (int i = 1; i <= 6; ++i)
        QVERIFY(frameAfter([&] { QTest::mouseMove(o, grip + delta * i / 6); }));
    QVERIFY(frameAfter([&] { QTest::mouseRelease(o, Qt::LeftButton, {}, grip + delta); }));
    const QRect moved = o->shown().windowRects.value(0);
    QVERIFY2(qAbs(moved.topLeft().x() - (device.topLeft() + delta).x()) <= 2 &&
                 qAbs(moved.topLeft().y() - (device.topLeft() + delta).y()) <= 2,
             qPrintable(QStringLiteral("moved to %1,%2").arg(moved.x()).arg(moved.y())));
    QVERIFY(o->windowRegion().contains(moved.center()));
    // Memory, still stacked, moves up into the place Device left.
    QTRY_VERIFY_WITH_TIMEOUT(o->shown().windowRects.value(1).y() < memory.y(), 5000);
    // Another snapshot does not put Device back.
    m_window->engine()->requestOverlaySnapshot();
    const int received = o->snapshotsReceived();
    QTRY_VERIFY_WITH_TIMEOUT(o->snapshotsReceived() > received && o->shown().sequence == o->snapshot().sequence,
                             5000);
    QCOMPARE(o->shown().windowRects.value(0).topLeft(), moved.topLeft());
    // Put it back for the screenshot.
    QVERIFY(frameAfter([&] { QTest::mouseMove(o, grip + delta); }));
    QVERIFY(frameAfter([&] { QTest::mousePress(o, Qt::LeftButton, {}, grip + delta); }));
    for (int i = 5; i >= 0; --i)
        QVERIFY(frameAfter([&] { QTest::mouseMove(o, grip + delta * i / 6); }));
    QVERIFY(frameAfter([&] { QTest::mouseRelease(o, Qt::LeftButton, {}, grip); }));
    QTRY_VERIFY_WITH_TIMEOUT(o->shown().windowRects.value(1).y() >= memory.y() - 2, 5000);
}

void TestGpuOverlay::screenshot() {
    if (qEnvironmentVariable("GLASSBOX_WRITE_SCREENSHOTS") != QLatin1String("1"))
        QSKIP("set GLASSBOX_WRITE_SCREENSHOTS=1 to write docs/screenshots/gpu_overlay.png");
    // A longer run fills the throughput plot.
    QVERIFY(uitest::runCompletion(*m_window, QStringLiteral("A short story about a lighthouse keeper:"), 160, 3));
    QTRY_VERIFY_WITH_TIMEOUT(!overlay()->snapshot().running, 10000);
    QTest::qWait(300);
    const QString dir =
        QDir(qEnvironmentVariable("GLASSBOX_SOURCE_DIR", QStringLiteral("."))).filePath(QStringLiteral("docs/screenshots"));
    QVERIFY(QDir().mkpath(dir));
    const QString path = QDir(dir).filePath(QStringLiteral("gpu_overlay.png"));
    QVERIFY2(m_window->grab().save(path), qPrintable(path));
    qInfo("wrote %s", qPrintable(path));
}

void TestGpuOverlay::hidesWithF12AndStopsProfiling() {
    QTRY_VERIFY_WITH_TIMEOUT(!overlay()->snapshot().running, 10000);
    const double lastStepMs = overlay()->snapshot().step.totalMs;
    QVERIFY(lastStepMs > 0);
    QTest::keyClick(m_window, Qt::Key_F12);
    QVERIFY(!m_window->isOverlayVisible());
    QVERIFY(overlay()->isHidden());
    QVERIFY(!m_window->action(QStringLiteral("gpuOverlay"))->isChecked());
    QVERIFY(!m_window->engine()->isOverlayActive());
    QVERIFY(!QSettings().value(QStringLiteral("overlay/visible")).toBool());

    // Hidden: nothing arrives, and the backend stops profiling — a run now
    // leaves the last profiled step as it was.
    const int received = overlay()->snapshotsReceived();
    const quint64 frames = overlay()->frameStats().frames;
    QVERIFY(uitest::runCompletion(*m_window, QStringLiteral("Water boils at"), 8, 9));
    QTest::qWait(200);
    QCOMPARE(overlay()->snapshotsReceived(), received);
    QCOMPARE(overlay()->frameStats().frames, frames);

    QTest::keyClick(m_window, Qt::Key_F12);
    QTRY_VERIFY_WITH_TIMEOUT(overlay()->snapshotsReceived() > received, 10000);
    QCOMPARE(overlay()->snapshot().step.totalMs, lastStepMs);
    QTest::keyClick(m_window, Qt::Key_F12);
    QVERIFY(!m_window->isOverlayVisible());
}

void TestGpuOverlay::explainsDeviceErrors() {
    const engine::Error e = engine::makeError(engine::ErrorCode::Device, "no CUDA device");
    const QString load = ErrorText::forModelLoad(QStringLiteral("/m/model.gguf"), e);
    QVERIFY(load.startsWith(QStringLiteral("“model.gguf” could not be loaded on the GPU")));
    QVERIFY(load.contains(QStringLiteral("File ▸ Device ▸ CPU")));
    QVERIFY(load.contains(QStringLiteral("Device: no CUDA device")));
    const QString run = ErrorText::forGeneration(e);
    QVERIFY(run.startsWith(QStringLiteral("The GPU failed while generating")));
    QVERIFY(run.contains(QStringLiteral("no CUDA device")));
}

void TestGpuOverlay::remembersDeviceChoice() {
    DeviceChoice* choice = m_window->deviceChoice();
    QCOMPARE(choice->placement(), engine::Placement::Auto);
    QTRY_VERIFY_WITH_TIMEOUT(choice->cudaText().contains(QStringLiteral("none")) ||
                                 choice->cudaText().contains(QStringLiteral("GiB")),
                             10000);
    choice->choiceAction(engine::Placement::Cpu)->trigger();
    QCOMPARE(QSettings().value(QStringLiteral("device/placement")).toString(), QStringLiteral("cpu"));
    QVERIFY(m_window->banner()->text().contains(QStringLiteral("applies when a model is next opened")));
    choice->layersSpinBox()->setValue(4);
    QCOMPARE(choice->placement(), engine::Placement::GpuLayers);
    QCOMPARE(QSettings().value(QStringLiteral("device/gpuLayers")).toInt(), 4);
    QCOMPARE(choice->apply({}).gpuLayers, 4);
    {
        DeviceChoice again;  // a new window reads the same choice
        QCOMPARE(again.placement(), engine::Placement::GpuLayers);
        QCOMPARE(again.gpuLayers(), 4);
    }

    // All layers on the GPU, reopened through the banner's button: without a
    // usable GPU the engine runs the CPU and the banner says why.
    choice->choiceAction(engine::Placement::Gpu)->trigger();
    QVERIFY(m_window->banner()->actionButton()->isVisible());
    m_window->banner()->actionButton()->click();
    QVERIFY(m_window->engine()->isLoading());
    QVERIFY(uitest::waitForModel(*m_window));
    const ModelInfo* info = m_window->engine()->model();
    if (info->placement != QStringLiteral("cpu")) QSKIP("a usable GPU ran the model; no fallback to explain");
    QVERIFY(!info->placementNotes.isEmpty());
    QCOMPARE(m_window->banner()->level(), MessageBanner::Level::Warning);
    QVERIFY(m_window->banner()->text().contains(QStringLiteral("not as File ▸ Device asked (GPU)")));
    QVERIFY(m_window->banner()->text().contains(info->placementNotes.first()));
    choice->choiceAction(engine::Placement::Auto)->trigger();
}

// Left on, the overlay is there in the next window from the start (built
// before the window is shown), and says when no model is loaded.
void TestGpuOverlay::comesBackAtStart() {
    QSettings().setValue(QStringLiteral("overlay/visible"), true);
    MainWindow w(uitest::options(QString()));
    QVERIFY(w.gpuOverlay());
    QVERIFY(w.action(QStringLiteral("gpuOverlay"))->isChecked());
    w.show();
    QVERIFY(QTest::qWaitForWindowExposed(&w));
    QVERIFY(w.isOverlayVisible());
    QTRY_VERIFY_WITH_TIMEOUT(w.gpuOverlay()->snapshotsReceived() >= 1, 10000);
    QVERIFY(!w.gpuOverlay()->snapshot().haveModel);
    QTRY_VERIFY_WITH_TIMEOUT(w.gpuOverlay()->frameStats().frames >= 1 &&
                                 w.gpuOverlay()->shown().sequence == w.gpuOverlay()->snapshot().sequence,
                             10000);
    QVERIFY(w.gpuOverlay()->shown().kind.isEmpty());
    QCOMPARE(w.gpuOverlay()->snapshot().hardware.source, engine::HardwareSource::Proc);
    QVERIFY(w.gpuOverlay()->frameStats().vertices > 0);
    w.setOverlayVisible(false);
}

QTEST_MAIN(TestGpuOverlay)
#include "tst_gpu_overlay.moc"
