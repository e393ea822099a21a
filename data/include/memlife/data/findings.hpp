// What counts as a finding in a session, for every tool that judges one: `memlife check`,
// `memlife report` and the GUI (its icons, counts and filters) apply the same rules.
#pragma once

#include "memlife/data/trace.hpp"

namespace memlife::data {

// Keep-alive growth: a session whose live bytes at request ends rise by more than
// `max_growth` bytes per request (the least-squares slope, SessionRow::growth_bytes_per_
// request) keeps memory from request to request until its connection closes: AllocMem used
// for per-request data. The GUI flags it from kDefaultMaxGrowth on (settable); `memlife
// check` from its --max-growth.
constexpr double kDefaultMaxGrowth = 64;
inline bool grows_beyond(const SessionRow& session, double max_growth) {
    return session.growth_bytes_per_request > max_growth;
}

} // namespace memlife::data
