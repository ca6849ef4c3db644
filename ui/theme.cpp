// Theme: palettes for the light and dark looks.
#include "ui/theme.h"

#include <QApplication>
#include <QPalette>
#include <QStyleFactory>

namespace glassbox::ui {

Theme::Kind Theme::s_current = Theme::Kind::Light;

namespace {

QPalette lightPalette() {
    QPalette p;
    p.setColor(QPalette::Window, QColor(0xf3, 0xf4, 0xf6));
    p.setColor(QPalette::WindowText, QColor(0x1f, 0x23, 0x28));
    p.setColor(QPalette::Base, QColor(0xff, 0xff, 0xff));
    p.setColor(QPalette::AlternateBase, QColor(0xf6, 0xf8, 0xfa));
    p.setColor(QPalette::Text, QColor(0x1f, 0x23, 0x28));
    p.setColor(QPalette::Button, QColor(0xf6, 0xf7, 0xf9));
    p.setColor(QPalette::ButtonText, QColor(0x1f, 0x23, 0x28));
    p.setColor(QPalette::Highlight, QColor(0x2f, 0x6f, 0xd0));
    p.setColor(QPalette::HighlightedText, Qt::white);
    p.setColor(QPalette::ToolTipBase, QColor(0xff, 0xff, 0xf4));
    p.setColor(QPalette::ToolTipText, QColor(0x1f, 0x23, 0x28));
    p.setColor(QPalette::PlaceholderText, QColor(0x8a, 0x91, 0x99));
    p.setColor(QPalette::Link, QColor(0x2f, 0x6f, 0xd0));
    p.setColor(QPalette::Mid, QColor(0xc8, 0xcc, 0xd2));
    p.setColor(QPalette::Disabled, QPalette::Text, QColor(0xa0, 0xa5, 0xab));
    p.setColor(QPalette::Disabled, QPalette::ButtonText, QColor(0xa0, 0xa5, 0xab));
    p.setColor(QPalette::Disabled, QPalette::WindowText, QColor(0xa0, 0xa5, 0xab));
    return p;
}

QPalette darkPalette() {
    QPalette p;
    p.setColor(QPalette::Window, QColor(0x26, 0x28, 0x2c));
    p.setColor(QPalette::WindowText, QColor(0xdc, 0xdf, 0xe4));
    p.setColor(QPalette::Base, QColor(0x1d, 0x1f, 0x23));
    p.setColor(QPalette::AlternateBase, QColor(0x2a, 0x2d, 0x32));
    p.setColor(QPalette::Text, QColor(0xdc, 0xdf, 0xe4));
    p.setColor(QPalette::Button, QColor(0x32, 0x35, 0x3a));
    p.setColor(QPalette::ButtonText, QColor(0xdc, 0xdf, 0xe4));
    p.setColor(QPalette::Highlight, QColor(0x4a, 0x8c, 0xe8));
    p.setColor(QPalette::HighlightedText, Qt::white);
    p.setColor(QPalette::ToolTipBase, QColor(0x32, 0x35, 0x3a));
    p.setColor(QPalette::ToolTipText, QColor(0xdc, 0xdf, 0xe4));
    p.setColor(QPalette::PlaceholderText, QColor(0x7d, 0x83, 0x8b));
    p.setColor(QPalette::Link, QColor(0x6f, 0xa8, 0xf0));
    p.setColor(QPalette::Mid, QColor(0x44, 0x47, 0x4d));
    p.setColor(QPalette::Light, QColor(0x3a, 0x3d, 0x43));
    p.setColor(QPalette::Dark, QColor(0x18, 0x1a, 0x1d));
    p.setColor(QPalette::Disabled, QPalette::Text, QColor(0x6c, 0x71, 0x78));
    p.setColor(QPalette::Disabled, QPalette::ButtonText, QColor(0x6c, 0x71, 0x78));
    p.setColor(QPalette::Disabled, QPalette::WindowText, QColor(0x6c, 0x71, 0x78));
    return p;
}

}  // namespace

void Theme::apply(Kind kind) {
    s_current = kind;
    QApplication::setStyle(QStyleFactory::create(QStringLiteral("Fusion")));
    QApplication::setPalette(kind == Kind::Dark ? darkPalette() : lightPalette());
    const QString border = kind == Kind::Dark ? QStringLiteral("#3b3e44") : QStringLiteral("#d5d9de");
    qApp->setStyleSheet(QStringLiteral("QDockWidget::title { padding: 4px 6px; }"
                                       "QMainWindow::separator { background: %1; width: 3px; height: 3px; }")
                            .arg(border));
}

Theme::Kind Theme::current() { return s_current; }

QString Theme::name(Kind kind) { return kind == Kind::Dark ? QStringLiteral("dark") : QStringLiteral("light"); }

Theme::Kind Theme::fromName(const QString& name) {
    return name == QLatin1String("dark") ? Kind::Dark : Kind::Light;
}

}  // namespace glassbox::ui
