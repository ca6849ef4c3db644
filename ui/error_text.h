// ErrorText: turns engine and project errors into sentences for the
// message banner. The first sentence says what happened in the user's terms
// (not a model file, damaged, unsupported, no space left ...); the engine's
// own message follows on a second line as detail.
#pragma once

#include <QString>

#include "engine/result.h"

namespace glassbox::ui {

class ErrorText {
public:
    // Opening a model failed.
    static QString forModelLoad(const QString& path, const engine::Error& error);
    // A generation failed.
    static QString forGeneration(const engine::Error& error);
    // Opening, creating or writing a project failed.
    static QString forProject(const QString& action, const QString& path, const engine::Error& error);
    // The engine's own description, for the detail line.
    static QString detail(const engine::Error& error);
};

}  // namespace glassbox::ui
