// BudgetPanel views: the source line, the weight / plan / attention tables,
// the worked KV formula and the fit summary, all filled from the current
// footprint and plan.
#include <QDir>
#include <QFileInfo>
#include <QLabel>
#include <QPlainTextEdit>
#include <QTableWidget>

#include "ui/budget_panel.h"

namespace glassbox::ui {
namespace {

QString thousands(uint64_t v) { return QString::fromStdString(engine::formatThousands(v)); }
QString bytesText(uint64_t v) { return QString::fromStdString(engine::formatBytes(v)); }
QString plural(int64_t n, const QString& one, const QString& many) { return n == 1 ? one : many; }

QString layoutName(const engine::ModelConfig& c) {
    return c.nHeadKv == c.nHead ? QStringLiteral("MHA") : (c.nHeadKv == 1 ? QStringLiteral("MQA") : QStringLiteral("GQA"));
}

QTableWidgetItem* textItem(const QString& text) { return new QTableWidgetItem(text); }

QTableWidgetItem* numberItem(const QString& text, const QVariant& value = {}) {
    auto* item = new QTableWidgetItem(text);
    item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
    if (value.isValid()) item->setData(Qt::UserRole, value);
    return item;
}

QVariant bytesValue(uint64_t v) { return QVariant::fromValue<qulonglong>(v); }

}  // namespace

void BudgetPanel::showSource() {
    m_sourceLabel->setTextFormat(Qt::PlainText);
    QString text;
    if (m_busy) text = tr("Reading the file’s header…");
    if (!m_fileFootprint) {
        m_sourceLabel->setText(!text.isEmpty() ? text
                                               : tr("Load a model, or plan any GGUF file, safetensors checkpoint or "
                                                    "config.json without loading it: only headers are read."));
        return;
    }
    const engine::ModelConfig& c = m_fileFootprint->config;
    const QString kind = m_source == Source::LoadedModel ? tr("loaded model")
                                                         : QString::fromStdString(m_fileFootprint->source);
    QString weights;
    if (!m_footprint.weights.empty()) {
        weights = m_footprint.weightsEstimated
                      ? tr("weights estimated from the shapes as %1").arg(QString::fromStdString(m_footprint.weights[0].type))
                      : tr("weights as in the file (mostly %1)").arg(QString::fromStdString(m_footprint.weights[0].type));
    }
    const QString line =
        tr("%1 — %2 · %3: %4 layers, hidden %5, %6 heads / %7 KV heads (%8) × %9 dims, FFN %10, vocabulary %11, "
           "training context %12 · %13, %14")
            .arg(QFileInfo(m_sourcePath).fileName(), kind, QString::fromStdString(c.architecture))
            .arg(c.nLayers)
            .arg(c.nEmbd)
            .arg(c.nHead)
            .arg(c.nHeadKv)
            .arg(layoutName(c))
            .arg(c.headDim)
            .arg(c.nFf)
            .arg(c.nVocab)
            .arg(thousands(uint64_t(c.nCtxTrain)), weights, bytesText(m_footprint.weightBytes));
    m_sourceLabel->setText(text.isEmpty() ? line : text + QLatin1Char('\n') + line);
    m_sourceLabel->setToolTip(QDir::toNativeSeparators(m_sourcePath));
}

void BudgetPanel::fillWeightTable() {
    const auto& rows = m_footprint.weights;
    m_weightTable->setRowCount(int(rows.size()) + 1);
    int r = 0;
    for (const engine::WeightTypeRow& w : rows) {
        m_weightTable->setItem(r, 0, textItem(QString::fromStdString(w.type)));
        m_weightTable->setItem(r, 1, numberItem(QString::number(w.tensors), w.tensors));
        m_weightTable->setItem(r, 2, numberItem(thousands(w.elements), bytesValue(w.elements)));
        m_weightTable->setItem(r, 3, numberItem(thousands(w.bytes), bytesValue(w.bytes)));
        m_weightTable->setItem(r, 4, numberItem(bytesText(w.bytes)));
        ++r;
    }
    QFont bold = m_weightTable->font();
    bold.setBold(true);
    const QString totalName = m_footprint.weightsEstimated ? tr("total (est.)") : tr("total");
    QTableWidgetItem* cells[] = {textItem(totalName), numberItem(QString::number(m_footprint.weightTensors)),
                                 numberItem(QString()),
                                 numberItem(thousands(m_footprint.weightBytes), bytesValue(m_footprint.weightBytes)),
                                 numberItem(bytesText(m_footprint.weightBytes))};
    for (int col = 0; col < 5; ++col) {
        cells[col]->setFont(bold);
        m_weightTable->setItem(r, col, cells[col]);
    }
    m_weightTable->resizeColumnsToContents();
}

void BudgetPanel::fillPlanTable() {
    const engine::MemoryPlan& p = *m_plan;
    const engine::PlanOptions& o = p.options;
    const engine::ScratchBreakdown& s = p.scratch;
    const QString ctx = thousands(uint64_t(o.contextSize));
    const QString seqs = plural(o.sequences, tr("1 sequence"), tr("%1 sequences").arg(o.sequences));
    struct Row {
        const char* key;
        QString label;
        uint64_t bytes;
        bool strong;
    };
    std::vector<Row> rows = {
        {"weights", tr("Weights (shared by all sequences)"), p.weightBytes, true},
        {"kv_per_token", tr("KV cache per token"), p.kvBytesPerToken, false},
        {"kv_per_sequence", tr("KV cache per sequence (%1 tokens)").arg(ctx), p.kvBytesPerSequence, false},
        {"kv_total", tr("KV cache, %1").arg(seqs), p.kvBytesTotal, true},
        {"scratch_activations", tr("    activations (%1 micro-batch rows)").arg(o.microBatch), s.activations, false},
        {"scratch_scores", tr("    attention scores (%1 × context × 2)")
                                   .arg(plural(o.threads, tr("1 thread"), tr("%1 threads").arg(o.threads))), s.scores, false},
        {"scratch_rope", tr("    RoPE cos/sin tables"), s.rope, false},
        {"scratch_matmul", tr("    matmul activation scratch"), s.matmulScratch, false},
        {"scratch_fused", tr("    fused q/k/v, gate/up scratch"), s.fusedScratch, false},
        {"scratch_logits", tr("    logits row"), s.logits, false},
        {"scratch", tr("Activations + scratch per sequence"), s.total(), false},
        {"per_sequence", tr("Per sequence (KV + scratch)"), p.perSequenceBytes, false},
        {"total", tr("Total: weights + %1 × per sequence").arg(o.sequences), p.totalBytes, true}};
    if (p.fit) {
        const engine::BudgetFit& f = *p.fit;
        rows.push_back({"budget", tr("Budget: %1").arg(budgetName()), f.budgetBytes, false});
        rows.push_back({"usable", tr("Usable after the %1% margin").arg(o.safetyMargin * 100.0, 0, 'f', 0),
                        f.usableBytes, true});
        if (f.fits) rows.push_back({"headroom", tr("Headroom left"), f.usableBytes - p.totalBytes, false});
        else rows.push_back({"shortfall", tr("Missing"), p.totalBytes - f.usableBytes, true});
    }
    m_planTable->setRowCount(int(rows.size()));
    QFont bold = m_planTable->font();
    bold.setBold(true);
    for (int r = 0; r < int(rows.size()); ++r) {
        const Row& row = rows[size_t(r)];
        auto* label = textItem(row.label);
        label->setData(Qt::UserRole, QString::fromLatin1(row.key));
        QTableWidgetItem* cells[] = {label, numberItem(thousands(row.bytes), bytesValue(row.bytes)),
                                     numberItem(bytesText(row.bytes))};
        for (int col = 0; col < 3; ++col) {
            if (row.strong) cells[col]->setFont(bold);
            m_planTable->setItem(r, col, cells[col]);
        }
    }
    m_planTable->resizeColumnToContents(1);
    m_planTable->resizeColumnToContents(2);
}

void BudgetPanel::fillAttentionTable() {
    const engine::MemoryPlan& p = *m_plan;
    m_attentionTable->setRowCount(int(p.attention.size()));
    m_attentionTable->setHorizontalHeaderItem(
        3, new QTableWidgetItem(p.options.sequences == 1
                                    ? tr("KV at %1 tokens").arg(thousands(uint64_t(p.options.contextSize)))
                                    : tr("KV at %1 tokens × %2").arg(thousands(uint64_t(p.options.contextSize)))
                                          .arg(p.options.sequences)));
    QFont bold = m_attentionTable->font();
    bold.setBold(true);
    for (int r = 0; r < int(p.attention.size()); ++r) {
        const engine::AttentionVariant& v = p.attention[size_t(r)];
        QTableWidgetItem* cells[] = {
            textItem(QString::fromStdString(v.name)), numberItem(QString::number(v.nKvHeads), v.nKvHeads),
            numberItem(thousands(v.kvBytesPerToken), bytesValue(v.kvBytesPerToken)),
            numberItem(bytesText(v.kvBytes), bytesValue(v.kvBytes)),
            textItem(v.actual ? tr("← this model") : QString())};
        for (int col = 0; col < 5; ++col) {
            if (v.actual) cells[col]->setFont(bold);
            m_attentionTable->setItem(r, col, cells[col]);
        }
    }
    m_attentionTable->resizeColumnsToContents();
}

void BudgetPanel::fillFormula() {
    const engine::MemoryPlan& p = *m_plan;
    const engine::PlanOptions& o = p.options;
    const engine::ModelConfig& c = m_footprint.config;
    auto line = [&](int kvHeads, int sequences) {
        engine::ModelConfig variant = c;
        variant.nHeadKv = kvHeads;
        return QString::fromStdString(engine::kvFormula(variant, o.kvType, o.contextSize, sequences));
    };
    QStringList out;
    out << tr("KV cache = 2 (K and V) × layers × KV heads × head dim × tokens × bytes per element")
        << QString() << tr("This model (%1, %2 KV heads), one sequence:").arg(layoutName(c)).arg(c.nHeadKv)
        << QStringLiteral("  ") + QString::fromStdString(p.kvFormula);
    if (o.sequences > 1)
        out << tr("All %1 sequences:").arg(o.sequences) << QStringLiteral("  ") + line(c.nHeadKv, o.sequences);
    for (const engine::AttentionVariant& v : p.attention) {
        if (v.actual) continue;
        out << QString() << tr("The same model as %1 (%2):")
                                     .arg(QString::fromStdString(v.name),
                                          plural(v.nKvHeads, tr("1 KV head"), tr("%1 KV heads").arg(v.nKvHeads)))
            << QStringLiteral("  ") + line(v.nKvHeads, 1);
    }
    out << QString() << tr("Total = weights + sequences × (KV + activations and scratch)")
        << QStringLiteral("      = %1 + %2 × (%3 + %4)")
               .arg(thousands(p.weightBytes))
               .arg(o.sequences)
               .arg(thousands(p.kvBytesPerSequence), thousands(p.scratch.total()))
        << QStringLiteral("      = %1 bytes (%2)").arg(thousands(p.totalBytes), bytesText(p.totalBytes));
    m_formula->setPlainText(out.join(QLatin1Char('\n')));
}

void BudgetPanel::fillFits() {
    const engine::MemoryPlan& p = *m_plan;
    const engine::PlanOptions& o = p.options;
    if (!p.fit) {
        m_fits->setStyleSheet(QString());
        m_fits->setText(tr("Budget unknown: the available RAM could not be read. Total %1. Pick a GPU to compare.")
                            .arg(bytesText(p.totalBytes)));
        return;
    }
    const engine::BudgetFit& f = *p.fit;
    QStringList lines;
    lines << (f.fits ? tr("Fits: yes — %1 of %2 usable (%3, %4% kept free).")
                     : tr("Fits: NO — %1 needed, %2 usable (%3, %4% kept free)."))
                 .arg(bytesText(p.totalBytes), bytesText(f.usableBytes), budgetName())
                 .arg(o.safetyMargin * 100.0, 0, 'f', 0);
    const int train = m_footprint.config.nCtxTrain;
    if (f.maxContext > 0) {
        QString largest = tr("Largest context for %1: %2 tokens")
                              .arg(plural(o.sequences, tr("1 sequence"), tr("%1 sequences").arg(o.sequences)),
                                   thousands(uint64_t(f.maxContext)));
        if (f.maxContext == engine::kPlanMaxContext) largest += tr(" (the backend’s limit)");
        if (f.maxContext > train)
            largest += tr(" (beyond the training context of %1)").arg(thousands(uint64_t(train)));
        lines << largest + QLatin1Char('.');
    } else {
        lines << tr("Largest context: none — the weights and scratch alone do not fit.");
    }
    lines << tr("Most sequences at %1 tokens: %2.")
                 .arg(thousands(uint64_t(o.contextSize)), thousands(uint64_t(std::max<int64_t>(f.maxSequences, 0))));
    const bool dark = palette().color(QPalette::Window).lightness() < 128;
    const QString color = f.fits ? (dark ? QStringLiteral("#7fd19b") : QStringLiteral("#1d6b33"))
                                 : (dark ? QStringLiteral("#ff8a80") : QStringLiteral("#a32418"));
    m_fits->setStyleSheet(QStringLiteral("QLabel { color: %1; font-weight: bold; }").arg(color));
    m_fits->setText(lines.join(QLatin1Char('\n')));
}

void BudgetPanel::clearViews() {
    m_weightTable->setRowCount(0);
    m_planTable->setRowCount(0);
    m_attentionTable->setRowCount(0);
    m_formula->clear();
    m_chart->clearSeries();
    m_fits->setStyleSheet(QString());
    m_fits->setText(tr("No plan yet."));
    showSource();
}

QString BudgetPanel::fitsText() const { return m_fits->text(); }

QString BudgetPanel::formulaText() const { return m_formula->toPlainText(); }

}  // namespace glassbox::ui
