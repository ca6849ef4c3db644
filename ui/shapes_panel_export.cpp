// ShapesPanel exports: the flow as an image, the selected pass's op list
// (every layer, with shapes and the weights read) as CSV or JSON.
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QPainter>

#include "ui/panel_export.h"
#include "ui/shapes_panel.h"
#include "viz/shape_flow.h"

namespace glassbox::ui {
namespace {

QString dimsText(const engine::ShapeDesc& s) {
    QStringList dims;
    for (int i = 0; i < s.rank; ++i) dims << QString::number(s.dims[size_t(i)]);
    return dims.join(QLatin1Char('x'));
}

QString typeText(const engine::ShapeDesc& s) {
    if (s.tokenIds) return QStringLiteral("I32");
    const auto name = engine::tensorTypeName(s.type);
    return QString::fromLatin1(name.data(), qsizetype(name.size()));
}

QJsonObject shapeJson(const engine::ShapeDesc& s) {
    QJsonArray dims;
    for (int i = 0; i < s.rank; ++i) dims.append(qint64(s.dims[size_t(i)]));
    return {{QStringLiteral("dims"), dims}, {QStringLiteral("type"), typeText(s)},
            {QStringLiteral("bytes"), qint64(s.bytes)}};
}

QJsonObject weightJson(const engine::WeightDesc& w) {
    QJsonArray shape;
    for (int64_t d : w.shape) shape.append(qint64(d));
    return {{QStringLiteral("name"), QString::fromStdString(w.name)},
            {QStringLiteral("type"), viz::weightTypeText(w)},
            {QStringLiteral("shape"), shape},
            {QStringLiteral("bytes"), qint64(w.bytes)}};
}

}  // namespace

bool ShapesPanel::exportImage(const QString& path, QString* error) {
    if (m_flow->blocks().empty()) {
        if (error) *error = tr("there are no shapes to export");
        return false;
    }
    const QSize size = m_flow->sizeHint();
    return PanelExport::writeImage(path, size, [&](QPainter& p) {
        p.fillRect(QRect(QPoint(0, 0), size), m_flow->palette().color(QPalette::Base));
        m_flow->paintFlow(p);
    }, error);
}

bool ShapesPanel::exportData(const QString& path, QString* error) {
    const QString kind = PanelExport::suffix(path);
    auto fail = [&](const QString& text) {
        if (error) *error = text;
        return false;
    };
    if (!m_capture || m_pass < 0) return fail(tr("there are no shapes to export"));
    if (kind == QLatin1String("csv")) return PanelExport::writeText(path, dataCsv(), error);
    if (kind == QLatin1String("json")) return PanelExport::writeText(path, dataJson(), error);
    if (kind == QLatin1String("npy")) return fail(tr("the shapes are a table, not an array: export CSV or JSON"));
    return fail(tr("unsupported data type \"%1\" (use .csv or .json)").arg(kind));
}

QByteArray ShapesPanel::dataCsv() const {
    const engine::ExecutedPass& pass = m_capture->passes()[size_t(m_pass)];
    QString out = QStringLiteral("pass_start,pass_tokens,layer,op,input_dims,input_type,input_bytes,"
                                 "output_dims,output_type,output_bytes,weight,weight_type,weight_shape,weight_bytes\n");
    for (const engine::OpRecord& r : pass.ops) {
        QStringList row = {QString::number(pass.startPos),
                           QString::number(pass.nTokens),
                           QString::number(r.layer),
                           QLatin1String(engine::opKindName(r.op)),
                           dimsText(r.input),
                           typeText(r.input),
                           QString::number(r.input.bytes),
                           dimsText(r.output),
                           typeText(r.output),
                           QString::number(r.output.bytes)};
        if (r.weight >= 0 && size_t(r.weight) < m_capture->weights().size()) {
            const engine::WeightDesc& w = m_capture->weights()[size_t(r.weight)];
            QStringList dims;
            for (int64_t d : w.shape) dims << QString::number(d);
            row << QString::fromStdString(w.name) << viz::weightTypeText(w) << dims.join(QLatin1Char('x'))
                << QString::number(w.bytes);
        } else {
            row << QString() << QString() << QString() << QString();
        }
        for (QString& f : row) f = PanelExport::csvField(f);
        out += row.join(QLatin1Char(',')) + QLatin1Char('\n');
    }
    return out.toUtf8();
}

QByteArray ShapesPanel::dataJson() const {
    const engine::ExecutedPass& pass = m_capture->passes()[size_t(m_pass)];
    QJsonArray ops;
    for (const engine::OpRecord& r : pass.ops) {
        QJsonObject op{{QStringLiteral("layer"), r.layer},
                       {QStringLiteral("op"), QLatin1String(engine::opKindName(r.op))},
                       {QStringLiteral("input"), shapeJson(r.input)},
                       {QStringLiteral("output"), shapeJson(r.output)}};
        if (r.weight >= 0 && size_t(r.weight) < m_capture->weights().size())
            op.insert(QStringLiteral("weight"), weightJson(m_capture->weights()[size_t(r.weight)]));
        ops.append(op);
    }
    const engine::CaptureGeometry& g = m_capture->geometry();
    const QJsonObject geometry{{QStringLiteral("layers"), g.nLayers},  {QStringLiteral("heads"), g.nHead},
                               {QStringLiteral("kvHeads"), g.nHeadKv}, {QStringLiteral("headDim"), g.headDim},
                               {QStringLiteral("embedding"), g.nEmbd}, {QStringLiteral("ffn"), g.nFf},
                               {QStringLiteral("vocab"), g.nVocab}};
    const QJsonObject root{{QStringLiteral("pass"), QJsonObject{{QStringLiteral("startPos"), pass.startPos},
                                                                 {QStringLiteral("nTokens"), pass.nTokens},
                                                                 {QStringLiteral("label"), passLabel(pass)}}},
                           {QStringLiteral("geometry"), geometry},
                           {QStringLiteral("ops"), ops}};
    return QJsonDocument(root).toJson(QJsonDocument::Indented);
}

}  // namespace glassbox::ui
