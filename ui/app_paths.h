// AppPaths: where the workbench finds its default model and keeps its own
// files. The default model is looked up, in order, in $GLASSBOX_MODELS_DIR,
// in models/ next to the executable, and in models/ of each parent
// directory of the executable up to five levels (a build tree inside the
// source tree), then in the user's data directory.
#pragma once

#include <QString>
#include <QStringList>

namespace glassbox::ui {

class AppPaths {
public:
    static constexpr const char* kDefaultModelFile = "SmolLM2-135M-Instruct.Q4_1.gguf";

    // Every directory searched for models, in order.
    static QStringList modelSearchDirs();
    // The default model's path, or empty when it is nowhere to be found.
    static QString defaultModelPath();
    // The user's data directory (created on demand).
    static QString dataDir();
    // The demo project in the data directory.
    static QString demoProjectPath();
    // A sample prompt for new projects.
    static QString samplePrompt();
};

}  // namespace glassbox::ui
