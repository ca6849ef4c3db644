// Writing an attention matrix or its picture to disk, with the format
// chosen by the file's suffix: .csv (the matrix with position and token
// columns), .json (the lower triangle, row i holding keys 0..i, plus the
// tokens), .npy (float32 [n, n], C order) for data; .png or .svg for images.
// Files are written whole or not at all (QSaveFile), and every failure comes
// back as a sentence naming the file.
#pragma once

#include <QRect>
#include <QString>
#include <QStringList>
#include <functional>
#include <vector>

class QPainter;

namespace glassbox::ui {

// What the matrix is, recorded in JSON exports.
struct AttentionExportInfo {
    int layer = 0;
    QString head;             // "3", "mean" or "max"
    bool probabilities = true;
};

// values: n × n row-major. Errors (false, *error set): unknown suffix, size
// mismatch, the file cannot be written.
bool writeAttentionData(const QString& path, const std::vector<float>& values, int n, const QStringList& labels,
                        const AttentionExportInfo& info, QString* error);

using PaintFunction = std::function<void(QPainter&, const QRect&)>;
// Paint a `size` picture into a PNG (at twice the pixel density) or an SVG.
// Errors: unknown suffix, the file cannot be written.
bool writeAttentionImage(const QString& path, const QSize& size, const PaintFunction& paint, QString* error);

}  // namespace glassbox::ui
