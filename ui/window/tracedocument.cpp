#include "window/tracedocument.hpp"

#include <algorithm>

namespace memlife::ui {

TraceDocument::TraceDocument(QObject* parent) : QObject(parent) {}

void TraceDocument::setTrace(TracePtr trace) {
    trace_ = std::move(trace);
    selection_.clear();
    Q_EMIT traceChanged();
    Q_EMIT selectionChanged();
}

void TraceDocument::setSelection(std::vector<std::uint64_t> sessions) {
    if (sessions == selection_) return;
    selection_ = std::move(sessions);
    Q_EMIT selectionChanged();
}

std::vector<std::uint64_t> TraceDocument::chartSessions() const {
    if (!selection_.empty()) return selection_;
    return trace_ ? trace_->topByPeak(kTopSessions) : std::vector<std::uint64_t>{};
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
