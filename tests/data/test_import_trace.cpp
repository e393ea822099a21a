// The importers writing real trace files (Recorder, atomic) and read back (TraceReader):
// nginx fixture -> trace, no file left behind on error, lenient counts stored, and the
// JSON-lines export -> import round trip.
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <thread>

#include "memlife/data/import.hpp"
#include "memlife/data/reader.hpp"
#include "memlife/data/recorder.hpp"
#include "memlife/session.hpp"
#include "test_import_sink.hpp"

using namespace memlife;
using namespace memlife::data;
using memlife::test::fixture;
namespace fs = std::filesystem;

namespace {

class ImportTrace : public ::testing::Test {
protected:
    void SetUp() override {
        char pattern[] = "/tmp/memlife-import-XXXXXX";
        ASSERT_NE(::mkdtemp(pattern), nullptr);
        dir_ = pattern;
    }
    void TearDown() override { fs::remove_all(dir_); }
    std::string path(const std::string& name) const { return (dir_ / name).string(); }
    std::vector<std::string> files() const {
        std::vector<std::string> out;
        for (const auto& entry : fs::directory_iterator(dir_))
            out.push_back(entry.path().filename().string());
        return out;
    }
    static std::string export_text(const std::string& trace) {
        std::ostringstream out;
        export_jsonl(TraceReader(trace), out);
        return out.str();
    }
    fs::path dir_;
};

TEST_F(ImportTrace, NginxCaptureBecomesATrace) {
    const std::string trace = path("nginx.trace");
    const ImportStats stats = import_nginx_to_trace(fixture("nginx-debug-keepalive.log"), trace);
    TraceReader reader(trace);
    const TraceInfo info = reader.info();
    EXPECT_EQ(info.source, "nginx");
    EXPECT_EQ(info.time_resolution_ns, 1'000'000'000u); // nginx stamps lines to the second
    EXPECT_EQ(info.events, stats.events);
    EXPECT_EQ(info.skipped_lines, stats.skipped_lines);
    EXPECT_EQ(info.malformed_lines, 0u);
    EXPECT_EQ(info.dropped_events, 0u);

    const std::vector<SessionRow> sessions = reader.sessions();
    ASSERT_EQ(sessions.size(), 3u);
    const std::uint32_t expected_requests[] = {1, 3, 1};
    for (std::size_t i = 0; i < 3; ++i) {
        const SessionRow& s = sessions[i];
        SCOPED_TRACE("session " + std::to_string(s.id));
        EXPECT_TRUE(s.closed());
        EXPECT_EQ(s.requests, expected_requests[i]);
        EXPECT_EQ(s.leaks, 0u);
        EXPECT_EQ(s.released_at_close_bytes, 0u); // every block was freed one by one
        const std::vector<RequestRow> requests = reader.requests(s.id);
        ASSERT_EQ(requests.size(), expected_requests[i]);
        // Request pools: request-scoped, released by the end of their request; the connection
        // pool lives until the close.
        int request_pools = 0;
        reader.for_each_block(s.id, [&](const BlockRow& b) {
            EXPECT_EQ(b.origin, AllocOrigin::Noted);
            EXPECT_NE(b.release_ns, 0u);
            if (b.size == 512) {
                EXPECT_EQ(b.scope, Scope::Session);
                EXPECT_GT(b.release_ns, requests.back().end_ns);
                EXPECT_LE(b.release_ns, s.close_ns);
            }
            if (b.size == 4096) {
                ++request_pools;
                EXPECT_EQ(b.scope, Scope::Request);
                const RequestRow& r = requests.at(b.request - 1);
                EXPECT_GE(b.alloc_ns, r.begin_ns); // the begin is the pool's own line
                EXPECT_LE(b.release_ns, r.end_ns);
            }
            return true;
        });
        EXPECT_EQ(request_pools, 2 * static_cast<int>(expected_requests[i]));
    }
    EXPECT_EQ(files(), std::vector<std::string>{"nginx.trace"}); // no temporary left over
}

TEST_F(ImportTrace, StrictErrorLeavesNoFileBehind) {
    const std::string log = fixture("import/malformed-malloc.log");
    try {
        import_nginx_to_trace(log, path("out.trace"));
        FAIL() << "no error";
    } catch (const ImportError& e) {
        EXPECT_EQ(std::string(e.what()), log + ":10: malformed malloc line");
    }
    EXPECT_TRUE(files().empty());
    EXPECT_THROW(import_jsonl_to_trace(fixture("import/unknown-kind.jsonl"), path("j.trace")),
                 ImportError);
    EXPECT_THROW(import_nginx_to_trace("/nonexistent/x.log", path("m.trace")), ImportError);
    // An import cancelled from the progress callback leaves nothing either.
    struct Cancelled {};
    ImportOptions cancel;
    cancel.progress = [](std::uint64_t, std::uint64_t) { throw Cancelled{}; };
    EXPECT_THROW(
        import_nginx_to_trace(fixture("nginx-debug-keepalive.log"), path("c.trace"), cancel),
        Cancelled);
    EXPECT_TRUE(files().empty());
}

TEST_F(ImportTrace, OutputOverInputIsRefused) {
    const std::string copy = path("error.log");
    fs::copy_file(fixture("nginx-debug-keepalive.log"), copy);
    EXPECT_THROW(import_nginx_to_trace(copy, copy), ImportError);
    EXPECT_EQ(test::read_file(copy), test::read_file(fixture("nginx-debug-keepalive.log")));
}

TEST_F(ImportTrace, LenientCountsAreStored) {
    ImportOptions lenient;
    lenient.lenient = true;
    const std::string trace = path("lenient.trace");
    import_nginx_to_trace(fixture("import/malformed-malloc.log"), trace, lenient);
    EXPECT_EQ(TraceReader(trace).info().malformed_lines, 1u);
    import_jsonl_to_trace(fixture("import/bad-fields.jsonl"), trace, lenient);
    EXPECT_EQ(TraceReader(trace).info().malformed_lines, 4u);
    EXPECT_EQ(TraceReader(trace).info().source, "jsonl");
    EXPECT_EQ(TraceReader(trace).info().time_resolution_ns, 1u); // JSON lines carry the times
}

TEST_F(ImportTrace, ConnectionThatNeverClosesIsAnOpenSession) {
    const std::string trace = path("open.trace");
    import_nginx_to_trace(fixture("import/never-closes.log"), trace);
    const std::vector<SessionRow> sessions = TraceReader(trace).sessions();
    ASSERT_EQ(sessions.size(), 1u);
    EXPECT_EQ(sessions[0].close_ns, 0u);
    EXPECT_EQ(sessions[0].requests, 2u);
}

TEST_F(ImportTrace, LeaksReachTheTrace) {
    const std::string trace = path("leaks.trace");
    import_nginx_to_trace(fixture("import/leaks.log"), trace);
    const std::vector<LeakRow> leaks = TraceReader(trace).leaks();
    ASSERT_EQ(leaks.size(), 2u);
    EXPECT_EQ(leaks[0].size, 200u);
    EXPECT_EQ(leaks[0].scope, Scope::Request);
    EXPECT_EQ(leaks[1].size, 64u);
    EXPECT_EQ(leaks[1].message, "Leak: 64 bytes at 0x562491491000 allocated between requests "
                                "still live at end of session (nginx *1)");
}

void expect_equal_traces(const std::string& a, const std::string& b) {
    TraceReader ra(a), rb(b);
    std::vector<Event> ea, eb;
    ra.for_each_event([&](const Event& e) { return ea.push_back(e), true; });
    rb.for_each_event([&](const Event& e) { return eb.push_back(e), true; });
    ASSERT_EQ(ea.size(), eb.size());
    for (std::size_t i = 0; i < ea.size(); ++i)
        EXPECT_EQ(std::memcmp(&ea[i], &eb[i], sizeof(Event)), 0) << "event " << i;
    const auto sa = ra.sessions(), sb = rb.sessions();
    ASSERT_EQ(sa.size(), sb.size());
    for (std::size_t i = 0; i < sa.size(); ++i) {
        EXPECT_EQ(sa[i].id, sb[i].id);
        EXPECT_EQ(sa[i].peer, sb[i].peer);
        EXPECT_EQ(sa[i].requests, sb[i].requests);
        EXPECT_EQ(sa[i].peak_bytes, sb[i].peak_bytes);
        EXPECT_EQ(sa[i].leaked_bytes, sb[i].leaked_bytes);
        EXPECT_EQ(sa[i].corruptions, sb[i].corruptions);
    }
    const auto la = ra.leaks(), lb = rb.leaks();
    ASSERT_EQ(la.size(), lb.size());
    for (std::size_t i = 0; i < la.size(); ++i) {
        EXPECT_EQ(la[i].message, lb[i].message);
        EXPECT_EQ(la[i].time_ns, lb[i].time_ns);
        EXPECT_EQ(la[i].alloc_request, lb[i].alloc_request);
    }
    const auto ca = ra.corruptions(), cb = rb.corruptions();
    ASSERT_EQ(ca.size(), cb.size());
    for (std::size_t i = 0; i < ca.size(); ++i) {
        EXPECT_EQ(ca[i].message, cb[i].message);
        EXPECT_EQ(ca[i].expected, cb[i].expected);
        EXPECT_EQ(ca[i].found, cb[i].found);
        EXPECT_EQ(ca[i].first_offset, cb[i].first_offset);
        EXPECT_EQ(ca[i].modified_count, cb[i].modified_count);
        EXPECT_EQ(ca[i].time_ns, cb[i].time_ns);
        EXPECT_EQ(ca[i].alloc_notification, cb[i].alloc_notification);
        EXPECT_EQ(ca[i].last_notification, cb[i].last_notification);
    }
}

TEST_F(ImportTrace, JsonlRoundTripOfAnNginxTrace) {
    const std::string original = path("nginx.trace"), copy = path("copy.trace");
    import_nginx_to_trace(fixture("import/leaks.log"), original);
    const std::string text = export_text(original);
    std::ofstream(path("export.jsonl")) << text;
    import_jsonl_to_trace(path("export.jsonl"), copy);
    expect_equal_traces(original, copy);
    EXPECT_EQ(export_text(copy), text);
}

TEST_F(ImportTrace, JsonlRoundTripOfARecordedTrace) {
    // A real recording: the allocator with a corruption (a tail overwrite), a leak of a noted
    // block, notifications, several sessions.
    const std::string original = path("recorded.trace"), copy = path("copy.trace");
    {
        Recorder recorder(original);
        Runtime runtime(Config{}, &recorder);
        Session* a = runtime.open("10.0.0.1:1000");
        Session* b = runtime.open("10.0.0.2:2000");
        for (int r = 0; r < 3; ++r) {
            a->request_begin();
            a->set_notification(Notification::UrlMap);
            auto* p = static_cast<char*>(a->alloc_mem(100 + r));
            if (r == 1) p[100 + r] = 0; // one byte past the end
            a->alloc_request(64);
            static char noted[16];
            if (r == 2) a->note_alloc(noted, sizeof noted, Scope::Request); // never freed
            a->request_end();
        }
        b->alloc_mem(10);
        runtime.close(a);
        runtime.close(b);
        recorder.commit();
    }
    ASSERT_EQ(TraceReader(original).corruptions().size(), 1u);
    ASSERT_EQ(TraceReader(original).leaks().size(), 1u);
    const std::string text = export_text(original);
    std::ofstream(path("export.jsonl")) << text;
    import_jsonl_to_trace(path("export.jsonl"), copy);
    expect_equal_traces(original, copy);
    EXPECT_EQ(export_text(copy), text);
    EXPECT_NE(text.find("\"kind\":\"corruption\""), std::string::npos);
    EXPECT_NE(text.find("\"peer\":\"10.0.0.2:2000\""), std::string::npos);
}

// A FIFO can be read only once: the import opens its input once (it used to open it twice
// and wait forever for a second writer).
TEST_F(ImportTrace, FifoInput) {
    const std::string fifo = path("capture.log"), trace = path("fifo.trace");
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    const std::string text = test::read_file(fixture("nginx-debug-keepalive.log"));
    std::thread writer([&] { std::ofstream(fifo, std::ios::binary) << text; });
    const ImportStats stats = import_nginx_to_trace(fifo, trace);
    writer.join();
    const ImportStats from_file =
        import_nginx_to_trace(fixture("nginx-debug-keepalive.log"), path("file.trace"));
    EXPECT_EQ(stats.events, from_file.events);
    EXPECT_EQ(stats.bytes, text.size());
    EXPECT_EQ(TraceReader(trace).sessions().size(), from_file.sessions);
}

} // namespace
