// PlaygroundWidget: where prompts are written and runs are watched. Two
// modes: completion (the prompt text is continued as is) and chat (a system
// prompt and alternating turns rendered with the model's chat format). Below
// the editor the RunStack shows the run and its branches, tokens coloured by
// probability or entropy.
//
// The widget builds prompts (text and token ids) but starts nothing itself:
// the window runs the engine and feeds tokens back into the RunStack.
#pragma once

#include <QWidget>
#include <vector>

#include "engine/chat_template.h"
#include "engine/result.h"
#include "projects/project_records.h"
#include "ui/engine_messages.h"
#include "viz/probability_palette.h"

class QComboBox;
class QLabel;
class QPlainTextEdit;
class QPushButton;
class QStackedWidget;
class QTextBrowser;

namespace glassbox::viz {
class ColorLegend;
}

namespace glassbox::ui {

class RunStack;

// A prompt ready to run.
struct PreparedPrompt {
    std::string text;               // what is tokenized (chat: template applied)
    std::vector<int32_t> tokens;
    std::vector<std::string> extraStops;  // chat: the format's end-of-turn marker
};

class PlaygroundWidget : public QWidget {
    Q_OBJECT
public:
    explicit PlaygroundWidget(QWidget* parent = nullptr);

    void setModel(const ModelInfo* model);

    projects::PromptMode mode() const;
    void setMode(projects::PromptMode mode);
    QString promptText() const;
    void setPromptText(const QString& text);
    QString systemPrompt() const;
    void setSystemPrompt(const QString& text);
    // Chat turns so far (without the turn being typed).
    const std::vector<engine::ChatMessage>& conversation() const { return m_conversation; }
    void setConversation(std::vector<engine::ChatMessage> turns);
    // Chat: record a finished exchange (user turn + reply) and clear the editor.
    void commitExchange(const QString& userText, const QString& reply);
    // Chat: replace the last assistant reply (a branch of it was chosen).
    void replaceLastReply(const QString& reply);

    // The prompt for the current editor contents. Errors: InvalidArgument
    // (no model, empty prompt), the chat formatter's errors.
    engine::Result<PreparedPrompt> prepare() const;
    // Same for the chat conversation `history` + `user` (used to rebuild runs).
    engine::Result<PreparedPrompt> prepareChat(const QString& system, const std::vector<engine::ChatMessage>& history,
                                               const QString& user) const;

    void setRunning(bool running);
    viz::ColorMode colorMode() const;
    void setColorMode(viz::ColorMode mode);

    RunStack* runStack() const { return m_runs; }
    QPlainTextEdit* editor() const { return m_editor; }
    QPushButton* runButton() const { return m_run; }
    QPushButton* stopButton() const { return m_stop; }
    QComboBox* modeBox() const { return m_mode; }

signals:
    void runRequested();
    void stopRequested();
    // Prompt, system prompt, mode or conversation changed (for drafts and the token view).
    void promptEdited();
    void colorModeChanged(viz::ColorMode mode);

private:
    void buildEditor(QWidget* host);
    void updateModeUi();
    void renderConversation();

    const ModelInfo* m_model = nullptr;
    QComboBox* m_mode = nullptr;
    QLabel* m_format = nullptr;
    QPushButton* m_clearChat = nullptr;
    QWidget* m_chatArea = nullptr;
    QPlainTextEdit* m_system = nullptr;
    QTextBrowser* m_transcript = nullptr;
    QPlainTextEdit* m_editor = nullptr;
    QPushButton* m_run = nullptr;
    QPushButton* m_stop = nullptr;
    QComboBox* m_colorMode = nullptr;
    viz::ColorLegend* m_legend = nullptr;
    RunStack* m_runs = nullptr;
    std::vector<engine::ChatMessage> m_conversation;
};

}  // namespace glassbox::ui
