// The teaching view: why session memory outlives requests. Left, the canonical
// notification order as a diagram (the connection framing the per-request notifications,
// the current one highlighted, order violations marked with their rule); right, the live
// bytes by scope step by step, the explanation of the current step, and the what-if growth
// lines. The lesson itself is the TeachingModel.
#pragma once

#include <QStyle>

#include <cstdint>
#include <utility>
#include <vector>

#include "jobs/jobtracker.hpp"
#include "pages/viewpage.hpp"
#include "teaching/teachingmodel.hpp"

QT_BEGIN_NAMESPACE
class QChartView;
class QCheckBox;
class QComboBox;
class QLabel;
class QPushButton;
class QSplitter;
class QTextBrowser;
QT_END_NAMESPACE

namespace memlife::ui {

class TeachingDiagram;
class TeachingGrowthChart;
class TeachingScopeChart;

class TeachingPage : public ViewPage {
    Q_OBJECT
public:
    enum class Source { Example, Trace };
    static constexpr int kShowcaseStep = -1;

    TeachingPage(TraceDocument* document, QWidget* parent);

    TeachingModel* model() const { return model_; }
    TeachingDiagram* diagram() const { return diagram_; }
    TeachingScopeChart* scopeChart() const { return scopeChart_; }
    TeachingGrowthChart* growthChart() const { return growthChart_; }
    QChartView* chartView() override;
    bool isBusy() const override; // a session of the trace is being read
    Source source() const { return source_; }
    void setSource(Source source);
    void setWhatIf(bool on);
    // The step each new script opens on (batch screenshots): kShowcaseStep is a mid-lesson
    // step where both scopes hold memory. Default 0.
    void setStartStep(int step);
    QString explanationText() const; // plain text of the explanation shown
    QString noteText() const;

protected:
    void traceChanged() override;
    void refresh() override;
    void changeEvent(QEvent* event) override;

private:
    void applyIcons();
    void onScriptChanged();
    void onStepChanged();
    void onPlayingChanged(bool playing);
    void goToNextViolation();
    std::uint64_t lessonSession() const;
    void showTraceSession(std::uint64_t session);

    TeachingModel* model_;
    Source source_ = Source::Example;
    std::uint64_t loadedSession_ = 0;
    int startStep_ = 0;

    QLabel* title_;
    QLabel* note_;
    QComboBox* sourceBox_;
    QPushButton* resetButton_;
    QPushButton* backButton_;
    QPushButton* playButton_;
    QPushButton* stepButton_;
    QComboBox* speed_;
    QLabel* position_;
    QPushButton* violationButton_;
    QCheckBox* whatIf_;
    std::vector<std::pair<QPushButton*, QStyle::StandardPixmap>> icons_; // tinted by applyIcons
    QSplitter* splitter_;
    TeachingDiagram* diagram_;
    QLabel* scopes_;
    TeachingScopeChart* scopeChart_;
    QTextBrowser* explanation_;
    TeachingGrowthChart* growthChart_;
    JobTracker scriptJob_; // reads the trace's session for the lesson
};

} // namespace memlife::ui
