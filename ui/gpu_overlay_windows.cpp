// The GpuOverlay's windows: what the device is and why it was chosen, the
// memory it holds by category, tokens per second, the last step's per-op
// times and the hardware's own figures (the CPU's when no GPU runs); and
// their stacking until the user moves them.
#include "ui/gpu_overlay_windows.h"

#include <imgui.h>
#include <imgui_internal.h>

#include <algorithm>
#include <cfloat>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <string>

namespace glassbox::ui::overlay {
namespace {

constexpr float kWidth = 300.0f;  // every window's width (content auto-fits the height)
constexpr float kMargin = 12.0f;
constexpr float kGap = 8.0f;

const ImVec4 kDim(0.70f, 0.72f, 0.76f, 1.0f);
const ImVec4 kWarn(1.00f, 0.78f, 0.35f, 1.0f);
const ImVec4 kGpu(0.46f, 0.85f, 0.42f, 1.0f);
const ImVec4 kCpu(0.45f, 0.72f, 1.00f, 1.0f);
const ImU32 kWeightsColor = IM_COL32(86, 156, 214, 255);
const ImU32 kKvColor = IM_COL32(206, 145, 64, 255);
const ImU32 kScratchColor = IM_COL32(150, 120, 200, 255);
const ImU32 kOpColor = IM_COL32(92, 184, 120, 255);

std::string bytesText(uint64_t bytes) {
    char buf[32];
    const double b = double(bytes);
    if (b >= double(1ull << 30)) std::snprintf(buf, sizeof buf, "%.2f GiB", b / double(1ull << 30));
    else if (b >= double(1ull << 20)) std::snprintf(buf, sizeof buf, "%.1f MiB", b / double(1ull << 20));
    else if (b >= 1024.0) std::snprintf(buf, sizeof buf, "%.1f KiB", b / 1024.0);
    else std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(bytes));
    return buf;
}

std::string orNa(const std::optional<double>& v, const char* format) {
    if (!v) return "n/a";
    char buf[48];
    std::snprintf(buf, sizeof buf, format, *v);
    return buf;
}

const char* const kTitles[kWindowCount] = {"Device", "Memory", "Hardware", "Throughput", "Last token"};
const int kColumn[kWindowCount] = {0, 0, 0, 1, 1};  // 0: the left column, 1: the right one

// The first y ≥ `y` where a stacked window of `height` at `x` overlaps no
// placed window.
float clearOfPlaced(const Layout& layout, float x, float y, float height) {
    for (int pass = 0; pass < kWindowCount; ++pass) {
        bool moved = false;
        for (int j = 0; j < kWindowCount; ++j) {
            const QRect& r = layout.lastRect[size_t(j)];
            const QRectF mine(x, y, kWidth, std::max(height, 1.0f));
            if (layout.placed[size_t(j)] && r.isValid() && mine.intersects(QRectF(r))) {
                y = float(r.bottom()) + kGap;
                moved = true;
            }
        }
        if (!moved) break;
    }
    return y;
}

bool beingMoved(const char* title) {
    const ImGuiWindow* moving = GImGui->MovingWindow;
    return moving && moving->RootWindow && std::strcmp(moving->RootWindow->Name, title) == 0;
}

constexpr float kValueColumn = 84.0f;  // x of the values after a row's label

// A dim label, then the formatted value wrapped to the window's width.
IM_FMTARGS(2) void row(const char* label, const char* format, ...) {
    ImGui::TextColored(kDim, "%s", label);
    ImGui::SameLine(kValueColumn);
    va_list args;
    va_start(args, format);
    ImGui::TextWrappedV(format, args);
    va_end(args);
}

// A labelled horizontal bar starting at x = `column`: `fraction` of the
// rest of the row in `color`.
void bar(const char* label, float fraction, ImU32 color, const std::string& value, float column = kValueColumn) {
    ImGui::TextUnformatted(label);
    ImGui::SameLine(column);
    ImGui::PushStyleColor(ImGuiCol_PlotHistogram, color);
    ImGui::ProgressBar(std::clamp(fraction, 0.0f, 1.0f), ImVec2(-FLT_MIN, 0), value.c_str());
    ImGui::PopStyleColor();
}

void noteLines(const OverlaySnapshot& s) {
    ImGui::PushStyleColor(ImGuiCol_Text, kWarn);
    for (const QString& note : s.placementNotes) ImGui::TextWrapped("%s", note.toUtf8().constData());
    if (!s.device.note.empty()) ImGui::TextWrapped("%s", s.device.note.c_str());
    ImGui::PopStyleColor();
}

void deviceWindow(const OverlaySnapshot& s) {
    if (!s.haveModel) {
        ImGui::TextColored(kDim, "No model is loaded.");
        return;
    }
    const bool gpu = s.device.kind != "CPU";
    ImGui::TextColored(gpu ? kGpu : kCpu, "%s", s.device.kind.c_str());
    ImGui::SameLine();
    ImGui::TextWrapped("%s", s.device.name.c_str());
    row("Model", "%s", s.modelName.toUtf8().constData());
    const QByteArray placement = s.placement.toUtf8();
    if (gpu)
        row("Placement", "%s: %d of %d layers on the GPU", placement.constData(), s.device.gpuLayers,
            s.device.totalLayers);
    else
        row("Placement", "%s: all %d layers on the CPU", placement.constData(), s.device.totalLayers);
    row("Threads", "%d", s.threads);
    row("Context", "%d / %d tokens", s.contextUsed, s.contextSize);
    noteLines(s);
}

void memoryWindow(const OverlaySnapshot& s, GpuOverlay::Shown& shown) {
    const bool gpu = s.device.kind != "CPU";
    const uint64_t total = s.device.totalBytes;
    const uint64_t used = total - std::min(s.device.freeBytes, total);
    row(gpu ? "VRAM" : "RAM", "%s used of %s", bytesText(used).c_str(), bytesText(total).c_str());
    ImGui::ProgressBar(total ? float(double(used) / double(total)) : 0.0f, ImVec2(-FLT_MIN, 0),
                       (bytesText(s.device.freeBytes) + " free").c_str());
    const engine::BackendMemory& m = s.memory;
    shown.memoryBars = m;
    const uint64_t held = m.weights + m.kvCache + m.scratch;
    ImGui::Spacing();
    ImGui::TextColored(kDim, "Held by the backend: %s", bytesText(held).c_str());
    const float scale = held ? 1.0f / float(held) : 0.0f;
    bar("weights", float(m.weights) * scale, kWeightsColor, bytesText(m.weights));
    bar("KV cache", float(m.kvCache) * scale, kKvColor, bytesText(m.kvCache));
    bar("scratch", float(m.scratch) * scale, kScratchColor, bytesText(m.scratch));
    const engine::BackendMemory& d = s.device.deviceMemory;
    if (gpu && d.weights + d.kvCache + d.scratch > 0)
        ImGui::TextColored(kDim, "On the GPU: weights %s, KV %s, scratch %s", bytesText(d.weights).c_str(),
                           bytesText(d.kvCache).c_str(), bytesText(d.scratch).c_str());
    if (s.hardware.processBytes > 0)
        ImGui::TextColored(kDim, "This process: %s resident", bytesText(s.hardware.processBytes).c_str());
}

void throughputWindow(const OverlaySnapshot& s, const std::vector<float>& history, GpuOverlay::Shown& shown) {
    row("Prefill", "%.1f tok/s", s.prefillTokensPerSecond);
    row("Decode", "%.1f tok/s", s.decodeTokensPerSecond);
    ImGui::SameLine(kWidth - 90);
    ImGui::TextColored(s.running ? kGpu : kDim, s.running ? "generating" : "last run");
    float top = 1.0f;
    for (float v : history) top = std::max(top, v);
    char caption[48];
    std::snprintf(caption, sizeof caption, "decode tok/s (max %.0f)", top);
    ImGui::PlotLines("##decode", history.data(), int(history.size()), 0, caption, 0.0f, top * 1.35f,
                     ImVec2(ImGui::GetContentRegionAvail().x, 64));
    shown.historyPoints = int(history.size());
}

void lastTokenWindow(const OverlaySnapshot& s, GpuOverlay::Shown& shown) {
    const engine::StepProfile& p = s.step;
    shown.deviceTimed = p.deviceTimed;
    if (p.ops.empty()) {
        ImGui::TextColored(kDim, "Profiling starts with the next step.");
        return;
    }
    ImGui::Text("%d token%s, %.2f ms", p.tokens, p.tokens == 1 ? "" : "s", p.totalMs);
    ImGui::SameLine(kWidth - 100);
    ImGui::TextColored(p.deviceTimed ? kGpu : kCpu, p.deviceTimed ? "device-timed" : "host-timed");
    std::vector<const engine::OpTiming*> ops;
    double sum = 0, top = 0;
    for (const auto& op : p.ops) {
        ops.push_back(&op);
        sum += op.ms;
        top = std::max(top, op.ms);
    }
    std::sort(ops.begin(), ops.end(), [](auto* a, auto* b) { return a->ms > b->ms; });
    float column = kValueColumn;
    for (const engine::OpTiming* op : ops)
        column = std::max(column, ImGui::CalcTextSize(op->op.c_str()).x + ImGui::GetStyle().WindowPadding.x + 8);
    for (const engine::OpTiming* op : ops) {
        char value[32];
        std::snprintf(value, sizeof value, "%.3f ms", op->ms);
        bar(op->op.c_str(), top > 0 ? float(op->ms / top) : 0.0f, kOpColor, value, column);
        if (ImGui::IsItemHovered())
            ImGui::SetTooltip("%s: %d call%s, %.1f%% of the step", op->op.c_str(), op->calls,
                              op->calls == 1 ? "" : "s", p.totalMs > 0 ? 100.0 * op->ms / p.totalMs : 0.0);
    }
    ImGui::TextColored(kDim, "Outside these ops: %.3f ms", std::max(0.0, p.totalMs - sum));
    shown.opBars = int(ops.size());
    shown.opMsSum = sum;
}

void hardwareWindow(const OverlaySnapshot& s, GpuOverlay::Shown& shown) {
    const engine::HardwareSample& h = s.hardware;
    const bool gpu = h.source == engine::HardwareSource::Nvml;
    shown.cpuEquivalents = !gpu;
    ImGui::TextColored(gpu ? kGpu : kCpu, "%s", gpu ? "GPU" : "CPU");
    ImGui::SameLine();
    ImGui::TextWrapped("%s (%s)", h.device.c_str(), engine::hardwareSourceName(h.source));
    if (!gpu) {
        ImGui::PushStyleColor(ImGuiCol_Text, kWarn);
        ImGui::TextWrapped("%s", h.note.empty() ? "No GPU runs this model: the CPU's figures are shown."
                                                : h.note.c_str());
        ImGui::PopStyleColor();
    }
    const float util = float(h.utilisation.value_or(0.0) / 100.0);
    ImGui::TextColored(kDim, "Busy");
    ImGui::SameLine(kValueColumn);
    ImGui::ProgressBar(util, ImVec2(-FLT_MIN, 0), orNa(h.utilisation, "%.0f %%").c_str());
    if (gpu) {
        row("Mem. busy", "%s", orNa(h.memoryUtilisation, "%.0f %%").c_str());
        row("Clocks", "SM %s, memory %s", orNa(h.clockMHz, "%.0f MHz").c_str(),
            orNa(h.memoryClockMHz, "%.0f MHz").c_str());
    } else {
        row("Clock", "%s (mean of %d logical CPUs)", orNa(h.clockMHz, "%.0f MHz").c_str(), h.logicalCpus);
    }
    row("Temp.", "%s", orNa(h.temperatureC, "%.0f \xC2\xB0" "C").c_str());
    row("Power", "%s", h.powerWatts ? orNa(h.powerWatts, "%.1f W").c_str() : "n/a (not readable here)");
    row(gpu ? "VRAM" : "RAM", "%s of %s in use", bytesText(h.memoryUsedBytes).c_str(),
        bytesText(h.memoryTotalBytes).c_str());
}

}  // namespace

void initLayout(Layout& layout) {
    for (int i = 0; i < kWindowCount; ++i) layout.placed[size_t(i)] = ImGui::FindWindowSettings(ImHashStr(kTitles[i]));
}

bool drawWindows(const OverlaySnapshot& snapshot, const std::vector<float>& decodeHistory, float displayWidth,
                 Layout& layout, GpuOverlay::Shown& shown, std::vector<QRect>& rects) {
    shown = GpuOverlay::Shown{};
    shown.sequence = snapshot.sequence;
    shown.kind = snapshot.haveModel ? QString::fromStdString(snapshot.device.kind) : QString();
    const float right = std::max(kMargin, displayWidth - kWidth - kMargin);
    const float columnX[2] = {std::max(kMargin, right - kWidth - kGap), right};
    float columnY[2] = {kMargin, kMargin};
    bool settled = true;
    for (int i = 0; i < kWindowCount; ++i) {
        const size_t w = size_t(i);
        const char* title = kTitles[i];
        if (beingMoved(title)) layout.placed[w] = true;
        ImGuiWindowFlags flags =
            ImGuiWindowFlags_AlwaysAutoResize | ImGuiWindowFlags_NoFocusOnAppearing | ImGuiWindowFlags_NoNav;
        if (!layout.placed[w]) {
            const float x = columnX[kColumn[i]];
            const float y = clearOfPlaced(layout, x, columnY[kColumn[i]], float(layout.lastRect[w].height()));
            ImGui::SetNextWindowPos(ImVec2(x, y), ImGuiCond_Always);
            flags |= ImGuiWindowFlags_NoSavedSettings;  // only placed windows are remembered
        }
        ImGui::SetNextWindowSizeConstraints(ImVec2(kWidth, 0), ImVec2(kWidth, FLT_MAX));
        ImGui::SetNextWindowBgAlpha(0.86f);
        if (ImGui::Begin(title, nullptr, flags)) {
            switch (i) {
                case 0: deviceWindow(snapshot); break;
                case 1: memoryWindow(snapshot, shown); break;
                case 2: hardwareWindow(snapshot, shown); break;
                case 3: throughputWindow(snapshot, decodeHistory, shown); break;
                default: lastTokenWindow(snapshot, shown); break;
            }
        }
        const ImVec2 p = ImGui::GetWindowPos();
        const ImVec2 s = ImGui::GetWindowSize();
        const QRect rect(int(p.x), int(p.y), int(s.x + 1), int(s.y + 1));
        rects.push_back(rect);
        shown.windows << QString::fromLatin1(title);
        shown.windowRects << rect;
        if (!layout.placed[w]) {
            columnY[kColumn[i]] = p.y + s.y + kGap;
            settled = settled && rect == layout.lastRect[w];
        }
        layout.lastRect[w] = rect;
        ImGui::End();
    }
    return settled;
}

}  // namespace glassbox::ui::overlay
