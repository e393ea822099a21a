// memlife import nginx LOG -o TRACE | memlife import jsonl FILE -o TRACE
#include <fmt/format.h>

#include "cli.hpp"
#include "memlife/data/import.hpp"
#include "memlife/data/trace.hpp"

namespace memlife::cli {

Command add_import(CLI::App& app) {
    auto* cmd = app.add_subcommand("import", "Turn a captured log into a trace");
    auto format = std::make_shared<std::string>();
    auto input = std::make_shared<std::string>();
    auto output = std::make_shared<std::string>();
    auto lenient = std::make_shared<bool>(false);
    auto force = std::make_shared<bool>(false);
    cmd->add_option("FORMAT", *format, "nginx (an nginx debug error log) or jsonl")
        ->required()
        ->check(CLI::IsMember({"nginx", "jsonl"}));
    cmd->add_option("INPUT", *input, "The log or JSON-lines file")->required();
    cmd->add_option("-o,--output", *output, "The trace to write")->required();
    cmd->add_flag("--force", *force, "Replace an existing trace");
    cmd->add_flag("--lenient", *lenient,
                  "Skip and count malformed lines instead of stopping at the first one");
    return {cmd, [format, input, output, lenient, force]() -> int {
                if (int code = claim_output("import", *output, *force, OutputKind::Trace))
                    return code;
                InterruptCleanup interrupt_cleanup(*output); // before the recorder's thread
                Progress progress("importing " + *input, "bytes");
                data::ImportOptions options;
                options.lenient = *lenient;
                options.progress = [&](std::uint64_t done, std::uint64_t total) {
                    progress.update(done, total);
                };
                try {
                    const data::ImportStats stats =
                        *format == "nginx" ? data::import_nginx_to_trace(*input, *output, options)
                                           : data::import_jsonl_to_trace(*input, *output, options);
                    progress.finish();
                    fmt::print(stderr,
                               "memlife import: {} -> {}: {} sessions, {} events, {} lines "
                               "skipped, {} malformed\n",
                               *input, *output, stats.sessions, stats.events, stats.skipped_lines,
                               stats.malformed_lines);
                    return kOk;
                } catch (const data::ImportError& e) {
                    progress.finish();
                    return error("import", e.what(), kUnusable);
                } catch (const data::TraceError& e) {
                    progress.finish();
                    return error("import", e.what(), kFailed);
                }
            }};
}

} // namespace memlife::cli
