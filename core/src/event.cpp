#include "memlife/event.hpp"

namespace memlife {

EventSink::~EventSink() = default;
void EventSink::on_session_open(const Event& event, std::string_view) noexcept {
    on_event(event);
}
void EventSink::on_report(const ml_report&) noexcept {}
void EventSink::flush() noexcept {}
bool EventSink::accepts_batches() const noexcept {
    return false;
}
void EventSink::on_events(const Event* events, std::size_t count) noexcept {
    for (std::size_t i = 0; i < count; ++i)
        on_event(events[i]);
}

void EventSink::on_stacked_events(const Event* events, const StackId*, std::size_t count) noexcept {
    on_events(events, count);
}
void EventSink::on_stacked_event(const Event& event, StackId) noexcept {
    on_event(event);
}

std::string_view name(EventKind kind) noexcept {
    switch (kind) {
    case EventKind::SessionOpen:
        return "session_open";
    case EventKind::SessionClose:
        return "session_close";
    case EventKind::RequestBegin:
        return "request_begin";
    case EventKind::RequestEnd:
        return "request_end";
    case EventKind::Notification:
        return "notification";
    case EventKind::Alloc:
        return "alloc";
    case EventKind::Release:
        return "release";
    case EventKind::Corruption:
        return "corruption";
    case EventKind::Leak:
        return "leak";
    case EventKind::Drop:
        return "drop";
    }
    return "unknown";
}

} // namespace memlife
