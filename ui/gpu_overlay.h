// GpuOverlay: a Dear ImGui heads-up display drawn with OpenGL inside a
// QOpenGLWidget layered over the window's central area. It shows the
// engine's OverlaySnapshots in five small windows — Device, Memory,
// Throughput, Last token and Hardware (the CPU's figures, and a line saying
// so, when no GPU runs the model).
//
// Invariants: the widget has its own ImGui context (made current around
// every ImGui call, so other contexts are untouched); ImGui's OpenGL
// objects live in the widget's GL context and are rebuilt when Qt gives it
// a new one; the widget is composited on top (WA_AlwaysStackOnTop) over a
// transparent clear, and its mask is the union of the ImGui windows, so
// clicks elsewhere reach the widgets underneath. It draws only when a
// snapshot or an input event arrives (at most ~10 snapshots per second).
//
// The first OpenGL widget in a window that is already on screen makes Qt
// recreate the window's native surface for OpenGL composition; the overlay
// gives the window its activation and focus back when that happens (create
// it before the window is shown to avoid the switch altogether).
#pragma once

#include <QElapsedTimer>
#include <QOpenGLWidget>
#include <QPointer>
#include <QRegion>
#include <QStringList>
#include <array>
#include <memory>
#include <vector>

#include "ui/engine_messages.h"

struct ImGuiContext;

namespace glassbox::ui {
namespace overlay {
struct Layout;
}

class GpuOverlay : public QOpenGLWidget {
    Q_OBJECT
public:
    // What the last rendered frame contained (from ImGui::GetDrawData()).
    struct FrameStats {
        quint64 frames = 0;  // frames rendered so far
        int drawLists = 0;
        int drawCalls = 0;
        int vertices = 0;
        int indices = 0;
    };
    // What the windows showed in the last frame, for tests and tooltips.
    struct Shown {
        quint64 sequence = 0;           // the OverlaySnapshot drawn
        QStringList windows;            // titles of the ImGui windows drawn
        QList<QRect> windowRects;       // where each of them is (widget coordinates)
        QString kind;                   // "CPU" or "CUDA"; empty before a snapshot
        bool cpuEquivalents = false;    // the Hardware window shows CPU figures
        engine::BackendMemory memoryBars;  // the by-category bars of the Memory window
        int opBars = 0;                 // bars in Last token
        double opMsSum = 0;             // their total
        bool deviceTimed = false;
        int historyPoints = 0;          // points in the decode tokens/s plot
    };

    // Covers `area` (follows its size); a child of `area`. Start hidden
    // (setVisible(true) to show).
    explicit GpuOverlay(QWidget* area);
    ~GpuOverlay() override;

    // A new snapshot: kept, appended to the throughput history, redrawn.
    void setSnapshot(const OverlaySnapshot& snapshot);
    const OverlaySnapshot& snapshot() const { return m_snapshot; }
    int snapshotsReceived() const { return m_snapshots; }
    const std::vector<float>& decodeHistory() const { return m_decodeHistory; }

    const FrameStats& frameStats() const { return m_frame; }
    const Shown& shown() const { return m_shown; }
    // The ImGui windows' union, in widget coordinates (the input mask).
    QRegion windowRegion() const { return m_windowRegion; }
    // Empty when drawing works; otherwise why not (e.g. no OpenGL 3).
    QString problem() const { return m_problem; }

    static constexpr int kHistoryPoints = 120;

signals:
    void frameRendered();

protected:
    void initializeGL() override;
    void resizeGL(int w, int h) override;
    void paintGL() override;
    bool eventFilter(QObject* watched, QEvent* event) override;
    void mouseMoveEvent(QMouseEvent* event) override;
    void mousePressEvent(QMouseEvent* event) override;
    void mouseReleaseEvent(QMouseEvent* event) override;
    void wheelEvent(QWheelEvent* event) override;
    void leaveEvent(QEvent* event) override;
    void hideEvent(QHideEvent* event) override;

private:
    void releaseGl();
    void onContextAboutToBeDestroyed();
    void restoreActivation();
    void loadFonts();
    void feedInput();
    void drawWindows();
    void afterFrame();
    void saveLayout();
    static int buttonIndex(Qt::MouseButton button);

    ImGuiContext* m_imgui = nullptr;
    std::unique_ptr<overlay::Layout> m_layout;
    // Focus to restore when the window's surface is recreated.
    QPointer<QWidget> m_restoreFocus;
    bool m_glReady = false;
    QString m_problem;
    QElapsedTimer m_clock;
    qint64 m_lastFrameNs = 0;
    QPointF m_mouse{-1e6, -1e6};
    std::array<bool, 3> m_down{};
    std::array<bool, 3> m_pressSeen{};       // a frame saw the press
    std::array<bool, 3> m_releasePending{};  // released before a frame saw the press
    float m_wheel = 0, m_wheelH = 0;

    OverlaySnapshot m_snapshot;
    int m_snapshots = 0;
    std::vector<float> m_decodeHistory;
    FrameStats m_frame;
    Shown m_shown;
    QRegion m_windowRegion;
    bool m_settling = false;
    int m_settleFrames = 0;
};

}  // namespace glassbox::ui
