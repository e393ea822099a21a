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

// Live bytes by scope after each step, as stacked bars up to the current step.
class TeachingScopeChart : public QChartView {
    Q_OBJECT
public:
    explicit TeachingScopeChart(QWidget* parent = nullptr);
    void setScript(const TeachingScript& script);
    void setStep(const TeachingScript& script, int step);
    QBarSet* sessionBars() const { return session_; }
    QBarSet* requestBars() const { return request_; }

protected:
    void changeEvent(QEvent* event) override;

private:
    void applyPalette();

    QBarSet* session_ = nullptr;
    QBarSet* request_ = nullptr;
    QCategoryAxis* xAxis_ = nullptr;
    QValueAxis* yAxis_ = nullptr;
    double unit_ = 1;
    int shown_ = -1;
};

} // namespace memlife::ui
