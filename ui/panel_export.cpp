// PanelExport: image and data files for the inspection panels.
#include "ui/panel_export.h"

#include <QBuffer>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QImage>
#include <QMessageBox>
#include <QPainter>
#include <QSaveFile>
#include <QStandardPaths>
#include <QSvgGenerator>
#include <QToolButton>
#include <qcustomplot.h>

#include "engine/npy_writer.h"

namespace glassbox::ui {
namespace {

bool fail(QString* error, const QString& text) {
    if (error) *error = text;
    return false;
}

QString defaultDir() {
    const QString docs = QStandardPaths::writableLocation(QStandardPaths::DocumentsLocation);
    return docs.isEmpty() ? QDir::homePath() : docs;
}

// Renders through `paint` (which draws on the device it is given) into a
// PNG or an SVG file, depending on the suffix.
bool writeDevice(const QString& path, const QSize& size, const std::function<void(QPaintDevice*)>& paint,
                 QString* error) {
    const QString kind = PanelExport::suffix(path);
    if (size.isEmpty()) return fail(error, QObject::tr("nothing to draw"));
    if (kind == QLatin1String("svg")) {
        // Render into memory first so a failed write leaves no partial file.
        QBuffer buffer;
        QSvgGenerator svg;
        svg.setOutputDevice(&buffer);
        svg.setSize(size);
        svg.setViewBox(QRect(QPoint(0, 0), size));
        svg.setTitle(QFileInfo(path).completeBaseName());
        paint(&svg);
        return PanelExport::writeText(path, buffer.data(), error);
    }
    if (kind != QLatin1String("png"))
        return fail(error, QObject::tr("unsupported image type \"%1\" (use .png or .svg)").arg(kind));
    QImage image(size, QImage::Format_ARGB32_Premultiplied);
    image.fill(Qt::white);
    paint(&image);
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly) || !image.save(&file, "PNG") || !file.commit())
        return fail(error, QObject::tr("cannot write %1: %2").arg(QDir::toNativeSeparators(path), file.errorString()));
    return true;
}

}  // namespace

QString PanelExport::suffix(const QString& path) { return QFileInfo(path).suffix().toLower(); }

bool PanelExport::writeImage(const QString& path, const QSize& size, const std::function<void(QPainter&)>& paint,
                             QString* error) {
    return writeDevice(path, size, [&](QPaintDevice* device) {
        QPainter painter(device);
        paint(painter);
    }, error);
}

bool PanelExport::writePlot(QCustomPlot* plot, const QString& path, QString* error) {
    const QSize size = plot->size().isEmpty() ? QSize(800, 400) : plot->size();
    return writeDevice(path, size, [&](QPaintDevice* device) {
        QCPPainter painter(device);
        plot->toPainter(&painter, size.width(), size.height());
    }, error);
}

bool PanelExport::writeText(const QString& path, const QByteArray& bytes, QString* error) {
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly) || file.write(bytes) != bytes.size() || !file.commit())
        return fail(error, QObject::tr("cannot write %1: %2").arg(QDir::toNativeSeparators(path), file.errorString()));
    return true;
}

bool PanelExport::writeNpy(const QString& path, std::span<const float> data, const std::vector<int64_t>& shape,
                           QString* error) {
    const engine::Status st = engine::writeNpyF32(path.toStdString(), data, shape);
    if (!st) return fail(error, QString::fromStdString(st.error().message));
    return true;
}

QString PanelExport::csvField(const QString& text) {
    if (!text.contains(QLatin1Char(',')) && !text.contains(QLatin1Char('"')) && !text.contains(QLatin1Char('\n')) &&
        !text.contains(QLatin1Char('\r')))
        return text;
    QString quoted = text;
    quoted.replace(QLatin1Char('"'), QStringLiteral("\"\""));
    return QLatin1Char('"') + quoted + QLatin1Char('"');
}

QWidget* PanelExport::makeButtons(QWidget* panel, const QString& baseName, bool withNpy, Writer image, Writer data) {
    auto* box = new QWidget(panel);
    auto* layout = new QHBoxLayout(box);
    layout->setContentsMargins(0, 0, 0, 0);
    auto run = [panel](const QString& caption, const QString& name, const QString& filters, const Writer& write) {
        const QString path = QFileDialog::getSaveFileName(panel, caption, QDir(defaultDir()).filePath(name), filters);
        if (path.isEmpty()) return;
        QString error;
        if (!write(path, &error)) QMessageBox::warning(panel, caption, error);
    };
    auto* imageButton = new QToolButton(box);
    imageButton->setText(QObject::tr("Image…"));
    imageButton->setToolTip(QObject::tr("Save what this panel shows as PNG or SVG"));
    imageButton->setObjectName(QStringLiteral("exportImage"));
    QObject::connect(imageButton, &QToolButton::clicked, panel, [=] {
        run(QObject::tr("Export image"), baseName + QStringLiteral(".png"),
            QObject::tr("PNG image (*.png);;SVG drawing (*.svg)"), image);
    });
    auto* dataButton = new QToolButton(box);
    dataButton->setText(QObject::tr("Data…"));
    dataButton->setToolTip(withNpy ? QObject::tr("Save the numbers as CSV, JSON or NumPy .npy")
                                   : QObject::tr("Save the data as CSV or JSON"));
    dataButton->setObjectName(QStringLiteral("exportData"));
    const QString filters = QObject::tr("CSV (*.csv);;JSON (*.json)") +
                            (withNpy ? QObject::tr(";;NumPy array (*.npy)") : QString());
    QObject::connect(dataButton, &QToolButton::clicked, panel, [=] {
        run(QObject::tr("Export data"), baseName + QStringLiteral(".csv"), filters, data);
    });
    layout->addWidget(imageButton);
    layout->addWidget(dataButton);
    return box;
}

}  // namespace glassbox::ui
