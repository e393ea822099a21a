// A real nginx (Debian's, built --with-debug) recorded with `memlife record`: a
// configuration written into a temporary prefix (loopback port, daemon off, pid, logs and
// temp paths inside it, a debug error log), curl sending keep-alive requests over three
// connections (1, 3 and 7 requests). The trace must agree with the clients and with the
// same run's debug log imported by `memlife import nginx`: the sessions, the requests per
// session and the connection pool's size. Once with one process, once with a master and
// two workers.
#include <sqlite3.h>

#include "memlife/data/stacks.hpp"
#include "nginx_prefix.hpp"
#include "record_fixture.hpp"

using namespace memlife;
using namespace memlife::test;
using namespace std::chrono_literals;

namespace {

constexpr int kPattern[] = {1, 3, 7};

// One number from the trace (the stack tables are not all in the reader's API).
std::int64_t scalar(const std::string& trace, const char* sql) {
    sqlite3* db = nullptr;
    std::int64_t value = -1;
    sqlite3_stmt* s = nullptr;
    if (sqlite3_open_v2(trace.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK &&
        sqlite3_prepare_v2(db, sql, -1, &s, nullptr) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
        value = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    sqlite3_close(db);
    return value;
}

// With stacks (on by default): the connection pool's stack goes through nginx's accept and
// ngx_create_pool in every session, and the processes (a master's forked workers) share
// one tree: the nginx binary is one module, every frame has its module.
void expect_stacks(const std::string& trace, std::size_t sessions) {
    data::StackReader stacks(trace);
    ASSERT_TRUE(stacks.status().recorded) << stacks.status().reason;
    EXPECT_EQ(scalar(trace, "SELECT count(*) FROM modules WHERE path LIKE '%/nginx'"), 1);
    EXPECT_EQ(scalar(trace, "SELECT count(*) FROM stack_nodes WHERE module = 0"), 0);
    bool pool = false;
    for (const data::StackCost& cost : stacks.top_stacks({})) {
        bool create_pool = false, accept = false;
        for (const data::StackFrame& f : stacks.frames(cost.stack)) {
            create_pool = create_pool || f.function == "ngx_create_pool";
            accept = accept || f.function == "ngx_event_accept";
        }
        if (!create_pool || !accept) continue;
        pool = true;
        EXPECT_EQ(cost.sessions, sessions) << "every connection's pool, one stack";
    }
    EXPECT_TRUE(pool) << "no stack through ngx_event_accept and ngx_create_pool";
}

std::size_t count(const std::string& text, const std::string& what) {
    std::size_t n = 0;
    for (std::size_t at = 0; (at = text.find(what, at)) != std::string::npos; ++at)
        ++n;
    return n;
}

// nginx under `memlife record` in a temporary prefix.
class RecordedNginx {
public:
    RecordedNginx(const TempDir& dir, int workers) : dir_(dir), port_(free_port()) {
        std::vector<std::string> argv{MEMLIFE_CLI, "record", "-o", trace(), "--"};
        const auto nginx =
            nginx_prefix(dir.path, port_, {.workers = workers, .error_log = "debug"});
        argv.insert(argv.end(), nginx.begin(), nginx.end());
        recorder_.emplace(argv, dir / "record.stderr");
    }
    std::string trace() const { return dir_ / "record.mltrace"; }
    std::string log() const { return dir_ / "logs/debug.log"; }
    std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/index.html"; }

    // The probe is a connection of its own, without requests.
    bool ready() const { return wait_until_accepts(port_); }
    // nginx logs a client's close asynchronously, after curl has exited.
    bool closed(std::size_t connections) const {
        for (auto until = std::chrono::steady_clock::now() + 10s;
             std::chrono::steady_clock::now() < until; std::this_thread::sleep_for(20ms))
            if (count(slurp(log()), "close http connection") >= connections) return true;
        return false;
    }
    // SIGTERM to memlife record, which passes it to nginx; memlife's exit code.
    int stop() {
        ::kill(recorder_->pid(), SIGTERM);
        return recorder_->wait();
    }
    std::string stderr_text() const { return slurp(dir_ / "record.stderr"); }
    // The pid file holds the master's (or the single process's) pid.
    int master_pid() const { return std::atoi(slurp(dir_ / "logs/nginx.pid").c_str()); }

private:
    const TempDir& dir_;
    int port_;
    std::optional<Child> recorder_;
};

void record_and_compare(int workers) {
    if (::access(kNginx, X_OK) != 0)
        GTEST_SKIP() << kNginx << " is not installed (scripts/test.sh installs Debian's nginx)";
    TempDir dir;
    RecordedNginx nginx(dir, workers);
    ASSERT_TRUE(nginx.ready()) << nginx.stderr_text();
    std::map<int, std::uint32_t> clients;
    for (int requests : kPattern) {
        const int port = curl_keepalive(nginx.url(), requests);
        ASSERT_NE(port, 0) << "curl failed or used more than one connection";
        clients[port] = static_cast<std::uint32_t>(requests);
    }
    ASSERT_TRUE(nginx.closed(1 + std::size(kPattern))) << "nginx did not log the closes";
    const int master = nginx.master_pid();
    ASSERT_EQ(nginx.stop(), 0) << nginx.stderr_text();

    const std::string imported = dir / "imported.mltrace";
    const Shell import = shell(std::string(MEMLIFE_CLI) + " import nginx " + nginx.log() + " -o " +
                               imported + " 2>&1");
    ASSERT_EQ(import.exit_code, 0) << import.out;

    data::TraceReader recorded(nginx.trace()), from_log(imported);
    const auto recorded_requests = requests_by_port(recorded);
    EXPECT_EQ(recorded.sessions().size(), 1 + std::size(kPattern)) << "the probe and the clients";
    EXPECT_EQ(recorded_requests, requests_by_port(from_log));
    for (const auto& [port, requests] : clients)
        EXPECT_EQ(recorded_requests.at(port), requests) << "client port " << port;
    const auto pools = first_block_by_port(recorded);
    EXPECT_EQ(pools, first_block_by_port(from_log)) << "the connection pool's size";
    for (const auto& [port, size] : pools)
        EXPECT_EQ(size, 512u) << "nginx's connection_pool_size on 64-bit";
    for (const data::SessionRow& s : recorded.sessions()) {
        SCOPED_TRACE(s.peer);
        EXPECT_TRUE(s.closed());
        EXPECT_NE(s.released_at_close_bytes, 0u) << "c->pool is destroyed right after the close";
    }
    expect_stacks(nginx.trace(), recorded.sessions().size());
    if (workers > 0) { // the workers accept, each recorded as a process of its own
        for (const data::SessionRow& s : recorded.sessions())
            EXPECT_FALSE(s.peer.ends_with("(pid " + std::to_string(master) + ")")) << s.peer;
    }
}

} // namespace

TEST(RecordNginx, OneProcessAgreesWithClientsAndDebugLog) {
    record_and_compare(0);
}

TEST(RecordNginx, MasterAndTwoWorkersAgreeWithClientsAndDebugLog) {
    record_and_compare(2);
}
