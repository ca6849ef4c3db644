// RecentFiles: a most-recently-used list of paths (models or projects) kept
// in QSettings under one key, with a menu that reopens them.
#pragma once

#include <QObject>
#include <QStringList>

class QMenu;

namespace glassbox::ui {

class RecentFiles : public QObject {
    Q_OBJECT
public:
    static constexpr int kMaxEntries = 8;

    RecentFiles(const QString& settingsKey, QObject* parent = nullptr);

    QStringList paths() const { return m_paths; }
    void add(const QString& path);
    void remove(const QString& path);
    // Keeps `menu` filled with the list (rebuilt whenever it changes).
    void attachMenu(QMenu* menu);

signals:
    void openRequested(const QString& path);
    void changed();

private:
    void save();
    void rebuildMenu();

    QString m_key;
    QStringList m_paths;
    QMenu* m_menu = nullptr;
};

}  // namespace glassbox::ui
