// memlife report TRACE [--json] [--sort ORDER] [--top N] | [--by-stack [--top N]]
#include <fmt/format.h>
#include <iostream>

#include "cli.hpp"
#include "stack_report.hpp"
#include "trace_summary.hpp"

namespace memlife::cli {

Command add_report(CLI::App& app) {
    auto* cmd = app.add_subcommand("report", "Per-session figures, totals and order violations; "
                                             "with --by-stack, the allocating call stacks");
    auto trace = std::make_shared<std::string>();
    auto json = std::make_shared<bool>(false);
    auto order = std::make_shared<std::string>("id");
    auto top = std::make_shared<std::size_t>(0); // 0: not given
    auto by_stack = std::make_shared<bool>(false);
    cmd->add_option("TRACE", *trace, "Trace file (SQLite)")->required();
    cmd->add_flag("--json", *json, "Machine-readable JSON on stdout");
    cmd->add_option("--sort", *order,
                    "Order of the sessions: id (the default), or highest first: growth (per "
                    "request), peak, requests, corruptions")
        ->check(CLI::IsMember(session_orders()));
    cmd->add_option("--top", *top,
                    "Show only the first N sessions of that order (totals stay those of every "
                    "session); with --by-stack, the first N stacks (default 20)")
        ->check(CLI::PositiveNumber);
    cmd->add_flag("--by-stack", *by_stack,
                  "Per allocating call stack (innermost frame first): bytes allocated and live "
                  "at the end of the sessions, growth per request, blocks, leaks, corruptions")
        ->excludes("--sort");
    // Text from the trace that is not UTF-8 (a hostile or foreign peer label, a function
    // name) becomes U+FFFD in JSON; the text report escapes it.
    auto print_json = [](const nlohmann::json& j) {
        std::cout << j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
    };
    return {cmd, [=]() -> int {
                try {
                    if (*by_stack) {
                        const StackReport r = stack_report(*trace, *top != 0 ? *top : 20);
                        if (!*json) {
                            std::cout << to_text(r);
                        } else {
                            // The JSON keeps its shape; why it is empty goes to stderr.
                            if (!r.status.recorded)
                                fmt::print(stderr, "memlife report: {}: {}\n", *trace,
                                           r.status.reason);
                            print_json(to_json(r));
                        }
                        return kOk;
                    }
                    TraceSummary s = summarize(*trace);
                    select_sessions(s, *order, *top);
                    if (*json)
                        print_json(to_json(s));
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
