// The preload library's hooks on a dedicated probe program (hook_probe.cpp): every
// allocation function and its edge cases, threads freeing each other's blocks, a signal
// handler that allocates inside a connection, fork while other threads allocate, exec.
// Each mode runs plain, recorded, and (alloc, threads, signals) as an AddressSanitizer
// build with the preload library in front of ASan's allocator.
#include "record_fixture.hpp"

using namespace memlife;
using namespace memlife::test;

namespace {

struct ProbeRun {
    int exit_code = -1;
    std::string out, err;
};

ProbeRun run(const TempDir& dir, std::vector<std::string> argv,
             const std::vector<std::string>& env = {}) {
    const std::string err = dir / "stderr";
    std::filesystem::remove(err);
    Child child(argv, err, env);
    ProbeRun r;
    for (std::string line; !(line = child.line()).empty();)
        r.out += line + "\n";
    r.exit_code = child.wait(std::chrono::seconds(120));
    r.err = slurp(err);
    return r;
}

ProbeRun record(const TempDir& dir, const std::string& trace, const std::string& program,
                const std::string& mode, const std::vector<std::string>& env = {}) {
    return run(dir, {MEMLIFE_CLI, "record", "-o", trace, "--", program, mode}, env);
}

// Sessions of the trace whose peer names process `pid` (the label ends "(pid N)").
std::size_t sessions_of_pid(const std::vector<data::SessionRow>& sessions, const std::string& pid) {
    std::size_t n = 0;
    for (const auto& s : sessions)
        n += s.peer.ends_with("(pid " + pid + ")");
    return n;
}

} // namespace

TEST(RecordHooks, EveryAllocationFunctionWorksRecordedAndPlain) {
    TempDir dir;
    const ProbeRun plain = run(dir, {HOOK_PROBE, "alloc"});
    ASSERT_EQ(plain.exit_code, 0) << plain.err;
    const std::string trace = dir / "alloc.mltrace";
    const ProbeRun recorded = record(dir, trace, HOOK_PROBE, "alloc");
    ASSERT_EQ(recorded.exit_code, 0) << recorded.err;
    data::TraceReader reader(trace);
    EXPECT_EQ(reader.sessions().size(), 0u) << "no connection was accepted";
}

TEST(RecordHooks, ThreadsFreeingEachOthersBlocks) {
    TempDir dir;
    const std::string trace = dir / "threads.mltrace";
    const ProbeRun r = record(dir, trace, HOOK_PROBE, "threads");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    data::TraceReader reader(trace);
    const auto sessions = reader.sessions();
    ASSERT_EQ(sessions.size(), 8u);
    std::uint64_t events = 0;
    for (const auto& s : sessions) {
        SCOPED_TRACE(s.peer);
        EXPECT_TRUE(s.closed());
        EXPECT_EQ(s.requests, 1u);
        EXPECT_GE(s.blocks, 20000u) << "every allocation of the thread while it served";
        events += s.events;
    }
    // Every event decodes, in order per session (a Release never before its Alloc).
    std::uint64_t seen = 0;
    reader.for_each_event([&](const Event&) { return ++seen, true; });
    EXPECT_EQ(seen, events);
}

TEST(RecordHooks, SignalHandlerThatAllocatesInsideAConnection) {
    TempDir dir;
    const std::string trace = dir / "signals.mltrace";
    const ProbeRun r = record(dir, trace, HOOK_PROBE, "signals");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    data::TraceReader reader(trace);
    const auto sessions = reader.sessions();
    ASSERT_EQ(sessions.size(), 1u);
    EXPECT_EQ(sessions[0].requests, 20000u) << "one request per read after a write";
    EXPECT_GT(sessions[0].blocks, 10u) << "the handler's allocations belong to the connection";
}

TEST(RecordHooks, ForkWhileOtherThreadsAllocateRecordsEveryChild) {
    TempDir dir;
    const std::string trace = dir / "fork.mltrace";
    const ProbeRun r = record(dir, trace, HOOK_PROBE, "fork");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    data::TraceReader reader(trace);
    const auto sessions = reader.sessions();
    ASSERT_EQ(sessions.size(), 3u + 40u) << "the parent's three and one per child";
    std::map<std::string, int> per_process;
    for (const auto& s : sessions)
        ++per_process[s.peer.substr(s.peer.find("(pid "))];
    EXPECT_EQ(per_process.size(), 41u);
    for (const auto& s : sessions) {
        SCOPED_TRACE(s.peer);
        EXPECT_TRUE(s.closed());
        if (per_process[s.peer.substr(s.peer.find("(pid "))] == 1) {
            EXPECT_EQ(s.requests, 2u) << "a child's connection";
        }
    }
}

TEST(RecordHooks, ExecRecordsTheNewImage) {
    TempDir dir;
    const std::string trace = dir / "exec.mltrace";
    const ProbeRun r = record(dir, trace, HOOK_PROBE, "exec");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    data::TraceReader reader(trace);
    const auto sessions = reader.sessions();
    ASSERT_EQ(sessions.size(), 1u);
    EXPECT_EQ(sessions[0].requests, 3u);
    EXPECT_EQ(sessions_of_pid(sessions, std::to_string(::getpid())), 0u);
}

TEST(RecordHooks, ADaemonClosingEveryDescriptorKeepsRecording) {
    TempDir dir;
    const std::string trace = dir / "daemon.mltrace";
    const ProbeRun r = record(dir, trace, HOOK_PROBE, "daemon");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.err.find("recording stopped"), std::string::npos) << r.err;
    data::TraceReader reader(trace);
    const auto sessions = reader.sessions();
    ASSERT_EQ(sessions.size(), 2u);
    EXPECT_EQ(sessions[0].requests, 1u);
    EXPECT_TRUE(sessions[0].closed()) << "closefrom closed the connection";
    EXPECT_EQ(sessions[1].requests, 2u);
    EXPECT_TRUE(sessions[1].closed());
}

TEST(RecordHooks, UnderAddressSanitizer) {
    if (std::string(HOOK_PROBE_ASAN).empty()) GTEST_SKIP() << "a sanitized build";
    TempDir dir;
    // ASan wants to come first; the hooks must (to see the allocations): allowed with
    // verify_asan_link_order=0, and ASan's allocator then sits behind the hooks.
    const std::vector<std::string> env{
        "ASAN_OPTIONS=verify_asan_link_order=0:detect_leaks=1:allocator_may_return_null=1:"
        "abort_on_error=0:exitcode=99"};
    for (const char* mode : {"alloc", "threads", "signals"}) {
        SCOPED_TRACE(mode);
        const ProbeRun plain = run(dir, {HOOK_PROBE_ASAN, mode}, env);
        EXPECT_EQ(plain.exit_code, 0) << plain.err;
        const std::string trace = dir / (std::string(mode) + ".mltrace");
        const ProbeRun recorded = record(dir, trace, HOOK_PROBE_ASAN, mode, env);
        EXPECT_EQ(recorded.exit_code, 0) << recorded.err;
        EXPECT_EQ(recorded.err.find("AddressSanitizer"), std::string::npos) << recorded.err;
        // The hooks saw the allocations (ASan's allocator behind them).
        if (std::string(mode) == "threads") {
            data::TraceReader reader(trace);
            EXPECT_EQ(reader.sessions().size(), 8u);
            for (const auto& s : reader.sessions())
                EXPECT_GE(s.blocks, 20000u);
        }
    }
}
