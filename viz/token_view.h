// TokenView: text shown token by token. Each token is a chip laid out like
// running text (no gaps, wrapping at the width), coloured by probability or
// entropy for generated tokens, or in alternating tints to show token
// boundaries of a prompt. Hover shows the id and probability; click selects.
//
// Appending is incremental: only new tokens are laid out, so streaming stays
// cheap however long the text grows. The view scrolls itself and follows the
// end while the user has not scrolled away from it.
#pragma once

#include <QAbstractScrollArea>
#include <QStaticText>
#include <QString>
#include <functional>
#include <vector>

#include "viz/probability_palette.h"

namespace glassbox::viz {

// One token as the view shows it.
struct TokenCell {
    int32_t id = -1;
    QString text;              // the token's text ("\n" is drawn as ↵ and breaks the line)
    double probability = -1;   // model probability; < 0 marks a prompt token (no colour scale)
    double entropy = 0;        // scaled step entropy, 0..1
    bool muted = false;        // inherited context, drawn faded (the prefix of a branch)
    bool marked = false;       // a branch point, drawn with an accent underline
    QString detail;            // extra tooltip lines (HTML allowed)
};

// Supplies extra tooltip lines for a token on demand (instead of
// TokenCell::detail), so streaming never formats tooltips nobody reads.
using TokenDetailProvider = std::function<QString(int index)>;

class TokenView : public QAbstractScrollArea {
    Q_OBJECT
public:
    explicit TokenView(QWidget* parent = nullptr);

    void setCells(std::vector<TokenCell> cells);
    void appendCells(const std::vector<TokenCell>& cells);
    // Appends text to the last token (trailing text the decoder held back).
    void appendToLast(const QString& text);
    void clear();

    int count() const { return int(m_cells.size()); }
    const TokenCell& cell(int index) const { return m_cells[size_t(index)]; }
    const std::vector<TokenCell>& cells() const { return m_cells; }

    void setColorMode(ColorMode mode);
    ColorMode colorMode() const { return m_mode; }

    // -1 clears the selection. Does not emit tokenSelected.
    void setSelectedIndex(int index);
    int selectedIndex() const { return m_selected; }

    // Height the content needs at the current width; the view asks for that
    // much (capped by setMaximumContentHeight) in sizeHint().
    int contentHeight() const;
    void setMaximumContentHeight(int pixels);
    // Text shown when there are no tokens.
    void setPlaceholder(const QString& text);

    // Where a token is drawn, in viewport coordinates (empty if none).
    QRect cellRect(int index) const;
    int indexAt(const QPoint& viewportPos) const;
    // The tooltip shown for a token (what hovering displays).
    QString tooltipFor(int index) const;
    void setDetailProvider(TokenDetailProvider provider) { m_detail = std::move(provider); }

    QSize sizeHint() const override;
    QSize minimumSizeHint() const override;

signals:
    // The user clicked or keyed onto a token.
    void tokenSelected(int index);
    void tokenHovered(int index);

protected:
    void paintEvent(QPaintEvent* event) override;
    void resizeEvent(QResizeEvent* event) override;
    void mousePressEvent(QMouseEvent* event) override;
    void mouseMoveEvent(QMouseEvent* event) override;
    void leaveEvent(QEvent* event) override;
    void keyPressEvent(QKeyEvent* event) override;
    bool viewportEvent(QEvent* event) override;
    void changeEvent(QEvent* event) override;
    void scrollContentsBy(int dx, int dy) override;

private:
    void relayout();
    void layoutFrom(size_t first);
    void contentChanged(bool followEnd, bool repaint = true);
    QColor backgroundFor(size_t index, bool dark) const;
    static QString displayText(const QString& text);
    void selectAndNotify(int index);

    std::vector<TokenCell> m_cells;
    std::vector<QRectF> m_rects;  // content coordinates, one per laid-out cell
    std::vector<QStaticText> m_shown;  // display text per laid-out cell, glyphs cached
    double m_cursorX = 0;
    double m_cursorY = 0;
    int m_layoutWidth = -1;
    int m_selected = -1;
    int m_hovered = -1;
    int m_maxContentHeight = 100000;
    int m_lastHintHeight = -1;
    ColorMode m_mode = ColorMode::Probability;
    QString m_placeholder;
    TokenDetailProvider m_detail;
};

}  // namespace glassbox::viz
