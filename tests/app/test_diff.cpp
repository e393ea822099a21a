// memlife diff and memlife check --baseline as a user and a CI script run them: the fix that
// stops the growth, the gate's exit codes, traces of other kinds, groups, bad input.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sqlite3.h>

#include <algorithm>

#include "process.hpp"

using memlife::test::quote;
using memlife::test::run_memlife;
using memlife::test::TempDir;
using nlohmann::json;

namespace {

// The same seed and size for every scenario: the runs differ only in what the filter does.
std::string simulate(const std::string& scenario, const TempDir& dir) {
    const std::string trace = dir / (scenario + ".mltrace");
    const auto r = run_memlife("simulate --scenario " + scenario + " -o " + quote(trace) +
                                   " --seed 11 --connections 12 --requests-per-connection 20",
                               dir);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return trace;
}

// `memlife import KIND tests/fixtures/FIXTURE` into a trace named after KIND.
std::string import_fixture(const std::string& kind, const std::string& fixture,
                           const TempDir& dir) {
    const std::string trace = dir / (kind + ".mltrace");
    const auto r =
        run_memlife("import " + kind + " " +
                        quote(std::string(MEMLIFE_SOURCE_DIR) + "/tests/fixtures/" + fixture) +
                        " -o " + quote(trace),
                    dir);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return trace;
}

json diff_json(const std::string& base, const std::string& next, const TempDir& dir,
               const std::string& extra = "") {
    const auto r = run_memlife("diff --json " + quote(base) + " " + quote(next) + extra, dir);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return json::parse(r.out);
}

const json& metric(const json& metrics, const std::string& key) {
    const auto it = std::find_if(metrics.begin(), metrics.end(),
                                 [&](const json& m) { return m["key"] == key; });
    EXPECT_NE(it, metrics.end()) << key;
    return *it;
}

bool has_line(const json& lines, const std::string& start) {
    return std::any_of(lines.begin(), lines.end(), [&](const json& line) {
        return line.get<std::string>().starts_with(start);
    });
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::size_t begin = 0;
    for (std::size_t end; (end = text.find('\n', begin)) != std::string::npos; begin = end + 1)
        lines.push_back(text.substr(begin, end - begin));
    return lines;
}

} // namespace

// Issue 17's first acceptance point: keepalive-leak against per-request.
TEST(Diff, TheGrowthPerRequestFallsToZero) {
    TempDir dir;
    const std::string leak = simulate("keepalive-leak", dir);
    const std::string fixed = simulate("per-request", dir);
    const json j = diff_json(leak, fixed, dir);
    const json& growth = metric(j["totals"], "growth_bytes_per_request.p95");
    EXPECT_GT(growth["base"].get<double>(), 64.0) << growth.dump();
    EXPECT_LT(std::abs(growth["new"].get<double>()), 1.0) << growth.dump();
    EXPECT_LT(growth["change"].get<double>(), -64.0);
    EXPECT_EQ(growth["verdict"], "better");
    for (const char* key : {"growth_bytes_per_request.median", "growth_bytes_per_request.max",
                            "released_at_close_bytes.median"})
        EXPECT_EQ(metric(j["totals"], key)["verdict"], "better") << key;
    for (const char* key : {"sessions", "requests", "requests_per_session.median", "leaked_bytes",
                            "corruptions", "order_violations"})
        EXPECT_EQ(metric(j["totals"], key)["verdict"], "same") << key;
    // The notification that kept the memory is named.
    ASSERT_EQ(j["by_notification"].size(), 1u) << j["by_notification"].dump();
    const json& url_map = j["by_notification"][0];
    EXPECT_EQ(url_map["notification"], "URL_MAP");
    EXPECT_EQ(metric(url_map["metrics"], "kept_bytes_per_request")["verdict"], "better");
    EXPECT_EQ(metric(url_map["metrics"], "bytes_per_request")["verdict"], "same");
    // Nothing else moved: the fix changed where the filter's memory lives, not how much.
    for (const json& m : url_map["metrics"]) {
        if (m["key"] != "kept_bytes_per_request") {
            EXPECT_EQ(m["verdict"], "same") << m.dump();
        }
    }
    EXPECT_TRUE(has_line(j["not_compared"], "outlived blocks: not in either trace"));
    // simulate records call stacks: the site that kept the memory is named, matched by
    // function and file, its growth gone; the fixed code path allocates as much, freed.
    const json& sites = j["by_site"];
    const auto site = [&](const std::string& function) {
        return std::find_if(sites.begin(), sites.end(),
                            [&](const json& s) { return s["frames"][0]["function"] == function; });
    };
    const auto leaky = site("leaky_copy_headers");
    ASSERT_NE(leaky, sites.end()) << sites.dump();
    EXPECT_EQ(leaky, sites.begin()) << "the largest change first";
    EXPECT_TRUE((*leaky)["in_base"].get<bool>());
    EXPECT_FALSE((*leaky)["in_new"].get<bool>());
    const json& site_growth = metric((*leaky)["metrics"], "growth_bytes_per_request");
    EXPECT_LT(site_growth["change"].get<double>(), -64.0) << site_growth.dump();
    EXPECT_EQ(site_growth["verdict"], "better");
    EXPECT_TRUE(
        (*leaky)["frames"][0]["file"].get<std::string>().ends_with("app/cli/demo_filters.cpp"));
    const auto clean = site("clean_copy_headers");
    ASSERT_NE(clean, sites.end()) << sites.dump();
    EXPECT_EQ(metric((*clean)["metrics"], "growth_bytes_per_request")["verdict"], "same");
    EXPECT_EQ(sites.size(), 2u) << "nothing else allocates";

    // The text says the same, side by side, with the sign.
    const auto text = run_memlife("diff " + quote(leak) + " " + quote(fixed), dir);
    ASSERT_EQ(text.exit_code, 0) << text.err;
    const auto lines = lines_of(text.out);
    const auto row = std::find_if(lines.begin(), lines.end(), [](const std::string& l) {
        return l.starts_with("growth per request (p95)");
    });
    ASSERT_NE(row, lines.end()) << text.out;
    EXPECT_NE(row->find(" 0 B "), std::string::npos) << *row;
    EXPECT_NE(row->find("(-100.0%)"), std::string::npos) << *row;
    EXPECT_TRUE(row->ends_with("better")) << *row;
    EXPECT_NE(text.out.find("outlived blocks"), std::string::npos);
    EXPECT_NE(text.out.find("not in this trace"), std::string::npos);
}

TEST(Diff, CheckBaselineFailsOnlyWhenTheGrowthCameBack) {
    TempDir dir;
    const std::string leak = simulate("keepalive-leak", dir);
    const std::string fixed = simulate("per-request", dir);
    auto better = run_memlife("check --baseline " + quote(leak) + " " + quote(fixed), dir);
    EXPECT_EQ(better.exit_code, 0) << better.out << better.err;
    EXPECT_NE(better.out.find("no regression"), std::string::npos) << better.out;
    auto worse = run_memlife("check --baseline " + quote(fixed) + " " + quote(leak), dir);
    EXPECT_EQ(worse.exit_code, 1) << worse.out << worse.err;
    const auto lines = lines_of(worse.out);
    ASSERT_EQ(lines.size(), 1u) << worse.out;
    EXPECT_TRUE(lines[0].starts_with(leak + ": growth per request (p95) rose from 0 B to "))
        << lines[0];
    EXPECT_EQ(run_memlife("check --baseline " + quote(leak) + " " + quote(leak), dir).exit_code, 0);
    auto quiet = run_memlife("check -q --baseline " + quote(fixed) + " " + quote(leak), dir);
    EXPECT_EQ(quiet.exit_code, 1);
    EXPECT_EQ(quiet.out, "");
    // A tolerance wider than the rise lets it pass; from 0 nothing is wide enough.
    EXPECT_EQ(
        run_memlife("check --baseline " + quote(fixed) + " " + quote(leak) + " --tolerance 1000000",
                    dir)
            .exit_code,
        1);
}

TEST(Diff, CheckBaselineNamesEachRegression) {
    TempDir dir;
    const std::string clean = simulate("per-request", dir);
    const std::string leaks = simulate("missing-free", dir);
    const std::string overrun = simulate("tail-overrun", dir);
    auto r = run_memlife("check --baseline " + quote(clean) + " " + quote(leaks), dir);
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.out.find("leaked bytes rose from 0 B to "), std::string::npos) << r.out;
    r = run_memlife("check --baseline " + quote(clean) + " " + quote(overrun), dir);
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.out.find("corruptions rose from 0 to "), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find("leaked"), std::string::npos) << r.out;
}

TEST(Diff, UnusableInputIsExitTwoWithOneLine) {
    TempDir dir;
    const std::string trace = simulate("per-request", dir);
    const std::string missing = dir / "missing.mltrace";
    const std::string text = dir / "notes.txt";
    std::ofstream(text) << "not a trace\n";
    for (const std::string& args :
         {"diff " + quote(missing) + " " + quote(trace), "diff " + quote(trace) + " " + quote(text),
          "check --baseline " + quote(missing) + " " + quote(trace),
          "check --baseline " + quote(trace) + " " + quote(text)}) {
        const auto r = run_memlife(args, dir);
        EXPECT_EQ(r.exit_code, 2) << args;
        EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
        EXPECT_TRUE(r.err.find(missing) != std::string::npos ||
                    r.err.find(text) != std::string::npos)
            << r.err;
        EXPECT_EQ(r.out, "");
    }
    for (const std::string& args :
         {"check --baseline " + quote(trace) + " " + quote(trace) + " --tolerance -1",
          "check --baseline " + quote(trace) + " " + quote(trace) + " --tolerance nan",
          "check " + quote(trace) + " --tolerance 5",
          "check --baseline " + quote(trace) + " " + quote(trace) + " --max-growth 10",
          "diff " + quote(trace), "diff " + quote(trace) + " " + quote(trace) + " --noise x",
          "diff " + quote(trace) + " " + quote(trace) + " --group-by ''"}) {
        EXPECT_EQ(run_memlife(args, dir).exit_code, 2) << args;
    }
}

// An nginx import against a recording: compared on what both have; what not is said.
TEST(Diff, TracesOfOtherKindsCompareOnWhatBothHave) {
    TempDir dir;
    const std::string nginx = import_fixture("nginx", "nginx-debug-keepalive.log", dir);
    const std::string recorded = simulate("keepalive-leak", dir);
    const json j = diff_json(nginx, recorded, dir);
    EXPECT_EQ(j["base"]["source"], "nginx");
    EXPECT_EQ(metric(j["totals"], "sessions")["base"], 3);
    EXPECT_EQ(metric(j["totals"], "growth_bytes_per_request.p95")["verdict"], "worse");
    EXPECT_TRUE(has_line(j["not_compared"],
                         "by notification: BASE records no notifications; compared as a whole"))
        << j["not_compared"].dump();
    ASSERT_EQ(j["by_notification"].size(), 1u);
    EXPECT_EQ(j["by_notification"][0]["notification"], "(all)");
    EXPECT_TRUE(has_line(j["notes"], "BASE comes from nginx, NEW from simulate"));
    const json& outlived = metric(j["totals"], "outlived_blocks");
    EXPECT_EQ(outlived["verdict"], "not compared");
    EXPECT_TRUE(outlived["base"].is_null());
    EXPECT_EQ(outlived["why_not"], "not in either trace (only `memlife record` finds them)");
    EXPECT_EQ(
        run_memlife("check --baseline " + quote(recorded) + " " + quote(nginx), dir).exit_code, 0);

    // A JSON-lines import (notifications, an order violation) against the nginx import (no
    // notifications): the same rules, whichever side lacks what.
    const std::string jsonl = import_fixture("jsonl", "teaching-violation.jsonl", dir);
    const json k = diff_json(jsonl, nginx, dir);
    EXPECT_EQ(k["base"]["source"], "jsonl");
    EXPECT_EQ(k["new"]["source"], "nginx");
    EXPECT_TRUE(has_line(k["not_compared"],
                         "by notification: NEW records no notifications; compared as a whole"))
        << k["not_compared"].dump();
    EXPECT_TRUE(has_line(k["notes"], "BASE comes from jsonl, NEW from nginx")) << k["notes"];
    EXPECT_EQ(metric(k["totals"], "order_violations")["base"], 1) << k["totals"].dump();
    EXPECT_EQ(metric(k["totals"], "sessions")["verdict"], "changed");
    const auto text = run_memlife("diff " + quote(jsonl) + " " + quote(nginx), dir);
    ASSERT_EQ(text.exit_code, 0) << text.err;
    EXPECT_NE(text.out.find("not compared"), std::string::npos) << text.out;
}

TEST(Diff, GroupsOfSessionsByPeerAddressOrGlob) {
    TempDir dir;
    const std::string leak = simulate("keepalive-leak", dir);
    const std::string fixed = simulate("per-request", dir);
    const json by_peer = diff_json(leak, fixed, dir, " --group-by peer");
    ASSERT_EQ(by_peer["groups"].size(), 12u) << "simulate gives each connection its own address";
    for (const json& g : by_peer["groups"]) {
        EXPECT_TRUE(g["key"].get<std::string>().starts_with("192.0.2.")) << g["key"];
        EXPECT_TRUE(g["in_base"] && g["in_new"]);
        EXPECT_EQ(metric(g["metrics"], "growth_bytes_per_request.p95")["verdict"], "better");
    }
    const json by_glob =
        diff_json(leak, fixed, dir, " --group-by '192.0.2.1*' --group-by '192.0.2.2*'");
    ASSERT_EQ(by_glob["groups"].size(), 3u) << by_glob["groups"].dump();
    EXPECT_EQ(by_glob["groups"][0]["key"], "192.0.2.1*");
    EXPECT_EQ(metric(by_glob["groups"][0]["metrics"], "sessions")["base"], 4) << "1, 10, 11, 12";
    EXPECT_EQ(by_glob["groups"][2]["key"], "(other)");
}

TEST(Diff, PeerLabelsCannotReachTheTerminal) {
    TempDir dir;
    const std::string leak = simulate("keepalive-leak", dir);
    const std::string fixed = simulate("per-request", dir);
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(fixed.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "UPDATE sessions SET peer = char(27) || '[31mred' || char(10)",
                           nullptr, nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(db);
    const auto r =
        run_memlife("diff " + quote(leak) + " " + quote(fixed) + " --group-by peer", dir);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out.find('\x1b'), std::string::npos);
    EXPECT_NE(r.out.find("\\x1b[31mred\\n  (only in NEW)"), std::string::npos) << r.out;
}
