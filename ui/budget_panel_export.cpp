// BudgetPanel exports: the chart as PNG or SVG; the plan as CSV (one row
// per plan-table line, weight type, attention layout and chart point) or
// JSON (options, model shape, weights, plan, fit, layouts, chart series).
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTableWidget>

#include "ui/budget_panel.h"
#include "ui/panel_export.h"

namespace glassbox::ui {
namespace {

QString bytesText(uint64_t v) { return QString::fromStdString(engine::formatBytes(v)); }
// Byte counts as exact JSON integers (every plan figure is far below 2^63).
QJsonValue jsonBytes(uint64_t v) { return QJsonValue(qint64(std::min<uint64_t>(v, uint64_t(INT64_MAX)))); }

QString csvRow(const QString& section, const QString& key, const QString& label, uint64_t bytes) {
    return QStringLiteral("%1,%2,%3,%4,%5\n")
        .arg(section, PanelExport::csvField(key), PanelExport::csvField(label.trimmed()), QString::number(bytes),
             PanelExport::csvField(bytesText(bytes)));
}

template <class T>
QJsonArray jsonArray(const std::vector<T>& values) {
    QJsonArray out;
    for (const T& v : values) {
        if constexpr (std::is_same_v<T, uint64_t>) out.append(jsonBytes(v));
        else out.append(qint64(v));
    }
    return out;
}

}  // namespace

bool BudgetPanel::exportImage(const QString& path, QString* error) {
    if (!m_plan) {
        if (error) *error = tr("there is no plan to export");
        return false;
    }
    return PanelExport::writePlot(m_chart, path, error);
}

bool BudgetPanel::exportData(const QString& path, QString* error) {
    const QString kind = PanelExport::suffix(path);
    if (!m_plan) {
        if (error) *error = tr("there is no plan to export");
        return false;
    }
    if (kind == QLatin1String("csv")) return PanelExport::writeText(path, dataCsv(), error);
    if (kind == QLatin1String("json")) return PanelExport::writeText(path, dataJson(), error);
    if (error) *error = tr("unsupported data type \"%1\" (use .csv or .json)").arg(kind);
    return false;
}

QByteArray BudgetPanel::dataCsv() const {
    QString out = QStringLiteral("section,key,label,bytes,size\n");
    for (int r = 0; r < m_planTable->rowCount(); ++r) {
        const QTableWidgetItem* label = m_planTable->item(r, 0);
        out += csvRow(QStringLiteral("plan"), label->data(Qt::UserRole).toString(), label->text(),
                      m_planTable->item(r, 1)->data(Qt::UserRole).toULongLong());
    }
    for (const engine::WeightTypeRow& w : m_footprint.weights)
        out += csvRow(QStringLiteral("weights"), QString::fromStdString(w.type),
                      tr("%1 tensors, %2 elements").arg(w.tensors).arg(w.elements), w.bytes);
    for (const engine::AttentionVariant& v : m_plan->attention) {
        const QString name = QString::fromStdString(v.name);
        const QString heads = tr("%1 KV heads%2").arg(v.nKvHeads).arg(v.actual ? tr(", this model") : QString());
        out += csvRow(QStringLiteral("attention"), name + QStringLiteral("/per_token"), heads, v.kvBytesPerToken);
        out += csvRow(QStringLiteral("attention"), name + QStringLiteral("/at_context"), heads, v.kvBytes);
    }
    const viz::BudgetSeries& s = m_chart->series();
    for (size_t i = 0; i < s.contexts.size(); ++i) {
        const QString ctx = QString::number(s.contexts[i]);
        out += csvRow(QStringLiteral("chart"), ctx, QStringLiteral("weights"), s.weights[i]);
        out += csvRow(QStringLiteral("chart"), ctx, QStringLiteral("kv_cache"), s.kv[i]);
        out += csvRow(QStringLiteral("chart"), ctx, QStringLiteral("scratch"), s.scratch[i]);
    }
    return out.toUtf8();
}

QByteArray BudgetPanel::dataJson() const {
    const engine::MemoryPlan& p = *m_plan;
    const engine::PlanOptions& o = p.options;
    const engine::ModelConfig& c = m_footprint.config;
    QJsonArray weights, attention;
    for (const engine::WeightTypeRow& w : m_footprint.weights)
        weights.append(QJsonObject{{QStringLiteral("type"), QString::fromStdString(w.type)},
                                   {QStringLiteral("tensors"), w.tensors},
                                   {QStringLiteral("elements"), jsonBytes(w.elements)},
                                   {QStringLiteral("bytes"), jsonBytes(w.bytes)}});
    for (const engine::AttentionVariant& v : p.attention)
        attention.append(QJsonObject{{QStringLiteral("layout"), QString::fromStdString(v.name)},
                                     {QStringLiteral("kv_heads"), v.nKvHeads},
                                     {QStringLiteral("kv_bytes_per_token"), jsonBytes(v.kvBytesPerToken)},
                                     {QStringLiteral("kv_bytes"), jsonBytes(v.kvBytes)},
                                     {QStringLiteral("actual"), v.actual}});
    const engine::ScratchBreakdown& s = p.scratch;
    const QJsonObject scratch{{QStringLiteral("activations"), jsonBytes(s.activations)},
                              {QStringLiteral("scores"), jsonBytes(s.scores)},
                              {QStringLiteral("rope"), jsonBytes(s.rope)},
                              {QStringLiteral("matmul"), jsonBytes(s.matmulScratch)},
                              {QStringLiteral("fused"), jsonBytes(s.fusedScratch)},
                              {QStringLiteral("logits"), jsonBytes(s.logits)},
                              {QStringLiteral("total"), jsonBytes(s.total())}};
    QJsonObject root{
        {QStringLiteral("source"), QJsonObject{{QStringLiteral("path"), m_sourcePath},
                                               {QStringLiteral("kind"), m_source == Source::LoadedModel
                                                                            ? QStringLiteral("loaded model")
                                                                            : QString::fromStdString(m_fileFootprint->source)},
                                               {QStringLiteral("weights_estimated"), m_footprint.weightsEstimated}}},
        {QStringLiteral("model"), QJsonObject{{QStringLiteral("architecture"), QString::fromStdString(c.architecture)},
                                              {QStringLiteral("layers"), c.nLayers},
                                              {QStringLiteral("hidden"), c.nEmbd},
                                              {QStringLiteral("heads"), c.nHead},
                                              {QStringLiteral("kv_heads"), c.nHeadKv},
                                              {QStringLiteral("head_dim"), c.headDim},
                                              {QStringLiteral("ffn"), c.nFf},
                                              {QStringLiteral("vocab"), c.nVocab},
                                              {QStringLiteral("training_context"), c.nCtxTrain}}},
        {QStringLiteral("options"), QJsonObject{{QStringLiteral("context"), o.contextSize},
                                                {QStringLiteral("sequences"), o.sequences},
                                                {QStringLiteral("micro_batch"), o.microBatch},
                                                {QStringLiteral("threads"), o.threads},
                                                {QStringLiteral("kv_type"), QString::fromUtf8(engine::tensorTypeName(o.kvType).data())},
                                                {QStringLiteral("budget_bytes"), jsonBytes(o.budgetBytes)},
                                                {QStringLiteral("budget"), budgetName()},
                                                {QStringLiteral("safety_margin"), o.safetyMargin}}},
        {QStringLiteral("weights"), weights},
        {QStringLiteral("weight_bytes"), jsonBytes(p.weightBytes)},
        {QStringLiteral("kv_bytes_per_token"), jsonBytes(p.kvBytesPerToken)},
        {QStringLiteral("kv_bytes_per_sequence"), jsonBytes(p.kvBytesPerSequence)},
        {QStringLiteral("kv_bytes_total"), jsonBytes(p.kvBytesTotal)},
        {QStringLiteral("kv_formula"), QString::fromStdString(p.kvFormula)},
        {QStringLiteral("scratch"), scratch},
        {QStringLiteral("per_sequence_bytes"), jsonBytes(p.perSequenceBytes)},
        {QStringLiteral("total_bytes"), jsonBytes(p.totalBytes)},
        {QStringLiteral("attention"), attention}};
    if (p.fit)
        root.insert(QStringLiteral("fit"), QJsonObject{{QStringLiteral("budget_bytes"), jsonBytes(p.fit->budgetBytes)},
                                                       {QStringLiteral("usable_bytes"), jsonBytes(p.fit->usableBytes)},
                                                       {QStringLiteral("fits"), p.fit->fits},
                                                       {QStringLiteral("max_context"), p.fit->maxContext},
                                                       {QStringLiteral("max_sequences"), qint64(p.fit->maxSequences)}});
    const viz::BudgetSeries& series = m_chart->series();
    root.insert(QStringLiteral("chart"), QJsonObject{{QStringLiteral("contexts"), jsonArray(series.contexts)},
                                                     {QStringLiteral("weights"), jsonArray(series.weights)},
                                                     {QStringLiteral("kv_cache"), jsonArray(series.kv)},
                                                     {QStringLiteral("scratch"), jsonArray(series.scratch)},
                                                     {QStringLiteral("usable_bytes"), jsonBytes(series.usableBytes)},
                                                     {QStringLiteral("max_context"), series.maxContext}});
    return QJsonDocument(root).toJson(QJsonDocument::Indented);
}

}  // namespace glassbox::ui
