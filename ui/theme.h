// Theme: the application's light and dark looks (Fusion style with a
// matching palette and a few style-sheet touches), applied app-wide.
#pragma once

#include <QString>

namespace glassbox::ui {

class Theme {
public:
    enum class Kind { Light, Dark };

    static void apply(Kind kind);
    static Kind current();
    static bool isDark() { return current() == Kind::Dark; }
    static QString name(Kind kind);
    static Kind fromName(const QString& name);

private:
    static Kind s_current;
};

}  // namespace glassbox::ui
