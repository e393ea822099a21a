// The teaching view's bars: live bytes by scope after each step, stacked, up to the
// current step.
#pragma once

#include <QChartView>

#include "teaching/teachingscript.hpp"

QT_BEGIN_NAMESPACE
class QBarSet;
class QCategoryAxis;
class QValueAxis;
QT_END_NAMESPACE

namespace memlife::ui {

// Live bytes by scope after each step, as stacked bars up to the current step, scaled to
// the steps shown one by one (a folded step's bar is cut at the top).
class TeachingScopeChart : public QChartView {
    Q_OBJECT
public:
    explicit TeachingScopeChart(QWidget* parent = nullptr);
    void setScript(const TeachingScript& script);
    void setStep(const TeachingScript& script, int step);
    QBarSet* sessionBars() const { return session_; }
    QBarSet* requestBars() const { return request_; }
    // The y axis' top in bytes: the highest step shown one by one sets it.
    double axisTopBytes() const { return top_ * unit_; }
    QString categoryLabels() const; // the x axis' labels, joined by " | "

protected:
    void changeEvent(QEvent* event) override;

private:
    void applyPalette();

    QBarSet* session_ = nullptr;
    QBarSet* request_ = nullptr;
    QCategoryAxis* xAxis_ = nullptr;
    QValueAxis* yAxis_ = nullptr;
    double unit_ = 1;
    double top_ = 1; // the axis' top, in unit_: higher bars are cut there
    int shown_ = -1;
};

} // namespace memlife::ui
