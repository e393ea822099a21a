// `memlife record` as a command: PROGRAM's exit status (128+N for signal N), PROGRAM not
// found (127) or not executable (126), arguments missing (2), signals passed on, a program
// that never accepts a connection running unchanged, and the library used on its own
// (LD_PRELOAD=... MEMLIFE_TRACE=...).
#include <sys/stat.h>

#include "record_fixture.hpp"

using namespace memlife;
using namespace memlife::test;

namespace {

std::string record_command(const std::string& trace, const std::string& command) {
    return std::string(MEMLIFE_CLI) + " record -o " + quote(trace) + " -- " + command;
}

} // namespace

TEST(RecordCli, ExitsWithTheProgramsStatus) {
    TempDir dir;
    const std::string trace = dir / "exit.mltrace";
    EXPECT_EQ(shell(record_command(trace, "sh -c 'exit 7'") + " 2>/dev/null").exit_code, 7);
    data::TraceReader reader(trace);
    EXPECT_EQ(reader.info().source, "record");
    EXPECT_EQ(reader.sessions().size(), 0u);
    // An existing trace is replaced only with --force (docs/cli.md, "Outputs").
    const Shell refused = shell(record_command(trace, "true") + " 2>&1");
    EXPECT_EQ(refused.exit_code, 2);
    EXPECT_NE(refused.out.find("exists (use --force to replace it)"), std::string::npos)
        << refused.out;
    const std::string forced = std::string(MEMLIFE_CLI) + " record --force -o " + quote(trace) +
                               " -- sh -c 'exit 5' 2>/dev/null";
    EXPECT_EQ(shell(forced).exit_code, 5);
}

TEST(RecordCli, AProgramKilledBySignalNGives128PlusN) {
    TempDir dir;
    const Shell r =
        shell(record_command(dir / "signal.mltrace", "sh -c 'kill -USR1 $$'") + " 2>/dev/null");
    EXPECT_EQ(r.exit_code, 128 + SIGUSR1);
}

TEST(RecordCli, ProgramNotFoundOrNotExecutable) {
    TempDir dir;
    const std::string trace = dir / "none.mltrace";
    const Shell missing = shell(record_command(trace, "/nonexistent/program") + " 2>&1");
    EXPECT_EQ(missing.exit_code, 127);
    EXPECT_EQ(missing.out, "memlife record: /nonexistent/program: No such file or directory\n");
    EXPECT_FALSE(std::filesystem::exists(trace)) << "nothing is left behind";
    std::ofstream(dir / "script.txt") << "not a program\n";
    const Shell denied = shell(record_command(trace, quote(dir / "script.txt")) + " 2>&1");
    EXPECT_EQ(denied.exit_code, 126) << denied.out;
    EXPECT_FALSE(std::filesystem::exists(trace));
}

TEST(RecordCli, WithoutAProgramIsAnArgumentError) {
    TempDir dir;
    const Shell r = shell(std::string(MEMLIFE_CLI) + " record -o " + quote(dir / "x") + " 2>&1");
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.out.find("no program given"), std::string::npos) << r.out;
}

TEST(RecordCli, ProgramsThatNeverAcceptRunUnchanged) {
    TempDir dir;
    // Several processes (a shell, a pipeline, awk), output and exit status compared.
    const std::string program =
        "sh -c 'seq 1 50000 | sort -rn | md5sum; awk \"BEGIN { for (i = 0; i < 200000; i++) "
        "a[i] = i * 2; for (k in a) s += a[k]; print s }\"; exit 3'";
    const Shell plain = shell(program);
    ASSERT_EQ(plain.exit_code, 3);
    const Shell recorded = shell(record_command(dir / "plain.mltrace", program) + " 2>/dev/null");
    EXPECT_EQ(recorded.exit_code, 3);
    EXPECT_EQ(recorded.out, plain.out);
    data::TraceReader reader(dir / "plain.mltrace");
    EXPECT_EQ(reader.sessions().size(), 0u);
}

TEST(RecordCli, SignalsSentToMemlifeReachTheProgram) {
    TempDir dir;
    const std::string trace = dir / "term.mltrace";
    Child recorder(
        {MEMLIFE_CLI, "record", "-o", trace, "--", KEEPALIVE_SERVER, "--connections", "5"},
        dir / "stderr");
    const std::string first = recorder.line();
    ASSERT_EQ(first.rfind("port ", 0), 0u) << slurp(dir / "stderr");
    ASSERT_NE(curl_keepalive("http://127.0.0.1:" + first.substr(5) + "/", 2), 0);
    // The server waits in accept(): its last close window ends 1 s after the close, and the
    // library sends at least every 20 ms; a process killed by a signal it does not handle
    // loses what it recorded in the last moments before.
    std::this_thread::sleep_for(std::chrono::milliseconds(1300));
    ::kill(recorder.pid(), SIGTERM);
    EXPECT_EQ(recorder.wait(), 128 + SIGTERM) << "the server died of the SIGTERM passed on";
    data::TraceReader reader(trace);
    ASSERT_EQ(reader.sessions().size(), 1u) << "what was served before is in the trace";
    EXPECT_EQ(reader.sessions()[0].requests, 2u);
    EXPECT_TRUE(reader.sessions()[0].closed());
}

TEST(RecordCli, TheLibraryOnItsOwnWithMemlifeTrace) {
    TempDir dir;
    const std::string trace = dir / "standalone.mltrace";
    Child server({KEEPALIVE_SERVER, "--connections", "2"}, dir / "stderr",
                 {"LD_PRELOAD=" + std::string(PRELOAD_LIBRARY), "MEMLIFE_TRACE=" + trace});
    const std::string first = server.line();
    ASSERT_EQ(first.rfind("port ", 0), 0u) << slurp(dir / "stderr");
    const std::string url = "http://127.0.0.1:" + first.substr(5) + "/";
    const int one = curl_keepalive(url, 1), three = curl_keepalive(url, 3);
    ASSERT_EQ(server.wait(), 0) << slurp(dir / "stderr");
    // Complete when the program has exited (the first process waits for the receiver).
    data::TraceReader reader(trace);
    EXPECT_EQ(requests_by_port(reader), (std::map<int, std::uint32_t>{{one, 1}, {three, 3}}));
    EXPECT_EQ(slurp(dir / "stderr"), "") << "the receiver says nothing when all is well";
}

TEST(RecordCli, DefaultTraceNameNamesTheProgram) {
    TempDir dir;
    const Shell r =
        shell("cd " + quote(dir.path.string()) + " && " + MEMLIFE_CLI + " record -- true 2>&1");
    ASSERT_EQ(r.exit_code, 0) << r.out;
    int traces = 0;
    for (const auto& e : std::filesystem::directory_iterator(dir.path))
        traces += e.path().filename().string().starts_with("memlife.true.") &&
                  e.path().extension() == ".mltrace";
    EXPECT_EQ(traces, 1) << r.out;
}

// --gui: memlife-gui --follow TRACE starts once the trace exists, before PROGRAM runs, and
// finds it being recorded. A stand-in GUI ($MEMLIFE_GUI, a shell script) reports what it was
// given and what `memlife top` saw; a missing GUI is exit 3 before anything starts.
TEST(RecordCli, GuiFollowsTheTraceWhileItIsRecorded) {
    TempDir dir;
    const std::string gui = dir / "fake-gui", trace = dir / "followed.mltrace";
    {
        std::ofstream script(gui);
        script << "#!/bin/sh\n"
               << "printf '%s\\n' \"$@\" > " << quote(dir / "args") << "\n"
               << quote(MEMLIFE_CLI) << " top --once \"$2\" > " << quote(dir / "top.tmp")
               << " 2>&1\n"
               << "mv " << quote(dir / "top.tmp") << " " << quote(dir / "top") << "\n";
    }
    ::chmod(gui.c_str(), 0755);
    const Shell r = shell("MEMLIFE_GUI=" + quote(gui) + " " + std::string(MEMLIFE_CLI) +
                          " record --gui -o " + quote(trace) + " -- sleep 3 2>&1");
    EXPECT_EQ(r.exit_code, 0) << r.out;
    EXPECT_EQ(slurp(dir / "args"), "--follow\n" + trace + "\n");
    EXPECT_NE(slurp(dir / "top").find("[recording]"), std::string::npos)
        << "the GUI found the trace being recorded: " << slurp(dir / "top");

    const Shell missing =
        shell("MEMLIFE_GUI=" + quote(dir / "no-such-gui") + " " + std::string(MEMLIFE_CLI) +
              " record --gui -o " + quote(dir / "never.mltrace") + " -- true 2>&1");
    EXPECT_EQ(missing.exit_code, 3);
    EXPECT_EQ(missing.out, "memlife record: --gui: cannot run " + (dir / "no-such-gui") + "\n");
    EXPECT_FALSE(std::filesystem::exists(dir / "never.mltrace"));
}
