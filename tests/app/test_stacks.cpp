// Call stacks from the command line, as a user gets them: a program with known allocation
// sites (stack_sites.cpp) records a trace; `report --by-stack`, `export --format collapsed`,
// `check --max-growth` and `symbolize` are run on it as processes; traces without stacks say
// so and open as before.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sqlite3.h>

#include <cmath>
#include <map>
#include <set>

#include "process.hpp"

using memlife::test::quote;
using memlife::test::Result;
using memlife::test::run_command;
using memlife::test::run_memlife;
using memlife::test::TempDir;
using nlohmann::json;

namespace {

// Records `trace` with `program` (stack_sites or a copy of it); returns what it says each
// site must be.
json record_sites(const std::string& program, const std::string& trace, const TempDir& dir,
                  const std::string& extra = "") {
    const Result r = run_command(quote(program) + " " + quote(trace) + " " + extra, dir);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return json::parse(r.out);
}

json report_by_stack(const std::string& trace, const TempDir& dir, const std::string& extra = "") {
    const Result r = run_memlife("report --by-stack --json " + extra + " " + quote(trace), dir);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return json::parse(r.out);
}

// The stack whose innermost frame is `function`, or null.
const json* stack_of(const json& report, const std::string& function) {
    for (const json& s : report["stacks"])
        if (!s["frames"].empty() && s["frames"][0]["function"] == function) return &s;
    return nullptr;
}

const std::string source_dir = std::filesystem::canonical(MEMLIFE_SOURCE_DIR).string();

bool ends_with(const std::string& s, const std::string& tail) {
    return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

std::string base_name(const std::string& path) {
    return path.substr(path.rfind('/') + 1);
}

// Every site is named by its function and file:line, with its bytes within 1 %.
void expect_sites(const json& report, const json& truth) {
    ASSERT_EQ(report["stacks"].size(), truth["sites"].size()) << report.dump(1);
    for (const json& site : truth["sites"]) {
        const std::string function = site["function"];
        const json* s = stack_of(report, function);
        ASSERT_NE(s, nullptr) << function << " missing from " << report.dump(1);
        const json& f = (*s)["frames"][0];
        // The source file as an absolute path, though the compiler was given a relative one.
        EXPECT_EQ(f["file"], source_dir + "/tests/app/stack_sites.cpp");
        EXPECT_EQ(f["line"], site["line"]) << function;
        EXPECT_NE(f["module"].get<std::string>().find("stack_sites"), std::string::npos);
        const double want = site["bytes_allocated"], got = (*s)["bytes_allocated"];
        EXPECT_NEAR(got, want, want * 0.01) << function;
        // The caller is named too: the stack goes on above the allocating function.
        ASSERT_GE((*s)["frames"].size(), 2u);
        EXPECT_EQ((*s)["frames"][1]["function"], "handle_request") << (*s)["frames"].dump();
    }
}

} // namespace

TEST(Stacks, ReportByStackNamesEachSiteWithItsBytesAndTheGrowingOneTopsGrowth) {
    TempDir dir;
    const std::string trace = dir / "sites.trace";
    const json truth = record_sites(STACK_SITES, trace, dir);
    const json r = report_by_stack(trace, dir);
    expect_sites(r, truth);

    // The proportions of the three request-scope sites: 60/30/10 % of their bytes.
    std::map<std::string, double> bytes;
    for (const json& s : r["stacks"])
        bytes[s["frames"][0]["function"]] = s["bytes_allocated"];
    const double three = bytes["read_body"] + bytes["parse_headers"] + bytes["log_line"];
    EXPECT_NEAR(bytes["read_body"] / three, 0.60, 0.006);
    EXPECT_NEAR(bytes["parse_headers"] / three, 0.30, 0.003);
    EXPECT_NEAR(bytes["log_line"] / three, 0.10, 0.001);

    // Sorted by bytes live at the end, then bytes allocated: the cache (still live at the
    // close) first, then the others by bytes.
    ASSERT_EQ(r["stacks"].size(), 4u);
    EXPECT_EQ(r["stacks"][0]["frames"][0]["function"], "cache_entry");
    EXPECT_EQ(r["stacks"][1]["frames"][0]["function"], "read_body");
    EXPECT_EQ(r["stacks"][2]["frames"][0]["function"], "parse_headers");
    EXPECT_EQ(r["stacks"][3]["frames"][0]["function"], "log_line");

    // The growing site tops growth: 64 bytes per request in each of the 4 sessions; the
    // others do not grow.
    const json* cache = stack_of(r, "cache_entry");
    ASSERT_NE(cache, nullptr);
    EXPECT_NEAR((*cache)["growth_bytes_per_request"].get<double>(), 4 * 64.0, 0.01);
    EXPECT_EQ((*cache)["bytes_live_at_end"], 4 * 100 * 64);
    for (const std::string f : {"read_body", "parse_headers", "log_line"}) {
        ASSERT_NE(stack_of(r, f), nullptr) << f;
        EXPECT_NEAR((*stack_of(r, f))["growth_bytes_per_request"].get<double>(), 0.0, 1e-9) << f;
        EXPECT_EQ((*stack_of(r, f))["bytes_live_at_end"], 0) << f;
    }
    EXPECT_EQ((*stack_of(r, "read_body"))["blocks"], 3 * 400);
    for (const json& s : r["stacks"]) {
        EXPECT_EQ(s["leaks"], 0);
        EXPECT_EQ(s["corruptions"], 0);
        // Exactly the documented keys.
        std::vector<std::string> keys;
        for (const auto& [k, v] : s.items())
            keys.push_back(k);
        EXPECT_EQ(keys, (std::vector<std::string>{"blocks", "bytes_allocated", "bytes_live_at_end",
                                                  "corruptions", "frames",
                                                  "growth_bytes_per_request", "leaks"}));
        for (const json& f : s["frames"])
            EXPECT_EQ(f.size(), 4u) << f.dump(); // function, file, line, module
    }

    // --top N: the first N of the same order.
    const json two = report_by_stack(trace, dir, "--top 2");
    ASSERT_EQ(two["stacks"].size(), 2u);
    EXPECT_EQ(two["stacks"][0], r["stacks"][0]);
    EXPECT_EQ(two["stacks"][1], r["stacks"][1]);

    // The text report names them too, with file:line.
    const Result text = run_memlife("report --by-stack " + quote(trace), dir);
    ASSERT_EQ(text.exit_code, 0) << text.err;
    EXPECT_NE(text.out.find("4 of 4 allocating stacks"), std::string::npos) << text.out;
    EXPECT_NE(text.out.find("cache_entry  " + source_dir + "/tests/app/stack_sites.cpp:" +
                            std::to_string(truth["sites"][3]["line"].get<int>())),
              std::string::npos)
        << text.out;
}

TEST(Stacks, CheckNamesTheStackThatGrowsEachFailingSession) {
    TempDir dir;
    const std::string trace = dir / "sites.trace";
    const int cache_line = record_sites(STACK_SITES, trace, dir)["sites"][3]["line"];
    const Result r = run_memlife("check --max-growth 10 " + quote(trace), dir);
    EXPECT_EQ(r.exit_code, 1) << r.err;
    int findings = 0;
    for (std::size_t at = 0;
         (at = r.out.find("grows 64.0 bytes per request", at)) != std::string::npos; ++at) {
        ++findings;
        const std::string line = r.out.substr(at, r.out.find('\n', at) - at);
        EXPECT_NE(line.find("; 64.0 of them from cache_entry (/"), std::string::npos) << line;
        EXPECT_NE(line.find("/tests/app/stack_sites.cpp:" + std::to_string(cache_line) + ")"),
                  std::string::npos)
            << line;
    }
    EXPECT_EQ(findings, 4) << r.out;
    EXPECT_EQ(run_memlife("check --max-growth 64 " + quote(trace), dir).exit_code, 0);
}

TEST(Stacks, CollapsedExportIsOneLinePerStackOuterFirst) {
    TempDir dir;
    const std::string trace = dir / "sites.trace", out = dir / "sites.folded";
    const json truth = record_sites(STACK_SITES, trace, dir);
    const Result r =
        run_memlife("export --format collapsed -o " + quote(out) + " " + quote(trace), dir);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    std::istringstream lines(memlife::test::slurp(out));
    std::map<std::string, std::uint64_t> by_leaf;
    std::string line;
    while (std::getline(lines, line)) {
        const auto space = line.rfind(' ');
        ASSERT_NE(space, std::string::npos) << line;
        const std::string frames = line.substr(0, space);
        EXPECT_EQ(frames.find(' ', frames.rfind(';') + 1 == 0 ? 0 : frames.rfind(';') + 1),
                  std::string::npos)
            << line;
        EXPECT_NE(frames.find("main;"), std::string::npos) << "outermost first: " << line;
        EXPECT_NE(frames.find(";handle_request;"), std::string::npos) << line;
        by_leaf[frames.substr(frames.rfind(';') + 1)] = std::stoull(line.substr(space + 1));
    }
    ASSERT_EQ(by_leaf.size(), 4u);
    for (const json& site : truth["sites"])
        EXPECT_EQ(by_leaf[site["function"]], site["bytes_allocated"].get<std::uint64_t>());
    // Weighted by bytes live at the end: only the growing site is left.
    const Result live =
        run_memlife("export --format collapsed --weight live -o - " + quote(trace), dir);
    ASSERT_EQ(live.exit_code, 0) << live.err;
    EXPECT_EQ(std::count(live.out.begin(), live.out.end(), '\n'), 1) << live.out;
    EXPECT_TRUE(ends_with(live.out, ";cache_entry 25600\n")) << live.out;
}

// A stripped binary whose debug information is in a separate file: by .gnu_debuglink and
// by build id, through `memlife symbolize --debug-dir`.
TEST(Stacks, StrippedBinarySymbolizesFromSeparateDebugFiles) {
    TempDir dir;
    std::filesystem::create_directories(dir / "bin");
    std::filesystem::create_directories(dir / "debug");
    std::filesystem::create_directories(dir / "by-id");
    const std::string program = dir / "bin/stack_sites", debug = dir / "debug/stack_sites.debug";
    std::filesystem::copy_file(STACK_SITES, program);
    ASSERT_EQ(run_command("objcopy --only-keep-debug " + quote(program) + " " + quote(debug), dir)
                  .exit_code,
              0);
    ASSERT_EQ(run_command("objcopy --strip-all " + quote(program), dir).exit_code, 0);
    // By build id: DIR/.build-id/xx/rest.debug.
    const Result id = run_command(
        "readelf -n " + quote(program) + " | sed -n 's/.*Build ID: \\([0-9a-f]*\\).*/\\1/p'", dir);
    std::string build_id = id.out.substr(0, id.out.find('\n'));
    ASSERT_GT(build_id.size(), 2u) << "the binary has no build id: " << id.out << id.err;
    std::filesystem::create_directories(dir / ("by-id/.build-id/" + build_id.substr(0, 2)));
    std::filesystem::copy_file(debug, dir / ("by-id/.build-id/" + build_id.substr(0, 2) + "/" +
                                             build_id.substr(2) + ".debug"));
    // The other copy finds it by name (.gnu_debuglink).
    const std::string linked = dir / "bin/stack_sites_linked";
    std::filesystem::copy_file(program, linked);
    ASSERT_EQ(run_command("objcopy --add-gnu-debuglink=" + quote(debug) + " " + quote(linked), dir)
                  .exit_code,
              0);

    for (const auto& [binary, debug_dir] :
         {std::pair{program, dir / "by-id"}, std::pair{linked, dir / "debug"}}) {
        SCOPED_TRACE(binary);
        const std::string trace = dir / (base_name(binary) + ".trace");
        const json truth = record_sites(binary, trace, dir);
        // Symbolized when recording stopped, but its debug information was not found: the
        // sites have no names (a stripped binary keeps no symbols of its own).
        const json before = report_by_stack(trace, dir);
        ASSERT_EQ(before["stacks"].size(), 4u);
        EXPECT_EQ(stack_of(before, "cache_entry"), nullptr) << before.dump(1);
        EXPECT_EQ(before["stacks"][0]["frames"][0]["file"], "");

        const Result s =
            run_memlife("symbolize --debug-dir " + quote(debug_dir) + " " + quote(trace), dir);
        ASSERT_EQ(s.exit_code, 0) << s.err;
        EXPECT_NE(s.err.find("with source lines"), std::string::npos) << s.err;
        const json after = report_by_stack(trace, dir);
        // The module is the binary that ran.
        for (const json& st : after["stacks"])
            EXPECT_NE(st["frames"][0]["module"].get<std::string>().find(base_name(binary)),
                      std::string::npos);
        for (const json& site : truth["sites"]) {
            const json* st = stack_of(after, site["function"]);
            ASSERT_NE(st, nullptr) << site.dump() << after.dump(1);
            EXPECT_TRUE(ends_with((*st)["frames"][0]["file"], "stack_sites.cpp"));
            EXPECT_EQ((*st)["frames"][0]["line"], site["line"]);
        }
    }
    // A folder without the debug file leaves it as it was, and says so.
    const std::string trace = dir / "again.trace";
    record_sites(program, trace, dir);
    const Result none =
        run_memlife("symbolize --debug-dir " + quote(dir / "bin") + " " + quote(trace), dir);
    EXPECT_EQ(none.exit_code, 0) << none.err;
    EXPECT_EQ(stack_of(report_by_stack(trace, dir), "cache_entry"), nullptr);
    EXPECT_EQ(run_memlife("symbolize " + quote(dir / "missing.trace"), dir).exit_code, 2);

    // The copy a killed run left next to the trace goes at the next run (its process is
    // gone: a child that has been waited for), and nothing else is left.
    const pid_t gone = ::fork();
    if (gone == 0) ::_exit(0);
    ASSERT_GT(gone, 0);
    ::waitpid(gone, nullptr, 0);
    const std::string left = trace + ".tmp-" + std::to_string(gone) + "-0";
    std::filesystem::copy_file(trace, left);
    const Result cleaned = run_memlife("symbolize " + quote(trace), dir);
    EXPECT_EQ(cleaned.exit_code, 0) << cleaned.err;
    EXPECT_NE(cleaned.err.find("removed 1 temporary file(s)"), std::string::npos) << cleaned.err;
    EXPECT_FALSE(std::filesystem::exists(left));
    for (const auto& entry : std::filesystem::directory_iterator(dir.path))
        EXPECT_EQ(entry.path().filename().string().find(".tmp-"), std::string::npos)
            << entry.path();
}

// Traces without stacks open as before, and every stack command says why it has nothing.
TEST(Stacks, TracesWithoutStacksSayNoStacksRecorded) {
    TempDir dir;
    const std::string off = dir / "off.trace", nginx = dir / "nginx.trace",
                      jsonl = dir / "jsonl.trace", v2 = dir / "v2.trace";
    ASSERT_EQ(run_memlife("simulate --scenario keepalive-leak --stacks 0 --connections 3 "
                          "--requests-per-connection 5 -o " +
                              quote(off),
                          dir)
                  .exit_code,
              0);
    ASSERT_EQ(run_memlife("import nginx " +
                              quote(std::string(MEMLIFE_SOURCE_DIR) +
                                    "/tests/fixtures/nginx-debug-keepalive.log") +
                              " -o " + quote(nginx),
                          dir)
                  .exit_code,
              0);
    ASSERT_EQ(run_memlife("import jsonl " +
                              quote(std::string(MEMLIFE_SOURCE_DIR) +
                                    "/tests/fixtures/teaching-violation.jsonl") +
                              " -o " + quote(jsonl),
                          dir)
                  .exit_code,
              0);
    // A version-2 trace, as memlife wrote them before stacks.
    ASSERT_EQ(run_memlife("simulate --scenario missing-free --stacks 0 --connections 2 "
                          "--requests-per-connection 3 -o " +
                              quote(v2),
                          dir)
                  .exit_code,
              0);
    ASSERT_EQ(
        run_command("sqlite3 " + quote(v2) +
                        " 'DROP TABLE modules; DROP TABLE stack_nodes; DROP TABLE frames; "
                        "DROP TABLE session_stacks; ALTER TABLE corruptions DROP COLUMN stack; "
                        "ALTER TABLE leaks DROP COLUMN stack; PRAGMA user_version = 2'",
                    dir)
            .exit_code,
        0);
    const std::map<std::string, std::string> why{{off, "recorded with stacks off"},
                                                 {nginx, "an nginx debug log has no call stacks"},
                                                 {jsonl, "a JSON-lines import has no call stacks"},
                                                 {v2, "a schema version 2 trace"}};
    for (const auto& [trace, reason] : why) {
        SCOPED_TRACE(trace);
        // The usual report and check work as ever.
        const Result plain = run_memlife("report --json " + quote(trace), dir);
        ASSERT_EQ(plain.exit_code, 0) << plain.err;
        EXPECT_FALSE(json::parse(plain.out)["sessions"].empty());
        EXPECT_NE(run_memlife("check " + quote(trace), dir).exit_code, 2);
        // By stack: empty, and why.
        const Result text = run_memlife("report --by-stack " + quote(trace), dir);
        EXPECT_EQ(text.exit_code, 0) << text.err;
        EXPECT_NE(text.out.find("no stacks recorded (" + reason), std::string::npos) << text.out;
        const Result j = run_memlife("report --by-stack --json " + quote(trace), dir);
        EXPECT_EQ(j.exit_code, 0);
        EXPECT_EQ(json::parse(j.out), json::parse(R"({"stacks": []})"));
        EXPECT_NE(j.err.find("no stacks recorded"), std::string::npos) << j.err;
        // Nothing to export: exit 2, no file.
        const Result e = run_memlife(
            "export --format collapsed -o " + quote(dir / "x.folded") + " " + quote(trace), dir);
        EXPECT_EQ(e.exit_code, 2);
        EXPECT_NE(e.err.find("no stacks recorded"), std::string::npos) << e.err;
        EXPECT_FALSE(std::filesystem::exists(dir / "x.folded"));
        // Symbolize has nothing to do, and leaves the file alone.
        const auto size = std::filesystem::file_size(trace);
        const Result s = run_memlife("symbolize " + quote(trace), dir);
        EXPECT_EQ(s.exit_code, 0) << s.err;
        EXPECT_NE(s.err.find("no stacks recorded"), std::string::npos) << s.err;
        EXPECT_EQ(std::filesystem::file_size(trace), size);
    }
}

// simulate (stacks on by default) allocates from a function per code path.
TEST(Stacks, SimulatedScenariosHaveAFunctionPerCodePath) {
    TempDir dir;
    const std::string trace = dir / "mixed.trace";
    ASSERT_EQ(run_memlife("simulate --scenario mixed --connections 6 --requests-per-connection 10 "
                          "-o " +
                              quote(trace),
                          dir)
                  .exit_code,
              0);
    const json r = report_by_stack(trace, dir);
    std::set<std::string> functions;
    for (const json& s : r["stacks"])
        functions.insert(s["frames"][0]["function"].get<std::string>());
    std::string all;
    for (const auto& f : functions)
        all += f + "\n";
    for (const char* f :
         {"leaky_copy_headers", "clean_copy_headers", "overrun_status_line", "missing_free_copy"})
        EXPECT_NE(all.find(f), std::string::npos) << f << " not in\n" << all;
}

// The C demo names the function that allocated the overrun block.
TEST(Stacks, DemoNamesTheAllocatingFunctionOfTheCorruptBlock) {
    TempDir dir;
    const Result r = run_command(quote(MEMLIFE_DEMO), dir);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("allocated by format_status_line"), std::string::npos) << r.out;
}
