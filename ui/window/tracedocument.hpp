// The state the pages share: the loaded trace, the selected sessions, which sessions the
// charts draw when none is selected, and the rule that makes growth a finding. Pages read
// it and react to its signals; none of them talks to another page directly.
#pragma once

#include <QList>
#include <QObject>

#include <cstdint>
#include <optional>
#include <vector>

#include "window/loadedtrace.hpp"

namespace memlife::ui {

struct TraceUpdate;

class TraceDocument : public QObject {
    Q_OBJECT
public:
    static constexpr std::size_t kTopSessions = 8; // drawn when nothing is selected

    // Which sessions the charts draw when nothing is selected (the overview and the growth
    // view draw the same).
    enum class ChartChoice {
        TopGrowth, // the steepest growth per request
        TopPeak,   // the highest peak
        Findings,  // sessions with a finding, steepest growth first
    };

    explicit TraceDocument(QObject* parent = nullptr);

    const TracePtr& trace() const { return trace_; }
    void setTrace(TracePtr trace); // clears the selection
    // The next state of the same trace, followed while it is recorded (follow/): the
    // selection stays (its sessions never leave a trace); traceUpdated() says what moved.
    void updateTrace(TracePtr trace, const TraceUpdate& update);

    // Compare mode: the trace this one is compared with (File > Compare with...), null when
    // not comparing. It stays when another trace is opened.
    const TracePtr& baseTrace() const { return base_; }
    void setBaseTrace(TracePtr base);

    const std::vector<std::uint64_t>& selection() const { return selection_; }
    void setSelection(std::vector<std::uint64_t> sessions);

    ChartChoice chartChoice() const { return chartChoice_; }
    void setChartChoice(ChartChoice choice);
    // The selection, or the top kTopSessions of the chart choice when nothing is selected.
    std::vector<std::uint64_t> chartSessions() const;
    // The time range the overview's chart shows when zoomed in; nullopt: the whole trace.
    const std::optional<data::TimeWindow>& timeWindow() const { return window_; }
    void setTimeWindow(std::optional<data::TimeWindow> window);

    // One session to detail (blocks): the first selected, else the first with a
    // corruption, else the one with the highest peak; 0 without a trace.
    std::uint64_t focusSession() const;

    // Growth per request above this many bytes is a finding (data::grows_beyond, the rule
    // of `memlife check --max-growth`).
    double maxGrowth() const { return maxGrowth_; }
    void setMaxGrowth(double bytesPerRequest);
    bool grows(const data::SessionRow& session) const;
    // A corruption, a leak or growth above the limit.
    bool hasFinding(const data::SessionRow& session) const;
    std::size_t growingSessions() const;

Q_SIGNALS:
    void traceChanged(); // another trace (or none)
    void traceUpdated(const memlife::ui::TraceUpdate& update);
    void selectionChanged();
    void chartChoiceChanged();
    void maxGrowthChanged();
    void baseChanged();
    void timeWindowChanged();

private:
    TracePtr trace_;
    TracePtr base_;
    std::vector<std::uint64_t> selection_;
    ChartChoice chartChoice_ = ChartChoice::TopGrowth;
    double maxGrowth_;
    std::optional<data::TimeWindow> window_;
};

} // namespace memlife::ui
