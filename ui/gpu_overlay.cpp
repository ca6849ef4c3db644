// GpuOverlay: the QOpenGLWidget around Dear ImGui — GL and ImGui set-up,
// feeding Qt's mouse input to ImGui, rendering a frame, the input mask and
// the snapshot history. The windows themselves are in gpu_overlay_windows.cpp.
#include "ui/gpu_overlay.h"

#include <imgui.h>
#include <backends/imgui_impl_opengl3.h>

#include <QApplication>
#include <QCursor>
#include <QTimer>
#include <QFileInfo>
#include <QMouseEvent>
#include <QOpenGLContext>
#include <QOpenGLFunctions>

#include <QSettings>
#include <QWheelEvent>

#include "ui/gpu_overlay_windows.h"

namespace glassbox::ui {
namespace {

const QString kLayoutKey = QStringLiteral("overlay/imguiLayout");

// The GLSL version line for ImGui's shaders, from the context's version;
// empty when the context cannot run them (ES, or desktop GL before 3.0:
// this ImGui build uses vertex array objects).
QByteArray glslVersionFor(const QSurfaceFormat& format, bool isEs) {
    if (isEs || format.majorVersion() < 3) return {};
    if (format.profile() == QSurfaceFormat::CoreProfile &&
        (format.majorVersion() > 3 || format.minorVersion() >= 2))
        return QByteArrayLiteral("#version 150");
    return QByteArrayLiteral("#version 130");
}

Qt::CursorShape cursorFor(ImGuiMouseCursor c) {
    switch (c) {
        case ImGuiMouseCursor_TextInput: return Qt::IBeamCursor;
        case ImGuiMouseCursor_ResizeAll: return Qt::SizeAllCursor;
        case ImGuiMouseCursor_ResizeNS: return Qt::SizeVerCursor;
        case ImGuiMouseCursor_ResizeEW: return Qt::SizeHorCursor;
        case ImGuiMouseCursor_ResizeNESW: return Qt::SizeBDiagCursor;
        case ImGuiMouseCursor_ResizeNWSE: return Qt::SizeFDiagCursor;
        case ImGuiMouseCursor_Hand: return Qt::PointingHandCursor;
        case ImGuiMouseCursor_NotAllowed: return Qt::ForbiddenCursor;
        default: return Qt::ArrowCursor;
    }
}

// Makes the overlay's ImGui context current for a scope.
class ContextScope {
public:
    explicit ContextScope(ImGuiContext* ctx) : m_previous(ImGui::GetCurrentContext()) { ImGui::SetCurrentContext(ctx); }
    ~ContextScope() { ImGui::SetCurrentContext(m_previous); }
    ContextScope(const ContextScope&) = delete;
    ContextScope& operator=(const ContextScope&) = delete;

private:
    ImGuiContext* m_previous;
};

}  // namespace

GpuOverlay::GpuOverlay(QWidget* area) : QOpenGLWidget(nullptr) {
    // Parented only now: joining a window that is on screen is what makes
    // Qt recreate its surface, and the window's state is wanted from before.
    QWidget* top = area->window();
    const bool wasActive = top->isVisible() && top->isActiveWindow();
    m_restoreFocus = QApplication::focusWidget();
    setParent(area);
    if (wasActive && !top->isActiveWindow()) restoreActivation();
    setObjectName(QStringLiteral("gpuOverlay"));
    setAttribute(Qt::WA_AlwaysStackOnTop);
    setAttribute(Qt::WA_TranslucentBackground);
    setAutoFillBackground(false);
    setMouseTracking(true);
    setFocusPolicy(Qt::NoFocus);
    setUpdateBehavior(QOpenGLWidget::NoPartialUpdate);
    m_clock.start();
    m_decodeHistory.reserve(kHistoryPoints);

    m_imgui = ImGui::CreateContext();
    ContextScope scope(m_imgui);
    ImGuiIO& io = ImGui::GetIO();
    io.IniFilename = nullptr;  // the layout lives in QSettings, not in a file in the working directory
    io.LogFilename = nullptr;
    io.BackendFlags |= ImGuiBackendFlags_HasMouseCursors;
    ImGui::StyleColorsDark();
    ImGuiStyle& style = ImGui::GetStyle();
    style.WindowRounding = 6.0f;
    style.FrameRounding = 3.0f;
    style.WindowBorderSize = 1.0f;
    const QByteArray layout = QSettings().value(kLayoutKey).toByteArray();
    if (!layout.isEmpty()) ImGui::LoadIniSettingsFromMemory(layout.constData(), size_t(layout.size()));
    m_layout = std::make_unique<overlay::Layout>();
    overlay::initLayout(*m_layout);

    area->installEventFilter(this);
    setVisible(false);
    setGeometry(area->rect());
    setMask(QRegion(0, 0, 1, 1));  // nothing to click until the windows are drawn
    raise();
}

GpuOverlay::~GpuOverlay() {
    saveLayout();
    makeCurrent();
    releaseGl();
    doneCurrent();
    ImGui::DestroyContext(m_imgui);
}

void GpuOverlay::releaseGl() {
    if (!m_glReady) return;
    ContextScope scope(m_imgui);
    ImGui_ImplOpenGL3_Shutdown();
    m_glReady = false;
}

// The recreated native window is mapped asynchronously: ask for activation
// until the window system grants it (a few tries, 50 ms apart).
void GpuOverlay::restoreActivation() {
    auto* retry = new QTimer(this);
    retry->setInterval(50);
    connect(retry, &QTimer::timeout, this, [this, retry, tries = 0]() mutable {
        QWidget* top = window();
        if (top->isActiveWindow() || ++tries > 40) {
            if (m_restoreFocus && top->isActiveWindow()) m_restoreFocus->setFocus();
            retry->deleteLater();
            retry->stop();
            return;
        }
        top->activateWindow();
    });
    retry->start();
    window()->activateWindow();
}

void GpuOverlay::onContextAboutToBeDestroyed() {
    makeCurrent();
    releaseGl();
    doneCurrent();
}

void GpuOverlay::loadFonts() {
    ImGuiIO& io = ImGui::GetIO();
    io.Fonts->Clear();
    const float dpr = float(devicePixelRatioF());
    // A TrueType font rendered at the device's pixel size stays sharp on
    // high-DPI screens; ImGui's built-in bitmap font is the fallback.
    const char* candidates[] = {"/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
                                "/usr/share/fonts/TTF/DejaVuSans.ttf",
                                "/usr/share/fonts/dejavu/DejaVuSans.ttf"};
    ImFont* font = nullptr;
    for (const char* path : candidates) {
        if (QFileInfo::exists(QString::fromLatin1(path))) {
            font = io.Fonts->AddFontFromFileTTF(path, 14.0f * dpr);
            if (font) break;
        }
    }
    if (!font) {
        ImFontConfig config;
        config.SizePixels = 13.0f * dpr;
        io.Fonts->AddFontDefault(&config);
    }
    io.FontGlobalScale = 1.0f / dpr;
}

void GpuOverlay::initializeGL() {
    // A new context (first show, or Qt moved the widget to another window).
    m_glReady = false;
    connect(context(), &QOpenGLContext::aboutToBeDestroyed, this, &GpuOverlay::onContextAboutToBeDestroyed,
            Qt::UniqueConnection);
    const QByteArray glsl = glslVersionFor(context()->format(), context()->isOpenGLES());
    if (glsl.isEmpty()) {
        m_problem = tr("The overlay needs desktop OpenGL 3.0 or later; this context is %1 %2.%3.")
                        .arg(context()->isOpenGLES() ? QStringLiteral("OpenGL ES") : QStringLiteral("OpenGL"))
                        .arg(context()->format().majorVersion())
                        .arg(context()->format().minorVersion());
        return;
    }
    ContextScope scope(m_imgui);
    loadFonts();
    if (!ImGui_ImplOpenGL3_Init(glsl.constData())) {
        m_problem = tr("ImGui could not load the OpenGL functions it needs.");
        return;
    }
    m_glReady = true;
    m_problem.clear();
}

void GpuOverlay::resizeGL(int, int) { update(); }

void GpuOverlay::feedInput() {
    ImGuiIO& io = ImGui::GetIO();
    io.DisplaySize = ImVec2(float(width()), float(height()));
    const float dpr = float(devicePixelRatioF());
    io.DisplayFramebufferScale = ImVec2(dpr, dpr);
    const qint64 now = m_clock.nsecsElapsed();
    io.DeltaTime = m_lastFrameNs ? std::max(1e-4f, float(double(now - m_lastFrameNs) / 1e9)) : 1.0f / 60.0f;
    m_lastFrameNs = now;
    io.MousePos = ImVec2(float(m_mouse.x()), float(m_mouse.y()));
    for (int i = 0; i < 3; ++i) io.MouseDown[i] = m_down[size_t(i)];
    io.MouseWheel = m_wheel;
    io.MouseWheelH = m_wheelH;
    m_wheel = m_wheelH = 0;
}

void GpuOverlay::paintGL() {
    QOpenGLFunctions* gl = context()->functions();
    gl->glClearColor(0, 0, 0, 0);
    gl->glClear(GL_COLOR_BUFFER_BIT);
    if (!m_glReady) return;
    ContextScope scope(m_imgui);
    feedInput();
    ImGui_ImplOpenGL3_NewFrame();
    ImGui::NewFrame();
    drawWindows();
    ImGui::Render();
    ImDrawData* data = ImGui::GetDrawData();
    ImGui_ImplOpenGL3_RenderDrawData(data);
    FrameStats stats;
    stats.frames = m_frame.frames + 1;
    if (data) {
        stats.drawLists = data->CmdListsCount;
        for (int i = 0; i < data->CmdListsCount; ++i) stats.drawCalls += data->CmdLists[i]->CmdBuffer.Size;
        stats.vertices = data->TotalVtxCount;
        stats.indices = data->TotalIdxCount;
    }
    m_frame = stats;
    afterFrame();
    emit frameRendered();
}

void GpuOverlay::drawWindows() {
    std::vector<QRect> rects;
    m_settling = !overlay::drawWindows(m_snapshot, m_decodeHistory, float(width()), *m_layout, m_shown, rects);
    QRegion region;
    for (const QRect& r : rects) region += r.adjusted(-2, -2, 2, 2);
    m_windowRegion = region;
}

// Input bookkeeping after a frame: deferred releases, cursor, mask, layout.
void GpuOverlay::afterFrame() {
    bool again = false;
    for (size_t i = 0; i < 3; ++i) {
        if (m_down[i]) m_pressSeen[i] = true;
        if (m_releasePending[i]) {  // the press has been seen now; release next frame
            m_releasePending[i] = false;
            m_down[i] = false;
            again = true;
        }
    }
    const ImGuiIO& io = ImGui::GetIO();
    setCursor(cursorFor(ImGui::GetMouseCursor()));
    // While a window is dragged the mask must not cut the drag short.
    const QRegion mask = m_windowRegion.isEmpty() ? QRegion(0, 0, 1, 1) : m_windowRegion;
    if (mask != this->mask() && !(io.WantCaptureMouse && (m_down[0] || m_down[1] || m_down[2]))) setMask(mask);
    if (io.WantSaveIniSettings) {
        saveLayout();
        ImGui::GetIO().WantSaveIniSettings = false;
    }
    // A few frames while the stacked windows find their heights.
    if (m_settling && m_settleFrames < 4) {
        ++m_settleFrames;
        again = true;
    } else if (!m_settling) {
        m_settleFrames = 0;
    }
    if (again) update();
}

void GpuOverlay::saveLayout() {
    if (!m_imgui) return;
    ContextScope scope(m_imgui);
    size_t size = 0;
    const char* ini = ImGui::SaveIniSettingsToMemory(&size);
    if (ini && size > 0) QSettings().setValue(kLayoutKey, QByteArray(ini, qsizetype(size)));
}

void GpuOverlay::setSnapshot(const OverlaySnapshot& snapshot) {
    // The history follows decode speed while generating; one point per snapshot.
    if (snapshot.running && snapshot.decodeTokensPerSecond > 0) {
        if (int(m_decodeHistory.size()) >= kHistoryPoints) m_decodeHistory.erase(m_decodeHistory.begin());
        m_decodeHistory.push_back(float(snapshot.decodeTokensPerSecond));
    }
    m_snapshot = snapshot;
    ++m_snapshots;
    if (isVisible()) update();
}

bool GpuOverlay::eventFilter(QObject* watched, QEvent* event) {
    if (watched == parentWidget() && event->type() == QEvent::Resize) {
        setGeometry(parentWidget()->rect());
        raise();
    }
    return QOpenGLWidget::eventFilter(watched, event);
}

int GpuOverlay::buttonIndex(Qt::MouseButton button) {
    switch (button) {
        case Qt::LeftButton: return 0;
        case Qt::RightButton: return 1;
        case Qt::MiddleButton: return 2;
        default: return -1;
    }
}

void GpuOverlay::mouseMoveEvent(QMouseEvent* event) {
    m_mouse = event->position();
    update();
}

void GpuOverlay::mousePressEvent(QMouseEvent* event) {
    m_mouse = event->position();
    const int i = buttonIndex(event->button());
    if (i >= 0) {
        m_down[size_t(i)] = true;
        m_pressSeen[size_t(i)] = false;
        m_releasePending[size_t(i)] = false;
    }
    update();
}

void GpuOverlay::mouseReleaseEvent(QMouseEvent* event) {
    m_mouse = event->position();
    const int i = buttonIndex(event->button());
    if (i >= 0) {
        // A click shorter than a frame: let one frame see it pressed first.
        if (m_pressSeen[size_t(i)]) m_down[size_t(i)] = false;
        else m_releasePending[size_t(i)] = true;
    }
    update();
}

void GpuOverlay::wheelEvent(QWheelEvent* event) {
    m_wheel += float(event->angleDelta().y()) / 120.0f;
    m_wheelH += float(event->angleDelta().x()) / 120.0f;
    update();
}

void GpuOverlay::leaveEvent(QEvent* event) {
    m_mouse = QPointF(-1e6, -1e6);
    update();
    QOpenGLWidget::leaveEvent(event);
}

void GpuOverlay::hideEvent(QHideEvent* event) {
    saveLayout();
    m_down = {};
    m_releasePending = {};
    QOpenGLWidget::hideEvent(event);
}

}  // namespace glassbox::ui
