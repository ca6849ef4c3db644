// RecentFiles: MRU list persistence and menu.
#include "ui/recent_files.h"

#include <QDir>
#include <QFileInfo>
#include <QMenu>
#include <QSettings>

namespace glassbox::ui {

RecentFiles::RecentFiles(const QString& settingsKey, QObject* parent) : QObject(parent), m_key(settingsKey) {
    m_paths = QSettings().value(m_key).toStringList();
}

void RecentFiles::add(const QString& path) {
    const QString clean = QFileInfo(path).absoluteFilePath();
    m_paths.removeAll(clean);
    m_paths.prepend(clean);
    while (m_paths.size() > kMaxEntries) m_paths.removeLast();
    save();
}

void RecentFiles::remove(const QString& path) {
    m_paths.removeAll(QFileInfo(path).absoluteFilePath());
    save();
}

void RecentFiles::attachMenu(QMenu* menu) {
    m_menu = menu;
    rebuildMenu();
}

void RecentFiles::save() {
    QSettings().setValue(m_key, m_paths);
    rebuildMenu();
    emit changed();
}

void RecentFiles::rebuildMenu() {
    if (!m_menu) return;
    m_menu->clear();
    int n = 0;
    for (const QString& path : m_paths) {
        const QString label = QStringLiteral("&%1 %2").arg(++n).arg(QFileInfo(path).fileName());
        QAction* a = m_menu->addAction(label);
        a->setToolTip(QDir::toNativeSeparators(path));
        a->setStatusTip(QDir::toNativeSeparators(path));
        connect(a, &QAction::triggered, this, [this, path] { emit openRequested(path); });
    }
    if (m_paths.isEmpty()) m_menu->addAction(tr("(none)"))->setEnabled(false);
    m_menu->addSeparator();
    QAction* clear = m_menu->addAction(tr("Clear list"));
    clear->setEnabled(!m_paths.isEmpty());
    connect(clear, &QAction::triggered, this, [this] {
        m_paths.clear();
        save();
    });
}

}  // namespace glassbox::ui
