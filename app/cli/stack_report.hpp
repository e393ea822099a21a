// What `report --by-stack`, `export --format collapsed` and `check` say about a trace's call
// stacks (memlife/data/stacks.hpp).
#pragma once

#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <vector>

#include "memlife/data/stacks.hpp"

namespace memlife::cli {

struct StackReport {
    std::string path;
    data::StacksStatus status;
    std::size_t total = 0; // stacks in the trace (with a cost)
    struct Entry {
        data::StackCost cost;
        std::vector<data::StackFrame> frames; // innermost first
    };
    std::vector<Entry> stacks; // sorted by bytes live at the end, then bytes allocated
};

// The first `top` stacks (0: all) of the trace. Throws data::TraceError.
StackReport stack_report(const std::string& path, std::size_t top);

// {"stacks": [{"frames": [{"function", "file", "line", "module"}...], "bytes_allocated",
// "bytes_live_at_end", "growth_bytes_per_request", "blocks", "leaks", "corruptions"}...]}
nlohmann::json to_json(const StackReport& report);
std::string to_text(const StackReport& report);

// The stack's most telling frame in one line: its innermost function and file:line.
std::string frame_summary(const std::vector<data::StackFrame>& frames);

// One line per stack, `outer;...;inner WEIGHT` (flamegraph.pl, speedscope), weighted by
// bytes allocated or by bytes live at the end. Throws data::TraceError.
enum class CollapsedWeight { Allocated, LiveAtEnd };
void write_collapsed(const std::string& path, CollapsedWeight weight, std::ostream& out);

} // namespace memlife::cli
