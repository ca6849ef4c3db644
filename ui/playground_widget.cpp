// PlaygroundWidget: editor, chat turns, prompt preparation and the run stack.
#include "ui/playground_widget.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSplitter>
#include <QTextBrowser>
#include <QVBoxLayout>

#include "engine/tokenizer.h"
#include "ui/run_stack.h"
#include "viz/color_legend.h"

namespace glassbox::ui {

using engine::ErrorCode;

PlaygroundWidget::PlaygroundWidget(QWidget* parent) : QWidget(parent) {
    auto* input = new QWidget;
    buildEditor(input);
    m_runs = new RunStack;
    auto* output = new QWidget;
    auto* outLayout = new QVBoxLayout(output);
    outLayout->setContentsMargins(0, 0, 0, 0);
    auto* outBar = new QHBoxLayout;
    auto* outTitle = new QLabel(tr("<b>Output</b>"));
    m_colorMode = new QComboBox;
    m_colorMode->addItems({tr("Probability"), tr("Entropy")});
    m_colorMode->setToolTip(tr("Colour generated tokens by the model's probability of the chosen token, or "
                               "by the entropy (uncertainty) of the distribution at that step."));
    m_legend = new viz::ColorLegend;
    m_legend->setObjectName(QStringLiteral("colorLegend"));
    outBar->addWidget(outTitle);
    outBar->addStretch(1);
    outBar->addWidget(m_legend);
    outBar->addSpacing(12);
    outBar->addWidget(new QLabel(tr("Colour by")));
    outBar->addWidget(m_colorMode);
    outLayout->addLayout(outBar);
    outLayout->addWidget(m_runs, 1);
    connect(m_colorMode, &QComboBox::currentIndexChanged, this, [this](int i) {
        const auto mode = i == 1 ? viz::ColorMode::Entropy : viz::ColorMode::Probability;
        m_runs->setColorMode(mode);
        m_legend->setMode(mode);
        emit colorModeChanged(mode);
    });

    auto* split = new QSplitter(Qt::Vertical);
    split->addWidget(input);
    split->addWidget(output);
    split->setStretchFactor(0, 1);
    split->setStretchFactor(1, 3);
    split->setSizes({200, 600});
    split->setChildrenCollapsible(false);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(6, 6, 6, 6);
    layout->addWidget(split);
    updateModeUi();
}

void PlaygroundWidget::buildEditor(QWidget* host) {
    m_mode = new QComboBox;
    m_mode->addItems({tr("Completion"), tr("Chat")});
    m_mode->setToolTip(tr("Completion continues the prompt text as it is. Chat wraps a system prompt and "
                          "turns in the model's own chat format."));
    m_format = new QLabel;
    m_format->setObjectName(QStringLiteral("chatFormat"));
    m_clearChat = new QPushButton(tr("Clear conversation"));
    m_clearChat->setToolTip(tr("Forget the chat turns so far."));
    auto* bar = new QHBoxLayout;
    bar->addWidget(new QLabel(tr("<b>Prompt</b>")));
    bar->addWidget(m_mode);
    bar->addWidget(m_format, 1);
    bar->addWidget(m_clearChat);

    m_system = new QPlainTextEdit;
    m_system->setPlaceholderText(tr("System prompt (optional): how the assistant should behave"));
    m_system->setMaximumHeight(QFontMetrics(font()).height() * 3 + 12);
    m_system->setTabChangesFocus(true);
    m_transcript = new QTextBrowser;
    m_transcript->setObjectName(QStringLiteral("chatTranscript"));
    m_transcript->setPlaceholderText(tr("The conversation appears here."));
    m_chatArea = new QWidget;
    auto* chatLayout = new QVBoxLayout(m_chatArea);
    chatLayout->setContentsMargins(0, 0, 0, 0);
    chatLayout->addWidget(m_system);
    chatLayout->addWidget(m_transcript, 1);

    m_editor = new QPlainTextEdit;
    m_editor->setObjectName(QStringLiteral("promptEditor"));
    m_editor->setTabChangesFocus(true);
    m_run = new QPushButton(tr("Run"));
    m_run->setToolTip(tr("Generate (Ctrl+Enter)"));
    m_run->setDefault(true);
    m_stop = new QPushButton(tr("Stop"));
    m_stop->setToolTip(tr("Stop generating (Esc); the tokens so far are kept"));
    m_stop->setEnabled(false);
    auto* buttons = new QHBoxLayout;
    buttons->addStretch(1);
    buttons->addWidget(m_run);
    buttons->addWidget(m_stop);

    auto* layout = new QVBoxLayout(host);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addLayout(bar);
    layout->addWidget(m_chatArea, 2);
    layout->addWidget(m_editor, 1);
    layout->addLayout(buttons);

    connect(m_run, &QPushButton::clicked, this, &PlaygroundWidget::runRequested);
    connect(m_stop, &QPushButton::clicked, this, &PlaygroundWidget::stopRequested);
    connect(m_editor, &QPlainTextEdit::textChanged, this, &PlaygroundWidget::promptEdited);
    connect(m_system, &QPlainTextEdit::textChanged, this, &PlaygroundWidget::promptEdited);
    connect(m_mode, &QComboBox::currentIndexChanged, this, [this] {
        updateModeUi();
        emit promptEdited();
    });
    connect(m_clearChat, &QPushButton::clicked, this, [this] {
        setConversation({});
        emit promptEdited();
    });
}

void PlaygroundWidget::setModel(const ModelInfo* model) {
    m_model = model;
    updateModeUi();
}

projects::PromptMode PlaygroundWidget::mode() const {
    return m_mode->currentIndex() == 1 ? projects::PromptMode::Chat : projects::PromptMode::Completion;
}

void PlaygroundWidget::setMode(projects::PromptMode mode) {
    m_mode->setCurrentIndex(mode == projects::PromptMode::Chat ? 1 : 0);
}

QString PlaygroundWidget::promptText() const { return m_editor->toPlainText(); }
void PlaygroundWidget::setPromptText(const QString& text) { m_editor->setPlainText(text); }
QString PlaygroundWidget::systemPrompt() const { return m_system->toPlainText(); }
void PlaygroundWidget::setSystemPrompt(const QString& text) { m_system->setPlainText(text); }

void PlaygroundWidget::setConversation(std::vector<engine::ChatMessage> turns) {
    m_conversation = std::move(turns);
    renderConversation();
}

void PlaygroundWidget::commitExchange(const QString& userText, const QString& reply) {
    m_conversation.push_back({"user", userText.toStdString()});
    m_conversation.push_back({"assistant", reply.toStdString()});
    renderConversation();
    m_editor->clear();
    emit promptEdited();
}

void PlaygroundWidget::replaceLastReply(const QString& reply) {
    if (m_conversation.empty() || m_conversation.back().role != "assistant") return;
    m_conversation.back().content = reply.toStdString();
    renderConversation();
    emit promptEdited();
}

void PlaygroundWidget::renderConversation() {
    QString html;
    for (const auto& turn : m_conversation) {
        const bool user = turn.role == "user";
        const QString who = user ? tr("You") : turn.role == "assistant" ? tr("Model") : QString::fromStdString(turn.role);
        html += QStringLiteral("<p><b style='color:%1'>%2</b><br>%3</p>")
                    .arg(user ? QStringLiteral("#3f7fd8") : QStringLiteral("#2e9e62"), who,
                         QString::fromStdString(turn.content).toHtmlEscaped().replace(QLatin1Char('\n'),
                                                                                      QStringLiteral("<br>")));
    }
    m_transcript->setHtml(html);
    m_transcript->moveCursor(QTextCursor::End);
}

void PlaygroundWidget::updateModeUi() {
    const bool chat = mode() == projects::PromptMode::Chat;
    m_chatArea->setVisible(chat);
    m_clearChat->setVisible(chat);
    m_editor->setPlaceholderText(chat ? tr("Your message… (Ctrl+Enter sends)")
                                      : tr("Text for the model to continue… (Ctrl+Enter runs)"));
    QString format;
    if (chat && m_model && m_model->chat) {
        format = tr("format: %1").arg(QString::fromLatin1(engine::chatFormatName(m_model->chat->format)));
        if (!m_model->chatNote.isEmpty()) format += tr(" (fallback)");
        m_format->setToolTip(m_model->chatNote.isEmpty() ? tr("Detected from the model's chat template.")
                                                         : m_model->chatNote);
    }
    m_format->setText(format);
}

engine::Result<PreparedPrompt> PlaygroundWidget::prepare() const {
    if (mode() == projects::PromptMode::Chat) return prepareChat(systemPrompt(), m_conversation, promptText());
    if (!m_model || !m_model->model)
        return engine::makeError(ErrorCode::InvalidArgument, "No model is loaded. Open one with File ▸ Open Model.");
    const QString text = promptText();
    if (text.isEmpty()) return engine::makeError(ErrorCode::InvalidArgument, "The prompt is empty.");
    PreparedPrompt p;
    p.text = text.toStdString();
    p.tokens = m_model->model->tokenizer().encode(p.text, true, false);
    if (p.tokens.empty()) return engine::makeError(ErrorCode::InvalidArgument, "The prompt has no tokens.");
    return p;
}

engine::Result<PreparedPrompt> PlaygroundWidget::prepareChat(const QString& system,
                                                             const std::vector<engine::ChatMessage>& history,
                                                             const QString& user) const {
    if (!m_model || !m_model->model)
        return engine::makeError(ErrorCode::InvalidArgument, "No model is loaded. Open one with File ▸ Open Model.");
    if (user.trimmed().isEmpty()) return engine::makeError(ErrorCode::InvalidArgument, "The message is empty.");
    std::vector<engine::ChatMessage> messages;
    if (!system.trimmed().isEmpty()) messages.push_back({"system", system.toStdString()});
    messages.insert(messages.end(), history.begin(), history.end());
    messages.push_back({"user", user.toStdString()});
    const engine::Tokenizer& tok = m_model->model->tokenizer();
    const std::string bos = tok.bos() >= 0 ? tok.tokenText(tok.bos()) : std::string();
    const std::string eos = tok.eos() >= 0 ? tok.tokenText(tok.eos()) : std::string();
    const engine::ChatTemplateInfo layout = m_model->chat.value_or(engine::chatTemplateFor(engine::ChatFormat::ChatML));
    GB_ASSIGN_OR_RETURN(std::string text, engine::formatChat(layout, messages, true, bos, eos));
    PreparedPrompt p;
    p.text = text;
    p.tokens = tok.encode(text, false, true);
    if (tok.addBos() && (p.tokens.empty() || p.tokens.front() != tok.bos())) p.tokens.insert(p.tokens.begin(), tok.bos());
    p.extraStops.push_back(engine::chatTurnEnd(layout.format, eos));
    return p;
}

void PlaygroundWidget::setRunning(bool running) {
    m_stop->setEnabled(running);
}

viz::ColorMode PlaygroundWidget::colorMode() const {
    return m_colorMode->currentIndex() == 1 ? viz::ColorMode::Entropy : viz::ColorMode::Probability;
}

void PlaygroundWidget::setColorMode(viz::ColorMode mode) {
    m_colorMode->setCurrentIndex(mode == viz::ColorMode::Entropy ? 1 : 0);
}

}  // namespace glassbox::ui
