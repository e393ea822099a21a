#include "window/tracedocument.hpp"

#include <algorithm>

#include "follow/traceupdate.hpp"
#include "memlife/data/findings.hpp"

namespace memlife::ui {

TraceDocument::TraceDocument(QObject* parent)
    : QObject(parent), maxGrowth_(data::kDefaultMaxGrowth) {}

void TraceDocument::setTrace(TracePtr trace) {
    trace_ = std::move(trace);
    selection_.clear();
    window_.reset();
    Q_EMIT traceChanged();
    Q_EMIT selectionChanged();
    Q_EMIT timeWindowChanged();
}

void TraceDocument::updateTrace(TracePtr trace, const TraceUpdate& update) {
    trace_ = std::move(trace);
    Q_EMIT traceUpdated(update);
}

void TraceDocument::setBaseTrace(TracePtr base) {
    if (base == base_) return;
    base_ = std::move(base);
    Q_EMIT baseChanged();
}

void TraceDocument::setSelection(std::vector<std::uint64_t> sessions) {
    if (sessions == selection_) return;
    selection_ = std::move(sessions);
    Q_EMIT selectionChanged();
}

void TraceDocument::setChartChoice(ChartChoice choice) {
    if (choice == chartChoice_) return;
    chartChoice_ = choice;
    Q_EMIT chartChoiceChanged();
}

void TraceDocument::setMaxGrowth(double bytesPerRequest) {
    if (!(bytesPerRequest >= 0) || bytesPerRequest == maxGrowth_) return;
    maxGrowth_ = bytesPerRequest;
    Q_EMIT maxGrowthChanged();
    if (chartChoice_ == ChartChoice::Findings) Q_EMIT chartChoiceChanged(); // other sessions
}

bool TraceDocument::grows(const data::SessionRow& session) const {
    return data::grows_beyond(session, maxGrowth_);
}

bool TraceDocument::hasFinding(const data::SessionRow& session) const {
    return session.corruptions > 0 || session.leaks > 0 || grows(session);
}

std::size_t TraceDocument::growingSessions() const {
    if (!trace_) return 0;
    return static_cast<std::size_t>(
        std::count_if(trace_->sessions.begin(), trace_->sessions.end(),
                      [this](const data::SessionRow& s) { return grows(s); }));
}

void TraceDocument::setTimeWindow(std::optional<data::TimeWindow> window) {
    const auto same = [](const data::TimeWindow& a, const data::TimeWindow& b) {
        return a.begin_ns == b.begin_ns && a.end_ns == b.end_ns;
    };
    if (window.has_value() == window_.has_value() && (!window || same(*window, *window_))) return;
    window_ = window;
    Q_EMIT timeWindowChanged();
}

std::vector<std::uint64_t> TraceDocument::chartSessions() const {
    if (!selection_.empty()) return selection_;
    if (!trace_) return {};
    switch (chartChoice_) {
    case ChartChoice::TopPeak:
        return trace_->topByPeak(kTopSessions);
    case ChartChoice::Findings:
        return trace_->topByGrowth(kTopSessions,
                                   [this](const data::SessionRow& s) { return hasFinding(s); });
    case ChartChoice::TopGrowth:
        break;
    }
    return trace_->topByGrowth(kTopSessions);
}

std::uint64_t TraceDocument::focusSession() const {
    if (!selection_.empty()) return selection_.front();
    if (!trace_ || trace_->sessions.empty()) return 0;
    auto corrupted = std::find_if(trace_->sessions.begin(), trace_->sessions.end(),
                                  [](const data::SessionRow& s) { return s.corruptions > 0; });
    if (corrupted != trace_->sessions.end()) return corrupted->id;
    return trace_->topByPeak(1).front();
}

} // namespace memlife::ui
