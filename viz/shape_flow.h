// ShapeFlow: one layer of the model drawn as a vertical flow of blocks, from
// the embedding through the layer's attention and feed-forward steps to the
// final norm and the logits, with the real shape (dims, dtype, bytes) of
// what leaves every block written on its outgoing edge. Parallel steps
// (Q/K/V projections, gate/up) sit side by side; the residual stream runs
// down the left edge past each sub-block.
//
// Every shape comes from an engine::ExecutedPass, i.e. from what the forward
// pass recorded while it ran, never from the model's configuration: a block
// the pass did not execute (the output head of an early prefill micro-batch)
// is drawn dashed and says so.
#pragma once

#include <QString>
#include <QWidget>
#include <vector>

#include "engine/capture.h"

namespace glassbox::viz {

// One step of the flow as drawn.
struct FlowBlock {
    engine::OpKind op = engine::OpKind::Embedding;
    int layer = -1;             // -1 for the embedding and the output head
    int row = 0;                // vertical slot; blocks sharing a row run side by side
    int column = 0;             // left to right within the row
    int opIndex = -1;           // index into the pass's ops; -1: not executed in this pass
    int weightIndex = -1;       // index into Capture::weights(); -1: none
    QString title;              // "Q proj"
    QString weightText;         // "blk.3.attn_q.weight · Q4_1", empty when none
    engine::ShapeDesc input, output;
    bool executed() const { return opIndex >= 0; }
};

// "[7, 576] F32 · 15.8 KiB": ShapeDesc::text() with the bytes.
QString shapeText(const engine::ShapeDesc& shape);
// "15.8 KiB", "2.3 MiB", "812 B".
QString byteText(uint64_t bytes);
// Display title of a step ("Q proj", "softmax", "× V" ...).
QString opTitle(engine::OpKind op);
// The weight's type, e.g. "Q4_1".
QString weightTypeText(const engine::WeightDesc& weight);
// "[576, 49152]" (as stored, ne[0] first).
QString weightShapeText(const engine::WeightDesc& weight);

// Builds the blocks of one layer of one pass: the embedding, every op the
// pass recorded for `layer`, the final norm and the logits. Steps the pass
// did not run keep opIndex -1 (their shapes are empty).
std::vector<FlowBlock> buildShapeFlow(const engine::ExecutedPass& pass, int layer,
                                      const std::vector<engine::WeightDesc>& weights);

class ShapeFlow : public QWidget {
    Q_OBJECT
public:
    explicit ShapeFlow(QWidget* parent = nullptr);

    // The blocks to draw; `nLayers` names the layers not shown.
    void setBlocks(std::vector<FlowBlock> blocks, int nLayers);
    void clear();
    const std::vector<FlowBlock>& blocks() const { return m_blocks; }
    // Index of the first block for op (-1 when absent).
    int indexOf(engine::OpKind op) const;

    // -1 clears. Does not emit blockSelected.
    void setSelectedBlock(int index);
    int selectedBlock() const { return m_selected; }

    // Text written on a block's outgoing edge (empty for none).
    QString edgeText(int index) const;
    QString tooltipFor(int index) const;
    QRect blockRect(int index) const;
    int blockAt(const QPoint& pos) const;
    void setPlaceholder(const QString& text);

    // Draws the whole flow at its natural size (for export).
    void paintFlow(QPainter& painter) const;
    QSize sizeHint() const override;

signals:
    void blockSelected(int index);

protected:
    void paintEvent(QPaintEvent* event) override;
    void mousePressEvent(QMouseEvent* event) override;
    void mouseMoveEvent(QMouseEvent* event) override;
    void leaveEvent(QEvent* event) override;
    void keyPressEvent(QKeyEvent* event) override;
    bool event(QEvent* event) override;

private:
    void layoutBlocks();
    void paintEdges(QPainter& p) const;
    void paintBlock(QPainter& p, int index) const;
    void paintBands(QPainter& p) const;
    void paintResidualBypass(QPainter& p) const;
    QColor fillFor(const FlowBlock& b) const;
    bool dark() const;

    std::vector<FlowBlock> m_blocks;
    std::vector<QRect> m_rects;
    int m_nLayers = 0;
    int m_selected = -1;
    int m_hovered = -1;
    QSize m_content{400, 200};
    QString m_placeholder;
};

}  // namespace glassbox::viz
