// MessageBanner: coloured, dismissable message strip with an optional action.
#include "ui/message_banner.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QStyle>
#include <QToolButton>

namespace glassbox::ui {

MessageBanner::MessageBanner(QWidget* parent) : QFrame(parent) {
    setObjectName(QStringLiteral("messageBanner"));
    m_icon = new QLabel;
    m_text = new QLabel;
    m_text->setWordWrap(true);
    m_text->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_text->setObjectName(QStringLiteral("messageText"));
    m_action = new QPushButton;
    m_action->hide();
    m_close = new QToolButton;
    m_close->setText(QStringLiteral("✕"));
    m_close->setAutoRaise(true);
    m_close->setToolTip(tr("Dismiss"));
    auto* layout = new QHBoxLayout(this);
    layout->setContentsMargins(10, 6, 6, 6);
    layout->addWidget(m_icon);
    layout->addWidget(m_text, 1);
    layout->addWidget(m_action);
    layout->addWidget(m_close);
    connect(m_close, &QToolButton::clicked, this, &MessageBanner::dismiss);
    connect(m_action, &QPushButton::clicked, this, [this] {
        auto callback = m_callback;
        dismiss();
        if (callback) callback();
    });
    hide();
}

void MessageBanner::showMessage(Level level, const QString& text, const QString& actionText,
                                std::function<void()> action) {
    m_level = level;
    m_text->setText(text);
    m_callback = std::move(action);
    m_action->setVisible(!actionText.isEmpty());
    m_action->setText(actionText);
    static const char* names[] = {"info", "warning", "error"};
    m_log << QStringLiteral("%1: %2").arg(QLatin1String(names[int(level)]), text);
    applyStyle();
    show();
}

void MessageBanner::dismiss() {
    m_callback = {};
    hide();
}

QString MessageBanner::text() const { return isHidden() ? QString() : m_text->text(); }

void MessageBanner::applyStyle() {
    const bool dark = palette().color(QPalette::Window).lightness() < 128;
    QString bg, border;
    QStyle::StandardPixmap icon = QStyle::SP_MessageBoxInformation;
    switch (m_level) {
        case Level::Info:
            bg = dark ? QStringLiteral("#1f3347") : QStringLiteral("#e5f0fb");
            border = QStringLiteral("#4a8fd8");
            break;
        case Level::Warning:
            bg = dark ? QStringLiteral("#40361c") : QStringLiteral("#fdf3d8");
            border = QStringLiteral("#d8a52a");
            icon = QStyle::SP_MessageBoxWarning;
            break;
        case Level::Error:
            bg = dark ? QStringLiteral("#4a2426") : QStringLiteral("#fbe5e5");
            border = QStringLiteral("#d04a4a");
            icon = QStyle::SP_MessageBoxCritical;
            break;
    }
    setStyleSheet(QStringLiteral("#messageBanner { background: %1; border: 1px solid %2; border-radius: 4px; }")
                      .arg(bg, border));
    m_icon->setPixmap(style()->standardIcon(icon).pixmap(18, 18));
}

}  // namespace glassbox::ui
