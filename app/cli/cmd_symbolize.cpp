// memlife symbolize TRACE [--debug-dir DIR]...: a trace's stack addresses turned into
// functions, files and lines, in place, for a trace recorded where the binaries or their
// debug files were not at hand (the recorder symbolizes when recording stops).
#include <fmt/format.h>

#include "cli.hpp"
#include "memlife/data/stacks.hpp"
#include "memlife/data/symbolize.hpp"

namespace memlife::cli {

Command add_symbolize(CLI::App& app) {
    auto* cmd = app.add_subcommand(
        "symbolize", "Resolve a trace's call stacks to functions, files and lines from the "
                     "binaries' debug information (in place)");
    auto trace = std::make_shared<std::string>();
    auto dirs = std::make_shared<std::vector<std::string>>();
    cmd->add_option("TRACE", *trace, "Trace file (SQLite)")->required();
    cmd->add_option("--debug-dir", *dirs,
                    "Where separate debug files are (by build id: DIR/.build-id/xx/yyyy.debug; by "
                    ".gnu_debuglink name: DIR/NAME); looked in before the standard places")
        ->check(CLI::ExistingDirectory);
    return {cmd, [trace, dirs]() -> int {
                try { // the checks every reader makes: a bad input is exit 2
                    if (const auto status = data::StackReader(*trace).status(); !status.recorded) {
                        fmt::print(stderr, "memlife symbolize: {}: {}; nothing to do\n", *trace,
                                   status.reason);
                        return kOk;
                    }
                } catch (const data::TraceError& e) {
                    return error("symbolize", e.what(), kUnusable);
                }
                // The trace is symbolized in a copy renamed over it: an interruption
                // removes the copy, and one left by a killed run goes now.
                if (const std::size_t n = remove_stale_temporaries(*trace); n != 0)
                    fmt::print(stderr,
                               "memlife symbolize: removed {} temporary file(s) of an "
                               "interrupted run next to {}\n",
                               n, *trace);
                try {
                    InterruptCleanup interrupt_cleanup(*trace);
                    const data::SymbolizeResult r =
                        data::symbolize_trace(*trace, data::SymbolizeOptions{*dirs});
                    for (const std::string& problem : r.problems)
                        fmt::print(stderr, "memlife symbolize: {}: {}\n", *trace, problem);
                    fmt::print(stderr,
                               "memlife symbolize: {}: {} of {} modules with source lines "
                               "({} of {} addresses)\n",
                               *trace, r.modules_with_lines, r.modules, r.addresses_with_lines,
                               r.addresses);
                    return kOk;
                } catch (const data::TraceError& e) {
                    return error("symbolize", e.what(),
                                 e.kind() == data::TraceError::Kind::Io ? kFailed : kUnusable);
                } catch (const std::runtime_error& e) { // the signal watcher did not start
                    return error("symbolize", e.what(), kFailed);
                }
            }};
}

} // namespace memlife::cli
