#include "cli.hpp"

#include "memlife/stacks.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fmt/format.h>
#include <random>
#include <stdexcept>
#include <string_view>
#include <thread>

namespace memlife::cli {

void add_stacks_option(CLI::App& cmd, std::uint32_t& depth) {
    cmd.add_option("--stacks", depth,
                   "Record each allocation's call stack, at most N frames (0: off); the trace is "
                   "symbolized when recording stops")
        ->check(CLI::Range(0u, kMaxStackDepth))
        ->capture_default_str();
}

int error(const std::string& command, const std::string& message, int code) {
    fmt::print(stderr, "memlife {}: {}\n", command, message);
    return code;
}

CLI::Validator non_negative_number(std::string what, std::string name) {
    return CLI::Validator(
        [what = std::move(what)](std::string& text) -> std::string {
            double value = 0;
            const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
            if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(value) ||
                value < 0)
                return "expected " + what + ", 0 or more; got '" + text + "'";
            return {};
        },
        std::move(name));
}

std::filesystem::path own_directory() {
    std::error_code ec;
    const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
    return ec ? std::filesystem::path(".") : exe.parent_path();
}

std::string temp_path_for(const std::string& path) {
    std::random_device rd;
    return fmt::format("{}.tmp-{}-{:08x}", path, ::getpid(), rd());
}

namespace {

bool is_special_file(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 && (S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode));
}

// "PID-ID" and one of the suffixes the recorder's and AtomicOutput's temporaries carry.
bool parse_temporary_tail(std::string_view tail, pid_t& pid) {
    std::size_t i = 0;
    std::uint64_t value = 0;
    while (i < tail.size() && i < 10 && tail[i] >= '0' && tail[i] <= '9')
        value = value * 10 + static_cast<std::uint64_t>(tail[i++] - '0');
    if (i == 0 || i == tail.size() || tail[i] != '-' || value == 0 || value > INT32_MAX)
        return false;
    const std::size_t id_begin = ++i;
    while (i < tail.size() && std::isxdigit(static_cast<unsigned char>(tail[i])))
        ++i;
    if (i == id_begin) return false;
    const std::string_view suffix = tail.substr(i);
    for (const char* known :
         {"", "-wal", "-shm", "-journal", ".new", ".new-wal", ".new-shm", ".new-journal"})
        if (suffix == known) {
            pid = static_cast<pid_t>(value);
            return true;
        }
    return false;
}

bool process_runs(pid_t pid) {
    return ::kill(pid, 0) == 0 || errno == EPERM;
}

// Removes `path`'s temporaries whose process `remove(pid)` says.
template <class Which> std::size_t remove_temporaries(const std::string& path, Which&& remove) {
    namespace fs = std::filesystem;
    const fs::path output(path);
    const fs::path dir = output.has_parent_path() ? output.parent_path() : fs::path(".");
    const std::string prefix = output.filename().string() + ".tmp-";
    std::size_t removed = 0;
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
        const std::string name = it->path().filename().string();
        pid_t pid = 0;
        if (name.compare(0, prefix.size(), prefix) != 0 ||
            !parse_temporary_tail(std::string_view(name).substr(prefix.size()), pid) ||
            !remove(pid))
            continue;
        std::error_code remove_error;
        removed += fs::remove(it->path(), remove_error) ? 1 : 0;
    }
    return removed;
}

} // namespace

std::string output_refusal(const std::string& path, bool force, OutputKind kind) {
    if (path == "-")
        return kind == OutputKind::Trace
                   ? "-: a trace cannot be written to standard output (name a file)"
                   : std::string();
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return {}; // a missing directory fails at creation
    if (S_ISDIR(st.st_mode)) return path + ": is a directory";
    if (!S_ISREG(st.st_mode)) {
        if (kind == OutputKind::Text && (S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode))) return {};
        return path + ": not a regular file";
    }
    if (!force) return path + ": exists (use --force to replace it)";
    return {};
}

std::size_t remove_stale_temporaries(const std::string& path) {
    const pid_t self = ::getpid();
    return remove_temporaries(path,
                              [self](pid_t pid) { return pid == self || !process_runs(pid); });
}

int claim_output(const std::string& command, const std::string& path, bool force, OutputKind kind) {
    if (auto why = output_refusal(path, force, kind); !why.empty())
        return error(command, why, kUnusable);
    if (path == "-") return kOk;
    if (const std::size_t n = remove_stale_temporaries(path); n != 0)
        fmt::print(stderr,
                   "memlife {}: removed {} temporary file(s) of an interrupted run next to {}\n",
                   command, n, path);
    return kOk;
}

struct InterruptCleanup::Impl {
    std::string path;
    sigset_t previous_mask{};
    int signal_fd = -1, stop_fd = -1;
    std::thread watcher;

    void watch() {
        pollfd fds[2] = {{signal_fd, POLLIN, 0}, {stop_fd, POLLIN, 0}};
        for (;;) {
            if (::poll(fds, 2, -1) < 0) {
                if (errno == EINTR) continue;
                return;
            }
            if (fds[1].revents != 0) return;
            signalfd_siginfo info{};
            if (::read(signal_fd, &info, sizeof info) != sizeof info) continue;
            const pid_t self = ::getpid();
            remove_temporaries(path, [self](pid_t pid) { return pid == self; });
            // End by the signal itself, so that the caller sees how the command ended.
            const int sig = static_cast<int>(info.ssi_signo);
            std::signal(sig, SIG_DFL);
            sigset_t one;
            sigemptyset(&one);
            sigaddset(&one, sig);
            pthread_sigmask(SIG_UNBLOCK, &one, nullptr);
            ::raise(sig);
            ::_exit(128 + sig); // not reached
        }
    }
};

InterruptCleanup::InterruptCleanup(std::string path) : impl_(std::make_unique<Impl>()) {
    impl_->path = std::move(path);
    std::signal(SIGXFSZ, SIG_IGN);
    sigset_t signals;
    sigemptyset(&signals);
    for (int sig : {SIGINT, SIGTERM, SIGHUP})
        sigaddset(&signals, sig);
    pthread_sigmask(SIG_BLOCK, &signals, &impl_->previous_mask);
    impl_->signal_fd = ::signalfd(-1, &signals, SFD_CLOEXEC);
    impl_->stop_fd = ::eventfd(0, EFD_CLOEXEC);
    if (impl_->signal_fd < 0 || impl_->stop_fd < 0)
        throw std::runtime_error(std::string("cannot watch for signals: ") + std::strerror(errno));
    impl_->watcher = std::thread([impl = impl_.get()] { impl->watch(); });
}

InterruptCleanup::~InterruptCleanup() {
    const std::uint64_t one = 1;
    if (::write(impl_->stop_fd, &one, sizeof one) == sizeof one)
        impl_->watcher.join();
    else
        impl_->watcher.detach();
    ::close(impl_->signal_fd);
    ::close(impl_->stop_fd);
    // A signal that came in since the watcher stopped is delivered now: the output is
    // complete or removed by then.
    pthread_sigmask(SIG_SETMASK, &impl_->previous_mask, nullptr);
}

AtomicOutput::AtomicOutput(std::string path) : path_(std::move(path)) {
    if (path_ == "-") return;
    if (is_special_file(path_)) { // a FIFO or a device: nothing to rename
        file_.open(path_, std::ios::binary);
        if (!file_) throw std::runtime_error(path_ + ": cannot open the output");
        return;
    }
    temp_ = temp_path_for(path_);
    file_.open(temp_, std::ios::binary | std::ios::trunc);
    if (!file_) throw std::runtime_error(path_ + ": cannot create the output file");
}

AtomicOutput::~AtomicOutput() {
    if (!committed_ && !temp_.empty()) {
        file_.close();
        std::remove(temp_.c_str());
    }
}

std::ostream& AtomicOutput::stream() {
    if (path_ == "-") return std::cout;
    return file_;
}

void AtomicOutput::commit() {
    if (path_ == "-") {
        std::cout.flush();
        committed_ = true;
        return;
    }
    file_.flush();
    const bool ok = static_cast<bool>(file_);
    file_.close();
    if (temp_.empty()) { // written directly
        if (!ok) throw std::runtime_error(path_ + ": cannot write the output");
        committed_ = true;
        return;
    }
    if (!ok || std::rename(temp_.c_str(), path_.c_str()) != 0) {
        std::remove(temp_.c_str());
        throw std::runtime_error(path_ + ": cannot write the output file");
    }
    committed_ = true;
}

Progress::Progress(std::string label, std::string unit)
    : label_(std::move(label)), unit_(std::move(unit)), enabled_(::isatty(STDERR_FILENO) == 1) {}

Progress::~Progress() {
    finish();
}

void Progress::update(std::uint64_t done, std::uint64_t total) {
    if (!enabled_) return;
    const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::steady_clock::now().time_since_epoch())
                         .count();
    if (now - last_ms_ < 100 && done != total) return;
    last_ms_ = now;
    const double pct =
        total != 0 ? 100.0 * static_cast<double>(done) / static_cast<double>(total) : 0;
    fmt::print(stderr, "\r{} {:5.1f}% ({}/{} {})\x1b[K", label_, pct, done, total, unit_);
    std::fflush(stderr);
    drawn_ = true;
}

void Progress::finish() {
    if (drawn_) {
        fmt::print(stderr, "\r\x1b[K");
        std::fflush(stderr);
        drawn_ = false;
    }
}

} // namespace memlife::cli
