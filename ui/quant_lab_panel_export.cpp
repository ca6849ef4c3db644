// The quantization lab panel's exports: the heatmap as PNG or SVG, the
// report as CSV (one row per tensor and type, numbers to 17 significant
// digits so they read back exactly) or JSON (infinite SNR written as "inf").
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <cmath>

#include "ui/panel_export.h"
#include "ui/quant_lab_panel.h"
#include "viz/quant_heatmap.h"

namespace glassbox::ui {

namespace {

QString typeName(engine::TensorType t) { return QString::fromUtf8(engine::tensorTypeName(t).data()); }

QString exact(double v) {
    if (std::isinf(v)) return v > 0 ? QStringLiteral("inf") : QStringLiteral("-inf");
    return QString::number(v, 'g', 17);
}

QJsonValue jsonNumber(double v) { return std::isfinite(v) ? QJsonValue(v) : QJsonValue(exact(v)); }

QJsonObject statsJson(const engine::QuantErrorStats& s) {
    QJsonObject o;
    o[QStringLiteral("type")] = typeName(s.requested);
    o[QStringLiteral("used")] = typeName(s.used);
    o[QStringLiteral("elements")] = double(s.elements);
    o[QStringLiteral("bytes")] = double(s.bytes);
    o[QStringLiteral("bits_per_weight")] = jsonNumber(s.bitsPerWeight);
    o[QStringLiteral("rmse")] = jsonNumber(s.rmse);
    o[QStringLiteral("max_abs_error")] = jsonNumber(s.maxAbsError);
    o[QStringLiteral("snr_db")] = jsonNumber(s.snrDb);
    o[QStringLiteral("cosine")] = jsonNumber(s.cosine);
    o[QStringLiteral("reference_rms")] = jsonNumber(s.referenceRms);
    QJsonArray outliers;
    for (const engine::QuantOutlier& x : s.outliers)
        outliers.append(QJsonObject{{QStringLiteral("row"), double(x.row)},
                                    {QStringLiteral("col"), double(x.col)},
                                    {QStringLiteral("reference"), double(x.reference)},
                                    {QStringLiteral("quantized"), double(x.quantized)}});
    if (!outliers.isEmpty()) o[QStringLiteral("outliers")] = outliers;
    return o;
}

}  // namespace

bool QuantLabPanel::exportImage(const QString& path, QString* error) {
    if (!m_report || m_heatmap->isEmpty()) {
        if (error) *error = tr("nothing to export: run an analysis first");
        return false;
    }
    const QSize size = m_heatmap->size().width() >= 200 ? m_heatmap->size() : m_heatmap->sizeHint();
    return PanelExport::writeImage(path, size, [&](QPainter& p) { m_heatmap->render(p, size); }, error);
}

bool QuantLabPanel::exportData(const QString& path, QString* error) {
    if (!m_report) {
        if (error) *error = tr("nothing to export: run an analysis first");
        return false;
    }
    const QString kind = PanelExport::suffix(path);
    if (kind == QLatin1String("csv")) return PanelExport::writeText(path, csvBytes(), error);
    if (kind == QLatin1String("json")) return PanelExport::writeText(path, jsonBytes(), error);
    if (error) *error = tr("unsupported data type \"%1\" (use .csv or .json)").arg(kind);
    return false;
}

QByteArray QuantLabPanel::csvBytes() const {
    QString out = QStringLiteral(
        "tensor,layer,kind,type,used,elements,bytes,bits_per_weight,rmse,max_abs_error,snr_db,cosine,reference_rms\n");
    for (const engine::TensorQuantError& t : m_report->tensors)
        for (const engine::QuantErrorStats& s : t.stats)
            out += QStringList{PanelExport::csvField(QString::fromStdString(t.name)), QString::number(t.layer),
                               QString::fromUtf8(engine::weightKindName(t.kind)), typeName(s.requested),
                               typeName(s.used), QString::number(s.elements), QString::number(s.bytes),
                               exact(s.bitsPerWeight), exact(s.rmse), exact(s.maxAbsError), exact(s.snrDb),
                               exact(s.cosine), exact(s.referenceRms)}
                       .join(QLatin1Char(',')) +
                   QLatin1Char('\n');
    return out.toUtf8();
}

QByteArray QuantLabPanel::jsonBytes() const {
    const engine::QuantErrorReport& r = *m_report;
    QJsonArray types, tensors, totals;
    for (engine::TensorType t : r.types) types.append(typeName(t));
    for (const engine::TensorQuantError& t : r.tensors) {
        QJsonArray stats;
        for (const engine::QuantErrorStats& s : t.stats) stats.append(statsJson(s));
        tensors.append(QJsonObject{{QStringLiteral("name"), QString::fromStdString(t.name)},
                                   {QStringLiteral("layer"), t.layer},
                                   {QStringLiteral("kind"), QString::fromUtf8(engine::weightKindName(t.kind))},
                                   {QStringLiteral("rows"), double(t.rows)},
                                   {QStringLiteral("cols"), double(t.cols)},
                                   {QStringLiteral("stored_type"), typeName(t.storedType)},
                                   {QStringLiteral("reference"), QString::fromStdString(t.reference)},
                                   {QStringLiteral("stats"), stats}});
    }
    for (const engine::QuantErrorStats& s : r.totals) totals.append(statsJson(s));
    const QJsonObject root{{QStringLiteral("model"), QString::fromStdString(r.model)},
                           {QStringLiteral("reference_model"), QString::fromStdString(r.referenceModel)},
                           {QStringLiteral("elements"), double(r.elements)},
                           {QStringLiteral("seconds"), r.seconds},
                           {QStringLiteral("types"), types},
                           {QStringLiteral("tensors"), tensors},
                           {QStringLiteral("totals"), totals}};
    return QJsonDocument(root).toJson(QJsonDocument::Indented);
}

}  // namespace glassbox::ui
