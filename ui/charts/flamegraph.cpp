#include "charts/flamegraph.hpp"

#include <QEvent>
#include <QHelpEvent>
#include <QKeyEvent>
#include <QMouseEvent>
#include <QPainter>
#include <QToolTip>

#include <algorithm>

#include "style/format.hpp"

namespace memlife::ui {

FlameGraph::FlameGraph(QWidget* parent) : QWidget(parent) {
    setMouseTracking(true);
    setFocusPolicy(Qt::ClickFocus);
    setBackgroundRole(QPalette::Base);
    setAutoFillBackground(true);
}

void FlameGraph::setTree(StackTreePtr tree) {
    tree_ = std::move(tree);
    zoom_ = 0;
    hovered_ = UINT32_MAX;
    depth_.assign(tree_ ? tree_->nodes.size() : 0, 0);
    maxDepth_ = 0;
    // A node is created after its parent (StackReader::tree), so one pass gives the depths.
    for (std::size_t i = 1; i < depth_.size(); ++i) {
        depth_[i] = depth_[tree_->nodes[i].parent] + 1;
        maxDepth_ = std::max(maxDepth_, depth_[i]);
    }
    updateMatches();
    updateGeometry();
    relayout();
}

void FlameGraph::setMeasure(Measure measure) {
    if (measure == measure_) return;
    measure_ = measure;
    updateMatches();
    relayout();
}

void FlameGraph::setSearch(const QString& text) {
    search_ = text.trimmed();
    updateMatches();
    update();
}

void FlameGraph::zoomTo(std::uint32_t node) {
    if (!tree_ || node >= tree_->nodes.size()) node = 0;
    if (node == zoom_) return;
    zoom_ = node;
    relayout();
    Q_EMIT zoomed(zoom_);
}

double FlameGraph::value(std::uint32_t node) const {
    const data::StackCost& c = tree_->nodes[node].cost;
    return double(measure_ == Measure::Allocated ? c.bytes_allocated : c.bytes_live_at_end);
}

int FlameGraph::rowHeight() const {
    return fontMetrics().height() + 6;
}

QSize FlameGraph::sizeHint() const {
    return {600, std::max(200, (maxDepth_ + 1) * rowHeight())};
}

QSize FlameGraph::minimumSizeHint() const {
    return {100, (maxDepth_ + 1) * rowHeight()};
}

void FlameGraph::relayout() {
    bars_.clear();
    if (tree_ && !tree_->nodes.empty()) {
        const int rh = rowHeight();
        const double w = width();
        std::vector<std::uint32_t> above; // the zoomed node's ancestors, root first
        for (std::uint32_t n = zoom_; n != 0;) {
            n = tree_->nodes[n].parent;
            above.push_back(n);
        }
        std::reverse(above.begin(), above.end());
        for (std::uint32_t n : above)
            bars_.push_back({QRectF(0, depth_[n] * rh, w, rh - 1), n, true});
        bars_.push_back({QRectF(0, depth_[zoom_] * rh, w, rh - 1), zoom_, false});
        layoutBelow(zoom_, 0, w, depth_[zoom_] + 1);
    }
    update();
}

void FlameGraph::layoutBelow(std::uint32_t node, double x, double width, int depth) {
    const double total = value(node);
    if (total <= 0) return;
    const int rh = rowHeight();
    for (std::uint32_t child : tree_->nodes[node].children) {
        const double w = width * value(child) / total;
        if (w >= kMinBarWidth) {
            bars_.push_back({QRectF(x, depth * rh, w, rh - 1), child, false});
            layoutBelow(child, x, w, depth + 1);
        }
        x += w;
    }
}

void FlameGraph::updateMatches() {
    const std::size_t n = tree_ ? tree_->nodes.size() : 0;
    match_.assign(n, 0);
    matches_ = 0;
    matchedFraction_ = 0;
    if (n != 0 && !search_.isEmpty()) {
        // A match under a match is not counted twice in the share of bytes.
        std::vector<char> covered(n, 0);
        double matched = 0;
        for (std::size_t i = 1; i < n; ++i) {
            const data::StackTreeNode& node = tree_->nodes[i];
            covered[i] = covered[node.parent] || match_[node.parent];
            if (!frameFunction(node.frame).contains(search_, Qt::CaseInsensitive)) continue;
            match_[i] = 1;
            ++matches_;
            if (!covered[i]) matched += value(static_cast<std::uint32_t>(i));
        }
        const double total = value(0);
        matchedFraction_ = total > 0 ? std::min(1.0, matched / total) : 0;
    }
    Q_EMIT searched(matches_, matchedFraction_);
}

bool FlameGraph::isMatch(std::uint32_t node) const {
    return node < match_.size() && match_[node];
}

QRectF FlameGraph::barOf(std::uint32_t node) const {
    for (const Bar& bar : bars_)
        if (bar.node == node) return bar.rect;
    return {};
}

std::uint32_t FlameGraph::nodeAt(const QPointF& point, bool* hit) const {
    for (const Bar& bar : bars_)
        if (bar.rect.contains(point)) {
            if (hit) *hit = true;
            return bar.node;
        }
    if (hit) *hit = false;
    return 0;
}

QString FlameGraph::toolTipFor(std::uint32_t node) const {
    if (!tree_ || node >= tree_->nodes.size()) return {};
    const data::StackTreeNode& n = tree_->nodes[node];
    const data::StackCost& c = n.cost;
    const double total = value(0);
    const double share = total > 0 ? 100.0 * value(node) / total : 0;
    QString text;
    if (node == 0) {
        text = tr("<b>all</b>: %n stack(s)", nullptr, int(tree_->stacks));
    } else {
        text = QStringLiteral("<b>%1</b>").arg(frameFunction(n.frame).toHtmlEscaped());
        if (n.frame.inlined) text += tr(" (inlined)");
        if (!n.frame.file.empty())
            text += QStringLiteral("<br>") +
                    QString::fromStdString(data::frame_location(n.frame)).toHtmlEscaped();
        if (!n.frame.module.empty())
            text += QStringLiteral("<br>") + QString::fromStdString(n.frame.module).toHtmlEscaped();
    }
    text += tr("<br>%1 allocated in %2 block(s)")
                .arg(formatBytes(double(c.bytes_allocated)), formatCount(c.blocks));
    text += tr("<br>%1 live at the end").arg(formatBytes(double(c.bytes_live_at_end)));
    text += tr("<br>%1 per request growth").arg(formatBytes(c.growth_bytes_per_request));
    if (c.leaks) text += tr("<br>%1 leak(s)").arg(formatCount(c.leaks));
    if (c.corruptions) text += tr("<br>%1 corruption(s)").arg(formatCount(c.corruptions));
    text += tr("<br>%1 % of the bytes %2")
                .arg(share, 0, 'f', 1)
                .arg(measure_ == Measure::Allocated ? tr("allocated") : tr("live at the end"));
    return text;
}

QColor FlameGraph::barColor(const Bar& bar) const {
    const bool dark = palette().color(QPalette::Base).lightness() < 128;
    if (bar.node == 0) return dark ? QColor(110, 110, 120) : QColor(200, 200, 205);
    const bool searching = !search_.isEmpty();
    if (searching && isMatch(bar.node)) return dark ? QColor(200, 70, 200) : QColor(230, 60, 230);
    // Warm colours (red to yellow) from the function's name, stable between runs.
    const QString name = frameFunction(tree_->nodes[bar.node].frame);
    const std::size_t h = qHash(name);
    const int hue = int(h % 50);
    const int saturation = 150 + int((h >> 8) % 70);
    int val = dark ? 175 + int((h >> 16) % 30) : 225 + int((h >> 16) % 30);
    QColor color = QColor::fromHsv(hue, saturation, val);
    if (searching) color = QColor::fromHsv(hue, 30, val); // not a match: greyed
    if (bar.ancestor) color.setAlpha(150);
    return color;
}

void FlameGraph::paintEvent(QPaintEvent* event) {
    QPainter painter(this);
    painter.fillRect(rect(), palette().color(QPalette::Base));
    const QRectF clip = event->rect();
    const QFontMetrics metrics = fontMetrics();
    const int minTextWidth = metrics.averageCharWidth() * 3;
    for (const Bar& bar : bars_) {
        if (!bar.rect.intersects(clip)) continue;
        const QColor color = barColor(bar);
        painter.fillRect(bar.rect, color);
        if (bar.node == hovered_ && bar.rect.width() >= 2) {
            painter.setPen(QPen(palette().color(QPalette::Text), 1));
            painter.drawRect(bar.rect.adjusted(0.5, 0.5, -0.5, -0.5));
        }
        if (bar.rect.width() < minTextWidth) continue;
        const QString name = bar.node == 0 ? tr("all: %1").arg(formatBytes(value(0)))
                                           : frameFunction(tree_->nodes[bar.node].frame);
        painter.setPen(color.lightness() > 130 ? Qt::black : Qt::white);
        const QRectF textRect = bar.rect.adjusted(3, 0, -3, 0);
        painter.drawText(textRect, Qt::AlignLeft | Qt::AlignVCenter,
                         metrics.elidedText(name, Qt::ElideRight, int(textRect.width())));
    }
}

bool FlameGraph::event(QEvent* event) {
    if (event->type() == QEvent::ToolTip) {
        auto* help = static_cast<QHelpEvent*>(event);
        bool hit = false;
        const std::uint32_t node = nodeAt(help->pos(), &hit);
        if (hit)
            QToolTip::showText(help->globalPos(), toolTipFor(node), this);
        else
            QToolTip::hideText();
        return true;
    }
    return QWidget::event(event);
}

void FlameGraph::mouseMoveEvent(QMouseEvent* event) {
    bool hit = false;
    const std::uint32_t node = nodeAt(event->position(), &hit);
    const std::uint32_t hovered = hit ? node : UINT32_MAX;
    if (hovered != hovered_) {
        hovered_ = hovered;
        update();
    }
}

void FlameGraph::mousePressEvent(QMouseEvent* event) {
    if (event->button() == Qt::RightButton) {
        zoomTo(0);
        return;
    }
    if (event->button() != Qt::LeftButton) return;
    bool hit = false;
    const std::uint32_t node = nodeAt(event->position(), &hit);
    if (!hit) return;
    zoomTo(node);
    Q_EMIT nodeClicked(node);
}

void FlameGraph::keyPressEvent(QKeyEvent* event) {
    if (event->key() == Qt::Key_Escape || event->key() == Qt::Key_Home ||
        event->key() == Qt::Key_0) {
        zoomTo(0);
        return;
    }
    QWidget::keyPressEvent(event);
}

void FlameGraph::resizeEvent(QResizeEvent* event) {
    QWidget::resizeEvent(event);
    relayout();
}

} // namespace memlife::ui
