// The nginx debug-log importer on the real captures (tests/fixtures/nginx-debug-keepalive.log,
// nginx-large-headers.log) and on hand-made logs (tests/fixtures/import/): sessions, requests,
// scopes, releases, leaks, interleaving, and bad input.
#include <gtest/gtest.h>

#include <cstring>
#include <map>
#include <set>

#include "memlife/data/import.hpp"
#include "memlife/order_checker.hpp"
#include "test_import_sink.hpp"

using namespace memlife;
using memlife::data::ImportError;
using memlife::data::ImportOptions;
using memlife::data::ImportStats;
using memlife::test::fixture;
using memlife::test::RecordingSink;

namespace {

const std::string kCapture = fixture("nginx-debug-keepalive.log");

ImportStats import(const std::string& path, RecordingSink& sink, bool lenient = false) {
    ImportOptions options;
    options.lenient = lenient;
    return data::import_nginx(path, sink, options);
}

// The ImportError's what() for a strict import of `path` ("" when none is thrown).
std::string strict_error(const std::string& path) {
    RecordingSink sink;
    try {
        data::import_nginx(path, sink);
    } catch (const ImportError& e) {
        return e.what();
    }
    return "";
}

// Per session: the requests, and every block with its alloc/release positions.
struct BlockLife {
    std::uint64_t address = 0, size = 0;
    Scope scope = Scope::Session;
    std::uint32_t request = 0;
    std::size_t alloc_at = 0, release_at = SIZE_MAX; // positions in the session's events
};

struct SessionView {
    std::vector<Event> events;
    std::map<std::uint64_t, BlockLife> blocks;                 // by block id
    std::vector<std::pair<std::size_t, std::size_t>> requests; // begin, end positions
    std::size_t open_at = SIZE_MAX, close_at = SIZE_MAX;
};

SessionView view(const RecordingSink& sink, std::uint64_t session) {
    SessionView v;
    v.events = sink.of_session(session);
    for (std::size_t i = 0; i < v.events.size(); ++i) {
        const Event& e = v.events[i];
        switch (e.kind) {
        case EventKind::SessionOpen:
            v.open_at = i;
            break;
        case EventKind::SessionClose:
            v.close_at = i;
            break;
        case EventKind::RequestBegin:
            EXPECT_EQ(e.request, v.requests.size() + 1) << "requests are numbered 1, 2, ...";
            v.requests.emplace_back(i, SIZE_MAX);
            break;
        case EventKind::RequestEnd:
            EXPECT_EQ(e.request, v.requests.size());
            v.requests.back().second = i;
            break;
        case EventKind::Alloc: {
            EXPECT_EQ(e.flags, static_cast<std::uint8_t>(AllocOrigin::Noted));
            EXPECT_FALSE(v.blocks.contains(e.block)) << "block ids are unique in a session";
            v.blocks[e.block] = BlockLife{e.address, e.size, e.scope, e.request, i, SIZE_MAX};
            break;
        }
        case EventKind::Release: {
            auto it = v.blocks.find(e.block);
            EXPECT_NE(it, v.blocks.end()) << "release of a block the session never allocated";
            if (it == v.blocks.end()) break;
            EXPECT_EQ(it->second.address, e.address);
            EXPECT_EQ(it->second.size, e.size);
            EXPECT_EQ(it->second.release_at, SIZE_MAX) << "released twice";
            it->second.release_at = i;
            break;
        }
        default:
            break;
        }
    }
    return v;
}

// The request-pool and connection-pool story every keep-alive connection must tell.
void expect_pool_lifetimes(const SessionView& v) {
    ASSERT_NE(v.open_at, SIZE_MAX);
    ASSERT_NE(v.close_at, SIZE_MAX);
    // The connection pool: the first block, 512 bytes, session scope, allocated at open and
    // released just before close, after every request ended.
    const BlockLife& pool = v.blocks.at(1);
    EXPECT_EQ(pool.size, 512u);
    EXPECT_EQ(pool.scope, Scope::Session);
    EXPECT_EQ(pool.alloc_at, v.open_at + 1);
    EXPECT_EQ(pool.release_at, v.close_at - 1);
    EXPECT_GT(pool.release_at, v.requests.back().second);
    // Each request: its 4096-byte pool blocks are request-scoped, allocated inside the request
    // and all released before its RequestEnd.
    for (std::size_t r = 0; r < v.requests.size(); ++r) {
        const auto [begin, end] = v.requests[r];
        ASSERT_NE(end, SIZE_MAX) << "request " << r + 1 << " never ended";
        int request_pools = 0;
        for (const auto& [id, b] : v.blocks) {
            if (b.request != r + 1) continue;
            EXPECT_EQ(b.scope, Scope::Request);
            EXPECT_GT(b.alloc_at, begin);
            EXPECT_LT(b.release_at, end) << "block " << id << " outlives request " << r + 1;
            request_pools += b.size == 4096;
        }
        EXPECT_GE(request_pools, 1) << "request " << r + 1 << " has no 4096-byte pool";
    }
    // Nothing is live at close: the close releases nothing more and reports no leak.
    EXPECT_EQ(v.events[v.close_at].size, 0u);
    EXPECT_EQ(v.events[v.close_at].block, 0u);
}

TEST(ImportNginx, CaptureHasTheProbeAndTwoCurlConnections) {
    RecordingSink sink;
    const ImportStats stats = import(kCapture, sink);
    EXPECT_EQ(stats.lines, 601u);
    EXPECT_EQ(stats.sessions, 3u);
    EXPECT_EQ(stats.open_sessions, 0u);
    EXPECT_EQ(stats.leaks, 0u);
    EXPECT_EQ(stats.malformed_lines, 0u);
    EXPECT_EQ(stats.events, sink.events.size());
    // The worker's own frees at shutdown (lines 591-601) were never allocated in the log.
    EXPECT_EQ(stats.unknown_frees, 11u);
    EXPECT_GT(stats.skipped_lines, 500u);
    EXPECT_TRUE(sink.reports.empty());

    ASSERT_EQ(sink.peers.size(), 3u);
    EXPECT_EQ(sink.peers[0].second, "127.0.0.1:38672 (*1 4643#4643)");
    EXPECT_EQ(sink.peers[1].second, "127.0.0.1:38686 (*2 4643#4643)");
    EXPECT_EQ(sink.peers[2].second, "127.0.0.1:38696 (*3 4643#4643)");

    const std::size_t expected_requests[] = {1, 3, 1}; // probe, keep-alive x3, single
    for (std::uint64_t s = 1; s <= 3; ++s) {
        SCOPED_TRACE("session " + std::to_string(s));
        const SessionView v = view(sink, s);
        EXPECT_EQ(v.requests.size(), expected_requests[s - 1]);
        expect_pool_lifetimes(v);
    }
    // The 30000-byte file buffer of the second keep-alive request is request memory.
    const SessionView keepalive = view(sink, 2);
    int big = 0;
    for (const auto& [id, b] : keepalive.blocks) {
        if (b.size != 30000) continue;
        ++big;
        EXPECT_EQ(b.request, 2u);
        EXPECT_EQ(b.scope, Scope::Request);
        EXPECT_EQ(b.address, 0x56249148AD80u);
    }
    EXPECT_EQ(big, 1);
    // The 1024-byte header buffer is allocated between requests: connection memory.
    EXPECT_EQ(keepalive.blocks.at(2).size, 1024u);
    EXPECT_EQ(keepalive.blocks.at(2).scope, Scope::Session);
}

TEST(ImportNginx, TimeIsTheLogSecondPlusTheLineIndexAndNeverGoesBack) {
    RecordingSink sink;
    import(kCapture, sink);
    // 2026/11/24 16:42:11 UTC; the accept of *1 is the capture's 21st line (index 20).
    constexpr std::uint64_t kSecond = 1795538531ull * 1'000'000'000ull;
    ASSERT_FALSE(sink.events.empty());
    EXPECT_EQ(sink.events.front().kind, EventKind::SessionOpen);
    EXPECT_EQ(sink.events.front().time_ns, kSecond + 20);
    for (std::size_t i = 1; i < sink.events.size(); ++i)
        EXPECT_LE(sink.events[i - 1].time_ns, sink.events[i].time_ns) << "event " << i;
}

TEST(ImportNginx, CaptureSatisfiesTheOrderChecker) {
    RecordingSink sink;
    import(kCapture, sink);
    OrderChecker checker;
    for (const Event& e : sink.events)
        checker.check(e);
    for (const OrderViolation& v : checker.violations())
        ADD_FAILURE() << v.rule << ": " << v.message;
}

TEST(ImportNginx, BufferAndFileGiveTheSameEvents) {
    RecordingSink from_file, from_memory;
    import(kCapture, from_file);
    data::import_nginx_buffer(test::read_file(kCapture), from_memory);
    ASSERT_EQ(from_file.events.size(), from_memory.events.size());
    for (std::size_t i = 0; i < from_file.events.size(); ++i)
        EXPECT_EQ(std::memcmp(&from_file.events[i], &from_memory.events[i], sizeof(Event)), 0);
}

TEST(ImportNginx, InterleavedConnectionsAndWorkersAreKeptApart) {
    // *5 and *6 on worker 4643, *7 on worker 4644 using the same addresses as *5, their lines
    // interleaved one by one.
    RecordingSink sink;
    const ImportStats stats = import(fixture("import/interleaved-workers.log"), sink);
    EXPECT_EQ(stats.sessions, 3u);
    EXPECT_EQ(stats.unknown_frees, 0u);
    EXPECT_EQ(stats.leaks, 0u);
    std::map<std::string, std::uint64_t> session_of;
    for (const auto& [session, peer] : sink.peers)
        session_of[peer] = session;
    const std::map<std::string, std::size_t> requests = {
        {"127.0.0.1:40001 (*5 4643#4643)", 2},
        {"127.0.0.1:40002 (*6 4643#4643)", 1},
        {"127.0.0.1:40003 (*7 4644#4644)", 1},
    };
    for (const auto& [peer, count] : requests) {
        SCOPED_TRACE(peer);
        ASSERT_TRUE(session_of.contains(peer));
        const SessionView v = view(sink, session_of[peer]);
        EXPECT_EQ(v.requests.size(), count);
        expect_pool_lifetimes(v);
    }
}

TEST(ImportNginx, ConnectionThatNeverClosesStaysOpen) {
    RecordingSink sink;
    const ImportStats stats = import(fixture("import/never-closes.log"), sink);
    EXPECT_EQ(stats.sessions, 1u);
    EXPECT_EQ(stats.open_sessions, 1u);
    EXPECT_EQ(sink.count(EventKind::SessionClose), 0u);
    EXPECT_EQ(sink.count(EventKind::RequestBegin), 2u);
    EXPECT_EQ(sink.count(EventKind::RequestEnd), 1u); // the second request is still running
    EXPECT_EQ(sink.count(EventKind::Leak), 0u);       // nothing is reported before a close
}

TEST(ImportNginx, FreeOfAnUnknownAddressIsCountedAndSkipped) {
    // Documented: nginx frees memory allocated before the log started; such a free is not an
    // error, even in strict mode. One inside the connection, one at worker level.
    RecordingSink sink;
    const ImportStats stats = import(fixture("import/unknown-free.log"), sink);
    EXPECT_EQ(stats.unknown_frees, 2u);
    EXPECT_EQ(stats.malformed_lines, 0u);
    for (const Event& e : sink.events)
        EXPECT_NE(e.address, 0x5624914BEEF0u) << name(e.kind);
    const SessionView v = view(sink, 1);
    EXPECT_EQ(v.requests.size(), 1u);
    expect_pool_lifetimes(v);
}

TEST(ImportNginx, BlocksLiveAtRequestEndAndAtCloseAreLeaks) {
    RecordingSink sink;
    const ImportStats stats = import(fixture("import/leaks.log"), sink);
    EXPECT_EQ(stats.leaks, 2u);
    ASSERT_EQ(sink.reports.size(), 2u);
    const SessionView v = view(sink, 1);

    const ml_report& request_leak = sink.reports[0];
    EXPECT_EQ(request_leak.kind, ML_REPORT_LEAK);
    EXPECT_EQ(request_leak.session_id, 1u);
    EXPECT_EQ(request_leak.size, 200u);
    EXPECT_EQ(request_leak.address, 0x562491490000u);
    EXPECT_EQ(request_leak.scope, ML_SCOPE_REQUEST);
    EXPECT_EQ(request_leak.alloc_request, 1u);
    EXPECT_STREQ(request_leak.message, "Leak: 200 bytes at 0x562491490000 allocated in request 1 "
                                       "still live at end of request (nginx *1)");
    const ml_report& session_leak = sink.reports[1];
    EXPECT_EQ(session_leak.size, 64u);
    EXPECT_EQ(session_leak.scope, ML_SCOPE_SESSION);
    EXPECT_STREQ(session_leak.message, "Leak: 64 bytes at 0x562491491000 allocated between "
                                       "requests still live at end of session (nginx *1)");

    // Each report has its Leak event: the request's before its RequestEnd, the session's
    // before its SessionClose, which releases both still-live blocks.
    std::vector<std::size_t> leak_at;
    for (std::size_t i = 0; i < v.events.size(); ++i)
        if (v.events[i].kind == EventKind::Leak) leak_at.push_back(i);
    ASSERT_EQ(leak_at.size(), 2u);
    EXPECT_EQ(leak_at[0] + 1, v.requests.at(0).second);
    EXPECT_EQ(leak_at[1] + 1, v.close_at);
    EXPECT_EQ(v.events[v.close_at].size, 264u);
    EXPECT_EQ(v.events[v.close_at].block, 2u);
    // The connection pool itself is released at close, not leaked.
    EXPECT_NE(v.blocks.at(1).release_at, SIZE_MAX);
}

// A real capture (nginx 1.22, tests/fixtures/nginx-large-headers.log) of what moves memory
// to the connection between requests (ngx_http_set_keepalive): 3 KB request headers (large
// header buffers from c->pool, freed after the request pool), gzip (a large allocation the
// request frees itself, so the pool destroy logs "free: 0000000000000000" for it), POST
// bodies, and pipelined requests (the large header buffer kept for the next request). A
// healthy nginx: no leak, every block released by its own free.
TEST(ImportNginx, KeepAliveHandOffIsNotALeak) {
    RecordingSink sink;
    const ImportStats stats = import(fixture("nginx-large-headers.log"), sink);
    EXPECT_EQ(stats.sessions, 4u);
    EXPECT_EQ(stats.open_sessions, 0u);
    EXPECT_EQ(stats.leaks, 0u);
    EXPECT_EQ(sink.count(EventKind::Leak), 0u);
    EXPECT_TRUE(sink.reports.empty());
    for (std::uint64_t session = 1; session <= 4; ++session) {
        SCOPED_TRACE("session " + std::to_string(session));
        const SessionView v = view(sink, session);
        ASSERT_NE(v.close_at, SIZE_MAX);
        for (const auto& [id, b] : v.blocks) {
            EXPECT_NE(b.release_at, SIZE_MAX) << "block " << id << " never freed";
            if (b.size == 8192) { // a large header buffer: the connection's memory
                EXPECT_EQ(b.scope, Scope::Session) << "block " << id;
                EXPECT_NE(b.request, 0u) << "allocated while reading a request's headers";
            }
            // Request-pool memory never outlives its request.
            if (b.scope == Scope::Request) {
                EXPECT_LT(b.release_at, v.requests.at(b.request - 1).second) << "block " << id;
            }
        }
        EXPECT_EQ(v.events[v.close_at].size, 0u) << "nothing left for the close to release";
    }
    // The pipelined connection (four requests in one write, the last with Connection: close)
    // keeps its large header buffer from the first request to the close.
    const SessionView pipelined = view(sink, 4);
    ASSERT_EQ(pipelined.requests.size(), 4u);
    int large_header_buffers = 0;
    for (const auto& [id, b] : pipelined.blocks) {
        if (b.size != 8192) continue;
        ++large_header_buffers;
        EXPECT_EQ(b.request, 1u);
        EXPECT_GT(b.release_at, pipelined.requests.back().second);
    }
    EXPECT_EQ(large_header_buffers, 1);
}

// Whatever the log, a block is reported as leaked at most once, and never more bytes leak
// than were allocated.
TEST(ImportNginx, ABlockLeaksAtMostOnce) {
    for (const char* name :
         {"nginx-debug-keepalive.log", "nginx-large-headers.log", "import/leaks.log",
          "import/interleaved-workers.log", "import/never-closes.log", "import/unknown-free.log"}) {
        SCOPED_TRACE(name);
        RecordingSink sink;
        import(fixture(name), sink, /*lenient=*/true);
        std::map<std::uint64_t, std::uint64_t> allocated, leaked;
        std::set<std::pair<std::uint64_t, std::uint64_t>> leaked_blocks;
        for (const Event& e : sink.events) {
            if (e.kind == EventKind::Alloc) allocated[e.session] += e.size;
            if (e.kind != EventKind::Leak) continue;
            leaked[e.session] += e.size;
            EXPECT_TRUE(leaked_blocks.emplace(e.session, e.block).second)
                << "block " << e.block << " of session " << e.session << " leaked twice";
        }
        for (const auto& [session, bytes] : leaked)
            EXPECT_LE(bytes, allocated[session]) << "session " << session;
        EXPECT_EQ(sink.reports.size(), sink.count(EventKind::Leak));
    }
}

TEST(ImportNginx, StrictErrorsNameFileAndLine) {
    const std::string malformed = fixture("import/malformed-malloc.log");
    EXPECT_EQ(strict_error(malformed), malformed + ":10: malformed malloc line");
    const std::string cut = fixture("import/truncated-line.log");
    EXPECT_EQ(strict_error(cut), cut + ":10: malformed posix_memalign line");
    const std::string end = fixture("import/truncated-end.log");
    EXPECT_EQ(strict_error(end), end + ":24: truncated free line (no newline at end of file)");

    RecordingSink sink;
    try {
        data::import_nginx(malformed, sink);
        FAIL() << "no error";
    } catch (const ImportError& e) {
        EXPECT_EQ(e.file(), malformed);
        EXPECT_EQ(e.line(), 10u);
        EXPECT_EQ(e.reason(), "malformed malloc line");
    }
}

TEST(ImportNginx, LenientSkipsAndCountsMalformedLines) {
    RecordingSink sink;
    const ImportStats stats = import(fixture("import/malformed-malloc.log"), sink, true);
    EXPECT_EQ(stats.malformed_lines, 1u);
    EXPECT_EQ(stats.sessions, 1u);
    expect_pool_lifetimes(view(sink, 1)); // the rest of the log is imported as usual

    // The cut last line was the connection pool's free: it stays live and is reported.
    RecordingSink cut;
    const ImportStats cut_stats = import(fixture("import/truncated-end.log"), cut, true);
    EXPECT_EQ(cut_stats.malformed_lines, 1u);
    EXPECT_EQ(cut_stats.leaks, 1u);
    ASSERT_EQ(cut.reports.size(), 1u);
    EXPECT_EQ(cut.reports[0].size, 512u);
    EXPECT_EQ(cut.count(EventKind::SessionClose), 1u);
}

TEST(ImportNginx, BadFilesGiveOneLineErrors) {
    const std::string missing = "/nonexistent/memlife/error.log";
    EXPECT_EQ(strict_error(missing), missing + ": No such file or directory");
    EXPECT_EQ(strict_error(MEMLIFE_SOURCE_DIR),
              std::string(MEMLIFE_SOURCE_DIR) + ": Is a directory");
    const std::string foreign = fixture("import/not-nginx.txt");
    EXPECT_EQ(strict_error(foreign),
              foreign + ": not an nginx error log (no line starts with 'YYYY/MM/DD HH:MM:SS "
                        "[level] PID#TID: ')");
    const std::string quiet = fixture("import/no-debug.log");
    EXPECT_EQ(strict_error(quiet), quiet +
                                       ": no pool activity in this nginx log (it needs "
                                       "'error_log FILE debug;' and an nginx built --with-debug)");
    RecordingSink sink;
    EXPECT_THROW(
        {
            try {
                data::import_nginx_buffer("", sink, {}, "empty.log");
            } catch (const ImportError& e) {
                EXPECT_STREQ(e.what(), "empty.log: empty file");
                throw;
            }
        },
        ImportError);
    // A timestamp whose nanoseconds would not fit in 64 bits is not an nginx line.
    EXPECT_THROW(data::import_nginx_buffer("3000/01/01 00:00:00 [debug] 1#1: *1 malloc: 10:8\n",
                                           sink, {}, "future.log"),
                 ImportError);
    // Binary junk: not a log, one line, no crash.
    std::string junk(4096, '\0');
    for (std::size_t i = 0; i < junk.size(); ++i)
        junk[i] = static_cast<char>(i * 7919 % 251);
    EXPECT_THROW(data::import_nginx_buffer(junk, sink, {}, "junk"), ImportError);
}

// Builds one log line of worker 1#1.
std::string line(const std::string& message, int connection = 0) {
    return "2026/11/24 16:42:11 [debug] 1#1: " +
           (connection != 0 ? "*" + std::to_string(connection) + " " : std::string()) + message +
           "\n";
}

TEST(ImportNginx, ConnectionPoolGrowthIsNotARequest) {
    // A second 512-byte pool block between requests extends the connection pool; a 4096-byte
    // one starts a request, and a pipelined request needs no keepalive-handler line.
    const std::string log =
        line("posix_memalign: 0000000000001000:512 @16") + line("accept: 127.0.0.1:1 fd:3", 1) +
        line("posix_memalign: 0000000000002000:512 @16", 1) +
        line("posix_memalign: 0000000000003000:4096 @16", 1) + line("http close request", 1) +
        line("free: 0000000000003000, unused: 8", 1) +
        line("posix_memalign: 0000000000004000:4096 @16", 1) + line("http close request", 1) +
        line("free: 0000000000004000, unused: 8", 1) + line("close http connection: 3", 1) +
        line("free: 0000000000001000, unused: 8", 1) + line("free: 0000000000002000", 1);
    RecordingSink sink;
    data::import_nginx_buffer(log, sink);
    const SessionView v = view(sink, 1);
    ASSERT_EQ(v.blocks.size(), 4u);
    EXPECT_EQ(v.blocks.at(2).scope, Scope::Session);
    EXPECT_EQ(v.blocks.at(2).request, 0u);
    EXPECT_EQ(v.requests.size(), 2u);
    // The close waits for the last block of the connection pool (freed after its header).
    ASSERT_NE(v.close_at, SIZE_MAX);
    EXPECT_EQ(v.blocks.at(2).release_at + 1, v.close_at);
    EXPECT_TRUE(sink.reports.empty());
}

TEST(ImportNginx, AddressReusedWithoutAFreeKeepsTheOldBlockLive) {
    const std::string log =
        line("posix_memalign: 0000000000001000:512 @16") + line("accept: 127.0.0.1:1 fd:3", 1) +
        line("malloc: 0000000000005000:100", 1) +
        line("malloc: 0000000000005000:300", 1) + // free never logged
        line("free: 0000000000005000", 1) + line("close http connection: 3", 1) +
        line("free: 0000000000001000, unused: 8", 1) + line("accept on 127.0.0.1:80, ready: 0");
    RecordingSink sink;
    data::import_nginx_buffer(log, sink);
    ASSERT_EQ(sink.reports.size(), 1u);
    EXPECT_EQ(sink.reports[0].size, 100u); // the first block: its free never came
    const SessionView v = view(sink, 1);
    EXPECT_EQ(v.blocks.at(3).release_at, v.close_at - 3); // the 300-byte one was freed
    EXPECT_EQ(v.events[v.close_at].size, 100u);
}

TEST(ImportNginx, OverlongLines) {
    std::string log = line("posix_memalign: 0000000000001000:512 @16") +
                      line("accept: 127.0.0.1:1 fd:3", 1) +
                      line("http header: \"" + std::string(3u << 20, 'x') + "\"", 1) +
                      line("malloc: 0000000000005000:" + std::string(2u << 20, '1'), 1);
    RecordingSink sink;
    try {
        data::import_nginx_buffer(log, sink, {}, "long.log");
        FAIL() << "no error";
    } catch (const ImportError& e) {
        EXPECT_STREQ(e.what(), "long.log:4: malloc line too long");
    }
    ImportOptions lenient;
    lenient.lenient = true;
    RecordingSink skipped;
    const ImportStats stats = data::import_nginx_buffer(log, skipped, lenient);
    EXPECT_EQ(stats.lines, 4u);
    EXPECT_EQ(stats.malformed_lines, 1u);
    EXPECT_EQ(stats.open_sessions, 1u);
}

// nginx numbers connections with a 64-bit counter: a larger *N is not an nginx line to skip
// silently, it is malformed.
TEST(ImportNginx, ConnectionNumberOutOfRange) {
    const std::string log = line("posix_memalign: 0000000000001000:512 @16") +
                            "2026/11/24 16:42:11 [debug] 1#1: *18446744073709551616 accept: "
                            "127.0.0.1:1 fd:3\n" +
                            line("accept: 127.0.0.1:2 fd:4", 1);
    RecordingSink sink;
    try {
        data::import_nginx_buffer(log, sink, {}, "big.log");
        FAIL() << "no error";
    } catch (const ImportError& e) {
        EXPECT_STREQ(e.what(), "big.log:2: connection number out of range");
    }
    ImportOptions lenient;
    lenient.lenient = true;
    RecordingSink counted;
    const ImportStats stats = data::import_nginx_buffer(log, counted, lenient);
    EXPECT_EQ(stats.malformed_lines, 1u);
    EXPECT_EQ(stats.sessions, 1u);
}

// /dev/zero is one endless line: the import ends with one error, in every mode.
TEST(ImportNginx, EndlessLineEndsTheImport) {
    for (const bool lenient : {false, true}) {
        ImportOptions options;
        options.lenient = lenient;
        RecordingSink sink;
        try {
            data::import_nginx("/dev/zero", sink, options);
            FAIL() << "no error";
        } catch (const ImportError& e) {
            EXPECT_STREQ(e.what(), "/dev/zero:1: line longer than 64 MiB (the input is not text)");
        }
    }
}

TEST(ImportNginx, ProgressReachesTheFileSizeAndCanAbort) {
    std::uint64_t done = 0, total = 0, calls = 0;
    ImportOptions options;
    options.progress = [&](std::uint64_t d, std::uint64_t t) {
        EXPECT_GE(d, done);
        done = d;
        total = t;
        ++calls;
    };
    RecordingSink sink;
    const ImportStats stats = data::import_nginx(kCapture, sink, options);
    EXPECT_EQ(total, test::read_file(kCapture).size());
    EXPECT_EQ(done, total);
    EXPECT_EQ(stats.bytes, total);
    EXPECT_GE(calls, 1u);

    struct Cancelled {};
    options.progress = [](std::uint64_t, std::uint64_t) { throw Cancelled{}; };
    EXPECT_THROW(data::import_nginx(kCapture, sink, options), Cancelled);
}

} // namespace
