// ShapeFlow: building the blocks of one layer from a recorded pass, their
// layout (rows of side-by-side steps) and painting.
#include "viz/shape_flow.h"

#include <QHelpEvent>
#include <QKeyEvent>
#include <QMouseEvent>
#include <QPainter>
#include <QPainterPath>
#include <QToolTip>
#include <algorithm>
#include <array>
#include <map>

namespace glassbox::viz {
namespace {

using engine::OpKind;

constexpr int kGutter = 70;      // left margin holding the residual stream
constexpr int kTop = 34;         // room for the token-ids label
constexpr int kBoxW = 180;
constexpr int kBoxH = 40;
constexpr int kStem = 26;        // labelled part of an edge
constexpr int kConnector = 18;   // from the stem's end to the next block
constexpr int kPitch = 230;      // horizontal distance between side-by-side blocks
constexpr int kGroupGap = 34;    // between the embedding, the layer and the head

struct Slot {
    OpKind op;
    int row, column;
};

// Where each step sits; rows a pass did not record collapse.
constexpr std::array<Slot, 21> kSlots = {{
    {OpKind::Embedding, 0, 0},  {OpKind::AttnNorm, 1, 0},    {OpKind::QProj, 2, 0},     {OpKind::KProj, 2, 1},
    {OpKind::VProj, 2, 2},      {OpKind::QkvBias, 3, 0},     {OpKind::Rope, 4, 0},      {OpKind::KvStore, 4, 1},
    {OpKind::Scores, 5, 0},     {OpKind::Softmax, 6, 0},     {OpKind::AttnValues, 7, 0}, {OpKind::OutProj, 8, 0},
    {OpKind::AttnResidual, 9, 0}, {OpKind::FfnNorm, 10, 0},  {OpKind::GateProj, 11, 0}, {OpKind::UpProj, 11, 1},
    {OpKind::SwiGlu, 12, 0},    {OpKind::DownProj, 13, 0},   {OpKind::FfnResidual, 14, 0}, {OpKind::FinalNorm, 15, 0},
    {OpKind::Logits, 16, 0},
}};

bool isAttention(OpKind op) { return op >= OpKind::AttnNorm && op <= OpKind::AttnResidual; }
bool isFeedForward(OpKind op) { return op >= OpKind::FfnNorm && op <= OpKind::FfnResidual; }
bool isLayerOp(OpKind op) { return isAttention(op) || isFeedForward(op); }

// Whether a block in one row feeds a block in the next (rows with several
// blocks are not fully connected).
bool feeds(OpKind from, OpKind to) {
    switch (to) {
        case OpKind::Rope: return from == OpKind::QProj || from == OpKind::QkvBias;
        case OpKind::KvStore: return from == OpKind::KProj || from == OpKind::VProj || from == OpKind::QkvBias;
        default: return true;
    }
}

void drawArrowHead(QPainter& p, QPointF tip, QPointF from) {
    QLineF line(tip, from);
    line.setLength(7);
    QLineF a = line, b = line;
    a.setAngle(line.angle() + 25);
    b.setAngle(line.angle() - 25);
    QPainterPath path(tip);
    path.lineTo(a.p2());
    path.lineTo(b.p2());
    path.closeSubpath();
    p.fillPath(path, p.pen().color());
}

QString layerRange(int first, int last) {
    return first == last ? QStringLiteral("layer %1").arg(first) : QStringLiteral("layers %1–%2").arg(first).arg(last);
}

}  // namespace

QString byteText(uint64_t bytes) {
    if (bytes < 1024) return QStringLiteral("%1 B").arg(bytes);
    const char* units[] = {"KiB", "MiB", "GiB", "TiB"};
    double v = double(bytes) / 1024.0;
    int u = 0;
    while (v >= 1024.0 && u < 3) {
        v /= 1024.0;
        ++u;
    }
    return QStringLiteral("%1 %2").arg(v, 0, 'f', v < 10 ? 2 : 1).arg(QLatin1String(units[u]));
}

QString shapeText(const engine::ShapeDesc& shape) {
    return QString::fromStdString(shape.text()) + QStringLiteral(" · ") + byteText(shape.bytes);
}

QString opTitle(OpKind op) {
    switch (op) {
        case OpKind::Embedding: return QStringLiteral("embedding");
        case OpKind::AttnNorm: return QStringLiteral("attention norm");
        case OpKind::QProj: return QStringLiteral("Q proj");
        case OpKind::KProj: return QStringLiteral("K proj");
        case OpKind::VProj: return QStringLiteral("V proj");
        case OpKind::QkvBias: return QStringLiteral("Q/K/V bias");
        case OpKind::Rope: return QStringLiteral("RoPE");
        case OpKind::KvStore: return QStringLiteral("KV cache store");
        case OpKind::Scores: return QStringLiteral("scores Q·Kᵀ/√d");
        case OpKind::Softmax: return QStringLiteral("softmax");
        case OpKind::AttnValues: return QStringLiteral("× V");
        case OpKind::OutProj: return QStringLiteral("out proj");
        case OpKind::AttnResidual: return QStringLiteral("+ residual");
        case OpKind::FfnNorm: return QStringLiteral("FFN norm");
        case OpKind::GateProj: return QStringLiteral("gate proj");
        case OpKind::UpProj: return QStringLiteral("up proj");
        case OpKind::SwiGlu: return QStringLiteral("SwiGLU");
        case OpKind::DownProj: return QStringLiteral("down proj");
        case OpKind::FfnResidual: return QStringLiteral("+ residual");
        case OpKind::FinalNorm: return QStringLiteral("final norm");
        case OpKind::Logits: return QStringLiteral("logits (output head)");
    }
    return QString::fromLatin1(engine::opKindName(op));
}

QString weightTypeText(const engine::WeightDesc& weight) {
    return QString::fromLatin1(engine::tensorTypeName(weight.type).data(),
                               qsizetype(engine::tensorTypeName(weight.type).size()));
}

QString weightShapeText(const engine::WeightDesc& weight) {
    QStringList dims;
    for (int64_t d : weight.shape) dims << QString::number(d);
    return QLatin1Char('[') + dims.join(QStringLiteral(", ")) + QLatin1Char(']');
}

std::vector<FlowBlock> buildShapeFlow(const engine::ExecutedPass& pass, int layer,
                                      const std::vector<engine::WeightDesc>& weights) {
    std::map<OpKind, int> recorded;  // first record of each op for this layer / outside layers
    for (size_t i = 0; i < pass.ops.size(); ++i) {
        const engine::OpRecord& r = pass.ops[i];
        const bool wanted = isLayerOp(r.op) ? r.layer == layer : r.layer < 0;
        if (wanted && !recorded.count(r.op)) recorded[r.op] = int(i);
    }
    std::vector<FlowBlock> blocks;
    for (const Slot& s : kSlots) {
        const auto it = recorded.find(s.op);
        // QKV bias exists only in some architectures: no record, no block.
        if (it == recorded.end() && s.op == OpKind::QkvBias) continue;
        FlowBlock b;
        b.op = s.op;
        b.layer = isLayerOp(s.op) ? layer : -1;
        b.row = s.row;
        b.column = s.column;
        b.title = opTitle(s.op);
        if (it != recorded.end()) {
            const engine::OpRecord& r = pass.ops[size_t(it->second)];
            b.opIndex = it->second;
            b.input = r.input;
            b.output = r.output;
            b.weightIndex = r.weight;
            if (r.weight >= 0 && size_t(r.weight) < weights.size()) {
                const engine::WeightDesc& w = weights[size_t(r.weight)];
                b.weightText = QString::fromStdString(w.name) + QStringLiteral(" · ") + weightTypeText(w);
            }
        }
        blocks.push_back(std::move(b));
    }
    return blocks;
}

ShapeFlow::ShapeFlow(QWidget* parent) : QWidget(parent) {
    setMouseTracking(true);
    setFocusPolicy(Qt::StrongFocus);
    setAttribute(Qt::WA_OpaquePaintEvent, false);
}

void ShapeFlow::setBlocks(std::vector<FlowBlock> blocks, int nLayers) {
    m_blocks = std::move(blocks);
    m_nLayers = nLayers;
    if (m_selected >= int(m_blocks.size())) m_selected = -1;
    m_hovered = -1;
    layoutBlocks();
    updateGeometry();
    resize(sizeHint());
    update();
}

void ShapeFlow::clear() { setBlocks({}, 0); }

int ShapeFlow::indexOf(OpKind op) const {
    for (size_t i = 0; i < m_blocks.size(); ++i)
        if (m_blocks[i].op == op) return int(i);
    return -1;
}

void ShapeFlow::setSelectedBlock(int index) {
    if (index < -1 || index >= int(m_blocks.size())) index = -1;
    if (index == m_selected) return;
    m_selected = index;
    update();
}

void ShapeFlow::setPlaceholder(const QString& text) {
    m_placeholder = text;
    update();
}

QString ShapeFlow::edgeText(int index) const {
    if (index < 0 || index >= int(m_blocks.size())) return {};
    const FlowBlock& b = m_blocks[size_t(index)];
    return b.executed() ? shapeText(b.output) : tr("not computed in this pass");
}

QString ShapeFlow::tooltipFor(int index) const {
    if (index < 0 || index >= int(m_blocks.size())) return {};
    const FlowBlock& b = m_blocks[size_t(index)];
    QString tip = QStringLiteral("<b>%1</b> (%2)").arg(b.title.toHtmlEscaped(), QLatin1String(engine::opKindName(b.op)));
    if (b.layer >= 0) tip += tr(" · layer %1").arg(b.layer);
    if (!b.executed()) return tip + tr("<br>not computed in this pass (only the last micro-batch of a prefill "
                                       "runs the output head)");
    tip += tr("<br>in: %1<br>out: %2").arg(shapeText(b.input), shapeText(b.output));
    if (!b.weightText.isEmpty()) tip += tr("<br>weight: %1").arg(b.weightText.toHtmlEscaped());
    return tip;
}

QRect ShapeFlow::blockRect(int index) const {
    return index >= 0 && size_t(index) < m_rects.size() ? m_rects[size_t(index)] : QRect();
}

int ShapeFlow::blockAt(const QPoint& pos) const {
    for (size_t i = 0; i < m_rects.size(); ++i)
        if (m_rects[i].contains(pos)) return int(i);
    return -1;
}

QSize ShapeFlow::sizeHint() const { return m_content; }

void ShapeFlow::layoutBlocks() {
    m_rects.assign(m_blocks.size(), QRect());
    std::map<int, int> rowCount;
    for (const FlowBlock& b : m_blocks) rowCount[b.row] = std::max(rowCount[b.row], b.column + 1);
    int maxColumns = 1;
    for (const auto& [row, n] : rowCount) maxColumns = std::max(maxColumns, n);
    const int width = kGutter + (maxColumns - 1) * kPitch + kBoxW + 140;
    const int centre = kGutter + ((maxColumns - 1) * kPitch + kBoxW) / 2;
    std::map<int, int> rowTop;
    int y = kTop;
    int prevGroup = -1;
    for (const auto& [row, n] : rowCount) {
        const OpKind first = [&] {
            for (const FlowBlock& b : m_blocks)
                if (b.row == row) return b.op;
            return OpKind::Embedding;
        }();
        const int group = first == OpKind::Embedding ? 0 : isLayerOp(first) ? 1 : 2;
        if (prevGroup >= 0 && group != prevGroup) y += kGroupGap;
        prevGroup = group;
        rowTop[row] = y;
        y += kBoxH + kStem + kConnector;
    }
    for (size_t i = 0; i < m_blocks.size(); ++i) {
        const FlowBlock& b = m_blocks[i];
        const int n = rowCount[b.row];
        const int cx = centre + int((b.column - (n - 1) / 2.0) * kPitch);
        m_rects[i] = QRect(cx - kBoxW / 2, rowTop[b.row], kBoxW, kBoxH);
    }
    m_content = m_blocks.empty() ? QSize(400, 200) : QSize(width, y + 8);
}

bool ShapeFlow::dark() const { return palette().color(QPalette::Window).lightness() < 128; }

QColor ShapeFlow::fillFor(const FlowBlock& b) const {
    const bool d = dark();
    if (isAttention(b.op)) return d ? QColor(0x2a, 0x3f, 0x5c) : QColor(0xdc, 0xe8, 0xf8);
    if (isFeedForward(b.op)) return d ? QColor(0x2d, 0x4a, 0x33) : QColor(0xdd, 0xf1, 0xdc);
    return d ? QColor(0x45, 0x3a, 0x57) : QColor(0xea, 0xe2, 0xf5);
}

void ShapeFlow::paintFlow(QPainter& p) const {
    p.setRenderHint(QPainter::Antialiasing);
    if (m_blocks.empty()) {
        p.setPen(palette().color(QPalette::PlaceholderText));
        p.drawText(QRect(QPoint(8, 8), m_content - QSize(16, 16)), Qt::AlignLeft | Qt::AlignTop | Qt::TextWordWrap,
                   m_placeholder);
        return;
    }
    paintBands(p);
    paintResidualBypass(p);
    paintEdges(p);
    for (size_t i = 0; i < m_blocks.size(); ++i) paintBlock(p, int(i));
}

void ShapeFlow::paintBands(QPainter& p) const {
    QRect attention, ffn, layerRect;
    int layer = -1;
    QRect embedding, head;
    for (size_t i = 0; i < m_blocks.size(); ++i) {
        const OpKind op = m_blocks[i].op;
        const QRect r = m_rects[i].adjusted(-16, -8, 16, kStem);
        if (isAttention(op)) attention |= r;
        else if (isFeedForward(op)) ffn |= r;
        else if (op == OpKind::Embedding) embedding = m_rects[i];
        else if (head.isNull()) head = m_rects[i];
        if (isLayerOp(op)) layer = m_blocks[i].layer;
    }
    if (layer < 0) return;  // this pass recorded nothing for the layer
    layerRect = (attention | ffn).adjusted(-kGutter + 18, -22, 110, 6);
    const QColor text = palette().color(QPalette::Text);
    QColor band = text;
    band.setAlphaF(0.05f);
    p.setPen(Qt::NoPen);
    p.setBrush(band);
    p.drawRoundedRect(layerRect, 8, 8);
    QFont bold = font();
    bold.setBold(true);
    p.setFont(bold);
    p.setPen(text);
    p.drawText(layerRect.adjusted(10, 4, 0, 0), Qt::AlignLeft | Qt::AlignTop, tr("layer %1").arg(layer));
    p.setFont(font());
    QColor muted = text;
    muted.setAlphaF(0.6f);
    p.setPen(muted);
    if (!attention.isNull()) p.drawText(attention.adjusted(0, -4, 100, 0), Qt::AlignRight | Qt::AlignTop, tr("attention"));
    if (!ffn.isNull()) p.drawText(ffn.adjusted(0, -4, 100, 0), Qt::AlignRight | Qt::AlignTop, tr("feed-forward"));
    // What the other layers are: the same steps, not drawn.
    const int cx = layerRect.center().x();
    if (layer > 0 && !embedding.isNull())
        p.drawText(QRect(cx - 200, layerRect.top() - kGroupGap + 2, 400, kGroupGap - 4), Qt::AlignCenter,
                   tr("⋮ %1 (the same steps) ⋮").arg(layerRange(0, layer - 1)));
    if (layer >= 0 && layer < m_nLayers - 1 && !head.isNull())
        p.drawText(QRect(cx - 200, layerRect.bottom() + 2, 400, kGroupGap - 4), Qt::AlignCenter,
                   tr("⋮ %1 (the same steps) ⋮").arg(layerRange(layer + 1, m_nLayers - 1)));
}

void ShapeFlow::paintResidualBypass(QPainter& p) const {
    const int gutterX = kGutter / 2 + 4;
    QColor c = palette().color(QPalette::Highlight);
    p.setPen(QPen(c, 2));
    auto bypass = [&](OpKind from, OpKind into) {
        const int a = indexOf(from), b = indexOf(into);
        if (a < 0 || b < 0) return;
        const QRect ra = m_rects[size_t(a)], rb = m_rects[size_t(b)];
        const int y0 = ra.top() - kConnector / 2 - 2;
        const QPointF tip(rb.left(), rb.center().y());
        p.drawPolyline(QPolygonF({QPointF(ra.center().x(), y0), QPointF(gutterX, y0), QPointF(gutterX, tip.y()), tip}));
        drawArrowHead(p, tip, QPointF(gutterX, tip.y()));
    };
    bypass(OpKind::AttnNorm, OpKind::AttnResidual);
    bypass(OpKind::FfnNorm, OpKind::FfnResidual);
    const int a = indexOf(OpKind::AttnNorm), b = indexOf(OpKind::FfnResidual);
    if (a >= 0 && b >= 0) {
        p.save();
        p.translate(gutterX - 6, (m_rects[size_t(a)].top() + m_rects[size_t(b)].top()) / 2);
        p.rotate(-90);
        p.drawText(QRect(-120, -16, 240, 14), Qt::AlignCenter, tr("residual stream"));
        p.restore();
    }
}

void ShapeFlow::paintEdges(QPainter& p) const {
    const QColor text = palette().color(QPalette::Text);
    QFont small = font();
    small.setPointSizeF(std::max(7.0, font().pointSizeF() * 0.9));
    p.setFont(small);
    // The input of the whole flow: the token ids.
    if (!m_blocks.empty() && m_blocks.front().op == OpKind::Embedding && m_blocks.front().executed()) {
        const QRect r = m_rects.front();
        p.setPen(QPen(text, 1.2));
        p.drawLine(QPointF(r.center().x(), r.top() - kStem + 4), QPointF(r.center().x(), r.top()));
        drawArrowHead(p, QPointF(r.center().x(), r.top()), QPointF(r.center().x(), r.top() - 10));
        p.drawText(QRect(r.center().x() + 8, r.top() - kStem, 300, kStem - 4), Qt::AlignLeft | Qt::AlignVCenter,
                   tr("token ids %1").arg(shapeText(m_blocks.front().input)));
    }
    for (size_t i = 0; i < m_blocks.size(); ++i) {
        const FlowBlock& b = m_blocks[i];
        const QRect r = m_rects[i];
        QPen pen(text, 1.2, b.executed() ? Qt::SolidLine : Qt::DashLine);
        p.setPen(pen);
        const QPointF stemTop(r.center().x(), r.bottom() + 1), stemEnd(r.center().x(), r.bottom() + kStem);
        p.drawLine(stemTop, stemEnd);
        QColor label = text;
        if (!b.executed()) label.setAlphaF(0.55f);
        p.setPen(label);
        p.drawText(QRect(r.center().x() + 8, r.bottom() + 2, kPitch - 20, kStem - 2), Qt::AlignLeft | Qt::AlignVCenter,
                   edgeText(int(i)));
        p.setPen(pen);
        // Connectors into the next row's blocks that this one feeds.
        int nextRow = -1;
        for (const FlowBlock& n : m_blocks)
            if (n.row > b.row && (nextRow < 0 || n.row < nextRow)) nextRow = n.row;
        for (size_t j = 0; j < m_blocks.size(); ++j) {
            if (m_blocks[j].row != nextRow || !feeds(b.op, m_blocks[j].op)) continue;
            const QPointF tip(m_rects[j].center().x(), m_rects[j].top());
            p.drawLine(stemEnd, tip);
            drawArrowHead(p, tip, stemEnd);
        }
    }
    p.setFont(font());
}

void ShapeFlow::paintBlock(QPainter& p, int index) const {
    const FlowBlock& b = m_blocks[size_t(index)];
    const QRectF r = QRectF(m_rects[size_t(index)]).adjusted(0.5, 0.5, -0.5, -0.5);
    const QColor text = palette().color(QPalette::Text);
    const QColor accent = palette().color(QPalette::Highlight);
    QColor border = text;
    border.setAlphaF(0.45f);
    p.setBrush(b.executed() ? fillFor(b) : palette().color(QPalette::Base));
    p.setPen(QPen(border, 1, b.executed() ? Qt::SolidLine : Qt::DashLine));
    if (index == m_hovered) p.setPen(QPen(text, 1.5));
    if (index == m_selected) p.setPen(QPen(accent, 2.5));
    p.drawRoundedRect(r, 6, 6);
    QFont bold = font();
    bold.setBold(true);
    p.setFont(bold);
    p.setPen(b.executed() ? text : border);
    const QRectF inner = r.adjusted(8, 3, -8, -3);
    const QString sub = !b.weightText.isEmpty() ? b.weightText : QString::fromLatin1(engine::opKindName(b.op));
    p.drawText(inner, Qt::AlignHCenter | Qt::AlignTop, b.title);
    QFont small = font();
    small.setPointSizeF(std::max(7.0, font().pointSizeF() * 0.85));
    p.setFont(small);
    QColor subColor = text;
    subColor.setAlphaF(0.7f);
    p.setPen(subColor);
    p.drawText(inner, Qt::AlignHCenter | Qt::AlignBottom,
               QFontMetrics(small).elidedText(sub, Qt::ElideMiddle, int(inner.width())));
    p.setFont(font());
}

void ShapeFlow::paintEvent(QPaintEvent*) {
    QPainter p(this);
    p.fillRect(rect(), palette().color(QPalette::Base));
    paintFlow(p);
}

void ShapeFlow::mousePressEvent(QMouseEvent* event) {
    const int index = blockAt(event->position().toPoint());
    if (index >= 0) {
        setSelectedBlock(index);
        emit blockSelected(index);
    }
    QWidget::mousePressEvent(event);
}

void ShapeFlow::mouseMoveEvent(QMouseEvent* event) {
    const int index = blockAt(event->position().toPoint());
    if (index != m_hovered) {
        m_hovered = index;
        update();
    }
    QWidget::mouseMoveEvent(event);
}

void ShapeFlow::leaveEvent(QEvent* event) {
    m_hovered = -1;
    update();
    QWidget::leaveEvent(event);
}

void ShapeFlow::keyPressEvent(QKeyEvent* event) {
    if (m_blocks.empty()) return QWidget::keyPressEvent(event);
    int next = m_selected;
    if (event->key() == Qt::Key_Down || event->key() == Qt::Key_Right) next = std::min(int(m_blocks.size()) - 1, next + 1);
    else if (event->key() == Qt::Key_Up || event->key() == Qt::Key_Left) next = std::max(0, next - 1);
    else return QWidget::keyPressEvent(event);
    setSelectedBlock(next);
    emit blockSelected(next);
}

bool ShapeFlow::event(QEvent* event) {
    if (event->type() == QEvent::ToolTip) {
        auto* help = static_cast<QHelpEvent*>(event);
        const int index = blockAt(help->pos());
        if (index >= 0) QToolTip::showText(help->globalPos(), tooltipFor(index), this, blockRect(index));
        else QToolTip::hideText();
        return true;
    }
    return QWidget::event(event);
}

}  // namespace glassbox::viz
