// Attention exports: CSV, JSON and NPY writers and the PNG / SVG painter.
#include "ui/attention_export.h"

#include <QFileInfo>
#include <QImage>
#include <QJsonArray>
#include <QJsonDocument>
#include <QPainter>
#include <QSaveFile>
#include <QSvgGenerator>
#include <charconv>
#include <cmath>

#include "engine/npy_writer.h"

namespace glassbox::ui {
namespace {

void appendNumber(QByteArray& out, float v) {
    if (std::isinf(v)) {
        out += v < 0 ? "-inf" : "inf";
        return;
    }
    if (std::isnan(v)) {
        out += "nan";
        return;
    }
    char buf[32];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, int(r.ptr - buf));
}

QByteArray csvField(const QString& s) {
    QString q = s;
    q.replace(QLatin1Char('"'), QStringLiteral("\"\""));
    return '"' + q.toUtf8() + '"';
}

QString labelAt(const QStringList& labels, int i) { return i < labels.size() ? labels[i] : QString(); }

QByteArray csvText(const std::vector<float>& values, int n, const QStringList& labels) {
    QByteArray out;
    out.reserve(int(std::min<size_t>(size_t(n) * size_t(n) * 6 + 1024, size_t(1) << 30)));
    out += "position,token";
    for (int k = 0; k < n; ++k) out += ',' + csvField(QStringLiteral("%1 %2").arg(k).arg(labelAt(labels, k)));
    out += '\n';
    for (int q = 0; q < n; ++q) {
        out += QByteArray::number(q) + ',' + csvField(labelAt(labels, q));
        for (int k = 0; k < n; ++k) {
            out += ',';
            appendNumber(out, values[size_t(q) * size_t(n) + size_t(k)]);
        }
        out += '\n';
    }
    return out;
}

QByteArray jsonText(const std::vector<float>& values, int n, const QStringList& labels,
                    const AttentionExportInfo& info) {
    QJsonArray tokens;
    for (int i = 0; i < n; ++i) tokens.append(labelAt(labels, i));
    QByteArray out = "{\"layer\":" + QByteArray::number(info.layer) + ",\"head\":" +
                     QJsonDocument(QJsonArray{info.head}).toJson(QJsonDocument::Compact).mid(1).chopped(1) +
                     ",\"values\":\"" + (info.probabilities ? "probabilities" : "scores") +
                     "\",\"positions\":" + QByteArray::number(n) +
                     ",\"tokens\":" + QJsonDocument(tokens).toJson(QJsonDocument::Compact) + ",\"rows\":[";
    for (int q = 0; q < n; ++q) {
        out += q ? ",[" : "[";
        for (int k = 0; k <= q; ++k) {
            if (k) out += ',';
            const float v = values[size_t(q) * size_t(n) + size_t(k)];
            if (std::isfinite(v))
                appendNumber(out, v);
            else
                out += "null";
        }
        out += ']';
    }
    out += "]}\n";
    return out;
}

bool saveBytes(const QString& path, const QByteArray& bytes, QString* error) {
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly) || file.write(bytes) != bytes.size() || !file.commit()) {
        if (error) *error = QObject::tr("Could not write %1: %2").arg(path, file.errorString());
        return false;
    }
    return true;
}

bool fail(QString* error, const QString& message) {
    if (error) *error = message;
    return false;
}

}  // namespace

bool writeAttentionData(const QString& path, const std::vector<float>& values, int n, const QStringList& labels,
                        const AttentionExportInfo& info, QString* error) {
    if (n <= 0 || values.size() != size_t(n) * size_t(n))
        return fail(error, QObject::tr("There is no attention map to export."));
    const QString suffix = QFileInfo(path).suffix().toLower();
    if (suffix == QLatin1String("csv")) return saveBytes(path, csvText(values, n, labels), error);
    if (suffix == QLatin1String("json")) return saveBytes(path, jsonText(values, n, labels, info), error);
    if (suffix == QLatin1String("npy")) {
        const engine::Status st = engine::writeNpyF32(path.toStdString(), values, {n, n});
        if (!st) return fail(error, QObject::tr("Could not write %1: %2").arg(path, QString::fromStdString(st.error().toString())));
        return true;
    }
    return fail(error, QObject::tr("Cannot export “%1”: use a .csv, .json or .npy file name.").arg(QFileInfo(path).fileName()));
}

bool writeAttentionImage(const QString& path, const QSize& size, const PaintFunction& paint, QString* error) {
    const QString suffix = QFileInfo(path).suffix().toLower();
    const QRect area(QPoint(0, 0), size);
    if (suffix == QLatin1String("svg")) {
        QSvgGenerator svg;
        svg.setFileName(path);
        svg.setSize(size);
        svg.setViewBox(area);
        svg.setTitle(QObject::tr("Attention"));
        QPainter p;
        if (!p.begin(&svg)) return fail(error, QObject::tr("Could not write %1.").arg(path));
        paint(p, area);
        p.end();
        return QFileInfo(path).size() > 0 || fail(error, QObject::tr("Could not write %1.").arg(path));
    }
    if (suffix == QLatin1String("png")) {
        QImage image(size * 2, QImage::Format_ARGB32_Premultiplied);
        image.setDevicePixelRatio(2.0);
        image.fill(Qt::transparent);
        {
            QPainter p(&image);
            paint(p, area);
        }
        if (!image.save(path, "PNG")) return fail(error, QObject::tr("Could not write %1.").arg(path));
        return true;
    }
    return fail(error, QObject::tr("Cannot export “%1”: use a .png or .svg file name.").arg(QFileInfo(path).fileName()));
}

}  // namespace glassbox::ui
