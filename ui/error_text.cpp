// ErrorText: user-facing wording of engine and project errors.
#include "ui/error_text.h"

#include <QFileInfo>

namespace glassbox::ui {

using engine::ErrorCode;

QString ErrorText::detail(const engine::Error& error) { return QString::fromStdString(error.toString()); }

QString ErrorText::forModelLoad(const QString& path, const engine::Error& error) {
    const QString name = QFileInfo(path).fileName();
    QString head;
    switch (error.code) {
        case ErrorCode::Cancelled: return QStringLiteral("Loading “%1” was cancelled.").arg(name);
        case ErrorCode::Io: head = QStringLiteral("“%1” could not be read."); break;
        case ErrorCode::Truncated: head = QStringLiteral("“%1” is incomplete: the file ends early (truncated download?)."); break;
        case ErrorCode::Overflow:
        case ErrorCode::Malformed:
            head = QStringLiteral("“%1” is not a model Glassbox can read (not GGUF or safetensors, or damaged).");
            break;
        case ErrorCode::Unsupported: head = QStringLiteral("“%1” uses something Glassbox does not support yet."); break;
        case ErrorCode::NotFound: head = QStringLiteral("“%1” is missing part of the model."); break;
        case ErrorCode::OutOfMemory: head = QStringLiteral("There is not enough memory to load “%1”."); break;
        case ErrorCode::Device:
            head = QStringLiteral("“%1” could not be loaded on the GPU (the GPU, its driver or a GPU library failed "
                                  "or is missing). Choose File ▸ Device ▸ CPU to run it on the CPU.");
            break;
        default: head = QStringLiteral("“%1” could not be loaded."); break;
    }
    return head.arg(name) + QLatin1Char('\n') + detail(error);
}

QString ErrorText::forGeneration(const engine::Error& error) {
    switch (error.code) {
        case ErrorCode::InvalidArgument:
            return QStringLiteral("The generation settings are not valid: %1").arg(detail(error));
        case ErrorCode::ContextFull:
            return QStringLiteral("The prompt does not fit in the model's context. %1").arg(detail(error));
        case ErrorCode::OutOfMemory:
            return QStringLiteral("Out of memory while generating. %1").arg(detail(error));
        case ErrorCode::Device:
            return QStringLiteral("The GPU failed while generating and the run could not go on. Choose File ▸ "
                                  "Device ▸ CPU and open the model again to run it on the CPU.\n%1")
                .arg(detail(error));
        default: return QStringLiteral("Generation failed: %1").arg(detail(error));
    }
}

QString ErrorText::forProject(const QString& action, const QString& path, const engine::Error& error) {
    const QString name = QFileInfo(path).fileName();
    const QString field = QString::fromStdString(error.field);
    const QString msg = QString::fromStdString(error.message).toLower();
    QString head;
    if (field == QLatin1String("SQLITE_FULL") || msg.contains(QLatin1String("no space")) ||
        msg.contains(QLatin1String("disk is full")))
        head = QStringLiteral("Could not %1 “%2”: the disk is full. Everything saved before is intact.");
    else if (field == QLatin1String("SQLITE_READONLY") || field == QLatin1String("SQLITE_CANTOPEN") ||
             field == QLatin1String("SQLITE_PERM") || msg.contains(QLatin1String("read-only")))
        head = QStringLiteral("Could not %1 “%2”: the location is read-only or not writable.");
    else if (field == QLatin1String("application_id"))
        head = QStringLiteral("Could not %1 “%2”: it belongs to another program, not Glassbox.");
    else if (field == QLatin1String("user_version") && error.code == ErrorCode::Unsupported)
        head = QStringLiteral("Could not %1 “%2”: it was made by a newer Glassbox.");
    else if (error.code == ErrorCode::Malformed || error.code == ErrorCode::Truncated ||
             error.code == ErrorCode::Unsupported)
        head = QStringLiteral("Could not %1 “%2”: it is not a Glassbox project, or it is damaged.");
    else if (error.code == ErrorCode::NotFound)
        head = QStringLiteral("Could not %1 “%2”: it (or its folder) does not exist.");
    else
        head = QStringLiteral("Could not %1 “%2”.");
    return head.arg(action, name) + QLatin1Char('\n') + detail(error);
}

}  // namespace glassbox::ui
