// LensGrid: the logit lens as a grid — one row per point of the residual
// stream (the embedding, then after every layer; the last row is what the
// model really predicts), one column per position. Each cell shows the top
// token at that point, coloured by its probability; hovering shows the
// top-k with probabilities and where the final prediction ranks there.
//
// The grid spans every position of the run; the lens itself may cover only
// a window of them (computing it costs one output-head pass per point and
// position). Uncovered columns are drawn empty, and the grid reports which
// columns are visible so its owner can compute the window the user scrolled
// to. Only visible cells are painted, so any number of positions is cheap.
#pragma once

#include <QAbstractScrollArea>
#include <QHash>
#include <QStringList>
#include <functional>

#include "engine/logit_lens.h"

namespace glassbox::viz {

class LensGrid : public QAbstractScrollArea {
    Q_OBJECT
public:
    using TokenText = std::function<QString(int32_t id)>;

    explicit LensGrid(QWidget* parent = nullptr);

    // Columns: one per label (the tokens of the run); rows: nPoints
    // (layers + 1). Keeps the lens (its cells past the columns are not shown).
    void setColumns(const QStringList& labels, int nPoints);
    // Rows: lens.nPoints; cells of positions the lens covers.
    void setLens(const engine::LogitLens& lens, TokenText tokenText);
    void clear();
    bool hasLens() const { return m_hasLens; }
    const engine::LogitLens& lens() const { return m_lens; }
    int columnCount() const { return int(m_labels.size()); }
    int rowCount() const { return m_points; }
    bool covers(int position) const;

    // -1 clears. Scrolls the column into view; does not emit columnSelected.
    void setSelectedColumn(int position);
    int selectedColumn() const { return m_selected; }
    void scrollToColumn(int position);
    // First visible column and how many are visible.
    std::pair<int, int> visibleColumns() const;

    // What a cell shows: the top token's text and its colour.
    QString cellText(int point, int position) const;
    QColor cellColor(int point, int position) const;
    QString tooltipFor(int point, int position) const;
    // Row name: "embedding" for point 0, else "layer l".
    static QString rowName(int point);
    // Cell geometry in viewport coordinates; cellAt returns {-1, -1} outside cells.
    QRect cellRect(int point, int position) const;
    std::pair<int, int> cellAt(const QPoint& viewportPos) const;
    QString tokenText(int32_t id) const;

    // Draws columns [first, last] with headers, unscrolled (for export).
    QSize exportSize(int first, int last) const;
    void paintColumns(QPainter& painter, int first, int last) const;

signals:
    void columnSelected(int position);
    void visibleColumnsChanged(int first, int count);

protected:
    void paintEvent(QPaintEvent* event) override;
    void resizeEvent(QResizeEvent* event) override;
    void mousePressEvent(QMouseEvent* event) override;
    void keyPressEvent(QKeyEvent* event) override;
    bool viewportEvent(QEvent* event) override;
    void scrollContentsBy(int dx, int dy) override;

private:
    void updateScrollBars();
    void paintCells(QPainter& p, int first, int last, int x0, int y0) const;
    void paintHeaders(QPainter& p, int first, int last, int x0, int width, int height, int yScroll) const;
    void notifyVisible();
    bool dark() const;
    static QString shown(const QString& text);

    QStringList m_labels;
    engine::LogitLens m_lens;
    bool m_hasLens = false;
    int m_points = 0;
    TokenText m_tokenText;
    mutable QHash<int32_t, QString> m_textCache;
    int m_selected = -1;
    std::pair<int, int> m_lastVisible{-1, -1};
};

}  // namespace glassbox::viz
