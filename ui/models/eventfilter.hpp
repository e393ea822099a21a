// Which events the event log shows: optionally one kind, and optionally those a search text
// finds: in the session's peer label or id, the kind's name, the notification's name, the
// block's address (hex, with or without 0x) or the text of a leak or corruption report.
// Built on the GUI thread from cheap inputs; what it needs from the trace (which sessions
// and reports match) is worked out once, on the first worker that asks (a trace may have a
// million sessions).
#pragma once

#include <QString>

#include <cstdint>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_set>

#include "memlife/event.hpp"
#include "window/loadedtrace.hpp"

namespace memlife::ui {

class EventFilter {
public:
    EventFilter(TracePtr trace, std::optional<EventKind> kind, const QString& search);

    std::optional<EventKind> kind() const { return kind_; }
    const QString& search() const { return search_; } // as typed, trimmed
    bool isEmpty() const { return !kind_ && search_.isEmpty(); }
    bool sameAs(std::optional<EventKind> kind, const QString& search) const {
        return kind == kind_ && search.trimmed() == search_;
    }

    // On a worker: thread-safe (the first call prepares what the search needs).
    bool matches(const Event& event) const;

private:
    void prepare() const;

    TracePtr trace_;
    std::optional<EventKind> kind_;
    QString search_;
    std::string needle_; // lower-case UTF-8

    mutable std::once_flag prepared_;
    mutable std::unordered_set<std::uint64_t> sessions_; // peer or id found
    mutable std::uint32_t kinds_ = 0;                    // bit per EventKind found by name
    mutable std::uint64_t notifications_ = 0;            // bit per Notification found by name
    mutable std::string hexNeedle_;                      // the search as hex digits, or ""
    mutable std::set<std::pair<std::uint64_t, std::uint64_t>> reports_; // session, block
};

// The event log's name of a kind: "Request end", "Allocation", ...
QString eventKindLabel(EventKind kind);

} // namespace memlife::ui
