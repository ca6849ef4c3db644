// SamplerPanel: form, tooltips and conversion to engine::SamplerSettings.
#include "ui/sampler_panel.h"

#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QRegularExpressionValidator>
#include <QSpinBox>
#include <QVBoxLayout>

namespace glassbox::ui {
namespace {

QDoubleSpinBox* doubleBox(double lo, double hi, double step, int decimals) {
    auto* box = new QDoubleSpinBox;
    box->setRange(lo, hi);
    box->setSingleStep(step);
    box->setDecimals(decimals);
    box->setAccelerated(true);
    return box;
}

QSpinBox* intBox(int lo, int hi, int step = 1) {
    auto* box = new QSpinBox;
    box->setRange(lo, hi);
    box->setSingleStep(step);
    box->setAccelerated(true);
    return box;
}

}  // namespace

SamplerPanel::SamplerPanel(QWidget* parent) : QWidget(parent) {
    build();
    setSettings(engine::SamplerSettings{});
}

void SamplerPanel::buildRows(QFormLayout* form) {
    form->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
    form->setLabelAlignment(Qt::AlignRight);
    auto add = [&](const QString& label, QWidget* editor, const QString& tip, bool advanced) {
        editor->setToolTip(tip);
        auto* l = new QLabel(label);
        l->setToolTip(tip);
        l->setBuddy(editor);
        form->addRow(l, editor);
        if (advanced) m_advanced << l << editor;
    };
    m_temperature = doubleBox(0.0, 5.0, 0.05, 2);
    m_temperature->setSpecialValueText(tr("0 (greedy)"));
    add(tr("&Temperature"), m_temperature,
        tr("Divides every logit by T before anything else sees a probability. Below 1 sharpens the "
           "distribution (more predictable), above 1 flattens it (more surprising). 0 is greedy: always "
           "the single most likely token."),
        false);
    m_topK = intBox(0, 100000);
    m_topK->setSpecialValueText(tr("off"));
    add(tr("Top-&k"), m_topK,
        tr("Keep only the k most likely tokens and drop the rest. 0 switches it off. Small k (e.g. 10) "
           "removes the long tail of unlikely tokens."),
        false);
    m_topP = doubleBox(0.01, 1.0, 0.01, 2);
    add(tr("Top-&p"), m_topP,
        tr("Nucleus sampling: keep the smallest set of most likely tokens whose probabilities add up to "
           "at least p. 1 switches it off. 0.9 keeps the tokens that make up 90% of the mass."),
        false);
    m_minP = doubleBox(0.0, 1.0, 0.01, 3);
    add(tr("&Min-p"), m_minP,
        tr("Keep tokens whose probability is at least min-p times that of the most likely token. 0 "
           "switches it off. 0.05 drops tokens twenty times less likely than the best one."),
        false);
    m_repeatPenalty = doubleBox(0.05, 10.0, 0.05, 2);
    add(tr("Repeat penalty"), m_repeatPenalty,
        tr("Makes tokens that already appeared in the recent window less likely (llama.cpp style: "
           "positive logits are divided by it, negative ones multiplied). 1 switches it off."),
        true);
    m_penaltyLastN = intBox(-1, engine::SamplerSettings::kMaxPenaltyLastN);
    m_penaltyLastN->setSpecialValueText(tr("whole history"));
    add(tr("Penalty window"), m_penaltyLastN,
        tr("How many recent tokens the penalties look at. 0 switches the penalties off, -1 uses the "
           "whole history."),
        true);
    m_presence = doubleBox(-2.0, 2.0, 0.05, 2);
    add(tr("Presence penalty"), m_presence,
        tr("Subtracted once from the logit of every token already present in the window (OpenAI "
           "style). Positive values push towards new topics; 0 switches it off."),
        true);
    m_frequency = doubleBox(-2.0, 2.0, 0.05, 2);
    add(tr("Frequency penalty"), m_frequency,
        tr("Subtracted from a token's logit once per time it already occurs in the window. Positive "
           "values discourage verbatim repetition; 0 switches it off."),
        true);
    m_seed = new QLineEdit;
    m_seed->setPlaceholderText(tr("random"));
    m_seed->setValidator(new QRegularExpressionValidator(QRegularExpression(QStringLiteral("[0-9]{0,19}")), m_seed));
    add(tr("&Seed"), m_seed,
        tr("Seed of the random draw. The same seed, prompt, model and settings give the same tokens. "
           "Leave empty for a random seed (the run records the one it used)."),
        false);
    m_maxTokens = intBox(1, 32768, 16);
    add(tr("Max &tokens"), m_maxTokens, tr("Generation stops after this many new tokens."), true);
    m_stops = new QPlainTextEdit;
    m_stops->setPlaceholderText(tr("one per line"));
    m_stops->setFixedHeight(QFontMetrics(font()).height() * 3 + 10);
    m_stops->setTabChangesFocus(true);
    add(tr("Stop strings"), m_stops,
        tr("Generation stops just before any of these strings would appear (one per line, at most "
           "16). The end-of-turn marker of chat models is added automatically in chat mode."),
        true);
    m_topLogprobs = intBox(0, engine::SamplerSettings::kMaxTopLogprobs);
    add(tr("Alternatives"), m_topLogprobs,
        tr("How many of the most likely tokens are recorded at every step, with their probabilities "
           "(shown in the token inspector and used for branching)."),
        true);

}

void SamplerPanel::build() {
    auto* form = new QFormLayout;
    buildRows(form);
    m_problem = new QLabel;
    m_problem->setWordWrap(true);
    m_problem->setObjectName(QStringLiteral("samplerProblem"));
    m_problem->setStyleSheet(QStringLiteral("color: #d04040;"));
    m_problem->hide();
    auto* reset = new QPushButton(tr("Reset to defaults"));
    reset->setToolTip(tr("Restore the engine's default sampler settings."));
    connect(reset, &QPushButton::clicked, this, [this] {
        setSettings(engine::SamplerSettings{});
        onEdited();
    });

    auto* layout = new QVBoxLayout(this);
    layout->addLayout(form);
    layout->addWidget(m_problem);
    layout->addWidget(reset, 0, Qt::AlignLeft);
    layout->addStretch(1);

    for (auto* box : {m_temperature, m_topP, m_minP, m_repeatPenalty, m_presence, m_frequency})
        connect(box, &QDoubleSpinBox::valueChanged, this, &SamplerPanel::onEdited);
    for (auto* box : {m_topK, m_penaltyLastN, m_maxTokens, m_topLogprobs})
        connect(box, &QSpinBox::valueChanged, this, &SamplerPanel::onEdited);
    connect(m_seed, &QLineEdit::textChanged, this, &SamplerPanel::onEdited);
    connect(m_stops, &QPlainTextEdit::textChanged, this, &SamplerPanel::onEdited);
}

engine::SamplerSettings SamplerPanel::settings() const {
    engine::SamplerSettings s;
    s.temperature = float(m_temperature->value());
    s.topK = m_topK->value();
    s.topP = float(m_topP->value());
    s.minP = float(m_minP->value());
    s.repeatPenalty = float(m_repeatPenalty->value());
    s.penaltyLastN = m_penaltyLastN->value();
    s.presencePenalty = float(m_presence->value());
    s.frequencyPenalty = float(m_frequency->value());
    bool ok = false;
    const qulonglong seed = m_seed->text().toULongLong(&ok);
    s.seed = ok ? uint64_t(seed) : engine::SamplerSettings::kRandomSeed;
    s.maxTokens = m_maxTokens->value();
    s.stopStrings.clear();
    for (const QString& line : m_stops->toPlainText().split(QLatin1Char('\n'))) {
        if (!line.isEmpty()) s.stopStrings.push_back(line.toStdString());
    }
    s.topLogprobs = m_topLogprobs->value();
    s.captureStages = true;
    s.stageCandidates = 32;
    return s;
}

void SamplerPanel::setSettings(const engine::SamplerSettings& s) {
    m_updating = true;
    m_temperature->setValue(s.temperature);
    m_topK->setValue(s.topK);
    m_topP->setValue(s.topP);
    m_minP->setValue(s.minP);
    m_repeatPenalty->setValue(s.repeatPenalty);
    m_penaltyLastN->setValue(s.penaltyLastN);
    m_presence->setValue(s.presencePenalty);
    m_frequency->setValue(s.frequencyPenalty);
    m_seed->setText(s.seed == engine::SamplerSettings::kRandomSeed ? QString() : QString::number(s.seed));
    m_maxTokens->setValue(s.maxTokens);
    QStringList stops;
    for (const auto& stop : s.stopStrings) stops << QString::fromStdString(stop);
    m_stops->setPlainText(stops.join(QLatin1Char('\n')));
    m_topLogprobs->setValue(std::max(s.topLogprobs, 1));
    m_updating = false;
    onEdited();
}

engine::Status SamplerPanel::validate() const { return settings().validate(); }

void SamplerPanel::setCompact(bool compact) {
    for (QWidget* w : m_advanced) w->setVisible(!compact);
}

void SamplerPanel::onEdited() {
    if (m_updating) return;
    const engine::Status status = validate();
    m_problem->setVisible(!status.ok());
    if (!status.ok()) m_problem->setText(QString::fromStdString(status.error().message));
    emit settingsChanged();
}

}  // namespace glassbox::ui
