// What the writing commands promise about their output files (docs/cli.md, "Outputs"): an
// existing file is never replaced without --force, serve creates nothing before it listens,
// an interrupted run (SIGINT, SIGTERM, a file-size limit) leaves nothing behind, and a later
// run removes what a killed one left.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sqlite3.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <thread>

#include "process.hpp"
#include "serve_process.hpp"

using namespace memlife::test;
namespace fs = std::filesystem;

namespace {

// The files in `dir`, sorted, without run_memlife's .stdout and .stderr.
std::vector<std::string> files_in(const std::string& dir) {
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(dir))
        if (entry.path().filename().string()[0] != '.')
            names.push_back(entry.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
}

std::string joined(const std::vector<std::string>& names) {
    std::string out;
    for (const auto& n : names)
        out += n + " ";
    return out;
}

// Until a file whose name contains `part` shows up in `dir` (the command is under way).
bool wait_for_file(const std::string& dir, const std::string& part,
                   std::chrono::milliseconds limit = 10s) {
    const auto until = Clock::now() + limit;
    while (Clock::now() < until) {
        for (const auto& name : files_in(dir))
            if (name.find(part) != std::string::npos) return true;
        std::this_thread::sleep_for(10ms);
    }
    return false;
}

void write_file(const std::string& path, const std::string& text) {
    std::ofstream(path, std::ios::binary) << text;
}

// A port something else listens on.
struct BusyPort {
    Socket socket{::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)};
    int port = 0;
    BusyPort() {
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        ::bind(socket, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
        ::listen(socket, 1);
        socklen_t len = sizeof addr;
        ::getsockname(socket, reinterpret_cast<sockaddr*>(&addr), &len);
        port = ntohs(addr.sin_port);
    }
};

const std::string kLongSimulation = "simulate --scenario mixed --connections 100000000";

} // namespace

TEST(Outputs, ServeCreatesNothingBeforeItListens) {
    TempDir dir;
    const std::string keep = dir / "keep.trace", notes = dir / "notes.txt";
    write_file(keep, "a trace someone needs");
    write_file(notes, "notes");
    BusyPort busy;
    // A busy port or a bad address: exit 3 / 2 and the file is untouched, even with --force.
    auto r = run_memlife("serve --listen 127.0.0.1:" + std::to_string(busy.port) + " -o " +
                             quote(keep) + " --force",
                         dir);
    EXPECT_EQ(r.exit_code, 3) << r.err;
    EXPECT_NE(r.err.find("Address already in use"), std::string::npos) << r.err;
    r = run_memlife("serve --listen 127.0.0.1:80abc -o " + quote(keep) + " --force", dir);
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_EQ(slurp(keep), "a trace someone needs");
    // A new name on a busy port is not created.
    r = run_memlife("serve --listen 127.0.0.1:" + std::to_string(busy.port) + " -o " +
                        quote(dir / "new.trace"),
                    dir);
    EXPECT_EQ(r.exit_code, 3);
    EXPECT_FALSE(fs::exists(dir / "new.trace"));
    // -o notes.txt without --force: refused, kept.
    r = run_memlife("serve --listen 127.0.0.1:0 -o " + quote(notes), dir);
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_EQ(r.err, "memlife serve: " + notes + ": exists (use --force to replace it)\n");
    EXPECT_EQ(slurp(notes), "notes");
    EXPECT_EQ(run_memlife("serve --listen 127.0.0.1:0 -o -", dir).exit_code, 2);
    // With --force and a free port, the trace replaces it once the server listens.
    ServeProcess server;
    ASSERT_TRUE(server.start({"-o", keep, "--force"})) << server.first_line;
    EXPECT_EQ(request_once(server.port, "GET / HTTP/1.0\r\n\r\n").rfind("HTTP/1.1 200 OK", 0), 0u);
    EXPECT_EQ(server.stop(), 0);
    EXPECT_EQ(run_memlife("check " + quote(keep), dir).exit_code, 0);
}

TEST(Outputs, EveryWriterRefusesAnExistingFileUnlessForced) {
    TempDir dir;
    const std::string trace = dir / "t.trace", notes = dir / "notes.txt";
    ASSERT_EQ(run_memlife("simulate --scenario per-request --connections 2 -o " + quote(trace), dir)
                  .exit_code,
              0);
    const std::string jsonl =
        std::string(MEMLIFE_SOURCE_DIR) + "/tests/fixtures/teaching-violation.jsonl";
    const std::vector<std::string> writers{
        "simulate --scenario per-request --connections 2 -o ",
        "import jsonl " + quote(jsonl) + " -o ",
        "export " + quote(trace) + " --format csv -o ",
    };
    for (const auto& writer : writers) {
        write_file(notes, "notes");
        auto r = run_memlife(writer + quote(notes), dir);
        EXPECT_EQ(r.exit_code, 2) << writer;
        EXPECT_NE(r.err.find(notes + ": exists (use --force to replace it)"), std::string::npos)
            << r.err;
        EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
        EXPECT_EQ(slurp(notes), "notes") << writer;
        r = run_memlife(writer + quote(notes) + " --force", dir);
        EXPECT_EQ(r.exit_code, 0) << writer << r.err;
        EXPECT_NE(slurp(notes), "notes") << writer;
        // A directory is never an output.
        r = run_memlife(writer + quote(dir.path.string()) + " --force", dir);
        EXPECT_EQ(r.exit_code, 2) << writer;
        EXPECT_NE(r.err.find("is a directory"), std::string::npos) << r.err;
    }
    // A trace cannot go to standard output; an export can, and to a device directly.
    for (const std::string& cmd : {std::string("simulate --scenario per-request -o -"),
                                   "import jsonl " + quote(jsonl) + " -o -"}) {
        const auto r = run_memlife(cmd, dir);
        EXPECT_EQ(r.exit_code, 2) << cmd;
        EXPECT_NE(r.err.find("a trace cannot be written to standard output"), std::string::npos)
            << r.err;
    }
    EXPECT_FALSE(fs::exists(dir / "-"));
    auto r = run_memlife("export " + quote(trace) + " --format csv -o -", dir);
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_EQ(r.out.rfind("seq,time_ns,", 0), 0u);
    EXPECT_EQ(run_memlife("export " + quote(trace) + " --format csv -o /dev/null", dir).exit_code,
              0);
    EXPECT_TRUE(fs::is_character_file("/dev/null"));
    EXPECT_EQ(run_memlife("simulate --scenario per-request -o /dev/null --force", dir).exit_code,
              2);
}

// SIGINT and SIGTERM during simulate or import: the command ends by the signal and leaves
// no OUT.tmp-PID-N, -wal or -shm file, and no output.
TEST(Outputs, InterruptedRunsLeaveNothing) {
    for (int sig : {SIGINT, SIGTERM, SIGHUP}) {
        TempDir dir, logs;
        const std::string out = dir / "long.trace";
        const pid_t pid = spawn_memlife(
            {"simulate", "--scenario", "mixed", "--connections", "100000000", "-o", out},
            logs / "err");
        ASSERT_TRUE(wait_for_file(dir.path.string(), ".tmp-"));
        std::this_thread::sleep_for(300ms);
        ::kill(pid, sig);
        EXPECT_EQ(wait_for(pid), 128 + sig);
        EXPECT_EQ(joined(files_in(dir.path.string())), "") << "simulate, signal " << sig;
    }
    // import from a FIFO that never ends: the import is waiting in read() when the signal comes.
    for (int sig : {SIGINT, SIGTERM}) {
        TempDir dir, logs;
        const std::string fifo = dir / "in.jsonl", out = dir / "imported.trace";
        ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
        const pid_t pid = spawn_memlife({"import", "jsonl", fifo, "-o", out}, logs / "err");
        const int writer = ::open(fifo.c_str(), O_WRONLY); // waits for the import to open it
        ASSERT_GE(writer, 0);
        const std::string line = "{\"kind\":\"session_open\",\"t\":1,\"session\":1}\n";
        ASSERT_EQ(::write(writer, line.data(), line.size()), static_cast<ssize_t>(line.size()));
        ASSERT_TRUE(wait_for_file(dir.path.string(), ".tmp-"));
        std::this_thread::sleep_for(200ms);
        ::kill(pid, sig);
        EXPECT_EQ(wait_for(pid), 128 + sig);
        ::close(writer);
        EXPECT_EQ(joined(files_in(dir.path.string())), "in.jsonl ") << "import, signal " << sig;
    }
}

// A write past `ulimit -f` fails as an I/O error: exit 3, one line, nothing left behind.
TEST(Outputs, FileSizeLimitLeavesNothing) {
    TempDir dir, logs;
    const std::string big = dir / "big.trace";
    ASSERT_EQ(
        run_memlife("simulate --scenario mixed --connections 2000 -o " + quote(big), dir).exit_code,
        0);
    ASSERT_EQ(
        run_memlife("export " + quote(big) + " --format jsonl -o " + quote(dir / "big.jsonl"), dir)
            .exit_code,
        0);
    const auto limit = [] {
        const rlimit one_mib{1 << 20, 1 << 20};
        ::setrlimit(RLIMIT_FSIZE, &one_mib);
    };
    const std::vector<std::vector<std::string>> commands{
        {"simulate", "--scenario", "mixed", "--connections", "2000", "-o", dir / "limited.trace"},
        {"import", "jsonl", dir / "big.jsonl", "-o", dir / "limited.trace"},
        {"export", big, "--format", "jsonl", "-o", dir / "limited.jsonl"},
    };
    for (const auto& args : commands) {
        const pid_t pid = spawn_memlife(args, logs / "err", limit);
        EXPECT_EQ(wait_for(pid), 3) << args[0];
        const std::string err = slurp(logs / "err");
        EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
        EXPECT_NE(err.find("limited."), std::string::npos) << err;
        EXPECT_EQ(joined(files_in(dir.path.string())), "big.jsonl big.trace ") << args[0];
    }
}

// kill -9 cannot be cleaned up at the time: the next run writing next to the same output
// removes the temporaries of processes that no longer run (and keeps those of live ones).
TEST(Outputs, KilledRunIsCleanedUpByTheNextRun) {
    TempDir dir, logs;
    const std::string out = dir / "x.trace";
    const pid_t pid = spawn_memlife(
        {"simulate", "--scenario", "mixed", "--connections", "100000000", "-o", out}, logs / "err");
    ASSERT_TRUE(wait_for_file(dir.path.string(), ".tmp-"));
    std::this_thread::sleep_for(300ms);
    ::kill(pid, SIGKILL);
    EXPECT_EQ(wait_for(pid), 128 + SIGKILL);
    const auto left = files_in(dir.path.string());
    ASSERT_FALSE(left.empty());
    // A live process's temporary (this test's pid) stays.
    const std::string live = "x.trace.tmp-" + std::to_string(::getpid()) + "-1";
    write_file(dir / live, "in use");
    const auto r =
        run_memlife("simulate --scenario per-request --connections 2 -o " + quote(out), dir);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.err.find("removed " + std::to_string(left.size()) + " temporary file(s)"),
              std::string::npos)
        << r.err << " left: " << joined(left);
    EXPECT_EQ(joined(files_in(dir.path.string())), "x.trace " + live + " ");
}

TEST(Outputs, ImportReadsAFifoAndRefusesEndlessInput) {
    TempDir dir;
    const std::string fifo = dir / "in.log", trace = dir / "fifo.trace";
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    const std::string text =
        slurp(std::string(MEMLIFE_SOURCE_DIR) + "/tests/fixtures/nginx-debug-keepalive.log");
    std::thread writer([&] { std::ofstream(fifo, std::ios::binary) << text; });
    auto r = run_memlife("import nginx " + quote(fifo) + " -o " + quote(trace), dir);
    writer.join();
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(run_memlife("report " + quote(trace), dir).exit_code, 0);

    const auto start = Clock::now();
    r = run_memlife("import nginx /dev/zero -o " + quote(dir / "zero.trace"), dir);
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_EQ(r.err,
              "memlife import: /dev/zero:1: line longer than 64 MiB (the input is not text)\n");
    EXPECT_LT(ms_since(start), 10'000);
    EXPECT_FALSE(fs::exists(dir / "zero.trace"));
}

// Labels from a trace cannot drive the terminal or break JSON: `report` escapes control
// characters and invalid UTF-8; `report --json` replaces invalid UTF-8 with U+FFFD.
TEST(Outputs, ReportEscapesHostileLabels) {
    TempDir dir;
    const std::string trace = dir / "labels.trace";
    ASSERT_EQ(run_memlife("simulate --scenario per-request --connections 2 -o " + quote(trace), dir)
                  .exit_code,
              0);
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(trace.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(
        sqlite3_exec(db,
                     "UPDATE sessions SET peer = CAST(x'1b5b33316d7265640a6c696e65ff41' AS "
                     "TEXT) WHERE id = 1; UPDATE sessions SET peer = 'caf\xc3\xa9' WHERE id = 2",
                     nullptr, nullptr, nullptr),
        SQLITE_OK);
    sqlite3_close(db);

    auto r = run_memlife("report " + quote(trace), dir);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out.find('\x1b'), std::string::npos);
    EXPECT_NE(r.out.find("\\x1b[31mred\\nline\\xffA"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("caf\xc3\xa9"), std::string::npos) << "valid UTF-8 stays";
    EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 7) << r.out; // one line per session

    r = run_memlife("report --json " + quote(trace), dir);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["sessions"][0]["peer"], "\x1b[31mred\nline\xef\xbf\xbd"
                                        "A");
    EXPECT_EQ(j["sessions"][1]["peer"], "caf\xc3\xa9");
}
