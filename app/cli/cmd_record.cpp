// memlife record [-o TRACE] [--stacks N] [--gui] -- PROGRAM ARGS...
// Runs PROGRAM with libmemlife_preload.so and records every connection it (and every
// process it starts) accepts: a session per connection, a request per read-after-write
// turn, the blocks allocated while serving it. Exits with PROGRAM's status (128+N when
// signal N ended it). See docs/record.md.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fmt/format.h>
#include <iostream>
#include <optional>

#include "cli.hpp"
#include "gui_launch.hpp"
#include "memlife/data/recorder.hpp"
#include "record_receiver.hpp"

extern char** environ;

namespace memlife::cli {
namespace {

// A trace keeps at most 64 KiB of the command line (a reader refuses a longer meta.command).
std::string bounded_command(std::string command) {
    constexpr std::size_t kMax = 64 * 1024 - 3;
    if (command.size() > kMax) command.resize(kMax), command += "...";
    return command;
}

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr const char* kLibrary = "libmemlife_preload.so";
constexpr int kCannotExecute = 126, kNotFound = 127; // as sh, env and nohup

// Next to memlife in the build tree; at bin/../lib (MEMLIFE_BIN_TO_LIB) when installed.
std::optional<std::string> find_library(std::vector<std::string>& tried) {
    const fs::path dir = own_directory();
    for (const fs::path& candidate : {dir / kLibrary, dir / MEMLIFE_BIN_TO_LIB / kLibrary}) {
        tried.push_back(candidate.lexically_normal().string());
        if (::access(candidate.c_str(), R_OK) == 0) return fs::absolute(candidate).string();
    }
    return std::nullopt;
}

std::vector<std::string> program_environment(const std::string& library, const std::string& socket,
                                             std::uint32_t stacks) {
    std::vector<std::string> env;
    std::string preload = library;
    for (char** e = environ; *e != nullptr; ++e) {
        const std::string_view entry(*e);
        if (entry.starts_with("LD_PRELOAD=")) {
            if (entry.size() > 11) preload += ":" + std::string(entry.substr(11));
        } else if (!entry.starts_with("MEMLIFE_RECORD_SOCKET=") &&
                   !entry.starts_with("MEMLIFE_TRACE=") && !entry.starts_with("MEMLIFE_STACKS=")) {
            env.emplace_back(entry);
        }
    }
    env.push_back("LD_PRELOAD=" + preload);
    env.push_back("MEMLIFE_RECORD_SOCKET=" + socket);
    env.push_back("MEMLIFE_STACKS=" + std::to_string(stacks));
    return env;
}

std::vector<char*> pointers(std::vector<std::string>& strings) {
    std::vector<char*> p;
    for (std::string& s : strings)
        p.push_back(s.data());
    p.push_back(nullptr);
    return p;
}

// fork + execvpe. The child restores the signal mask and SIGXFSZ's action; an exec failure
// comes back through a close-on-exec pipe as its errno. Returns the PID, or -errno when
// PROGRAM did not start.
pid_t start_program(std::vector<std::string> command, std::vector<std::string> env,
                    const sigset_t& mask, sighandler_t file_size_action) {
    int report[2];
    if (::pipe2(report, O_CLOEXEC) != 0) return -errno;
    std::vector<char*> argv = pointers(command), envp = pointers(env);
    const pid_t pid = ::fork();
    if (pid < 0) return -errno;
    if (pid == 0) {
        ::close(report[0]);
        ::sigprocmask(SIG_SETMASK, &mask, nullptr);
        std::signal(SIGXFSZ, file_size_action);
        ::execvpe(argv[0], argv.data(), envp.data());
        const int error = errno;
        (void)!::write(report[1], &error, sizeof error);
        ::_exit(kNotFound);
    }
    ::close(report[1]);
    int error = 0;
    ssize_t n;
    while ((n = ::read(report[0], &error, sizeof error)) < 0 && errno == EINTR) {
    }
    ::close(report[0]);
    if (n == sizeof error) {
        ::waitpid(pid, nullptr, 0);
        return -error;
    }
    return pid;
}

int exit_code(int status) {
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// Signals memlife record handles itself (blocked in every thread, taken with sigtimedwait).
sigset_t handled_signals() {
    sigset_t set;
    sigemptyset(&set);
    for (int s : {SIGCHLD, SIGINT, SIGTERM, SIGHUP, SIGQUIT})
        sigaddset(&set, s);
    return set;
}

// Waits for the next handled signal for up to `timeout`; 0 when none came.
int next_signal(const sigset_t& set, std::chrono::milliseconds timeout, siginfo_t& info) {
    const timespec t{static_cast<time_t>(timeout.count() / 1000),
                     static_cast<long>(timeout.count() % 1000) * 1'000'000};
    const int sig = ::sigtimedwait(&set, &info, &t);
    return sig < 0 ? 0 : sig;
}

// After PROGRAM ended: the processes it started may still be streaming. A signal stops the
// wait (their remaining events are lost).
void wait_for_streams(RecordReceiver& receiver, const sigset_t& set) {
    receiver.stop_accepting();
    bool told = false;
    for (auto start = std::chrono::steady_clock::now(); !receiver.wait_idle(100ms);) {
        siginfo_t info{};
        const int sig = next_signal(set, 1ms, info);
        if (sig != 0 && sig != SIGCHLD) break;
        if (!told && std::chrono::steady_clock::now() - start > 2s) {
            fmt::print(stderr,
                       "memlife record: waiting for {} recorded process(es) to end "
                       "(Ctrl-C stops waiting)\n",
                       receiver.active());
            told = true;
        }
    }
    receiver.disconnect_all();
}

// The command as a shell would take it back: words with special characters single-quoted.
std::string shell_words(const std::vector<std::string>& words) {
    std::string text;
    for (const std::string& w : words) {
        if (!text.empty()) text += ' ';
        const bool plain =
            !w.empty() && w.find_first_not_of("abcdefghijklmnopqrstuvwxyz"
                                              "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                              "0123456789_-+=./:,@%") == std::string::npos;
        if (plain) {
            text += w;
            continue;
        }
        text += '\'';
        for (char c : w)
            text += c == '\'' ? std::string("'\\''") : std::string(1, c);
        text += '\'';
    }
    return text;
}

// The figures known when recording ends, into the trace's meta (TraceInfo).
void store_totals(data::Recorder& recorder, const RecordTotals& t) {
    recorder.set_meta("processes", std::to_string(t.processes));
    recorder.set_meta("process_allocations", std::to_string(t.process_allocs));
    recorder.set_meta("process_allocated_bytes", std::to_string(t.process_bytes));
}

void print_summary(const std::string& trace, const RecordTotals& t) {
    fmt::print(stderr,
               "memlife record: {}: {} connection(s), {} request(s) in {} process(es); {} "
               "block(s) outlived their connection; {} allocation(s) outside connections\n",
               trace, t.sessions, t.requests, t.processes, t.outlived, t.process_allocs);
}

struct Args {
    std::string output;
    bool force = false;
    bool gui = false;
    bool receive = false;
    std::uint32_t stacks = kDefaultStacks;
    std::vector<std::string> command;
};

int run_record(const Args& a) {
    if (a.command.empty())
        return error("record", "no program given (memlife record [-o TRACE] -- PROGRAM ARGS...)",
                     kUnusable);
    std::vector<std::string> tried;
    const auto library = find_library(tried);
    if (!library)
        return error(
            "record",
            fmt::format("cannot find {} (looked for {})", kLibrary, fmt::join(tried, ", ")),
            kFailed);
    const std::string trace =
        !a.output.empty() ? a.output
                          : fmt::format("memlife.{}.{}.mltrace",
                                        fs::path(a.command[0]).filename().string(), ::getpid());
    if (auto why = output_refusal(trace, a.force, OutputKind::Trace); !why.empty())
        return error("record", why, kUnusable);
    if (a.gui && ::access(gui_program().c_str(), X_OK) != 0)
        return error("record", "--gui: cannot run " + gui_program(), kFailed);

    // Before any thread starts, so that all inherit the mask and only sigtimedwait sees them.
    // A write past `ulimit -f` fails as an I/O error instead of killing memlife (PROGRAM
    // gets the disposition memlife was started with).
    const sigset_t set = handled_signals();
    sigset_t old_mask;
    ::pthread_sigmask(SIG_BLOCK, &set, &old_mask);
    const auto file_size_action = std::signal(SIGXFSZ, SIG_IGN);

    const auto stacks = std::make_shared<RecordedStacks>();
    std::optional<data::Recorder> recorder;
    std::optional<RecordReceiver> receiver;
    try {
        recorder.emplace(trace, data::RecorderOptions{
                                    .source = "record",
                                    .meta = {{"command", bounded_command(shell_words(a.command))}},
                                    .stack_source = stacks});
        receiver.emplace(*recorder, *stacks);
    } catch (const std::exception& e) {
        return error("record", e.what(), kFailed);
    }
    // The trace exists and is live: the GUI opens it following (docs/gui.md). A GUI that
    // cannot start is said once; recording goes on.
    if (a.gui)
        if (const std::string why = start_following_gui(trace); !why.empty())
            error("record", "--gui: " + why, kFailed);
    const pid_t pid =
        start_program(a.command, program_environment(*library, receiver->socket_path(), a.stacks),
                      old_mask, file_size_action);
    if (pid < 0) {
        receiver.reset();
        recorder->abort();
        for (const char* suffix : {"", "-wal", "-shm"})
            ::unlink((trace + suffix).c_str());
        return error("record", fmt::format("{}: {}", a.command[0], std::strerror(-pid)),
                     -pid == ENOENT ? kNotFound : kCannotExecute);
    }

    int status = 0;
    for (;;) {
        siginfo_t info{};
        const int sig = next_signal(set, 200ms, info);
        if (::waitpid(pid, &status, WNOHANG) == pid) break;
        // A signal sent to memlife record is passed on; one from the terminal reached
        // PROGRAM too (same process group), and recording goes on until PROGRAM ends.
        if (sig != 0 && sig != SIGCHLD && (info.si_code == SI_USER || info.si_code == SI_QUEUE))
            ::kill(pid, sig);
    }
    wait_for_streams(*receiver, set);
    const RecordTotals totals = receiver->totals();
    receiver.reset();
    store_totals(*recorder, totals);
    try {
        recorder->commit();
    } catch (const data::TraceError& e) {
        return error("record", e.what(), kFailed);
    }
    print_summary(trace, totals);
    return exit_code(status);
}

// `memlife record --receive -o TRACE`: the receiver that libmemlife_preload.so starts for
// LD_PRELOAD=... MEMLIFE_TRACE=TRACE PROGRAM. Prints the socket path on stdout; ends when
// its standard input (held open by the recorded process tree) closes and every stream has
// ended.
int run_receiver(const Args& a) {
    if (a.output.empty()) return error("record", "--receive needs -o TRACE", kUnusable);
    // MEMLIFE_TRACE names the same file run after run: it is replaced, as a program's own
    // log would be; never a directory or a special file.
    if (auto why = output_refusal(a.output, true, OutputKind::Trace); !why.empty())
        return error("record", why, kUnusable);
    const sigset_t set = handled_signals();
    ::pthread_sigmask(SIG_BLOCK, &set, nullptr);
    std::signal(SIGXFSZ, SIG_IGN);
    const auto stacks = std::make_shared<RecordedStacks>();
    std::optional<data::Recorder> recorder;
    std::optional<RecordReceiver> receiver;
    try {
        recorder.emplace(a.output,
                         data::RecorderOptions{.source = "record", .stack_source = stacks});
        receiver.emplace(*recorder, *stacks);
    } catch (const std::exception& e) {
        return error("record", e.what(), kFailed);
    }
    std::cout << receiver->socket_path() << std::endl;
    for (;;) {
        pollfd lifeline{STDIN_FILENO, POLLIN, 0};
        if (::poll(&lifeline, 1, 200) > 0) {
            char byte;
            if (::read(STDIN_FILENO, &byte, 1) <= 0) break;
        }
        siginfo_t info{};
        const int sig = next_signal(set, 0ms, info);
        if (sig == SIGTERM || sig == SIGINT) break;
    }
    wait_for_streams(*receiver, set);
    const RecordTotals totals = receiver->totals();
    receiver.reset();
    store_totals(*recorder, totals);
    recorder->set_meta("command", bounded_command(totals.first_command));
    try {
        recorder->commit();
    } catch (const data::TraceError& e) {
        return error("record", e.what(), kFailed);
    }
    return kOk;
}

} // namespace

Command add_record(CLI::App& app) {
    auto* cmd = app.add_subcommand(
        "record", "Run a program and record the memory of each connection it accepts "
                  "(memlife record [-o TRACE] -- PROGRAM ARGS...); exits with its status");
    auto a = std::make_shared<Args>();
    cmd->add_option("-o,--output", a->output,
                    "The trace to write (default: memlife.PROGRAM.PID.mltrace)");
    cmd->add_flag("--force", a->force, "Replace an existing trace");
    add_stacks_option(*cmd, a->stacks);
    cmd->add_flag("--gui", a->gui, "Open memlife-gui following the trace while it is recorded");
    cmd->add_flag("--receive", a->receive)->group(""); // internal: the standalone receiver
    cmd->add_option("command", a->command, "PROGRAM and its arguments, after --");
    return {cmd, [a]() -> int { return a->receive ? run_receiver(*a) : run_record(*a); }};
}

} // namespace memlife::cli
