// memlife check TRACE [--max-growth BYTES]: a CI gate.
#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <optional>

#include "cli.hpp"
#include "memlife/data/findings.hpp"
#include "trace_summary.hpp"

namespace memlife::cli {

namespace {

// A byte count: finite and not negative. (CLI::NonNegativeNumber let "nan" through, which
// no growth exceeds, and printed DBL_MAX in full in its message.)
const CLI::Validator kByteLimit(
    [](std::string& text) -> std::string {
        double value = 0;
        const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
        if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(value) ||
            value < 0)
            return "expected a number of bytes, 0 or more; got '" + text + "'";
        return {};
    },
    "BYTES");

} // namespace

Command add_check(CLI::App& app) {
    auto* cmd = app.add_subcommand(
        "check", "Exit 0 when the trace is clean, 1 on corruptions, leaks, order violations or "
                 "growth above --max-growth, 2 when the input is unusable");
    auto trace = std::make_shared<std::string>();
    auto max_growth = std::make_shared<double>(-1); // negative: no growth limit
    auto quiet = std::make_shared<bool>(false);
    cmd->add_option("TRACE", *trace, "Trace file (SQLite)")->required();
    cmd->add_option("--max-growth", *max_growth,
                    "Largest allowed growth per request of any session, in bytes")
        ->check(kByteLimit);
    cmd->add_flag("-q,--quiet", *quiet, "Print nothing; the exit code tells");
    return {cmd, [trace, max_growth, quiet]() -> int {
                TraceSummary s;
                try {
                    s = summarize(*trace);
                } catch (const data::TraceError& e) {
                    return error("check", e.what(), kUnusable);
                }
                std::vector<std::string> findings;
                if (s.totals.corruptions != 0)
                    findings.push_back(fmt::format("{} corruption(s)", s.totals.corruptions));
                if (s.totals.leaks != 0)
                    findings.push_back(fmt::format("{} leak(s) ({} bytes)", s.totals.leaks,
                                                   s.totals.leaked_bytes));
                if (!s.violations.empty())
                    findings.push_back(fmt::format("{} order violation(s), first: {}",
                                                   s.violations.size(), s.violations[0].message));
                if (*max_growth >= 0) {
                    for (const auto& row : s.sessions)
                        if (data::grows_beyond(row, *max_growth))
                            findings.push_back(fmt::format(
                                "session {} grows {:.1f} bytes per request (limit {:.1f})", row.id,
                                row.growth_bytes_per_request, *max_growth));
                }
                if (!*quiet) {
                    if (findings.empty())
                        fmt::print("{}: clean ({} sessions, {} requests)\n", *trace,
                                   s.totals.sessions, s.totals.requests);
                    for (const auto& f : findings)
                        fmt::print("{}: {}\n", *trace, f);
                }
                return findings.empty() ? kOk : kFindings;
            }};
}

} // namespace memlife::cli
