// PlaygroundRun: one generation as the window holds it — the project's
// RunRecord (prompt tokens, settings, every generated token with its
// probabilities and sampler stages) plus what the record does not carry:
// the prompt as the user wrote it (mode, system prompt, chat turns) and the
// model it ran on. The same value is shown live, saved, and reopened.
#pragma once

#include <QString>
#include <vector>

#include "engine/chat_template.h"
#include "projects/project_records.h"

namespace glassbox::ui {

struct PlaygroundRun {
    projects::RunRecord record;
    projects::PromptMode mode = projects::PromptMode::Completion;
    QString userText;                           // completion: the prompt; chat: the new user turn
    QString systemPrompt;                       // chat only
    std::vector<engine::ChatMessage> history;   // chat: turns before the new user turn
    QString modelPath;
    QString modelName;
    bool running = false;
    QString error;                              // set when the generation failed
    quint64 localId = 0;                        // identifies the run before it has a project id
    quint64 parentLocalId = 0;                  // a branch's parent, before that has a project id

    bool isBranch() const { return record.parentRunId.has_value() || record.branchTokenIndex >= 0; }
    // Tokens at indices below this were copied from the parent run.
    int inheritedTokens() const { return record.branchTokenIndex >= 0 ? record.branchTokenIndex : 0; }
};

}  // namespace glassbox::ui
