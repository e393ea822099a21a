// memlife sql TRACE "SELECT ...": ad-hoc queries over the summary tables and the `events`
// virtual table (docs/trace-format.md). Output: tab-separated with a header line.
#include <cmath>
#include <iostream>

#include "cli.hpp"
#include "memlife/data/reader.hpp"

namespace memlife::cli {

Command add_sql(CLI::App& app) {
    auto* cmd = app.add_subcommand("sql", "Run an SQL query on a trace (read-only)");
    auto trace = std::make_shared<std::string>();
    auto query = std::make_shared<std::string>();
    cmd->add_option("TRACE", *trace, "Trace file (SQLite)")->required();
    cmd->add_option("QUERY", *query, "SQL, e.g. \"SELECT kind, count(*) FROM events GROUP BY 1\"")
        ->required();
    auto timeout = std::make_shared<double>(60);
    cmd->add_option("--timeout", *timeout,
                    "Seconds a statement may run before it is stopped (0: no limit)")
        ->check(CLI::Range(0.0, 86400.0 * 365))
        ->capture_default_str();
    return {cmd, [trace, query, timeout]() -> int {
                bool header = false;
                try {
                    data::run_sql(
                        *trace, *query,
                        [&](const std::vector<std::string>& columns,
                            const std::vector<std::optional<std::string>>& values) {
                            if (!header) {
                                for (std::size_t i = 0; i < columns.size(); ++i)
                                    std::cout << (i ? "\t" : "") << columns[i];
                                std::cout << '\n';
                                header = true;
                            }
                            for (std::size_t i = 0; i < values.size(); ++i)
                                std::cout << (i ? "\t" : "") << (values[i] ? *values[i] : "NULL");
                            std::cout << '\n';
                        },
                        data::SqlOptions{.time_limit = std::chrono::milliseconds(
                                             std::llround(*timeout * 1000))});
                } catch (const data::TraceError& e) {
                    return error("sql", e.what(), kUnusable);
                }
                return kOk;
            }};
}

} // namespace memlife::cli
