// memlife report TRACE [--json] [--sort ORDER] [--top N]
#include <fmt/format.h>
#include <iostream>

#include "cli.hpp"
#include "trace_summary.hpp"

namespace memlife::cli {

Command add_report(CLI::App& app) {
    auto* cmd = app.add_subcommand("report", "Per-session figures, totals and order violations");
    auto trace = std::make_shared<std::string>();
    auto json = std::make_shared<bool>(false);
    auto order = std::make_shared<std::string>("id");
    auto top = std::make_shared<std::size_t>(0);
    cmd->add_option("TRACE", *trace, "Trace file (SQLite)")->required();
    cmd->add_flag("--json", *json, "Machine-readable JSON on stdout");
    cmd->add_option("--sort", *order,
                    "Order of the sessions: id (the default), or highest first: growth (per "
                    "request), peak, requests, corruptions")
        ->check(CLI::IsMember(session_orders()));
    cmd->add_option("--top", *top,
                    "Show only the first N sessions of that order (totals stay "
                    "those of every session)")
        ->check(CLI::PositiveNumber);
    return {cmd, [trace, json, order, top]() -> int {
                try {
                    TraceSummary s = summarize(*trace);
                    select_sessions(s, *order, *top);
                    // Text from the trace that is not UTF-8 (a hostile or foreign peer label)
                    // becomes U+FFFD in JSON; the text report escapes it.
                    if (*json)
                        std::cout << to_json(s).dump(2, ' ', false,
                                                     nlohmann::json::error_handler_t::replace)
                                  << '\n';
                    else
                        std::cout << to_text(s);
                    return kOk;
                } catch (const data::TraceError& e) {
                    return error("report", e.what(), kUnusable);
                } catch (const nlohmann::json::exception& e) {
                    return error("report", *trace + ": " + e.what(), kFailed);
                }
            }};
}

} // namespace memlife::cli
