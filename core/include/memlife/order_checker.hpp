// The order checker: rules of the filter-notification order, checked over any event
// stream (recorded, imported or simulated). See ../shared/reference/domain.md section 2.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "memlife/event.hpp"

namespace memlife {

struct OrderViolation {
    std::uint64_t position = 0; // 0-based index of the offending event in the stream
    std::uint64_t time_ns = 0;
    std::uint64_t session = 0;
    std::uint32_t request = 0;
    std::string rule;    // stable identifier, e.g. "request-notification-after-end-of-net-session"
    std::string message; // one line for a person
};

// Feed events in stream order; violations accumulate. Also usable as an EventSink
// (on_event takes a lock, so sessions on several threads may feed one checker).
// The rules and their ids are listed by rules() and in docs/notifications.md.
class MEMLIFE_API OrderChecker : public EventSink {
public:
    OrderChecker();
    ~OrderChecker() override;
    void on_event(const Event& event) noexcept override;
    void check(const Event& event); // same as on_event
    // Sessions still open at the end of the stream are not violations by themselves.
    const std::vector<OrderViolation>& violations() const { return violations_; }
    std::uint64_t events_seen() const { return position_; }

    // The rules, for documentation and the teaching view: {id, description}.
    struct Rule {
        const char* id;
        const char* description;
    };
    static const std::vector<Rule>& rules();

    OrderChecker(const OrderChecker&) = delete;
    OrderChecker& operator=(const OrderChecker&) = delete;

private:
    struct Impl; // per-session state machines and the closed-session set
    std::unique_ptr<Impl> impl_;
    std::vector<OrderViolation> violations_;
    std::uint64_t position_ = 0;
};

} // namespace memlife
