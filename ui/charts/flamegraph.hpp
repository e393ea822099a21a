// A flame graph of a stack tree (data::StackTree): one bar per frame, as wide as the bytes
// of the stacks through it, its callees (top-down) or callers (bottom-up) below it; the
// root, "all", on top (icicle orientation, as speedscope draws it). Hovering a bar names
// the frame in a tool tip; clicking a bar zooms to it (its ancestors stay, full width: click
// one, or the root, or right-click, to zoom out); a search highlights the matching
// functions and gives the share of bytes they account for. It only paints what it is given:
// the tree is read in a job by the page.
#pragma once

#include <QWidget>

#include <vector>

#include "models/stacktreemodel.hpp"

namespace memlife::ui {

class FlameGraph : public QWidget {
    Q_OBJECT
public:
    enum class Measure { Allocated, LiveAtEnd };
    static constexpr double kMinBarWidth =
        0.5; // px: narrower bars (and their subtrees) are not drawn

    explicit FlameGraph(QWidget* parent = nullptr);

    void setTree(StackTreePtr tree); // resets the zoom; keeps the search
    const StackTreePtr& tree() const { return tree_; }
    void setMeasure(Measure measure);
    Measure measure() const { return measure_; }
    // Highlights the frames whose function contains `text` (case-insensitive); searched()
    // follows. Empty: no highlight.
    void setSearch(const QString& text);
    int matchCount() const { return matches_; }
    double matchedFraction() const { return matchedFraction_; } // of the root's bytes

    void zoomTo(std::uint32_t node); // 0: the whole tree
    std::uint32_t zoomedNode() const { return zoom_; }

    // What is drawn, for tests: the bar of a node (empty if not drawn), the node at a point
    // (0: none, or the root), the tool tip of a node.
    QRectF barOf(std::uint32_t node) const;
    std::uint32_t nodeAt(const QPointF& point, bool* hit = nullptr) const;
    QString toolTipFor(std::uint32_t node) const;
    bool isMatch(std::uint32_t node) const;

    QSize sizeHint() const override;
    QSize minimumSizeHint() const override;

Q_SIGNALS:
    void zoomed(std::uint32_t node);
    void searched(int matches, double fraction);
    void nodeClicked(std::uint32_t node);

protected:
    bool event(QEvent* event) override;
    void paintEvent(QPaintEvent* event) override;
    void mousePressEvent(QMouseEvent* event) override;
    void mouseMoveEvent(QMouseEvent* event) override;
    void resizeEvent(QResizeEvent* event) override;
    void keyPressEvent(QKeyEvent* event) override;

private:
    struct Bar {
        QRectF rect;
        std::uint32_t node;
        bool ancestor; // above the zoomed node: drawn full width, faded
    };
    double value(std::uint32_t node) const;
    int rowHeight() const;
    void relayout();
    void layoutBelow(std::uint32_t node, double x, double width, int depth);
    void updateMatches();
    QColor barColor(const Bar& bar) const;

    StackTreePtr tree_;
    Measure measure_ = Measure::Allocated;
    std::uint32_t zoom_ = 0;
    std::vector<int> depth_; // per node
    int maxDepth_ = 0;
    std::vector<Bar> bars_;
    QString search_;
    std::vector<char> match_; // per node
    int matches_ = 0;
    double matchedFraction_ = 0;
    std::uint32_t hovered_ = UINT32_MAX; // none
};

} // namespace memlife::ui
