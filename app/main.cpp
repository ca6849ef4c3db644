// glassbox: the desktop workbench.
//
//   glassbox [MODEL] [--project FILE]
//
// With no model argument the default model is opened (see AppPaths for where
// it is looked for); with no project, a demo project in the user's data
// directory (created with a sample prompt the first time).
#include <QApplication>
#include <QCommandLineParser>
#include <QFileInfo>

#include "ui/app_paths.h"
#include "ui/main_window.h"
#include "ui/playground_widget.h"
#include "ui/theme.h"

using glassbox::ui::AppPaths;
using glassbox::ui::MainWindow;

int main(int argc, char** argv) {
    Q_INIT_RESOURCE(resources);
    QApplication app(argc, argv);
    QApplication::setOrganizationName(QStringLiteral("Glassbox"));
    QApplication::setApplicationName(QStringLiteral("Glassbox"));
    QApplication::setApplicationVersion(QStringLiteral(GLASSBOX_VERSION));
    QApplication::setWindowIcon(QIcon(QStringLiteral(":/glassbox/icons/glassbox.svg")));

    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("Glassbox: look inside a language model while it runs."));
    parser.addHelpOption();
    parser.addVersionOption();
    parser.addPositionalArgument(QStringLiteral("model"), QStringLiteral("A GGUF or safetensors model to open."),
                                 QStringLiteral("[MODEL]"));
    QCommandLineOption project(QStringLiteral("project"), QStringLiteral("The project file to open (or create)."),
                               QStringLiteral("FILE"));
    parser.addOption(project);
    parser.process(app);

    glassbox::ui::Theme::apply(glassbox::ui::Theme::Kind::Light);
    MainWindow::Options options;
    const QStringList positional = parser.positionalArguments();
    options.modelPath = positional.isEmpty() ? AppPaths::defaultModelPath() : positional.first();
    options.projectPath = parser.isSet(project) ? parser.value(project) : AppPaths::demoProjectPath();
    const bool newDemo = !parser.isSet(project) && !QFileInfo::exists(options.projectPath);

    MainWindow window(options);
    if (newDemo) window.playground()->setPromptText(AppPaths::samplePrompt());
    if (options.modelPath.isEmpty()) {
        window.showMessage(glassbox::ui::MessageBanner::Level::Info,
                           QStringLiteral("No default model was found (looked for %1 in %2). Open one with "
                                          "File ▸ Open Model (Ctrl+O) or drop a model file on the window.")
                               .arg(QString::fromLatin1(AppPaths::kDefaultModelFile),
                                    AppPaths::modelSearchDirs().join(QStringLiteral(", "))));
    }
    window.show();
    return app.exec();
}
