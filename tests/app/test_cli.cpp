// memlife simulate/report/check/export/sql as a user runs them: each scenario's signature,
// each exit code, bad input.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "process.hpp"

using memlife::test::quote;
using memlife::test::run_memlife;
using memlife::test::TempDir;
using nlohmann::json;

namespace {

json report(const std::string& trace, const TempDir& dir) {
    auto r = run_memlife("report --json " + quote(trace), dir);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return json::parse(r.out);
}

std::string simulate(const std::string& scenario, const TempDir& dir, int connections = 6) {
    const std::string trace = dir / (scenario + ".trace");
    auto r =
        run_memlife("simulate --scenario " + scenario + " -o " + quote(trace) + " --connections " +
                        std::to_string(connections) + " --requests-per-connection 10",
                    dir);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return trace;
}

} // namespace

TEST(Cli, KeepaliveLeakGrowsUntilTheConnectionEnds) {
    TempDir dir;
    const json j = report(simulate("keepalive-leak", dir), dir);
    ASSERT_EQ(j["sessions"].size(), 6u);
    for (const auto& s : j["sessions"]) {
        EXPECT_EQ(s["requests"], 10);
        EXPECT_GT(s["growth_bytes_per_request"].get<double>(), 64.0) << s.dump();
        EXPECT_EQ(s["released_at_close_bytes"], s["peak_bytes"]) << "all of it lives until close";
        EXPECT_EQ(s["corruptions"], 0);
        EXPECT_EQ(s["leaks"], 0);
    }
    EXPECT_EQ(j["totals"]["order_violations"], 0);
}

TEST(Cli, PerRequestMemoryIsFlat) {
    TempDir dir;
    const json j = report(simulate("per-request", dir), dir);
    for (const auto& s : j["sessions"]) {
        EXPECT_DOUBLE_EQ(s["growth_bytes_per_request"].get<double>(), 0.0) << s.dump();
        EXPECT_EQ(s["released_at_close_bytes"], 0);
    }
}

TEST(Cli, TailOverrunIsFoundAsCorruption) {
    TempDir dir;
    const std::string trace = simulate("tail-overrun", dir, 20);
    const json j = report(trace, dir);
    EXPECT_GT(j["totals"]["corruptions"].get<int>(), 0);
    auto check = run_memlife("check " + quote(trace), dir);
    EXPECT_EQ(check.exit_code, 1);
    EXPECT_NE(check.out.find("corruption"), std::string::npos) << check.out;
}

TEST(Cli, MissingFreeIsFoundAsLeaks) {
    TempDir dir;
    const std::string trace = simulate("missing-free", dir);
    const json j = report(trace, dir);
    EXPECT_EQ(j["totals"]["leaks"], 60) << "one per request";
    for (const auto& s : j["sessions"])
        EXPECT_EQ(s["leaks"], 10);
    EXPECT_EQ(run_memlife("check " + quote(trace), dir).exit_code, 1);
}

// `report --sort KEY --top N`: the first N sessions of that order (ties by id), totals of
// every session; the text says which sessions it shows.
TEST(Cli, ReportSortsAndKeepsTheTop) {
    TempDir dir;
    const std::string trace = simulate("mixed", dir, 12);
    const json all = report(trace, dir);
    ASSERT_EQ(all["sessions"].size(), 12u);
    for (const char* key : {"growth", "peak", "requests", "corruptions"}) {
        SCOPED_TRACE(key);
        auto r = run_memlife(
            std::string("report --json --sort ") + key + " --top 4 " + quote(trace), dir);
        ASSERT_EQ(r.exit_code, 0) << r.err;
        const json j = json::parse(r.out);
        EXPECT_EQ(j["sort"], key);
        ASSERT_EQ(j["sessions"].size(), 4u);
        EXPECT_EQ(j["totals"], all["totals"]) << "totals stay those of every session";
        const std::string field = std::string(key) == "growth" ? "growth_bytes_per_request"
                                  : std::string(key) == "peak" ? "peak_bytes"
                                                               : key;
        // Highest first, and nothing left out is higher than the last one shown.
        for (std::size_t i = 1; i < 4; ++i)
            EXPECT_GE(j["sessions"][i - 1][field].get<double>(),
                      j["sessions"][i][field].get<double>());
        std::size_t higher = 0;
        for (const auto& s : all["sessions"])
            higher += s[field].get<double>() > j["sessions"][3][field].get<double>();
        EXPECT_LE(higher, 3u);
    }
    auto text = run_memlife("report --sort growth --top 3 " + quote(trace), dir);
    ASSERT_EQ(text.exit_code, 0) << text.err;
    EXPECT_NE(text.out.find("3 of 12 sessions, by growth per request"), std::string::npos)
        << text.out;
    EXPECT_NE(text.out.find("totals: 12 sessions"), std::string::npos) << text.out;
    EXPECT_EQ(run_memlife("report --sort size " + quote(trace), dir).exit_code, 2);
    EXPECT_EQ(run_memlife("report --top 0 " + quote(trace), dir).exit_code, 2);
}

// Corruption details, in text and JSON: block, offset, address, requests.
TEST(Cli, ReportGivesCorruptionDetails) {
    TempDir dir;
    const std::string trace = simulate("tail-overrun", dir, 20);
    const json j = report(trace, dir);
    ASSERT_GT(j["totals"]["corruptions"].get<int>(), 0);
    ASSERT_EQ(j["corruptions"].size(), j["totals"]["corruptions"].get<std::size_t>());
    for (const auto& c : j["corruptions"]) {
        EXPECT_GT(c["block"].get<int>(), 0) << c.dump();
        EXPECT_GT(c["address"].get<std::uint64_t>(), 0u);
        EXPECT_EQ(c["first_modified_address"].get<std::uint64_t>(),
                  c["address"].get<std::uint64_t>() + c["size"].get<std::uint64_t>() +
                      c["first_offset"].get<std::uint64_t>());
        EXPECT_GT(c["alloc_request"].get<int>(), 0);
        EXPECT_EQ(c["expected"].get<std::string>().size(), c["found"].get<std::string>().size());
        EXPECT_NE(c["expected"], c["found"]);
    }
    const json& first = j["corruptions"][0];
    auto text = run_memlife("report " + quote(trace), dir);
    const std::string line = "session " + std::to_string(first["session"].get<int>()) + ", block " +
                             std::to_string(first["block"].get<int>()) + ": ";
    const std::size_t at = text.out.find(line);
    ASSERT_NE(at, std::string::npos) << text.out;
    const std::string detail = text.out.substr(at, text.out.find('\n', at) - at);
    EXPECT_NE(detail.find("modified at +"), std::string::npos) << detail;
    EXPECT_NE(
        detail.find("allocated in request " + std::to_string(first["alloc_request"].get<int>())),
        std::string::npos)
        << detail;
    EXPECT_NE(detail.find("detected at connection close"), std::string::npos) << detail;
}

// `check` lists each finding on a line of its own, at most 20 per kind.
TEST(Cli, CheckListsEachFinding) {
    TempDir dir;
    const std::string trace = simulate("mixed", dir, 3);
    const json j = report(trace, dir);
    const int corruptions = j["totals"]["corruptions"], leaks = j["totals"]["leaks"];
    ASSERT_GT(leaks, 20);
    auto check = run_memlife("check --max-growth 64 " + quote(trace), dir);
    EXPECT_EQ(check.exit_code, 1);
    auto count = [&](const std::string& what) {
        std::size_t n = 0;
        for (std::size_t at = 0; (at = check.out.find(what, at)) != std::string::npos; ++at)
            ++n;
        return n;
    };
    EXPECT_EQ(count("still live at the end of its request"), 20u) << check.out;
    EXPECT_NE(check.out.find("... and " + std::to_string(leaks - 20) + " more"), std::string::npos)
        << check.out;
    EXPECT_EQ(count("past its end"), std::size_t(std::min(corruptions, 20)));
    EXPECT_EQ(count("grows "), 3u) << "one line per growing session";
}

TEST(Cli, CheckExitCodes) {
    TempDir dir;
    const std::string clean = simulate("per-request", dir);
    EXPECT_EQ(run_memlife("check " + quote(clean), dir).exit_code, 0);
    const std::string leak = simulate("keepalive-leak", dir);
    EXPECT_EQ(run_memlife("check " + quote(leak), dir).exit_code, 0)
        << "growth alone: no limit set";
    EXPECT_EQ(run_memlife("check --max-growth 10 " + quote(leak), dir).exit_code, 1);
    EXPECT_EQ(run_memlife("check --max-growth 100000 " + quote(leak), dir).exit_code, 0);
    EXPECT_EQ(run_memlife("check " + quote(dir / "missing.trace"), dir).exit_code, 2);
    EXPECT_EQ(run_memlife("check --max-growth nonsense " + quote(clean), dir).exit_code, 2);
    // A limit nothing can exceed is a mistake, not a pass.
    for (const char* limit : {"nan", "-1", "inf"}) {
        const auto r =
            run_memlife(std::string("check --max-growth ") + limit + " " + quote(leak), dir);
        EXPECT_EQ(r.exit_code, 2) << limit;
        EXPECT_NE(r.err.find("expected a number of bytes"), std::string::npos) << r.err;
    }
}

TEST(Cli, SameSeedSameContent) {
    TempDir dir;
    const std::string a = dir / "a.trace", b = dir / "b.trace";
    for (const auto& t : {a, b})
        ASSERT_EQ(
            run_memlife("simulate --scenario mixed --connections 12 --requests-per-connection 5 "
                        "--threads 3 --seed 7 -o " +
                            quote(t),
                        dir)
                .exit_code,
            0);
    const std::string query = "\"SELECT session, request, kind, block, size, notification FROM "
                              "events ORDER BY session, seq\"";
    auto ea = run_memlife("sql " + quote(a) + " " + query, dir);
    auto eb = run_memlife("sql " + quote(b) + " " + query, dir);
    ASSERT_EQ(ea.exit_code, 0) << ea.err;
    EXPECT_GT(ea.out.size(), 1000u);
    EXPECT_EQ(ea.out, eb.out);
}

TEST(Cli, ExportCsvAndJsonl) {
    TempDir dir;
    const std::string trace = simulate("mixed", dir);
    ASSERT_EQ(
        run_memlife("export " + quote(trace) + " --format csv -o " + quote(dir / "e.csv"), dir)
            .exit_code,
        0);
    const std::string csv = memlife::test::slurp(dir / "e.csv");
    EXPECT_EQ(csv.rfind("seq,time_ns,session,request,kind", 0), 0u);
    EXPECT_NE(csv.find(",alloc,"), std::string::npos);
    ASSERT_EQ(
        run_memlife("export " + quote(trace) + " --format jsonl -o " + quote(dir / "e.jsonl"), dir)
            .exit_code,
        0);
    EXPECT_NE(memlife::test::slurp(dir / "e.jsonl").find("\"session_open\""), std::string::npos);
}

TEST(Cli, BadInputGetsOneLineExit2AndNoOutputFile) {
    TempDir dir;
    const std::string empty = dir / "empty.trace", junk = dir / "junk.trace";
    std::ofstream(empty).close();
    std::ofstream(junk) << std::string(5000, 'x');
    for (const std::string& bad : {dir / "missing.trace", empty, junk}) {
        const std::string out = dir / "out.csv";
        for (const std::string& cmd : {std::string("report "), std::string("check "),
                                       "export --format csv -o " + quote(out) + " "}) {
            auto r = run_memlife(cmd + quote(bad), dir);
            EXPECT_EQ(r.exit_code, 2) << cmd << bad;
            EXPECT_NE(r.err.find(bad), std::string::npos) << r.err;
            EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
        }
    }
    EXPECT_FALSE(std::filesystem::exists(dir / "out.csv"));
    EXPECT_EQ(run_memlife("report", dir).exit_code, 2) << "missing argument";
    EXPECT_EQ(run_memlife("frobnicate", dir).exit_code, 2);
    EXPECT_EQ(run_memlife("simulate --scenario nope -o x.trace", dir).exit_code, 2);
    EXPECT_EQ(run_memlife("--help", dir).exit_code, 0);
    for (const std::string cmd :
         {"simulate", "serve", "import", "report", "check", "export", "sql"})
        EXPECT_EQ(run_memlife(cmd + " --help", dir).exit_code, 0) << cmd;
}

TEST(Cli, OrderViolationsAreFindings) {
    TempDir dir;
    const std::string trace = dir / "violation.trace";
    auto imported = run_memlife(
        "import jsonl " +
            quote(std::string(MEMLIFE_SOURCE_DIR) + "/tests/fixtures/teaching-violation.jsonl") +
            " -o " + quote(trace),
        dir);
    ASSERT_EQ(imported.exit_code, 0) << imported.err;
    auto check = run_memlife("check " + quote(trace), dir);
    EXPECT_EQ(check.exit_code, 1);
    EXPECT_NE(check.out.find("SEND_RESPONSE after END_OF_REQUEST"), std::string::npos) << check.out;
    const json j = report(trace, dir);
    ASSERT_EQ(j["order_violations"].size(), 1u);
    EXPECT_EQ(j["order_violations"][0]["rule"], "send-response-after-end-of-request");
}

TEST(Cli, ImportStrictErrorNamesTheLineAndLeavesNoTrace) {
    TempDir dir;
    const std::string log = dir / "bad.log", trace = dir / "bad.trace";
    std::ofstream(log) << "2026/11/24 16:42:11 [debug] 4643#4643: *1 malloc: 0000XYZ:abc\n";
    auto r = run_memlife("import nginx " + quote(log) + " -o " + quote(trace), dir);
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find(log + ":1: "), std::string::npos) << r.err;
    EXPECT_FALSE(std::filesystem::exists(trace));
    auto lenient = run_memlife("import nginx --lenient " + quote(log) + " -o " + quote(trace), dir);
    EXPECT_EQ(lenient.exit_code, 0) << lenient.err;
    EXPECT_TRUE(std::filesystem::exists(trace));
    // The report says the times come from one-second stamps.
    auto report = run_memlife("report " + quote(trace), dir);
    EXPECT_EQ(report.exit_code, 0) << report.err;
    EXPECT_NE(report.out.find("times to 1 s:"), std::string::npos) << report.out;
}

// --clock-interval 1 gives every allocation its own clock reading; a large interval lets
// allocations carry the time of the event before them (the notification they run in).
TEST(Cli, ClockIntervalSetsHowOftenAllocationsReadTheClock) {
    TempDir dir;
    auto same_time_allocs = [&](const std::string& interval) {
        const std::string trace = dir / ("clock-" + interval + ".trace");
        auto r = run_memlife("simulate --scenario mixed --connections 4 "
                             "--requests-per-connection 5 --clock-interval " +
                                 interval + " -o " + quote(trace),
                             dir);
        EXPECT_EQ(r.exit_code, 0) << r.err;
        r = run_memlife("sql " + quote(trace) +
                            " \"SELECT count(*) FROM (SELECT kind, time_ns - lag(time_ns) OVER "
                            "(PARTITION BY session ORDER BY seq) AS d FROM events) WHERE kind = "
                            "'alloc' AND d = 0\"",
                        dir);
        EXPECT_EQ(r.exit_code, 0) << r.err;
        return std::stoi(r.out.substr(r.out.find('\n') + 1));
    };
    EXPECT_EQ(same_time_allocs("1"), 0);
    EXPECT_GT(same_time_allocs("65536"), 0);
    EXPECT_EQ(run_memlife("simulate --scenario mixed -o x.trace --clock-interval 0", dir).exit_code,
              2);
    EXPECT_EQ(run_memlife("serve --clock-interval 65537", dir).exit_code, 2);
    EXPECT_FALSE(std::filesystem::exists(dir / "x.trace"));
}
