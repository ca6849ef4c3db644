// PromptDriftChips: a prompt's tokens as a flowing row of chips, each filled
// by the KL divergence of the prediction made at that position (white at 0,
// red at the scale's maximum), with the scale drawn as a legend above the
// chips. A chip whose two models disagree on the top-1 token has a bold red
// border. Each chip has a tooltip. Chips wrap to the widget's width; the
// widget asks for the height the wrapped chips need.
#pragma once

#include <QColor>
#include <QRect>
#include <QString>
#include <QWidget>
#include <vector>

namespace glassbox::ui {

class PromptDriftChips : public QWidget {
public:
    struct Chip {
        QString text;       // the token as shown (escaped for display)
        QString toolTip;
        double kld = 0;     // nats
        bool flip = false;  // top-1 tokens differ
    };
    static constexpr int kLegendHeight = 26;

    explicit PromptDriftChips(QWidget* parent = nullptr);

    // Replaces the chips; `scaleMax` (> 0) is the KL shown fully red.
    void setChips(std::vector<Chip> chips, double scaleMax);
    void clear() { setChips({}, 1.0); }
    int chipCount() const { return int(m_chips.size()); }
    int flipCount() const;
    const Chip& chip(int i) const { return m_chips[size_t(i)]; }
    // Where chip i is drawn, in widget coordinates (after the last layout).
    QRect chipRect(int i) const { return m_rects[size_t(i)]; }
    double scaleMax() const { return m_scaleMax; }
    // The fill of a chip with this KL on a scale topping at scaleMax.
    static QColor colorFor(double kld, double scaleMax);

    QSize sizeHint() const override;
    bool hasHeightForWidth() const override { return true; }
    int heightForWidth(int width) const override;

protected:
    bool event(QEvent* e) override;
    void paintEvent(QPaintEvent* e) override;
    void resizeEvent(QResizeEvent* e) override;

private:
    std::vector<QRect> layoutFor(int width, int* height) const;
    void relayout();
    void paintLegend(QPainter& p) const;

    std::vector<Chip> m_chips;
    std::vector<QRect> m_rects;
    double m_scaleMax = 1.0;
};

}  // namespace glassbox::ui
