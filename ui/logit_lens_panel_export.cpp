// LogitLensPanel exports: the grid over the lens's positions as an image;
// the cells as CSV or JSON; the final prediction's probability per point
// and position as a NumPy array.
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QPainter>
#include <algorithm>

#include "ui/logit_lens_panel.h"
#include "ui/panel_export.h"
#include "viz/lens_grid.h"

namespace glassbox::ui {
namespace {

constexpr int kMaxImageColumns = 400;

}  // namespace

bool LogitLensPanel::exportImage(const QString& path, QString* error) {
    if (!m_grid->hasLens()) {
        if (error) *error = tr("there is no logit lens to export");
        return false;
    }
    const engine::LogitLens& lens = m_grid->lens();
    const int first = lens.firstPos;
    const int last = std::min({lens.firstPos + lens.nPos, first + kMaxImageColumns, m_grid->columnCount()}) - 1;
    if (last < first) {
        if (error) *error = tr("the lens covers none of the run's positions");
        return false;
    }
    return PanelExport::writeImage(path, m_grid->exportSize(first, last),
                                   [&](QPainter& p) { m_grid->paintColumns(p, first, last); }, error);
}

bool LogitLensPanel::exportData(const QString& path, QString* error) {
    const QString kind = PanelExport::suffix(path);
    if (!m_grid->hasLens()) {
        if (error) *error = tr("there is no logit lens to export");
        return false;
    }
    if (kind == QLatin1String("csv")) return PanelExport::writeText(path, dataCsv(), error);
    if (kind == QLatin1String("json")) return PanelExport::writeText(path, dataJson(), error);
    if (kind == QLatin1String("npy")) {
        const engine::LogitLens& lens = m_grid->lens();
        std::vector<float> probs(lens.cells.size());
        for (size_t i = 0; i < lens.cells.size(); ++i) probs[i] = lens.cells[i].targetProb;
        return PanelExport::writeNpy(path, probs, {lens.nPoints, lens.nPos}, error);
    }
    if (error) *error = tr("unsupported data type \"%1\" (use .csv, .json or .npy)").arg(kind);
    return false;
}

QByteArray LogitLensPanel::dataCsv() const {
    const engine::LogitLens& lens = m_grid->lens();
    QString out = QStringLiteral("point,layer,position,token,target_id,target_text,target_rank,target_prob");
    for (int k = 1; k <= lens.topK; ++k) out += QStringLiteral(",top%1_id,top%1_text,top%1_prob").arg(k);
    out += QLatin1Char('\n');
    for (int point = 0; point < lens.nPoints; ++point) {
        for (int pos = lens.firstPos; pos < lens.firstPos + lens.nPos; ++pos) {
            const engine::LensCell& c = lens.cell(point, pos);
            const int32_t target = lens.target[size_t(pos - lens.firstPos)];
            QStringList row = {QString::number(point),
                               point == 0 ? QStringLiteral("embedding") : QString::number(point - 1),
                               QString::number(pos),
                               pos < m_labels.size() ? m_labels[pos] : QString(),
                               QString::number(target),
                               m_grid->tokenText(target),
                               QString::number(c.targetRank),
                               QString::number(double(c.targetProb), 'g', 7)};
            for (size_t k = 0; k < size_t(lens.topK); ++k) {
                const bool has = k < c.topIds.size();
                row << (has ? QString::number(c.topIds[k]) : QString()) << (has ? m_grid->tokenText(c.topIds[k]) : QString())
                    << (has ? QString::number(double(c.topProbs[k]), 'g', 7) : QString());
            }
            for (QString& f : row) f = PanelExport::csvField(f);
            out += row.join(QLatin1Char(',')) + QLatin1Char('\n');
        }
    }
    return out.toUtf8();
}

QByteArray LogitLensPanel::dataJson() const {
    const engine::LogitLens& lens = m_grid->lens();
    QJsonArray positions;
    for (int pos = lens.firstPos; pos < lens.firstPos + lens.nPos; ++pos) {
        const int32_t target = lens.target[size_t(pos - lens.firstPos)];
        QJsonArray points;
        for (int point = 0; point < lens.nPoints; ++point) {
            const engine::LensCell& c = lens.cell(point, pos);
            QJsonArray top;
            for (size_t k = 0; k < c.topIds.size(); ++k)
                top.append(QJsonObject{{QStringLiteral("id"), c.topIds[k]},
                                       {QStringLiteral("text"), m_grid->tokenText(c.topIds[k])},
                                       {QStringLiteral("prob"), double(c.topProbs[k])}});
            points.append(QJsonObject{{QStringLiteral("point"), point},
                                      {QStringLiteral("top"), top},
                                      {QStringLiteral("targetRank"), c.targetRank},
                                      {QStringLiteral("targetProb"), double(c.targetProb)}});
        }
        positions.append(QJsonObject{{QStringLiteral("position"), pos},
                                     {QStringLiteral("token"), pos < m_labels.size() ? m_labels[pos] : QString()},
                                     {QStringLiteral("target"), target},
                                     {QStringLiteral("targetText"), m_grid->tokenText(target)},
                                     {QStringLiteral("points"), points}});
    }
    const QJsonObject root{{QStringLiteral("firstPos"), lens.firstPos},
                           {QStringLiteral("nPos"), lens.nPos},
                           {QStringLiteral("nPoints"), lens.nPoints},
                           {QStringLiteral("topK"), lens.topK},
                           {QStringLiteral("positions"), positions}};
    return QJsonDocument(root).toJson(QJsonDocument::Indented);
}

}  // namespace glassbox::ui
