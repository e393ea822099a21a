// `memlife serve --gui`: the GUI is started following the trace while it is recorded, in a
// session of its own (a Ctrl-C that stops serve leaves it open). A stand-in GUI
// ($MEMLIFE_GUI, a shell script) reports what it was given and what it found.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "process.hpp"
#include "serve_process.hpp"

using namespace memlife::test;

namespace {

// Field 6 of /proc/PID/stat: the session id.
std::string session_of(pid_t pid) {
    std::string stat = slurp("/proc/" + std::to_string(pid) + "/stat");
    std::size_t pos = stat.rfind(')') + 2;
    for (int field = 3; field < 6; ++field)
        pos = stat.find(' ', pos) + 1;
    return stat.substr(pos, stat.find(' ', pos) - pos);
}

bool wait_for_file(const std::string& path, std::chrono::milliseconds limit) {
    const auto end = Clock::now() + limit;
    while (Clock::now() < end) {
        if (!slurp(path).empty()) return true;
        std::this_thread::sleep_for(20ms);
    }
    return false;
}

} // namespace

TEST(ServeGui, StartsTheGuiFollowingTheLiveTraceInASessionOfItsOwn) {
    TempDir dir;
    const std::string gui = dir / "fake-gui", trace = dir / "served.trace";
    {
        std::ofstream script(gui);
        script << "#!/bin/sh\n"
               << "printf '%s\\n' \"$@\" > " << quote(dir / "args") << "\n"
               << "cut -d' ' -f6 /proc/$$/stat > " << quote(dir / "sid") << "\n"
               << quote(MEMLIFE_CLI) << " top --once \"$2\" > " << quote(dir / "top.tmp")
               << " 2>&1\n"
               << "mv " << quote(dir / "top.tmp") << " " << quote(dir / "top") << "\n"
               << "sleep 1\n"
               << "echo alive > " << quote(dir / "alive") << "\n";
    }
    ::chmod(gui.c_str(), 0755);
    ServeProcess serve;
    ASSERT_TRUE(serve.start({"-o", trace, "--gui"}, [&] {
        ::setenv("MEMLIFE_GUI", gui.c_str(), 1);
        ::setpgid(0, 0); // its own process group, as a shell job gets
    }));
    ASSERT_TRUE(wait_for_file(dir / "top", 10s));
    EXPECT_EQ(slurp(dir / "args"), "--follow\n" + trace + "\n");
    EXPECT_NE(slurp(dir / "top").find("[recording]"), std::string::npos)
        << "the GUI found the trace being recorded: " << slurp(dir / "top");
    const std::string gui_session = slurp(dir / "sid");
    EXPECT_NE(gui_session, session_of(serve.pid) + "\n") << "a session of its own";
    // Ctrl-C: SIGINT to serve's whole process group. serve stops; the GUI does not.
    const pid_t group = serve.pid;
    ::kill(-group, SIGINT);
    EXPECT_EQ(serve.stop(0), 0);
    EXPECT_TRUE(wait_for_file(dir / "alive", 5s)) << "the GUI outlived serve's Ctrl-C";
    const Result after = run_memlife("top --once " + quote(trace), dir);
    EXPECT_NE(after.out.find("[recording finished]"), std::string::npos) << after.out;
}

TEST(ServeGui, NeedsATraceToFollow) {
    TempDir dir;
    const Result r = run_memlife("serve --listen 127.0.0.1:0 --gui", dir);
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_EQ(r.err, "memlife serve: --gui needs -o TRACE (the GUI follows the trace)\n");
}

TEST(ServeGui, AMissingGuiIsExit3AndNothingIsCreated) {
    TempDir dir;
    ::setenv("MEMLIFE_GUI", (dir / "no-such-gui").c_str(), 1);
    const Result r =
        run_memlife("serve --listen 127.0.0.1:0 --gui -o " + quote(dir / "t.trace"), dir);
    ::unsetenv("MEMLIFE_GUI");
    EXPECT_EQ(r.exit_code, 3);
    EXPECT_EQ(r.err, "memlife serve: --gui: cannot run " + (dir / "no-such-gui") + "\n");
    EXPECT_FALSE(std::filesystem::exists(dir / "t.trace"));
}
