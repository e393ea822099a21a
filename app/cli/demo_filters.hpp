// The demonstration filters of `memlife simulate` and `memlife serve`: each shows one way
// a filter's memory behaves on a keep-alive connection.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "memlife/filter_host.hpp"

namespace memlife::cli {

enum class DemoFilter {
    Leaky,       // copies the URL and headers with alloc_mem every request: grows until close
    Clean,       // the same work with alloc_request: flat
    Overrun,     // writes one byte past its alloc_mem block (serve: on URLs containing
                 // "overrun"; simulate: on the requests chosen by the scenario)
    MissingFree, // mallocs per request, notes it as request memory, never notes the free
    // Answers some URLs itself (serve): /private 401 with WWW-Authenticate, /teapot 418 with
    // its own reason phrase and header, /gone 410 with the standard phrase, /cut a response
    // cut off in SEND_RAW_DATA. What a filter makes reaches the client as it is.
    Responder,
};

// "leaky", "clean", "overrun", "missing-free", "responder".
const std::vector<std::string>& demo_filter_names();
DemoFilter demo_filter_from_name(const std::string& name); // throws std::invalid_argument

// Decides, per request, whether an Overrun filter overruns (simulate chooses by seed).
using OverrunPolicy = std::function<bool(const FilterContext&)>;

// Registers `filter` with the host. The policy applies to Overrun only.
void add_demo_filter(FilterHost& host, DemoFilter filter, OverrunPolicy overrun = {});

} // namespace memlife::cli
