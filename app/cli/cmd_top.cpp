// memlife top TRACE [--once] [--interval S] [-n ROWS]
// A terminal view of a trace for servers without a display: the sessions holding the most
// live bytes and those growing fastest, refreshed every second while the trace is being
// recorded (memlife/data/follow.hpp). Plain ANSI on a terminal (alternate screen, restored
// on q, Ctrl-C and every other exit); frames one after another when stdout is not a
// terminal; one frame with --once.
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fmt/format.h>
#include <iostream>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "cli.hpp"
#include "memlife/data/follow.hpp"
#include "memlife/data/units.hpp"
#include "trace_summary.hpp"

namespace memlife::cli {
namespace {

using data::RecordingState;
using data::SessionRow;

// What the view knows of the trace: every session's latest row, and how fast each one's
// live bytes moved between the last two refreshes.
class TopModel {
public:
    void apply(const data::TraceChanges& changes) {
        const std::uint64_t previous_ns = info_.last_ns;
        info_ = changes.info;
        rates_.clear();
        const double seconds = previous_ns != 0 && info_.last_ns > previous_ns
                                   ? double(info_.last_ns - previous_ns) / 1e9
                                   : 0;
        rate_seconds_ = changes.all ? 0 : seconds;
        for (const SessionRow& s : changes.sessions) {
            auto [it, added] = sessions_.try_emplace(s.id, s);
            if (!added) {
                if (rate_seconds_ > 0 && !s.closed())
                    rates_[s.id] =
                        (double(s.live_bytes) - double(it->second.live_bytes)) / rate_seconds_;
                it->second = s;
            }
        }
        corruptions_ += changes.corruptions.size();
        leaks_ += changes.leaks.size();
    }

    const data::TraceInfo& info() const { return info_; }
    std::size_t corruptions() const { return corruptions_; }
    std::size_t leaks() const { return leaks_; }
    const std::unordered_map<std::uint64_t, SessionRow>& sessions() const { return sessions_; }
    double rate(std::uint64_t id) const {
        const auto it = rates_.find(id);
        return it == rates_.end() ? 0 : it->second;
    }
    double rate_seconds() const { return rate_seconds_; }

private:
    data::TraceInfo info_;
    std::unordered_map<std::uint64_t, SessionRow> sessions_;
    std::unordered_map<std::uint64_t, double> rates_; // live bytes per second, last refresh
    double rate_seconds_ = 0;
    std::size_t corruptions_ = 0, leaks_ = 0;
};

// "12,345,678"
std::string grouped(std::uint64_t n) {
    std::string digits = std::to_string(n), out;
    for (std::size_t i = 0; i < digits.size(); ++i) {
        if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
        out += digits[i];
    }
    return out;
}

// Columns are measured in characters, not bytes ("µs" is two bytes of UTF-8).
std::size_t width_of(const std::string& text) {
    return static_cast<std::size_t>(
        std::count_if(text.begin(), text.end(), [](char c) { return (c & 0xC0) != 0x80; }));
}
std::string pad_left(const std::string& text, std::size_t width) {
    const std::size_t w = width_of(text);
    return w >= width ? text : std::string(width - w, ' ') + text;
}
// Text from the trace, terminal-safe (escape_for_terminal), cut to `width` characters with
// "…" where it was cut, padded to `width`.
std::string fit(const std::string& text, std::size_t width) {
    std::string out = escape_for_terminal(text);
    if (width_of(out) > width) out = escape_for_terminal(text, width - 1) + "\u2026";
    return out + std::string(width - std::min(width, width_of(out)), ' ');
}

std::string state_name(RecordingState state) {
    switch (state) {
    case RecordingState::Live:
        return "recording";
    case RecordingState::Finished:
        return "recording finished";
    case RecordingState::Interrupted:
        return "recording stopped unexpectedly";
    }
    return "";
}

struct Style {
    bool ansi = false;
    std::string bold() const { return ansi ? "\x1b[1m" : ""; }
    std::string inverse() const { return ansi ? "\x1b[7m" : ""; }
    std::string reset() const { return ansi ? "\x1b[0m" : ""; }
};

constexpr std::size_t kPeerWidth = 24;

std::string column_header(const Style& style) {
    return style.bold() +
           fmt::format("{:>8}  {}  {:>10}  {:>10}  {:>8}  {:>11}  {:>12}  {:>10}", "SESSION",
                       fit("PEER", kPeerWidth), "LIVE", "PEAK", "REQUESTS", "GROWTH/REQ",
                       "GROWTH/S", "AGE") +
           style.reset() + "\n";
}

std::string session_line(const TopModel& model, const SessionRow& s) {
    const data::TraceInfo& info = model.info();
    const double rate = model.rate(s.id);
    const std::string age =
        s.closed() ? "closed"
                   : data::format_duration(double(info.last_ns - std::min(info.last_ns, s.open_ns)),
                                           info.time_resolution_ns);
    return fmt::format("{:>8}  {}  {}  {}  {:>8}  {}  {}  {}\n", s.id, fit(s.peer, kPeerWidth),
                       pad_left(data::format_bytes(double(s.live_bytes)), 10),
                       pad_left(data::format_bytes(double(s.peak_bytes)), 10), grouped(s.requests),
                       pad_left(data::format_bytes(s.growth_bytes_per_request), 11),
                       pad_left(rate != 0 ? data::format_bytes(rate) + "/s" : "-", 12),
                       pad_left(age, 10));
}

// The two rankings: the sessions holding the most (live bytes of open sessions; the
// largest peaks once none is open) and the fastest growing (live bytes per second over the
// last refresh; bytes per request when nothing grew in it).
struct Ranking {
    std::string title;
    std::vector<const SessionRow*> rows;
};

template <class Key, class Keep>
std::vector<const SessionRow*> top(const TopModel& model, std::size_t n, Key key, Keep keep) {
    std::vector<const SessionRow*> rows;
    for (const auto& [id, s] : model.sessions())
        if (keep(s)) rows.push_back(&s);
    n = std::min(n, rows.size());
    std::partial_sort(rows.begin(), rows.begin() + static_cast<std::ptrdiff_t>(n), rows.end(),
                      [&](const SessionRow* a, const SessionRow* b) {
                          const double ka = key(*a), kb = key(*b);
                          return ka != kb ? ka > kb : a->id < b->id;
                      });
    rows.resize(n);
    return rows;
}

std::vector<Ranking> rankings(const TopModel& model, std::size_t n) {
    std::vector<Ranking> out;
    const auto open = [](const SessionRow& s) { return !s.closed(); };
    auto most = top(
        model, n, [](const SessionRow& s) { return double(s.live_bytes); }, open);
    if (!most.empty())
        out.push_back({"Most live bytes (open sessions)", std::move(most)});
    else
        out.push_back({"Largest peaks (no session is open)",
                       top(
                           model, n, [](const SessionRow& s) { return double(s.peak_bytes); },
                           [](const SessionRow&) { return true; })});
    auto fastest = top(
        model, n, [&](const SessionRow& s) { return model.rate(s.id); },
        [&](const SessionRow& s) { return model.rate(s.id) > 0; });
    if (!fastest.empty())
        out.push_back({fmt::format("Fastest growth (live bytes per second over the last {})",
                                   data::format_duration(model.rate_seconds() * 1e9)),
                       std::move(fastest)});
    else
        out.push_back({"Fastest growth (bytes per request)",
                       top(
                           model, n, [](const SessionRow& s) { return s.growth_bytes_per_request; },
                           [](const SessionRow& s) { return s.growth_bytes_per_request > 0; })});
    return out;
}

std::string render(const TopModel& model, const std::string& path, std::size_t rows,
                   const Style& style) {
    const data::TraceInfo& info = model.info();
    std::uint64_t open = 0, live = 0;
    for (const auto& [id, s] : model.sessions()) {
        open += s.closed() ? 0 : 1;
        live += s.live_bytes;
    }
    std::string out = style.inverse() +
                      fmt::format("memlife top  {}  [{}]", escape_for_terminal(path),
                                  state_name(info.recording)) +
                      style.reset() + "\n";
    out += fmt::format(
        "sessions {} ({} open)  events {}  live {}  corruptions {}  leaks {}  "
        "span {}\n",
        grouped(model.sessions().size()), grouped(open), grouped(info.events),
        data::format_bytes(double(live)), grouped(model.corruptions()), grouped(model.leaks()),
        data::format_duration(double(info.last_ns - std::min(info.last_ns, info.first_ns)),
                              info.time_resolution_ns));
    for (const Ranking& r : rankings(model, rows)) {
        out += "\n" + style.bold() + r.title + style.reset() + "\n" + column_header(style);
        if (r.rows.empty()) out += "  (none)\n";
        for (const SessionRow* s : r.rows)
            out += session_line(model, *s);
    }
    return out;
}

// The terminal in the mode the view needs, restored by the destructor on every way out.
class Screen {
public:
    Screen() {
        have_termios_ = ::isatty(STDIN_FILENO) && ::tcgetattr(STDIN_FILENO, &saved_) == 0;
        if (have_termios_) {
            termios raw = saved_;
            raw.c_lflag &= ~static_cast<tcflag_t>(ICANON | ECHO); // keys at once, unechoed
            raw.c_cc[VMIN] = 0;
            raw.c_cc[VTIME] = 0;
            ::tcsetattr(STDIN_FILENO, TCSANOW, &raw);
        }
        write("\x1b[?1049h\x1b[?25l"); // alternate screen, no cursor
    }
    ~Screen() {
        write("\x1b[?25h\x1b[?1049l");
        if (have_termios_) ::tcsetattr(STDIN_FILENO, TCSANOW, &saved_);
    }
    Screen(const Screen&) = delete;
    Screen& operator=(const Screen&) = delete;

    void draw(const std::string& frame) {
        std::string text = "\x1b[H"; // home; each line cleared to its end, then the rest
        std::size_t start = 0;
        for (std::size_t end; (end = frame.find('\n', start)) != std::string::npos; start = end + 1)
            text += frame.substr(start, end - start) + "\x1b[K\r\n";
        write(text + "\x1b[J");
    }
    static std::size_t rows() {
        winsize ws{};
        return ::ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 ? ws.ws_row : 24;
    }

private:
    static void write(const std::string& text) { std::cout << text << std::flush; }
    termios saved_{};
    bool have_termios_ = false;
};

struct TopArgs {
    std::string trace;
    bool once = false;
    double interval = 1.0;
    std::size_t rows = 10;
};

// The loop: refreshes from the follower every interval while the trace is live, draws, and
// waits for a key or a signal. Returns the exit code.
int run_top(const TopArgs& a) {
    sigset_t signals;
    sigemptyset(&signals);
    for (int s : {SIGINT, SIGTERM, SIGHUP, SIGWINCH})
        sigaddset(&signals, s);
    ::sigprocmask(SIG_BLOCK, &signals, nullptr);
    const int signal_fd = ::signalfd(-1, &signals, SFD_CLOEXEC);

    data::TraceFollower follower(a.trace);
    TopModel model;
    data::TraceCursor cursor;
    {
        const data::TraceChanges all = follower.changes_since(std::nullopt);
        model.apply(all);
        cursor = all.cursor;
    }
    const auto live = [&] { return model.info().recording == RecordingState::Live; };
    const auto refresh = [&] {
        if (live() && follower.poll()) {
            const data::TraceChanges changes = follower.changes_since(cursor);
            cursor = changes.cursor;
            model.apply(changes);
        }
        // A finished recorder folds its WAL back once nobody has the trace open.
        if (!live()) follower.release();
    };
    // What came after the first read comes with the first refresh (its poll() is true).
    if (!live()) follower.release();
    const auto interval = std::chrono::milliseconds(static_cast<std::int64_t>(a.interval * 1000));

    if (a.once || !::isatty(STDOUT_FILENO)) {
        std::cout << render(model, a.trace, a.rows, Style{}) << std::flush;
        while (!a.once && live()) {
            pollfd fd{signal_fd, POLLIN, 0};
            if (::poll(&fd, 1, static_cast<int>(interval.count())) > 0) return kOk;
            refresh();
            std::cout << "\n" << render(model, a.trace, a.rows, Style{}) << std::flush;
        }
        return kOk;
    }
    Screen screen;
    const bool keys = ::isatty(STDIN_FILENO);
    auto due = std::chrono::steady_clock::now() + interval;
    for (bool redraw = true;;) {
        if (redraw) {
            const std::size_t height = Screen::rows();
            screen.draw(render(model, a.trace, height > 12 ? (height - 8) / 2 : 2, Style{true}));
        }
        redraw = false;
        const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(
            due - std::chrono::steady_clock::now());
        // Keys come from a terminal only (stdin may be /dev/null under a script).
        pollfd fds[2] = {{signal_fd, POLLIN, 0}, {keys ? STDIN_FILENO : -1, POLLIN, 0}};
        if (::poll(fds, 2,
                   live() ? static_cast<int>(std::max<std::int64_t>(0, wait.count())) : -1) > 0) {
            signalfd_siginfo info{};
            if ((fds[0].revents & POLLIN) && ::read(signal_fd, &info, sizeof info) == sizeof info) {
                if (info.ssi_signo != SIGWINCH)
                    return info.ssi_signo == SIGINT ? kOk : 128 + static_cast<int>(info.ssi_signo);
                redraw = true;
            }
            char key = 0;
            if ((fds[1].revents & (POLLIN | POLLHUP)) &&
                (::read(STDIN_FILENO, &key, 1) <= 0 || key == 'q' || key == 'Q' || key == 3))
                return kOk;
        }
        if (live() && std::chrono::steady_clock::now() >= due) {
            refresh();
            due = std::chrono::steady_clock::now() + interval;
            redraw = true;
        }
    }
}

} // namespace

Command add_top(CLI::App& app) {
    auto* cmd = app.add_subcommand(
        "top", "The sessions with the most live bytes and the fastest growth, in the terminal, "
               "refreshed while the trace is being recorded (q or Ctrl-C quits)");
    auto a = std::make_shared<TopArgs>();
    cmd->add_option("TRACE", a->trace, "Trace file (SQLite), finished or being recorded")
        ->required();
    cmd->add_flag("--once", a->once, "Print one snapshot (no terminal control) and exit");
    cmd->add_option("--interval", a->interval, "Seconds between refreshes")
        ->check(CLI::Range(0.1, 3600.0))
        ->capture_default_str();
    cmd->add_option("-n,--rows", a->rows,
                    "Sessions per ranking when not on a terminal (a terminal's height decides "
                    "there)")
        ->check(CLI::Range(std::size_t{1}, std::size_t{100000}))
        ->capture_default_str();
    return {cmd, [a]() -> int {
                try {
                    return run_top(*a);
                } catch (const data::TraceError& e) {
                    return error("top", e.what(), kUnusable);
                }
            }};
}

} // namespace memlife::cli
