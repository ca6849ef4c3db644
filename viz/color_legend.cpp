// ColorLegend: painted gradient between two labels.
#include "viz/color_legend.h"

#include <QPainter>

namespace glassbox::viz {
namespace {

constexpr int kBarWidth = 120;
constexpr int kGap = 6;

QString lowLabel(ColorMode mode) {
    if (mode == ColorMode::Attention) return QObject::tr("low");
    return mode == ColorMode::Probability ? QObject::tr("unlikely") : QObject::tr("confident");
}

QString highLabel(ColorMode mode) {
    if (mode == ColorMode::Attention) return QObject::tr("high");
    return mode == ColorMode::Probability ? QObject::tr("likely") : QObject::tr("uncertain");
}

QColor rampColor(ColorMode mode, double x, bool dark) {
    switch (mode) {
    case ColorMode::Probability: return ProbabilityPalette::forProbability(x, dark);
    case ColorMode::Entropy: return ProbabilityPalette::forEntropy(x, dark);
    case ColorMode::Attention: return ProbabilityPalette::forWeight(x, dark);
    }
    return {};
}

}  // namespace

ColorLegend::ColorLegend(QWidget* parent) : QWidget(parent) {
    setSizePolicy(QSizePolicy::Fixed, QSizePolicy::Fixed);
    setMode(ColorMode::Probability);
}

void ColorLegend::setMode(ColorMode mode) {
    m_mode = mode;
    setToolTip(ProbabilityPalette::legend(mode));
    updateGeometry();
    update();
}

QSize ColorLegend::sizeHint() const {
    const QFontMetrics fm(font());
    const int w = fm.horizontalAdvance(lowLabel(m_mode)) + fm.horizontalAdvance(highLabel(m_mode)) + kBarWidth + 4 * kGap;
    return {w, fm.height() + 6};
}

void ColorLegend::paintEvent(QPaintEvent*) {
    QPainter p(this);
    p.setRenderHint(QPainter::Antialiasing);
    const bool dark = palette().color(QPalette::Window).lightness() < 128;
    const QFontMetrics fm(font());
    const QString low = lowLabel(m_mode);
    const QString high = highLabel(m_mode);
    const int lowW = fm.horizontalAdvance(low);
    p.setPen(palette().color(QPalette::WindowText));
    p.drawText(QRect(0, 0, lowW, height()), Qt::AlignVCenter | Qt::AlignLeft, low);
    const QRect bar(lowW + kGap, 3, kBarWidth, height() - 6);
    QLinearGradient g(bar.topLeft(), bar.topRight());
    for (int i = 0; i <= 10; ++i) {
        const double x = i / 10.0;
        g.setColorAt(x, rampColor(m_mode, x, dark));
    }
    p.setPen(Qt::NoPen);
    p.setBrush(g);
    p.drawRoundedRect(bar, 3, 3);
    p.setPen(palette().color(QPalette::WindowText));
    p.drawText(QRect(bar.right() + kGap, 0, width() - bar.right() - kGap, height()), Qt::AlignVCenter | Qt::AlignLeft,
               high);
}

}  // namespace glassbox::viz
