// The demonstration filters of `memlife simulate` and `memlife serve`: each shows one way
// a filter's memory behaves on a keep-alive connection.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "memlife/filter_host.hpp"

namespace memlife::cli {

enum class DemoFilter {
    Leaky,      // copies the URL and headers with alloc_mem every request: grows until close
    Clean,      // the same work with alloc_request: flat
    Overrun,    // writes one byte past its alloc_mem block (serve: on URLs containing
                // "overrun"; simulate: on the requests chosen by the scenario)
    MissingFree // mallocs per request, notes it as request memory, never notes the free
};

// "leaky", "clean", "overrun", "missing-free".
const std::vector<std::string>& demo_filter_names();
DemoFilter demo_filter_from_name(const std::string& name); // throws std::invalid_argument

// Decides, per request, whether an Overrun filter overruns (simulate chooses by seed).
using OverrunPolicy = std::function<bool(const FilterContext&)>;

// Registers `filter` with the host. The policy applies to Overrun only.
void add_demo_filter(FilterHost& host, DemoFilter filter, OverrunPolicy overrun = {});

} // namespace memlife::cli
