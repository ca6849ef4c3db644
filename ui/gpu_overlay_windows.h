// The five ImGui windows of the GpuOverlay (Device, Memory, Throughput,
// Last token, Hardware), drawn from one OverlaySnapshot, and where they go:
// stacked in two columns at the right of the area (re-stacked as their
// heights change) until the user drags one, which then stays where it was
// put and is remembered in ImGui's settings; the stacked ones step around
// the placed ones. Called between
// ImGui::NewFrame() and ImGui::Render() with the overlay's context current.
#pragma once

#include <QRect>
#include <array>
#include <vector>

#include "ui/gpu_overlay.h"

namespace glassbox::ui::overlay {

inline constexpr int kWindowCount = 5;

struct Layout {
    std::array<bool, kWindowCount> placed{};          // the user placed it (or the settings did)
    std::array<QRect, kWindowCount> lastRect{};       // each window in the previous frame
};

// Marks the windows that the loaded ImGui settings already place.
void initLayout(Layout& layout);

// Draws every window; fills `shown` and each window's screen rectangle.
// Returns false while the stacked windows are still finding their heights
// (draw another frame).
bool drawWindows(const OverlaySnapshot& snapshot, const std::vector<float>& decodeHistory, float displayWidth,
                 Layout& layout, GpuOverlay::Shown& shown, std::vector<QRect>& rects);

}  // namespace glassbox::ui::overlay
