// One line per finding, for `report` (corruption details) and `check` (each finding): what
// happened to which block of which session, where it was allocated and where it was found.
#pragma once

#include <string>

#include "memlife/data/trace.hpp"
#include "memlife/order_checker.hpp"

namespace memlife::cli {

// "session 3, block 48: 12 B at 0x7ffb0803d810 modified at +0 (0x7ffb0803d81c), 1 byte;
// allocated in request 12 (SEND_RESPONSE), detected at connection close"
std::string corruption_line(const data::CorruptionRow& c);
// "session 5, block 33: 187 B at 0x7f..., allocated in request 9 (PREPROC_HEADERS), still
// live at the end of its request"
std::string leak_line(const data::LeakRow& l);
// "session 2, block 7: 4 KiB at 0x..., allocated in request 1, still live after its connection
// closed"
std::string outlived_line(const data::OutlivedRow& o);
// "event 812: session 4, request 2: SEND_RESPONSE after END_OF_REQUEST [rule-id]"
std::string violation_line(const OrderViolation& v);

// Where a corruption was found: "in request 12 (URL_MAP)", "at connection close", "outside a
// request, after SEND_RAW_DATA".
std::string detection_place(std::uint32_t request, Notification last);

} // namespace memlife::cli
