// TokenInspector: summary, alternatives table with probability bars, stages chart.
#include "ui/token_inspector.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPainter>
#include <QPushButton>
#include <QSplitter>
#include <QStyledItemDelegate>
#include <QTableWidget>
#include <QVBoxLayout>
#include <cmath>

#include "ui/token_cells.h"
#include "viz/probability_palette.h"
#include "viz/stages_chart.h"

namespace glassbox::ui {
namespace {

enum Column { ColToken, ColId, ColProbability, ColLogprob, ColCount };
constexpr int kProbabilityRole = Qt::UserRole + 1;

// Paints the probability cell as a bar in the palette's colour.
class ProbabilityBarDelegate : public QStyledItemDelegate {
public:
    using QStyledItemDelegate::QStyledItemDelegate;
    void paint(QPainter* p, const QStyleOptionViewItem& option, const QModelIndex& index) const override {
        QStyledItemDelegate::paint(p, option, index);
        const double prob = index.data(kProbabilityRole).toDouble();
        const bool dark = option.palette.color(QPalette::Base).lightness() < 128;
        QRectF bar = QRectF(option.rect).adjusted(3, 4, -3, -4);
        bar.setWidth(std::max(1.0, bar.width() * std::clamp(prob, 0.0, 1.0)));
        QColor c = viz::ProbabilityPalette::forProbability(prob, dark);
        c.setAlphaF(0.55f);
        p->save();
        p->setRenderHint(QPainter::Antialiasing);
        p->setPen(Qt::NoPen);
        p->setBrush(c);
        p->drawRoundedRect(bar, 2, 2);
        p->restore();
    }
};

}  // namespace

TokenInspector::TokenInspector(QWidget* parent) : QWidget(parent) {
    m_summary = new QLabel(tr("Select a generated token to see the alternatives the model weighed and how "
                              "the sampler shaped the choice."));
    m_summary->setWordWrap(true);
    m_summary->setTextFormat(Qt::RichText);
    m_summary->setObjectName(QStringLiteral("inspectorSummary"));

    m_table = new QTableWidget(0, ColCount);
    m_table->setHorizontalHeaderLabels({tr("Token"), tr("Id"), tr("Probability"), tr("Log-prob")});
    m_table->verticalHeader()->setVisible(false);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::SingleSelection);
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->horizontalHeader()->setSectionResizeMode(ColToken, QHeaderView::Stretch);
    m_table->horizontalHeader()->setSectionResizeMode(ColProbability, QHeaderView::Stretch);
    m_table->setItemDelegateForColumn(ColProbability, new ProbabilityBarDelegate(m_table));
    m_table->setToolTip(tr("The most likely next tokens according to the model (before sampling). "
                           "Pick one and press Branch here to see where it leads."));
    connect(m_table, &QTableWidget::itemSelectionChanged, this, &TokenInspector::updateBranchButton);
    connect(m_table, &QTableWidget::cellDoubleClicked, this, [this] { requestBranch(); });

    m_branch = new QPushButton(tr("&Branch here"));
    m_branch->setToolTip(tr("Continue the generation from this step with the selected alternative instead of "
                            "the token that was drawn (Ctrl+B). The original stays visible."));
    connect(m_branch, &QPushButton::clicked, this, &TokenInspector::requestBranch);

    m_scale = new QComboBox;
    m_scale->addItems({tr("Probability"), tr("Logit")});
    m_scale->setToolTip(tr("Plot each stage's probabilities (softmax over the tokens that survive it) or "
                           "its logits (scaled by 1/T from the temperature stage on)."));
    m_chart = new viz::StagesChart;
    m_chart->setToolTip(tr("Sampler stages for this step: raw model distribution, then temperature, top-k, "
                           "top-p / min-p and the final distribution the token was drawn from. "
                           "▸ marks the chosen token; a missing bar means the stage removed the token."));
    connect(m_scale, &QComboBox::currentIndexChanged, this, [this](int i) {
        m_chart->setScale(i == 1 ? viz::StagesChart::Scale::Logit : viz::StagesChart::Scale::Probability);
    });

    auto* top = new QWidget;
    auto* topLayout = new QVBoxLayout(top);
    topLayout->setContentsMargins(0, 0, 0, 0);
    topLayout->addWidget(m_summary);
    topLayout->addWidget(m_table, 1);
    auto* buttons = new QHBoxLayout;
    buttons->addWidget(m_branch);
    buttons->addStretch(1);
    buttons->addWidget(new QLabel(tr("Stages:")));
    buttons->addWidget(m_scale);
    topLayout->addLayout(buttons);

    auto* split = new QSplitter(Qt::Vertical);
    split->addWidget(top);
    split->addWidget(m_chart);
    split->setStretchFactor(0, 2);
    split->setStretchFactor(1, 3);
    split->setSizes({330, 330});
    split->setChildrenCollapsible(false);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addWidget(split);
    updateBranchButton();
}

void TokenInspector::showToken(const engine::GeneratedToken& token, int step,
                               std::shared_ptr<const engine::Model> model) {
    m_token = token;
    m_step = step;
    m_model = std::move(model);
    const engine::Tokenizer* tokenizer = TokenCells::tokenizerOf(m_model);
    const auto& s = token.sample;
    const double p = viz::ProbabilityPalette::probabilityOf(s);
    const QString text = TokenCells::tokenText(tokenizer, token.id, token.text);
    m_summary->setText(tr("<b>Step %1</b>: <code>%2</code> (id %3)<br>model probability <b>%4%</b> · "
                          "drawn with %5% · entropy %6 bits%7")
                           .arg(step)
                           .arg(text.toHtmlEscaped().replace(QLatin1Char('\n'), QStringLiteral("↵")))
                           .arg(token.id)
                           .arg(p * 100, 0, 'f', 2)
                           .arg(double(s.probability) * 100, 0, 'f', 2)
                           .arg(viz::ProbabilityPalette::entropyBits(s), 0, 'f', 2)
                           .arg(s.greedy ? tr(" · greedy") : QString()));
    m_table->setRowCount(0);
    m_table->setRowCount(int(s.topAlternatives.size()));
    for (int row = 0; row < int(s.topAlternatives.size()); ++row) {
        const auto& alt = s.topAlternatives[size_t(row)];
        const double prob = std::exp(double(alt.logprob));
        QString shown = TokenCells::tokenText(tokenizer, alt.id);
        shown.replace(QLatin1Char('\n'), QStringLiteral("↵"));
        auto* tok = new QTableWidgetItem(shown);
        auto* id = new QTableWidgetItem(QString::number(alt.id));
        auto* pr = new QTableWidgetItem(QStringLiteral("%1%").arg(prob * 100, 0, 'f', 2));
        pr->setData(kProbabilityRole, prob);
        auto* lp = new QTableWidgetItem(QString::number(double(alt.logprob), 'f', 3));
        if (alt.id == token.id) {
            QFont bold = tok->font();
            bold.setBold(true);
            for (auto* item : {tok, id, pr, lp}) item->setFont(bold);
            tok->setText(QStringLiteral("▸ ") + shown);
            tok->setToolTip(tr("The token that was drawn at this step"));
        }
        m_table->setItem(row, ColToken, tok);
        m_table->setItem(row, ColId, id);
        m_table->setItem(row, ColProbability, pr);
        m_table->setItem(row, ColLogprob, lp);
    }
    m_table->resizeColumnToContents(ColId);
    m_table->resizeColumnToContents(ColLogprob);
    m_chart->setStep(s, token.id, [model = m_model](int32_t id) {
        return TokenCells::tokenText(TokenCells::tokenizerOf(model), id);
    });
    updateBranchButton();
}

void TokenInspector::clear() {
    m_token.reset();
    m_step = -1;
    m_table->setRowCount(0);
    m_chart->clearStep();
    m_summary->setText(tr("Select a generated token to see its alternatives and sampler stages."));
    updateBranchButton();
}

void TokenInspector::setDark(bool dark) { m_chart->setDark(dark); }

void TokenInspector::setBranchEnabled(bool enabled) {
    m_branchAllowed = enabled;
    updateBranchButton();
}

int TokenInspector::alternativeCount() const { return m_token ? int(m_token->sample.topAlternatives.size()) : 0; }

int32_t TokenInspector::alternativeId(int row) const {
    return row >= 0 && row < alternativeCount() ? m_token->sample.topAlternatives[size_t(row)].id : -1;
}

double TokenInspector::alternativeProbability(int row) const {
    return row >= 0 && row < alternativeCount() ? std::exp(double(m_token->sample.topAlternatives[size_t(row)].logprob))
                                                : 0.0;
}

void TokenInspector::selectAlternative(int row) {
    if (row >= 0 && row < m_table->rowCount()) m_table->selectRow(row);
}

int32_t TokenInspector::selectedAlternative() const {
    const auto rows = m_table->selectionModel()->selectedRows();
    return rows.isEmpty() ? -1 : alternativeId(rows.first().row());
}

QString TokenInspector::summaryText() const { return m_summary->text(); }

void TokenInspector::updateBranchButton() {
    const int32_t alt = selectedAlternative();
    m_branch->setEnabled(m_branchAllowed && m_token && alt >= 0 && alt != m_token->id);
}

void TokenInspector::requestBranch() {
    const int32_t alt = selectedAlternative();
    if (!m_branch->isEnabled() || alt < 0) return;
    emit branchRequested(m_step, alt);
}

}  // namespace glassbox::ui
