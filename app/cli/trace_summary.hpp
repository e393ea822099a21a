// What `report` prints and `check` judges: per-session figures, totals, order violations.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "memlife/data/reader.hpp"

namespace memlife::cli {

struct TraceSummary {
    std::string path;
    data::TraceInfo info;
    std::vector<data::SessionRow> sessions; // all of them, or the top ones (select_sessions)
    std::vector<OrderViolation> violations;
    std::vector<data::CorruptionRow> corruptions; // of the sessions in `sessions`
    std::vector<data::LeakRow> leaks;             // of the sessions in `sessions`
    std::vector<data::OutlivedRow> outlived;      // of the sessions in `sessions`
    std::string order = "id"; // how `sessions` is ordered: id, growth, peak, requests, ...
    struct Totals {
        std::uint64_t sessions = 0, requests = 0, peak_bytes = 0, released_at_close_bytes = 0;
        std::uint64_t corruptions = 0, leaks = 0, leaked_bytes = 0, open_sessions = 0;
        // Blocks still live after their connection closed (memlife record).
        std::uint64_t outlived = 0, outlived_bytes = 0;
    } totals;
};

// Reads the summary tables and runs the order checker. Throws data::TraceError.
TraceSummary summarize(const std::string& path);

// The orders `report --sort` knows: "id" (ascending) and the others, highest first.
const std::vector<std::string>& session_orders();
// Orders the sessions by `order` (ties by id) and keeps the first `top` (0: all), with the
// corruptions and leaks of those; the totals stay those of every session.
void select_sessions(TraceSummary& summary, const std::string& order, std::size_t top);

nlohmann::json to_json(const TraceSummary& summary);
std::string to_text(const TraceSummary& summary);

// Text from the trace (a peer label, the source, a path) as one terminal-safe line: control
// characters, invalid UTF-8 and C1 controls become \n, \t, \r or \xNN; at most `max_chars`
// characters (an escape counts as its length), cut between characters.
std::string escape_for_terminal(std::string_view text, std::size_t max_chars = SIZE_MAX);

} // namespace memlife::cli
