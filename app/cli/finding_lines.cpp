#include "finding_lines.hpp"

#include <fmt/format.h>

#include "memlife/data/units.hpp"

namespace memlife::cli {

namespace {

// "request 12 (SEND_RESPONSE)", "request 12", or "between requests (AUTHENTICATION)".
std::string allocation_place(std::uint32_t request, Notification n) {
    const std::string at =
        request != 0 ? fmt::format("in request {}", request) : std::string("between requests");
    return n == Notification::None ? at : fmt::format("{} ({})", at, name(n));
}

} // namespace

std::string detection_place(std::uint32_t request, Notification last) {
    // A session's close (END_OF_NET_SESSION) checks the tails of what it releases; outside a
    // request otherwise only a check does (or a close that no END_OF_NET_SESSION announced).
    if (request == 0 && (last == Notification::None || last == Notification::EndOfNetSession))
        return "at connection close";
    if (request == 0) return fmt::format("outside a request, after {}", name(last));
    return allocation_place(request, last);
}

std::string corruption_line(const data::CorruptionRow& c) {
    std::string line = fmt::format("session {}, block {}: {} at {:#x}", c.session, c.block,
                                   data::format_bytes(double(c.size)), c.address);
    if (c.fault_address != 0)
        line += fmt::format(" written past its end (guard-page fault at {:#x})", c.fault_address);
    else
        line += fmt::format(" modified at +{} past its end ({:#x}), {} byte(s)", c.first_offset,
                            c.address + c.size + c.first_offset, c.modified_count);
    return line + fmt::format("; allocated {}, detected {}",
                              allocation_place(c.alloc_request, c.alloc_notification),
                              detection_place(c.request, c.last_notification));
}

std::string leak_line(const data::LeakRow& l) {
    return fmt::format("session {}, block {}: {} at {:#x}, allocated {}, still live at the end of "
                       "its {}",
                       l.session, l.block, data::format_bytes(double(l.size)), l.address,
                       allocation_place(l.alloc_request, l.alloc_notification),
                       l.scope == Scope::Request ? "request" : "connection");
}

std::string outlived_line(const data::OutlivedRow& o) {
    return fmt::format("session {}, block {}: {} at {:#x}, allocated {}, still live after its "
                       "connection closed",
                       o.session, o.block, data::format_bytes(double(o.size)), o.address,
                       o.alloc_request == 0 ? std::string("outside a request")
                                            : fmt::format("in request {}", o.alloc_request));
}

std::string violation_line(const OrderViolation& v) {
    return fmt::format("event {}: session {}, request {}: {} [{}]", v.position, v.session,
                       v.request, v.message, v.rule);
}

} // namespace memlife::cli
