// Shared pieces of the `memlife` command line: exit codes, error lines, atomic output files,
// the progress line.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <fstream>
#include <functional>
#include <string>

namespace memlife::cli {

// Exit codes (docs/cli.md): a contract for scripts and CI gates.
enum Exit : int {
    kOk = 0,       // success; for `check`: the trace is clean
    kFindings = 1, // `check` found corruptions, leaks, order violations or too much growth
    kUnusable = 2, // unusable input or wrong arguments: one line on stderr says why
    kFailed = 3,   // the work itself failed (cannot write the output, server cannot listen)
};

// A subcommand: its CLI11 node and what runs when it is chosen.
struct Command {
    CLI::App* app = nullptr;
    std::function<int()> run;
};

Command add_simulate(CLI::App& app);
Command add_serve(CLI::App& app);
Command add_report(CLI::App& app);
Command add_check(CLI::App& app);
Command add_export(CLI::App& app);
Command add_import(CLI::App& app);
Command add_sql(CLI::App& app);

// Prints "memlife COMMAND: message" on stderr and returns `code`.
int error(const std::string& command, const std::string& message, int code);

// Writes a file so that it appears whole or not at all: the data goes to a temporary file
// in the same directory, renamed over `path` by commit(); destroyed uncommitted, it is
// removed. "-" means standard output (no atomicity possible).
class AtomicOutput {
public:
    explicit AtomicOutput(std::string path);
    ~AtomicOutput();
    AtomicOutput(const AtomicOutput&) = delete;
    AtomicOutput& operator=(const AtomicOutput&) = delete;
    std::ostream& stream();
    void commit(); // throws std::runtime_error("PATH: reason")
    const std::string& temp_path() const { return temp_; }

private:
    std::string path_, temp_;
    std::ofstream file_;
    bool committed_ = false;
};

// A temporary path next to `path` (same directory, so rename() is atomic).
std::string temp_path_for(const std::string& path);

// "\r<label> 42% (done/total unit)" on stderr, only when stderr is a terminal; redrawn at
// most every 100 ms. finish() ends the line.
class Progress {
public:
    Progress(std::string label, std::string unit);
    ~Progress();
    void update(std::uint64_t done, std::uint64_t total);
    void finish();

private:
    std::string label_, unit_;
    bool enabled_;
    bool drawn_ = false;
    std::int64_t last_ms_ = -1000;
};

std::string format_bytes(double bytes);

} // namespace memlife::cli
