// ColorLegend: a small gradient bar with its two ends named, showing what
// token colours mean in the current mode ("unlikely … likely" for
// probability, "confident … uncertain" for entropy, "low … high" for
// attention weights).
#pragma once

#include <QWidget>

#include "viz/probability_palette.h"

namespace glassbox::viz {

class ColorLegend : public QWidget {
    Q_OBJECT
public:
    explicit ColorLegend(QWidget* parent = nullptr);

    void setMode(ColorMode mode);
    ColorMode mode() const { return m_mode; }

    QSize sizeHint() const override;

protected:
    void paintEvent(QPaintEvent* event) override;

private:
    ColorMode m_mode = ColorMode::Probability;
};

}  // namespace glassbox::viz
