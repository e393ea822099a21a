// `memlife top`: a snapshot of a finished, a live and an interrupted trace (--once), frames
// that follow a recording until it finishes (stdout not a terminal), and the terminal view
// under a real pseudo-terminal: it refreshes, quits on q and on Ctrl-C, and leaves the
// terminal as it found it.
#include <gtest/gtest.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <regex>
#include <string>
#include <thread>

#include "memlife/data/recorder.hpp"
#include "memlife/session.hpp"
#include "process.hpp"

using namespace memlife;
using namespace memlife::test;
using namespace std::chrono_literals;

namespace {

// A recording in this process: `open` connections kept open, each holding `bytes`.
struct LiveRecording {
    std::unique_ptr<data::Recorder> recorder;
    std::unique_ptr<Runtime> runtime;
    std::vector<Session*> open;

    LiveRecording(const std::string& path, int connections, std::uint32_t bytes) {
        recorder = std::make_unique<data::Recorder>(path);
        runtime = std::make_unique<Runtime>(Config{}, recorder.get());
        for (int i = 0; i < connections; ++i) {
            Session* s = runtime->open("10.1.1." + std::to_string(i + 1) + ":8080");
            grow(s, bytes * static_cast<std::uint32_t>(i + 1));
            open.push_back(s);
        }
        recorder->flush();
    }
    void grow(Session* s, std::uint32_t bytes) {
        s->request_begin();
        s->alloc_mem(bytes);
        s->request_end();
    }
    void finish() {
        for (Session* s : open)
            runtime->close(s);
        open.clear();
        recorder->commit();
    }
};

bool has_escape(const std::string& text) {
    return text.find('\x1b') != std::string::npos;
}

// memlife top under a pseudo-terminal; the test reads its screen and types keys.
struct TerminalTop {
    pid_t pid = -1;
    int master = -1;
    std::string screen;

    explicit TerminalTop(const std::vector<std::string>& args) {
        winsize size{};
        size.ws_row = 40;
        size.ws_col = 130;
        pid = ::forkpty(&master, nullptr, nullptr, &size);
        if (pid == 0) {
            std::vector<char*> argv{const_cast<char*>(MEMLIFE_CLI), const_cast<char*>("top")};
            for (const auto& a : args)
                argv.push_back(const_cast<char*>(a.c_str()));
            argv.push_back(nullptr);
            ::execv(MEMLIFE_CLI, argv.data());
            ::_exit(127);
        }
    }
    ~TerminalTop() {
        if (pid > 0) {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, nullptr, 0);
        }
        if (master >= 0) ::close(master);
    }
    // Reads the terminal until `pattern` has appeared `times` times or `limit` passed.
    bool read_until(const std::string& pattern, int times, std::chrono::milliseconds limit) {
        const auto end = std::chrono::steady_clock::now() + limit;
        for (;;) {
            std::size_t count = 0;
            for (auto at = screen.find(pattern); at != std::string::npos;
                 at = screen.find(pattern, at + 1))
                ++count;
            if (count >= static_cast<std::size_t>(times)) return true;
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                end - std::chrono::steady_clock::now());
            if (left.count() <= 0) return false;
            pollfd fd{master, POLLIN, 0};
            if (::poll(&fd, 1, static_cast<int>(left.count())) <= 0) continue;
            char buffer[4096];
            const ssize_t n = ::read(master, buffer, sizeof buffer);
            if (n <= 0) return false;
            screen.append(buffer, static_cast<std::size_t>(n));
        }
    }
    void type(const std::string& keys) {
        ASSERT_EQ(::write(master, keys.data(), keys.size()), static_cast<ssize_t>(keys.size()));
    }
    // The exit code, after draining what it wrote last.
    int wait() {
        read_until("\x1b[?1049l", 1, 5s);
        int status = 0;
        const auto end = std::chrono::steady_clock::now() + 5s;
        while (::waitpid(pid, &status, WNOHANG) == 0) {
            if (std::chrono::steady_clock::now() > end) return -1;
            std::this_thread::sleep_for(10ms);
        }
        pid = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    bool canonical_echoing() const {
        termios t{};
        return ::tcgetattr(master, &t) == 0 && (t.c_lflag & ICANON) && (t.c_lflag & ECHO);
    }
};

} // namespace

TEST(Top, OnceOnAFinishedTraceRanksByPeakAndGrowthPerRequest) {
    TempDir dir;
    ASSERT_EQ(run_memlife("simulate --scenario keepalive-leak --connections 12 "
                          "--requests-per-connection 8 --seed 3 -o " +
                              quote(dir / "t.trace"),
                          dir)
                  .exit_code,
              0);
    const Result r = run_memlife("top --once -n 5 " + quote(dir / "t.trace"), dir);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("[recording finished]"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("sessions 12 (0 open)"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("Largest peaks (no session is open)"), std::string::npos);
    EXPECT_NE(r.out.find("Fastest growth (bytes per request)"), std::string::npos);
    // Five rows under each ranking, every one a closed session of this trace.
    const std::regex row(R"(\n +\d+  192\.0\.2\.\d+:\d+ +0 B +[\d.]+ KiB +8 .* closed)");
    const auto rows = std::distance(std::sregex_iterator(r.out.begin(), r.out.end(), row),
                                    std::sregex_iterator());
    EXPECT_EQ(rows, 10) << r.out;
    EXPECT_FALSE(has_escape(r.out)) << "no terminal control in a snapshot";
    EXPECT_TRUE(r.err.empty()) << r.err;
}

TEST(Top, OnceOnALiveTraceShowsTheOpenSessionsByLiveBytes) {
    TempDir dir;
    LiveRecording live(dir / "live.trace", 3, 1000);
    const Result r = run_memlife("top --once " + quote(dir / "live.trace"), dir);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("[recording]"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("sessions 3 (3 open)"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("live 5.86 KiB"), std::string::npos) << r.out; // 1000+2000+3000
    const auto most = r.out.find("Most live bytes (open sessions)");
    ASSERT_NE(most, std::string::npos) << r.out;
    // Largest first: 3000 B (session 3), 2000 B, 1000 B.
    const auto third = r.out.find("10.1.1.3:8080", most);
    const auto second = r.out.find("10.1.1.2:8080", most);
    const auto first = r.out.find("10.1.1.1:8080", most);
    EXPECT_LT(third, second);
    EXPECT_LT(second, first);
    live.finish();
}

TEST(Top, APeerLabelCannotControlTheTerminal) {
    TempDir dir;
    LiveRecording live(dir / "hostile.trace", 0, 0);
    Session* s = live.runtime->open("\x1b]0;owned\x07\x1b[2J\xc2\x9b"
                                    "31mred\nline");
    live.grow(s, 100);
    live.recorder->flush();
    const Result r = run_memlife("top --once " + quote(dir / "hostile.trace"), dir);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_FALSE(has_escape(r.out)) << r.out;
    EXPECT_EQ(r.out.find("\xc2\x9b"), std::string::npos) << "no C1 CSI either";
    // Shown escaped (and cut to the column with an ellipsis).
    EXPECT_NE(r.out.find("\\x1b]0;owned\\x07\\x1b[2J\u2026"), std::string::npos) << r.out;
    live.open.push_back(s);
    live.finish();
}

TEST(Top, OnceOnAKilledRecordingSaysItStoppedUnexpectedly) {
    TempDir dir;
    const std::string path = dir / "killed.trace";
    int ready[2];
    ASSERT_EQ(::pipe(ready), 0);
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        LiveRecording live(path, 2, 500);
        (void)!::write(ready[1], "r", 1);
        for (;;)
            ::pause();
    }
    char byte;
    ASSERT_EQ(::read(ready[0], &byte, 1), 1);
    ::kill(child, SIGKILL);
    ::waitpid(child, nullptr, 0);
    const Result r = run_memlife("top --once " + quote(path), dir);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("[recording stopped unexpectedly]"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("sessions 2 (2 open)"), std::string::npos) << r.out;
}

TEST(Top, WithoutATerminalItPrintsFramesUntilTheRecordingFinishes) {
    TempDir dir;
    const std::string path = dir / "frames.trace";
    LiveRecording live(path, 2, 100);
    std::thread recorder([&] {
        for (int i = 0; i < 8; ++i) {
            std::this_thread::sleep_for(100ms);
            live.grow(live.open[0], 4096);
            live.recorder->flush();
        }
        live.finish();
    });
    const auto start = std::chrono::steady_clock::now();
    const Result r = run_memlife("top --interval 0.2 -n 3 " + quote(path), dir);
    const auto took = std::chrono::steady_clock::now() - start;
    recorder.join();
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_LT(took, 10s) << "it ends by itself once the recording is finished";
    EXPECT_NE(r.out.find("[recording]"), std::string::npos);
    // The last frame is the finished trace.
    const auto last = r.out.rfind("memlife top  ");
    ASSERT_NE(last, std::string::npos);
    EXPECT_NE(r.out.find("[recording finished]", last), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("sessions 2 (0 open)", last), std::string::npos) << r.out;
    // Session 1 grew while it was followed: a frame ranked it by bytes per second.
    EXPECT_NE(r.out.find("Fastest growth (live bytes per second"), std::string::npos) << r.out;
    EXPECT_FALSE(has_escape(r.out));
}

TEST(Top, OnATerminalItRefreshesQuitsOnQAndRestoresTheTerminal) {
    TempDir dir;
    const std::string path = dir / "tty.trace";
    LiveRecording live(path, 2, 100);
    TerminalTop top({"--interval", "0.2", path});
    ASSERT_TRUE(top.read_until("[recording]", 1, 10s)) << top.screen;
    EXPECT_NE(top.screen.find("\x1b[?1049h"), std::string::npos) << "the alternate screen";
    EXPECT_NE(top.screen.find("sessions 2 (2 open)"), std::string::npos);
    EXPECT_FALSE(top.canonical_echoing()) << "keys are read one by one, unechoed";
    // A new connection appears at the next refresh.
    Session* third = live.runtime->open("10.1.1.99:8080");
    live.grow(third, 100);
    live.recorder->flush();
    EXPECT_TRUE(top.read_until("sessions 3 (3 open)", 1, 5s)) << top.screen;
    top.type("q");
    EXPECT_EQ(top.wait(), 0);
    const auto restored = top.screen.rfind("\x1b[?25h\x1b[?1049l");
    ASSERT_NE(restored, std::string::npos) << "the cursor and the main screen are back";
    EXPECT_TRUE(top.canonical_echoing()) << "the terminal's modes are back";
    live.open.push_back(third);
    live.finish();
}

TEST(Top, CtrlCQuitsAndAFinishedTraceStaysOnScreenUntilThen) {
    TempDir dir;
    ASSERT_EQ(run_memlife("simulate --scenario per-request --connections 4 -o " +
                              quote(dir / "done.trace"),
                          dir)
                  .exit_code,
              0);
    TerminalTop top({dir / "done.trace"});
    ASSERT_TRUE(top.read_until("[recording finished]", 1, 10s)) << top.screen;
    std::this_thread::sleep_for(300ms);
    int status = 0;
    EXPECT_EQ(::waitpid(top.pid, &status, WNOHANG), 0) << "still showing";
    top.type("\x03"); // Ctrl-C: SIGINT to the terminal's foreground process
    EXPECT_EQ(top.wait(), 0);
    EXPECT_NE(top.screen.rfind("\x1b[?1049l"), std::string::npos);
    EXPECT_TRUE(top.canonical_echoing());
}

TEST(Top, ABadTraceIsOneLineAndExit2) {
    TempDir dir;
    const Result r = run_memlife("top --once " + quote(dir / "missing.trace"), dir);
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_EQ(r.err, "memlife top: " + (dir / "missing.trace") + ": no such file\n");
}
