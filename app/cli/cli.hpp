// Shared pieces of the `memlife` command line: exit codes, error lines, the output-file rules
// (atomic outputs, no replacing without --force, temporaries removed on interruption), the
// progress line.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
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
Command add_diff(CLI::App& app);
Command add_export(CLI::App& app);
Command add_import(CLI::App& app);
Command add_sql(CLI::App& app);
Command add_record(CLI::App& app);
Command add_top(CLI::App& app);
Command add_symbolize(CLI::App& app);

// Call stacks recorded by default where memlife records (simulate, serve): `--stacks N`,
// 0 = off. docs/cli.md says why this depth.
inline constexpr std::uint32_t kDefaultStacks = 16;
void add_stacks_option(CLI::App& cmd, std::uint32_t& depth);

// Prints "memlife COMMAND: message" on stderr and returns `code`.
int error(const std::string& command, const std::string& message, int code);

// Where an output may go (docs/cli.md, "Outputs"). Returns "" or why not: "-" where
// standard output is not allowed, an existing file without `force`, an existing
// directory or special file (a trace must be a regular file; for a text output a FIFO or a
// device such as /dev/stdout is written directly).
enum class OutputKind { Trace, Text };
std::string output_refusal(const std::string& path, bool force, OutputKind kind);

// The checks every writing command makes before it creates anything: output_refusal (exit
// 2 with its line), then remove_stale_temporaries (a line on stderr says what went).
// Returns kOk or the exit code.
int claim_output(const std::string& command, const std::string& path, bool force, OutputKind kind);

// Removes what an interrupted memlife run leaves next to `path` (PATH.tmp-PID-N and its
// -wal, -shm, -journal and .new files) when process PID no longer runs, or is this one.
// Returns how many files were removed.
std::size_t remove_stale_temporaries(const std::string& path);

// For commands writing `path` atomically: until destroyed, SIGINT, SIGTERM and SIGHUP remove
// this process's temporaries of `path` and end the process by that signal (the exit status
// a shell shows as 128+N); SIGXFSZ is ignored, so that a write past `ulimit -f` fails as an
// I/O error the command reports. Construct it before any thread starts (it blocks the
// signals; threads inherit the mask and a watcher thread takes them).
class InterruptCleanup {
public:
    explicit InterruptCleanup(std::string path);
    ~InterruptCleanup();
    InterruptCleanup(const InterruptCleanup&) = delete;
    InterruptCleanup& operator=(const InterruptCleanup&) = delete;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// Writes a file so that it appears whole or not at all: the data goes to a temporary file
// in the same directory, renamed over `path` by commit(); destroyed uncommitted, it is
// removed. "-" means standard output, and an existing FIFO or device is written directly
// (no atomicity possible there).
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

// A finite number, 0 or more ("expected WHAT, 0 or more; got 'TEXT'" otherwise), shown as
// NAME in the help. (CLI::NonNegativeNumber lets "nan" through and prints DBL_MAX in full.)
CLI::Validator non_negative_number(std::string what, std::string name);

// The folder memlife runs from (its siblings: memlife-gui, libmemlife_preload.so); "." when
// /proc/self/exe cannot be read.
std::filesystem::path own_directory();

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

} // namespace memlife::cli
