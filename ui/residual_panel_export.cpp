// ResidualPanel exports: the heatmap as an image; the norms and outlier
// dimensions as CSV or JSON; the norms as a NumPy [points, positions] array.
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <cmath>

#include "ui/panel_export.h"
#include "ui/residual_panel.h"
#include "viz/residual_heatmap.h"

namespace glassbox::ui {

bool ResidualPanel::exportImage(const QString& path, QString* error) {
    if (m_summary.nPositions == 0) {
        if (error) *error = tr("there is no residual stream to export");
        return false;
    }
    return PanelExport::writePlot(m_heatmap, path, error);
}

bool ResidualPanel::exportData(const QString& path, QString* error) {
    const QString kind = PanelExport::suffix(path);
    if (m_summary.nPositions == 0) {
        if (error) *error = tr("there is no residual stream to export");
        return false;
    }
    if (kind == QLatin1String("csv")) return PanelExport::writeText(path, dataCsv(), error);
    if (kind == QLatin1String("json")) return PanelExport::writeText(path, dataJson(), error);
    if (kind == QLatin1String("npy"))
        return PanelExport::writeNpy(path, m_summary.norms, {m_summary.nPoints, m_summary.nPositions}, error);
    if (error) *error = tr("unsupported data type \"%1\" (use .csv, .json or .npy)").arg(kind);
    return false;
}

// One row per point and position (long form), then nothing else: the
// outliers are in the JSON export.
QByteArray ResidualPanel::dataCsv() const {
    QString out = QStringLiteral("point,layer,position,token,l2\n");
    for (int point = 0; point < m_summary.nPoints; ++point) {
        const QString layer = point == 0 ? QStringLiteral("embedding") : QString::number(point - 1);
        for (int pos = 0; pos < m_summary.nPositions; ++pos) {
            const float v = m_summary.norm(point, pos);
            const QString token = pos < m_labels.size() ? PanelExport::csvField(m_labels[pos]) : QString();
            out += QStringLiteral("%1,%2,%3,%4,%5\n")
                       .arg(point)
                       .arg(layer)
                       .arg(pos)
                       .arg(token, std::isnan(v) ? QString() : QString::number(double(v), 'g', 8));
        }
    }
    return out.toUtf8();
}

QByteArray ResidualPanel::dataJson() const {
    QJsonArray tokens, norms, outliers;
    for (int pos = 0; pos < m_summary.nPositions; ++pos) tokens.append(pos < m_labels.size() ? m_labels[pos] : QString());
    for (int point = 0; point < m_summary.nPoints; ++point) {
        QJsonArray row;
        for (int pos = 0; pos < m_summary.nPositions; ++pos) {
            const float v = m_summary.norm(point, pos);
            row.append(std::isnan(v) ? QJsonValue() : QJsonValue(double(v)));
        }
        norms.append(row);
    }
    for (const viz::OutlierDim& o : m_summary.outliers) {
        QJsonArray layers;
        for (int l : o.layers) layers.append(l);
        outliers.append(QJsonObject{{QStringLiteral("dim"), o.dim},
                                    {QStringLiteral("count"), o.count},
                                    {QStringLiteral("maxAbs"), double(o.maxAbs)},
                                    {QStringLiteral("maxLayer"), o.maxLayer},
                                    {QStringLiteral("maxPosition"), o.maxPos},
                                    {QStringLiteral("layers"), layers}});
    }
    const QJsonObject root{{QStringLiteral("points"), m_summary.nPoints},
                           {QStringLiteral("positions"), m_summary.nPositions},
                           {QStringLiteral("pointNames"), QStringLiteral("0 = embedding, l + 1 = after layer l")},
                           {QStringLiteral("tokens"), tokens},
                           {QStringLiteral("norms"), norms},
                           {QStringLiteral("samples"), m_summary.samples},
                           {QStringLiteral("outliers"), outliers}};
    return QJsonDocument(root).toJson(QJsonDocument::Indented);
}

}  // namespace glassbox::ui
