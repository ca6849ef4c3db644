// AppPaths: default model lookup and the user's data directory.
#include "ui/app_paths.h"

#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>
#include <QStandardPaths>

namespace glassbox::ui {

QStringList AppPaths::modelSearchDirs() {
    QStringList dirs;
    const QString env = qEnvironmentVariable("GLASSBOX_MODELS_DIR");
    if (!env.isEmpty()) dirs << env;
    QDir dir(QCoreApplication::applicationDirPath());
    dirs << dir.filePath(QStringLiteral("models"));
    for (int up = 0; up < 5 && dir.cdUp(); ++up) dirs << dir.filePath(QStringLiteral("models"));
    dirs << QDir(dataDir()).filePath(QStringLiteral("models"));
    dirs.removeDuplicates();
    return dirs;
}

QString AppPaths::defaultModelPath() {
    for (const QString& d : modelSearchDirs()) {
        const QString candidate = QDir(d).filePath(QString::fromLatin1(kDefaultModelFile));
        if (QFileInfo(candidate).isFile()) return QFileInfo(candidate).absoluteFilePath();
    }
    return {};
}

QString AppPaths::dataDir() {
    QString dir = QStandardPaths::writableLocation(QStandardPaths::AppDataLocation);
    if (dir.isEmpty()) dir = QDir::home().filePath(QStringLiteral(".glassbox"));
    QDir().mkpath(dir);
    return dir;
}

QString AppPaths::demoProjectPath() { return QDir(dataDir()).filePath(QStringLiteral("demo.glassbox")); }

QString AppPaths::samplePrompt() {
    return QStringLiteral("The three primary colours are");
}

}  // namespace glassbox::ui
