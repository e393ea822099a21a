// `memlife record` around a small test server (keepalive_server): a thread per
// connection or one connection at a time, curl as the client with a known pattern of
// keep-alive requests. The trace must agree with the clients: one session per connection,
// labelled with the client's port, with the requests that client sent; and a server that
// keeps one block per connection after the close has exactly those blocks flagged
// "outlived its connection".
#include "memlife/data/compare.hpp"
#include "memlife/data/stacks.hpp"
#include "record_fixture.hpp"

using namespace memlife;
using namespace memlife::test;

namespace {

constexpr int kPattern[] = {1, 3, 7}; // requests per connection

struct Recorded {
    std::map<int, std::uint32_t> client_requests; // port -> requests the client sent
    int exit_code = -1;
    std::string stderr_text;
};

// Records keepalive_server with `args` while curl runs the pattern.
Recorded record_server(const TempDir& dir, const std::string& trace,
                       const std::vector<std::string>& args) {
    Recorded r;
    std::vector<std::string> argv{MEMLIFE_CLI,
                                  "record",
                                  "-o",
                                  trace,
                                  "--",
                                  KEEPALIVE_SERVER,
                                  "--connections",
                                  std::to_string(std::size(kPattern))};
    argv.insert(argv.end(), args.begin(), args.end());
    Child server(argv, dir / "stderr");
    const std::string first = server.line();
    EXPECT_EQ(first.rfind("port ", 0), 0u) << first << slurp(dir / "stderr");
    const std::string url = "http://127.0.0.1:" + first.substr(5) + "/hello";
    for (int requests : kPattern) {
        const int port = curl_keepalive(url, requests);
        EXPECT_NE(port, 0) << "curl failed or used more than one connection";
        r.client_requests[port] = static_cast<std::uint32_t>(requests);
    }
    r.exit_code = server.wait();
    r.stderr_text = slurp(dir / "stderr");
    return r;
}

void expect_agreement(const std::string& trace, const Recorded& r) {
    ASSERT_EQ(r.exit_code, 0) << r.stderr_text;
    data::TraceReader reader(trace);
    EXPECT_EQ(reader.info().source, "record");
    EXPECT_EQ(requests_by_port(reader), r.client_requests);
    for (const data::SessionRow& s : reader.sessions()) {
        SCOPED_TRACE(s.peer);
        EXPECT_TRUE(s.closed());
        EXPECT_GE(s.blocks, 1 + s.requests) << "a read buffer and a response per request";
        EXPECT_NE(s.released_at_close_bytes, 0u) << "the read buffer is freed right after close";
        const auto requests = reader.requests(s.id);
        ASSERT_EQ(requests.size(), s.requests);
        for (const auto& q : requests)
            EXPECT_NE(q.end_ns, 0u);
    }
}

} // namespace

TEST(RecordServer, ThreadPerConnectionAgreesWithItsClients) {
    TempDir dir;
    const std::string trace = dir / "threads.mltrace";
    const Recorded r = record_server(dir, trace, {"--threads"});
    expect_agreement(trace, r);
    EXPECT_TRUE(data::TraceReader(trace).outlived().empty()) << "everything freed in time";
    EXPECT_EQ(shell(std::string(MEMLIFE_CLI) + " check -q " + trace).exit_code, 0);
}

TEST(RecordServer, OneConnectionAtATimeAgreesWithItsClients) {
    TempDir dir;
    const std::string trace = dir / "loop.mltrace";
    const Recorded r = record_server(dir, trace, {});
    expect_agreement(trace, r);
    EXPECT_TRUE(data::TraceReader(trace).outlived().empty()) << "everything freed in time";
}

// Exactly the kept blocks are flagged: one per connection, of the kept size, allocated in
// the connection's first request; check fails on them, report counts them.
TEST(RecordServer, BlocksKeptAfterTheCloseOutliveTheirConnection) {
    for (const char* mode : {"--threads", "--loop"}) {
        SCOPED_TRACE(mode);
        TempDir dir;
        const std::string trace = dir / "keep.mltrace";
        std::vector<std::string> args{"--keep", "3333"};
        if (std::string(mode) == "--threads") args.push_back(mode);
        const Recorded r = record_server(dir, trace, args);
        expect_agreement(trace, r);
        data::TraceReader reader(trace);
        const auto outlived = reader.outlived();
        ASSERT_EQ(outlived.size(), std::size(kPattern));
        std::set<std::uint64_t> sessions;
        for (const data::OutlivedRow& o : outlived) {
            EXPECT_EQ(o.size, 3333u);
            EXPECT_EQ(o.alloc_request, 1u);
            sessions.insert(o.session);
        }
        EXPECT_EQ(sessions.size(), std::size(kPattern)) << "one per connection";
        for (const data::SessionRow& s : reader.sessions()) {
            EXPECT_EQ(s.outlived, 1u);
            EXPECT_EQ(s.leaks, 0u);
        }
        const Shell check = shell(std::string(MEMLIFE_CLI) + " check " + trace);
        EXPECT_EQ(check.exit_code, 1);
        EXPECT_NE(check.out.find("3 block(s) outlived their connection, 9.76 KiB"),
                  std::string::npos)
            << check.out;
        // Each names the code that allocated it (stacks are on by default).
        std::istringstream lines(check.out);
        int named = 0;
        for (std::string line; std::getline(lines, line);)
            if (line.find("still live after its connection closed") != std::string::npos) {
                EXPECT_NE(line.find("; from "), std::string::npos) << line;
                named += line.find("keep_after_close") != std::string::npos;
            }
        EXPECT_EQ(named, 3) << check.out;
    }
}

// With call stacks (on by default): every allocation of a connection names the server
// code that made it, without memlife's frames; the kept blocks' stack is keep_after_close
// called from serve, and nothing else allocated there. --stacks 0 records none.
TEST(RecordServer, StacksNameTheServerCodeThatAllocated) {
    for (const bool threads : {true, false}) {
        SCOPED_TRACE(threads ? "--threads" : "one at a time");
        TempDir dir;
        const std::string trace = dir / "stacks.mltrace";
        std::vector<std::string> args{"--keep", "3333"};
        if (threads) args.push_back("--threads");
        expect_agreement(trace, record_server(dir, trace, args));

        data::TraceReader reader(trace);
        std::uint64_t session_blocks = 0;
        for (const data::SessionRow& s : reader.sessions())
            session_blocks += s.blocks;
        data::StackReader stacks(trace);
        ASSERT_TRUE(stacks.status().recorded) << stacks.status().reason;
        std::uint64_t stacked_blocks = 0;
        int kept_stacks = 0;
        for (const data::StackCost& cost : stacks.top_stacks({})) {
            stacked_blocks += cost.blocks;
            const auto frames = stacks.frames(cost.stack);
            ASSERT_FALSE(frames.empty());
            for (const data::StackFrame& f : frames)
                EXPECT_EQ(f.module.find("libmemlife"), std::string::npos)
                    << data::frame_name(f) << " in " << f.module;
            if (frames[0].function.find("keep_after_close") == std::string::npos) continue;
            ++kept_stacks;
            EXPECT_EQ(cost.blocks, std::size(kPattern));
            EXPECT_EQ(cost.bytes_allocated, std::size(kPattern) * 3333);
            EXPECT_EQ(cost.sessions, std::size(kPattern));
            ASSERT_GE(frames.size(), 2u);
            EXPECT_NE(frames[1].function.find("serve"), std::string::npos) << frames[1].function;
            EXPECT_TRUE(frames[0].file.ends_with("keepalive_server.cpp")) << frames[0].file;
        }
        EXPECT_EQ(kept_stacks, 1);
        EXPECT_EQ(stacked_blocks, session_blocks) << "every connection's block has a stack";
    }

    TempDir dir;
    const std::string trace = dir / "nostacks.mltrace";
    const std::vector<std::string> argv{
        MEMLIFE_CLI, "record",         "--stacks",      "0", "-o", trace,
        "--",        KEEPALIVE_SERVER, "--connections", "1"};
    Child server(argv, dir / "stderr");
    const std::string first = server.line();
    ASSERT_EQ(first.rfind("port ", 0), 0u) << first << slurp(dir / "stderr");
    EXPECT_NE(curl_keepalive("http://127.0.0.1:" + first.substr(5) + "/", 2), 0);
    ASSERT_EQ(server.wait(), 0) << slurp(dir / "stderr");
    EXPECT_EQ(data::TraceReader(trace).sessions().size(), 1u);
    EXPECT_FALSE(data::StackReader(trace).status().recorded);
}

// Issue 17: two recordings of one program, the second with the kept block fixed. The
// comparison names what the fix changed (the blocks that outlived their connection, and the
// peak they added) and nothing else moves.
TEST(RecordServer, DiffOfTheFixNamesWhatItChangedAndNothingElse) {
    TempDir dir;
    const std::string before = dir / "before.mltrace", after = dir / "after.mltrace";
    expect_agreement(before, record_server(dir, before, {"--keep", "3333"}));
    expect_agreement(after, record_server(dir, after, {}));
    const auto profile = [](const std::string& path) {
        return data::profile_trace(data::TraceReader(path));
    };
    const data::Comparison c = data::compare(profile(before), profile(after));
    const data::MetricDelta* outlived = c.find("outlived_bytes");
    ASSERT_NE(outlived, nullptr);
    EXPECT_EQ(*outlived->base, 3 * 3333);
    EXPECT_EQ(*outlived->next, 0);
    EXPECT_EQ(outlived->verdict, data::Verdict::Better);
    EXPECT_EQ(c.find("outlived_blocks")->verdict, data::Verdict::Better);
    // The kept block was part of its connection's live bytes: the peak fell with it.
    const std::set<std::string> moved{"outlived_bytes", "outlived_blocks", "peak_bytes.median",
                                      "peak_bytes.p95", "peak_bytes.max"};
    for (const data::MetricDelta& m : c.totals) {
        if (moved.count(m.key) == 0) {
            EXPECT_EQ(m.verdict, data::Verdict::Same) << m.key << ": " << data::format_change(m);
        }
    }
    EXPECT_TRUE(data::regressions(c).empty());

    const Shell diff = shell(std::string(MEMLIFE_CLI) + " diff " + before + " " + after);
    ASSERT_EQ(diff.exit_code, 0) << diff.out;
    const std::size_t row = diff.out.find("\noutlived bytes ");
    ASSERT_NE(row, std::string::npos) << diff.out;
    const std::string line = diff.out.substr(row + 1, diff.out.find('\n', row + 1) - row - 1);
    EXPECT_NE(line.find("-9.76 KiB (-100.0%)"), std::string::npos) << line;
    EXPECT_TRUE(line.ends_with("better")) << line;
}
