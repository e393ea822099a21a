// memlife export TRACE --format csv|jsonl|collapsed -o FILE
#include <fmt/format.h>
#include <ostream>

#include "cli.hpp"
#include "memlife/data/import.hpp"
#include "memlife/data/reader.hpp"
#include "memlife/data/units.hpp"
#include "stack_report.hpp"

namespace memlife::cli {
namespace {

// Times as the trace's clock gave them: a coarse trace's (an nginx import's) stamps cut to
// the clock's step; `seq` gives the order within a step.
void write_csv(const data::TraceReader& reader, std::ostream& out) {
    const std::uint64_t resolution = reader.info().time_resolution_ns;
    out << "seq,time_ns,session,request,kind,scope,notification,block,address,size,flags\n";
    std::uint64_t seq = 0;
    std::string line;
    reader.for_each_event([&](const Event& e) {
        line = fmt::format("{},{},{},{},{},{},{},{},0x{:x},{},{}\n", seq++,
                           data::stamp_ns(e.time_ns, resolution), e.session, e.request,
                           name(e.kind), e.scope == Scope::Request ? "request" : "session",
                           name(e.notification), e.block, e.address, e.size, e.flags);
        out << line;
        return static_cast<bool>(out);
    });
}

} // namespace

Command add_export(CLI::App& app) {
    auto* cmd = app.add_subcommand("export", "Write a trace's events as CSV or JSON lines, or its "
                                             "call stacks for a flame graph");
    auto trace = std::make_shared<std::string>();
    auto format = std::make_shared<std::string>();
    auto output = std::make_shared<std::string>();
    cmd->add_option("TRACE", *trace, "Trace file (SQLite)")->required();
    cmd->add_option("--format", *format,
                    "csv or jsonl (the events), collapsed (one line per call stack, "
                    "'outer;...;inner BYTES': flamegraph.pl, speedscope)")
        ->required()
        ->check(CLI::IsMember({"csv", "jsonl", "collapsed"}));
    auto weight = std::make_shared<std::string>("allocated");
    cmd->add_option("--weight", *weight,
                    "collapsed: bytes allocated, or bytes still live at the end of the sessions")
        ->check(CLI::IsMember({"allocated", "live"}))
        ->capture_default_str();
    cmd->add_option("-o,--output", *output, "Output file ('-' for standard output)")->required();
    auto force = std::make_shared<bool>(false);
    cmd->add_flag("--force", *force, "Replace an existing file");
    return {cmd, [trace, format, output, force, weight]() -> int {
                std::optional<data::TraceReader> reader;
                try {
                    reader.emplace(*trace); // before the output exists: nothing half-written
                    if (*format == "collapsed") {
                        if (const auto status = data::StackReader(*trace).status();
                            !status.recorded)
                            return error("export", *trace + ": " + status.reason, kUnusable);
                    }
                } catch (const data::TraceError& e) {
                    return error("export", e.what(), kUnusable);
                }
                if (int code = claim_output("export", *output, *force, OutputKind::Text))
                    return code;
                InterruptCleanup interrupt_cleanup(*output);
                try {
                    AtomicOutput out(*output);
                    if (*format == "csv")
                        write_csv(*reader, out.stream());
                    else if (*format == "collapsed")
                        write_collapsed(*trace,
                                        *weight == "live" ? CollapsedWeight::LiveAtEnd
                                                          : CollapsedWeight::Allocated,
                                        out.stream());
                    else
                        data::export_jsonl(*reader, out.stream());
                    out.commit();
                } catch (const data::TraceError& e) {
                    return error("export", e.what(), kUnusable);
                } catch (const std::exception& e) {
                    return error("export", e.what(), kFailed);
                }
                return kOk;
            }};
}

} // namespace memlife::cli
