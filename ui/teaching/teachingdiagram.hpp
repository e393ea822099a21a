// The teaching view's order diagram: the canonical notification order, the connection
// framing the per-request notifications, the current one highlighted, order violations
// marked with their rule, and brackets for how long each scope's memory lives.
#pragma once

#include <QFontMetrics>
#include <QWidget>

#include <array>
#include <vector>

#include "teaching/teachingscript.hpp"

namespace memlife::ui {

// The order diagram (painted; rows in DiagramSlot order).
class TeachingDiagram : public QWidget {
    Q_OBJECT
public:
    struct Mark { // a violation shown in place
        DiagramSlot slot;
        QString rule;
        QString message;
    };

    explicit TeachingDiagram(QWidget* parent = nullptr);
    void setState(const TeachingScript* script, int step);
    DiagramSlot currentSlot() const { return current_; }
    // The violations marked at this step: those of the current request (or of the
    // connection-level steps) up to and including the current step.
    const std::vector<Mark>& marks() const { return marks_; }
    // How many times each row fired in the current request up to the current step.
    int firedCount(DiagramSlot slot) const { return fired_[std::size_t(slot)]; }
    QRect slotRect(DiagramSlot slot) const { return rects_[std::size_t(slot)]; }
    QSize sizeHint() const override;
    QSize minimumSizeHint() const override;

protected:
    void paintEvent(QPaintEvent* event) override;
    void resizeEvent(QResizeEvent* event) override;
    bool event(QEvent* event) override; // tooltips

private:
    void layoutRows();
    LessonServer server() const;
    // The request frame's title, in its long form where it fits in `width`.
    QString frameTitle(int width, const QFontMetrics& metrics) const;

    const TeachingScript* script_ = nullptr;
    LessonServer laidOut_ = LessonServer::Isapi; // whose rows rects_ holds
    int step_ = 0;
    DiagramSlot current_ = DiagramSlot::ConnectionOpen;
    std::vector<Mark> marks_;
    std::array<int, kDiagramSlotCount> fired_{};
    std::array<QRect, kDiagramSlotCount> rects_{};
    QRect connectionFrame_, requestFrame_, sessionBracket_, requestBracket_;
};

} // namespace memlife::ui
