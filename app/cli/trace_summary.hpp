// What `report` prints and `check` judges: per-session figures, totals, order violations.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "memlife/data/reader.hpp"

namespace memlife::cli {

struct TraceSummary {
    std::string path;
    data::TraceInfo info;
    std::vector<data::SessionRow> sessions;
    std::vector<OrderViolation> violations;
    struct Totals {
        std::uint64_t sessions = 0, requests = 0, peak_bytes = 0, released_at_close_bytes = 0;
        std::uint64_t corruptions = 0, leaks = 0, leaked_bytes = 0, open_sessions = 0;
        // Blocks still live after their connection closed (memlife record).
        std::uint64_t outlived = 0, outlived_bytes = 0;
    } totals;
};

// Reads the summary tables and runs the order checker. Throws data::TraceError.
TraceSummary summarize(const std::string& path);

nlohmann::json to_json(const TraceSummary& summary);
std::string to_text(const TraceSummary& summary);

} // namespace memlife::cli
