// PanelExport: what the inspection panels share to export what they show —
// an image (PNG, or SVG as vectors through QSvgGenerator) and data (CSV,
// JSON, or NumPy .npy for plain arrays) — plus the "Image…" / "Data…"
// buttons that ask for a path and report failures. Files are written
// atomically (QSaveFile): a failed export never leaves half a file.
#pragma once

#include <QString>
#include <functional>
#include <span>
#include <vector>

class QByteArray;
class QCustomPlot;
class QPainter;
class QSize;
class QWidget;

namespace glassbox::ui {

class PanelExport {
public:
    using Writer = std::function<bool(const QString& path, QString* error)>;

    // The path's suffix in lower case ("png", "svg", "csv" ...).
    static QString suffix(const QString& path);
    // Paints `size` pixels through `paint` into `path`: SVG for .svg, PNG
    // for .png. Errors: an unsupported suffix, a file that cannot be written.
    static bool writeImage(const QString& path, const QSize& size, const std::function<void(QPainter&)>& paint,
                           QString* error);
    // A chart at its current size: PNG, or SVG with vector paths.
    static bool writePlot(QCustomPlot* plot, const QString& path, QString* error);
    // Errors: the file cannot be written.
    static bool writeText(const QString& path, const QByteArray& bytes, QString* error);
    // float32 array, C order. Errors: shape/data mismatch, write failure.
    static bool writeNpy(const QString& path, std::span<const float> data, const std::vector<int64_t>& shape,
                         QString* error);
    // One CSV field, quoted when it holds a comma, quote or line break.
    static QString csvField(const QString& text);

    // Two tool buttons ("Image…", "Data…") in a row; each asks for a file
    // (named after `baseName`) and calls its writer, showing failures.
    static QWidget* makeButtons(QWidget* panel, const QString& baseName, bool withNpy, Writer image, Writer data);
};

}  // namespace glassbox::ui
