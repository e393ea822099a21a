// The command line on hostile and failed traces (issue 18, classes 3-5), as users and CI
// scripts run it: an incomplete recording is never "clean"; a write failure stops `serve`
// and `simulate` at once with one line; a damaged trace is one line and exit 2; SQL that does
// not end is stopped. tests/hostile/run-set.sh runs the whole hostile set through every
// command (CTest: app.hostile_set).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sqlite3.h>

#include <algorithm>
#include <filesystem>
#include <optional>
#include <regex>
#include <thread>

#include "process.hpp"
#include "serve_process.hpp"

using namespace memlife::test;

namespace {

void exec(const std::string& path, const std::string& sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    char* error = nullptr;
    EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error), SQLITE_OK)
        << (error != nullptr ? error : "");
    sqlite3_free(error);
    sqlite3_close(db);
}

std::string simulate(const TempDir& dir, const std::string& name) {
    const std::string path = dir / name;
    const Result r =
        run_memlife("simulate --scenario per-request --connections 20 -o " + quote(path), dir);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return path;
}

std::size_t lines(const std::string& text) {
    return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

void limit_file_size(rlim_t bytes) {
    std::signal(SIGXFSZ, SIG_IGN); // as the commands do: a write past the limit fails
    const rlimit limit{bytes, bytes};
    ::setrlimit(RLIMIT_FSIZE, &limit);
}

// `check` and `report` on a trace whose recording did not finish.
void expect_incomplete(const TempDir& dir, const std::string& trace) {
    Result r = run_memlife("check " + quote(trace), dir);
    EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
    EXPECT_EQ(r.out.find("clean"), std::string::npos) << r.out;
    EXPECT_EQ(lines(r.err), 1u) << r.err;
    EXPECT_EQ(r.err.rfind("memlife check: " + trace + ": incomplete recording (", 0), 0u) << r.err;
    EXPECT_EQ(run_memlife("check -q " + quote(trace), dir).exit_code, 2);

    r = run_memlife("report " + quote(trace), dir);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("\nWARNING: incomplete recording ("), std::string::npos) << r.out;
    r = run_memlife("report --json " + quote(trace), dir);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(nlohmann::json::parse(r.out)["complete"], false);
}

} // namespace

// Class 3: `check` never calls an incomplete recording clean (exit 2 and one line), and
// `report` says it is incomplete; a finished one is complete.
TEST(CliHostile, AnIncompleteRecordingIsNotClean) {
    TempDir dir;
    const std::string trace = simulate(dir, "done.trace");
    Result r = run_memlife("check " + quote(trace), dir);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find(": clean ("), std::string::npos) << r.out;
    r = run_memlife("report --json " + quote(trace), dir);
    EXPECT_EQ(nlohmann::json::parse(r.out)["complete"], true);
    EXPECT_EQ(run_memlife("report " + quote(trace), dir).out.find("WARNING"), std::string::npos);

    exec(trace, "UPDATE meta SET value = 0 WHERE key = 'complete'");
    expect_incomplete(dir, trace);
}

// Class 3: a recording killed with SIGKILL is incomplete.
TEST(CliHostile, AKilledServeIsAnIncompleteRecording) {
    TempDir dir;
    const std::string trace = dir / "killed.trace";
    ServeProcess serve;
    ASSERT_TRUE(serve.start({"-o", trace})) << serve.first_line;
    {
        Socket client(connect_to(serve.port));
        ASSERT_TRUE(send_all(client, "GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"));
        EXPECT_NE(read_until_close(client, 5s).find("200 OK"), std::string::npos);
    }
    std::this_thread::sleep_for(300ms); // a commit (every 100 ms)
    EXPECT_EQ(serve.stop(SIGKILL), 128 + SIGKILL);
    expect_incomplete(dir, trace);
}

// Class 3: a write failure (here `ulimit -f`) stops `serve` at once: one line on stderr
// naming the trace, every connection closed, exit 3; the trace keeps what was committed
// before and is an incomplete recording.
TEST(CliHostile, ServeStopsAtAWriteFailure) {
    TempDir dir;
    const std::string trace = dir / "full.trace", err = dir / "serve.err";
    ServeProcess serve;
    ASSERT_TRUE(serve.start({"-o", trace}, [&] {
        const int fd = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        ::dup2(fd, STDERR_FILENO);
        limit_file_size(1 << 20);
    })) << serve.first_line;
    std::string request;
    for (int i = 0; i < 200; ++i)
        request += "GET /page/" + std::to_string(i) + " HTTP/1.1\r\nHost: t\r\n\r\n";
    request += "GET /last HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
    // Its exit code once it ended by itself (nullopt while it runs).
    const auto ended = [&]() -> std::optional<int> {
        int status = 0;
        if (::waitpid(serve.pid, &status, WNOHANG) != serve.pid) return std::nullopt;
        serve.pid = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    };
    const auto start = Clock::now();
    int rounds = 0;
    std::optional<int> code;
    while (!(code = ended()) && ms_since(start) < 60'000) {
        Socket client(connect_to(serve.port));
        if (client >= 0) {
            send_all(client, request);
            read_until_close(client, 5s);
        }
        ++rounds;
    }
    while (!code && ms_since(start) < 65'000) {
        std::this_thread::sleep_for(10ms);
        code = ended();
    }
    ASSERT_TRUE(code.has_value()) << "still serving after " << rounds << " rounds";
    EXPECT_EQ(*code, 3);
    const std::string said = slurp(err);
    EXPECT_EQ(lines(said), 1u) << said;
    EXPECT_EQ(said.rfind("memlife serve: " + trace + ": cannot write the trace (", 0), 0u) << said;
    EXPECT_NE(said.find("; stopping the server"), std::string::npos) << said;
    expect_incomplete(dir, trace);
}

// Class 3: `simulate` stops at a write failure instead of running to the end, and says how
// far it got.
TEST(CliHostile, SimulateStopsEarlyAtAWriteFailure) {
    TempDir dir, logs;
    const std::string out = dir / "limited.trace";
    const pid_t pid =
        spawn_memlife({"simulate", "--scenario", "mixed", "--connections", "1000000", "-o", out},
                      logs / "err", [] { limit_file_size(1 << 20); });
    EXPECT_EQ(wait_for(pid), 3);
    const std::string err = slurp(logs / "err");
    EXPECT_EQ(lines(err), 1u) << err;
    EXPECT_EQ(err.rfind("memlife simulate: " + out + ": cannot write the trace (", 0), 0u) << err;
    std::smatch m;
    ASSERT_TRUE(std::regex_search(err, m, std::regex("stopped after (\\d+) of (\\d+) requests")))
        << err;
    EXPECT_LT(std::stoull(m[1]), std::stoull(m[2]) / 10) << err;
    EXPECT_FALSE(std::filesystem::exists(out));
}

// Classes 3 and 4: a damaged trace is one line naming the file and the problem, exit 2, for
// every command that reads it.
TEST(CliHostile, ADamagedTraceIsOneLineAndExit2) {
    TempDir dir;
    const std::string trace = simulate(dir, "damaged.trace");
    exec(trace, "DELETE FROM sessions WHERE id = 3");
    const std::string why = trace + ": damaged trace (session 3 has event batches but no "
                                    "sessions row)\n";
    for (const std::string command : {"report", "report --json", "check", "export"}) {
        const std::string args =
            command == "export" ? " --format csv -o " + quote(dir / "x.csv") : std::string();
        const Result r = run_memlife(command + " " + quote(trace) + args, dir);
        EXPECT_EQ(r.exit_code, 2) << command;
        const std::string name = command.substr(0, command.find(' '));
        EXPECT_EQ(r.err, "memlife " + name + ": " + why) << command;
    }
    EXPECT_FALSE(std::filesystem::exists(dir / "x.csv"));
    exec(trace, "CREATE VIEW v AS SELECT 1");
    const Result r = run_memlife("sql " + quote(trace) + " 'SELECT 1'", dir);
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_EQ(r.err, "memlife sql: " + trace + ": not a memlife trace (unexpected view v)\n");
}

// Class 5: `sql` stops a query that does not end, and refuses what reaches outside the trace.
TEST(CliHostile, SqlStopsEndlessQueriesAndRefusesTheOutside) {
    TempDir dir;
    const std::string trace = simulate(dir, "q.trace");
    const auto start = Clock::now();
    Result r = run_memlife("sql --timeout 0.5 " + quote(trace) +
                               " 'WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n) "
                               "SELECT count(*) FROM n'",
                           dir);
    EXPECT_LT(ms_since(start), 30'000);
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_EQ(r.err, "memlife sql: " + trace +
                         ": SQL error: query stopped after 0.5 s (the time limit)\n");
    r = run_memlife("sql " + quote(trace) + " \"SELECT fts3_tokenizer('simple')\"", dir);
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_EQ(r.err, "memlife sql: " + trace +
                         ": SQL error: function fts3_tokenizer is not allowed on a trace\n");
    r = run_memlife("sql " + quote(trace) + " 'SELECT count(*) FROM sessions'", dir);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "count(*)\n20\n");
}
