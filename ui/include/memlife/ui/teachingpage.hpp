// The teaching view: why session memory outlives requests. Left, the canonical
// notification order as a diagram (the connection framing the per-request notifications,
// the current one highlighted, order violations marked with their rule); right, the live
// bytes by scope step by step, the explanation of the current step, and the what-if growth
// lines. The lesson itself is the TeachingModel.
#pragma once

#include <QChartView>
#include <QWidget>

#include <array>
#include <vector>

#include "memlife/ui/teachingmodel.hpp"
#include "memlife/ui/viewpage.hpp"

QT_BEGIN_NAMESPACE
class QBarSet;
class QCheckBox;
class QComboBox;
class QLabel;
class QLineSeries;
class QPushButton;
class QSplitter;
class QTextBrowser;
class QValueAxis;
class QCategoryAxis;
QT_END_NAMESPACE

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
    QString frameTitle() const;

    const TeachingScript* script_ = nullptr;
    int step_ = 0;
    DiagramSlot current_ = DiagramSlot::ConnectionOpen;
    std::vector<Mark> marks_;
    std::array<int, kDiagramSlotCount> fired_{};
    std::array<QRect, kDiagramSlotCount> rects_{};
    QRect connectionFrame_, requestFrame_, sessionBracket_, requestBracket_;
};

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

// The what-if: live bytes at each request end with AllocMem vs request memory.
class TeachingGrowthChart : public QChartView {
    Q_OBJECT
public:
    explicit TeachingGrowthChart(QWidget* parent = nullptr);
    void setLines(const std::vector<std::uint64_t>& sessionMemory,
                  const std::vector<std::uint64_t>& requestMemory);
    QLineSeries* sessionLine() const { return sessionLine_; }
    QLineSeries* requestLine() const { return requestLine_; }

protected:
    void changeEvent(QEvent* event) override;

private:
    void applyPalette();

    QLineSeries* sessionLine_ = nullptr;
    QLineSeries* requestLine_ = nullptr;
    QValueAxis* xAxis_ = nullptr;
    QValueAxis* yAxis_ = nullptr;
};

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

private:
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
    QSplitter* splitter_;
    TeachingDiagram* diagram_;
    QLabel* scopes_;
    TeachingScopeChart* scopeChart_;
    QTextBrowser* explanation_;
    TeachingGrowthChart* growthChart_;
};

} // namespace memlife::ui
