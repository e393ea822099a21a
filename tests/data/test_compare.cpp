// Comparing traces (memlife/data/compare.hpp) over real recorded trace files: the profile of
// one trace against what the recording did, the change between two, the noise rule, traces
// of different versions and kinds, and allocation sites matched by function and file.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <array>

#include "memlife/data/compare.hpp"
#include "memlife/data/reader.hpp"
#include "memlife/data/recorder.hpp"
#include "memlife/session.hpp"
#include "temp_dir.hpp"

using namespace memlife;
using namespace memlife::data;
using memlife::test::TempDir;

namespace {

// A server recorded through the allocator: per request, PREPROC_HEADERS notes a 30-byte
// block from another allocator and frees it (or, `leak`, forgets it), URL_MAP keeps `kept`
// bytes until the connection closes (AllocMem), SEND_RESPONSE takes 50 request bytes.
struct Server {
    std::uint32_t kept = 100;
    bool leak = false;
    int sessions = 4;
    int requests = 10;
    std::string peer_prefix = "10.0.0.";
    // As `memlife record` writes it: the first connection kept a 64-byte block after its close.
    bool outlived = false;
};

std::string record(const TempDir& dir, const std::string& name, const Server& server) {
    const std::string path = dir.file(name);
    Recorder recorder(path, RecorderOptions{.source = server.outlived ? "record" : "recorder"});
    Runtime rt(Config{}, &recorder);
    static std::array<char, 1 << 16> foreign; // noted blocks need distinct addresses
    std::size_t next_foreign = 0;
    for (int i = 0; i < server.sessions; ++i) {
        Session* s =
            rt.open(server.peer_prefix + std::to_string(i + 1) + ":4000" + std::to_string(i));
        for (int r = 0; r < server.requests; ++r) {
            s->request_begin();
            s->set_notification(Notification::PreprocHeaders);
            const char* block = &foreign[next_foreign++ * 32 % foreign.size()];
            s->note_alloc(block, 30, Scope::Request);
            if (!server.leak) s->note_free(block);
            s->set_notification(Notification::UrlMap);
            if (server.kept != 0) s->alloc_mem(server.kept);
            s->set_notification(Notification::SendResponse);
            s->alloc_request(50);
            s->request_end();
        }
        if (server.outlived && i == 0) {
            ml_report report{};
            report.kind = ML_REPORT_OUTLIVED;
            report.session_id = s->id();
            report.block_id = 9;
            report.address = 0x4000;
            report.size = 64;
            recorder.on_report(report);
        }
        rt.close(s);
    }
    recorder.commit();
    return path;
}

TraceProfile profile(const std::string& path, const ProfileOptions& options = {}) {
    const TraceReader reader(path);
    return profile_trace(reader, options);
}

const NotificationFigures& by(const TraceProfile& p, Notification n) {
    const auto& rows = *p.by_notification;
    const auto it =
        std::find_if(rows.begin(), rows.end(), [&](const auto& r) { return r.notification == n; });
    EXPECT_NE(it, rows.end()) << name(n);
    return *it;
}

void exec(const std::string& path, const char* sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    char* message = nullptr;
    EXPECT_EQ(sqlite3_exec(db, sql, nullptr, nullptr, &message), SQLITE_OK) << message;
    sqlite3_free(message);
    sqlite3_close(db);
}

} // namespace

TEST(Compare, SpreadIsMedianNearestRankP95AndMax) {
    const Spread odd = spread_of({5, 1, 3});
    EXPECT_EQ(odd.count, 3u);
    EXPECT_EQ(odd.median, 3);
    EXPECT_EQ(odd.p95, 5);
    EXPECT_EQ(odd.max, 5);
    EXPECT_EQ(odd.total, 9);
    EXPECT_EQ(spread_of({4, 1, 2, 3}).median, 2.5);
    std::vector<double> twenty;
    for (int i = 1; i <= 20; ++i)
        twenty.push_back(i);
    EXPECT_EQ(spread_of(twenty).p95, 19) << "the 19th of 20: 95 % are at or below it";
    twenty.push_back(1000);
    EXPECT_EQ(spread_of(twenty).p95, 20) << "ceil(0.95 * 21) = 20th";
    EXPECT_EQ(spread_of({7}).p95, 7);
    EXPECT_EQ(spread_of({}).count, 0u);
}

TEST(Compare, PeerAddressDropsThePortAndWhatFollows) {
    EXPECT_EQ(peer_address("10.0.0.7:51234"), "10.0.0.7");
    EXPECT_EQ(peer_address("[::1]:8080"), "::1");
    EXPECT_EQ(peer_address("127.0.0.1:38672 (*1 4643#4643)"), "127.0.0.1");
    EXPECT_EQ(peer_address("worker-3"), "worker-3");
    EXPECT_EQ(peer_address("fe80::1"), "fe80::1") << "a bare IPv6 address has no port";
    EXPECT_EQ(peer_address("host:http"), "host:http");
    EXPECT_EQ(peer_address(""), "");
}

TEST(Compare, GroupsByPeerAddressOrFirstMatchingGlob) {
    const GroupBy peer = GroupBy::parse({"peer"});
    EXPECT_EQ(peer.kind, GroupBy::Kind::PeerAddress);
    EXPECT_EQ(peer.key("10.0.0.7:1"), "10.0.0.7");
    const GroupBy globs = GroupBy::parse({"10.0.0.*", "10.0.*"});
    EXPECT_EQ(globs.key("10.0.0.7:1"), "10.0.0.*");
    EXPECT_EQ(globs.key("10.0.1.7:1"), "10.0.*");
    EXPECT_EQ(globs.key("192.0.2.1:1"), kOtherGroup);
    EXPECT_EQ(GroupBy::parse({}).kind, GroupBy::Kind::None);
    EXPECT_THROW(GroupBy::parse({"peer", "10.*"}), TraceError);
    EXPECT_THROW(GroupBy::parse({""}), TraceError);
}

TEST(Compare, ProfileAddsUpWhatTheServerDid) {
    TempDir dir;
    const TraceProfile p = profile(record(dir, "server.mltrace", {}));
    EXPECT_EQ(p.all.sessions, 4u);
    EXPECT_EQ(p.all.requests, 40u);
    EXPECT_EQ(p.all.requests_per_session.median, 10);
    // Each request keeps 100 bytes: live bytes at request ends grow by exactly 100.
    EXPECT_DOUBLE_EQ(p.all.growth_bytes_per_request.median, 100);
    EXPECT_DOUBLE_EQ(p.all.growth_bytes_per_request.p95, 100);
    EXPECT_EQ(p.all.released_at_close_bytes.max, 1000);
    EXPECT_EQ(p.all.peak_bytes.max, 1000 + 50) << "the last request's block on top";
    EXPECT_EQ(p.all.leaks, 0u);
    EXPECT_FALSE(p.all.outlived_blocks) << "only a `memlife record` trace can show them";
    ASSERT_TRUE(p.order_violations);
    EXPECT_EQ(*p.order_violations, 0u);

    ASSERT_TRUE(p.by_notification);
    EXPECT_EQ(p.by_notification->size(), 3u);
    const NotificationFigures& url = by(p, Notification::UrlMap);
    EXPECT_EQ(url.blocks, 40u);
    EXPECT_EQ(url.bytes, 4000u);
    EXPECT_EQ(url.kept_bytes, 4000u) << "AllocMem: kept until the close";
    const NotificationFigures& send = by(p, Notification::SendResponse);
    EXPECT_EQ(send.bytes, 2000u);
    EXPECT_EQ(send.kept_bytes, 0u) << "request memory";
    const NotificationFigures& headers = by(p, Notification::PreprocHeaders);
    EXPECT_EQ(headers.bytes, 1200u);
    EXPECT_EQ(headers.kept_bytes, 0u) << "noted and freed";
    EXPECT_FALSE(p.by_site);
    EXPECT_FALSE(p.sites_note.empty());
}

TEST(Compare, LeaksCountByTheNotificationThatAllocated) {
    TempDir dir;
    const TraceProfile p = profile(record(dir, "leaky.mltrace", {.leak = true}));
    EXPECT_EQ(p.all.leaks, 40u);
    EXPECT_EQ(p.all.leaked_bytes, 1200u);
    const NotificationFigures& headers = by(p, Notification::PreprocHeaders);
    EXPECT_EQ(headers.leaks, 40u);
    EXPECT_EQ(headers.leaked_bytes, 1200u);
    EXPECT_EQ(headers.kept_bytes, 1200u) << "a leaked noted block stays live until the close";
    EXPECT_EQ(by(p, Notification::UrlMap).leaks, 0u);
    EXPECT_DOUBLE_EQ(p.all.growth_bytes_per_request.median, 130);
}

TEST(Compare, TheFixStopsTheGrowth) {
    TempDir dir;
    const TraceProfile leaky = profile(record(dir, "before.mltrace", {.kept = 200}));
    const TraceProfile fixed = profile(record(dir, "after.mltrace", {.kept = 0}));
    const Comparison c = compare(leaky, fixed);
    const MetricDelta* growth = c.find("growth_bytes_per_request.p95");
    ASSERT_NE(growth, nullptr);
    EXPECT_DOUBLE_EQ(*growth->base, 200);
    EXPECT_DOUBLE_EQ(*growth->next, 0);
    EXPECT_DOUBLE_EQ(growth->change(), -200);
    EXPECT_DOUBLE_EQ(*growth->change_percent(), -100);
    EXPECT_EQ(growth->verdict, Verdict::Better);
    EXPECT_EQ(format_change(*growth), "-200 B (-100.0%)");
    EXPECT_EQ(c.find("sessions")->verdict, Verdict::Same);
    EXPECT_EQ(c.find("corruptions")->verdict, Verdict::Same);
    EXPECT_TRUE(regressions(c).empty());

    // URL_MAP stopped keeping memory; the other notifications did not change.
    for (const RowComparison& row : c.by_notification) {
        const MetricDelta* kept = row.find("kept_bytes_per_request");
        ASSERT_NE(kept, nullptr);
        if (row.key == "URL_MAP")
            EXPECT_EQ(kept->verdict, Verdict::Better);
        else
            for (const MetricDelta& m : row.metrics)
                EXPECT_EQ(m.verdict, Verdict::Same) << row.key << " " << m.key;
    }

    // The other way round the growth is a regression, and the only one.
    const Comparison worse = compare(fixed, leaky);
    const auto found = regressions(worse);
    ASSERT_EQ(found.size(), 1u);
    EXPECT_EQ(found[0].key, "growth_bytes_per_request.p95");
    EXPECT_EQ(format_change(found[0]), "+200 B (from 0)");
}

TEST(Compare, ChangesWithinTheNoiseAreTheSame) {
    TempDir dir;
    const TraceProfile base = profile(record(dir, "a.mltrace", {.kept = 200}));
    const TraceProfile near = profile(record(dir, "b.mltrace", {.kept = 206}));
    const TraceProfile far = profile(record(dir, "c.mltrace", {.kept = 230}));
    EXPECT_EQ(compare(base, near).find("growth_bytes_per_request.p95")->verdict, Verdict::Same)
        << "+3 % with 5 % of noise";
    EXPECT_EQ(
        compare(base, near, {.noise_percent = 1}).find("growth_bytes_per_request.p95")->verdict,
        Verdict::Worse);
    const Comparison c = compare(base, far);
    EXPECT_EQ(c.find("growth_bytes_per_request.p95")->verdict, Verdict::Worse);
    EXPECT_EQ(c.find("peak_bytes.max")->verdict, Verdict::Worse);
    EXPECT_EQ(compare(base, far, {.noise_percent = 20}).find("peak_bytes.max")->verdict,
              Verdict::Same);
    // Below a byte per request, growth is rounding, whatever the percentage.
    const TraceProfile flat = profile(record(dir, "d.mltrace", {.kept = 0}));
    TraceProfile almost_flat = flat;
    almost_flat.all.growth_bytes_per_request.p95 = 0.4;
    EXPECT_EQ(compare(flat, almost_flat).find("growth_bytes_per_request.p95")->verdict,
              Verdict::Same);
}

TEST(Compare, NewLeaksAndCorruptionsAreRegressions) {
    TempDir dir;
    const TraceProfile clean = profile(record(dir, "clean.mltrace", {}));
    const TraceProfile leaky = profile(record(dir, "leaky.mltrace", {.leak = true}));
    const Comparison c = compare(clean, leaky);
    std::vector<std::string> keys;
    for (const MetricDelta& m : regressions(c))
        keys.push_back(m.key);
    EXPECT_EQ(keys, (std::vector<std::string>{"growth_bytes_per_request.p95", "leaked_bytes"}));
    TraceProfile corrupt = clean;
    corrupt.all.corruptions = 1;
    const auto found = regressions(compare(clean, corrupt));
    ASSERT_EQ(found.size(), 1u);
    EXPECT_EQ(found[0].key, "corruptions") << "0 -> 1 is beyond any tolerance";
}

TEST(Compare, GroupsMatchByKey) {
    TempDir dir;
    ProfileOptions options;
    options.group_by = GroupBy::parse({"10.0.0.1*", "10.0.0.2*"});
    const TraceProfile base = profile(record(dir, "a.mltrace", {.kept = 100}), options);
    const TraceProfile next =
        profile(record(dir, "b.mltrace", {.kept = 100, .peer_prefix = "10.0.9."}), options);
    ASSERT_EQ(base.groups.size(), 3u);
    EXPECT_EQ(base.groups[0].first, kOtherGroup); // sorted: "(" before "1"
    EXPECT_EQ(base.groups[0].second.sessions, 2u);
    EXPECT_EQ(base.groups[1].first, "10.0.0.1*");
    EXPECT_EQ(base.groups[1].second.sessions, 1u);
    const Comparison c = compare(base, next);
    ASSERT_EQ(c.groups.size(), 3u);
    EXPECT_EQ(c.groups.back().key, kOtherGroup) << "listed last";
    EXPECT_TRUE(c.groups.back().in_base && c.groups.back().in_next);
    EXPECT_EQ(c.groups.back().find("sessions")->verdict, Verdict::Changed); // 2 -> 4
    EXPECT_EQ(c.groups.back().find("growth_bytes_per_request.p95")->verdict, Verdict::Same);
    EXPECT_TRUE(c.groups[0].in_base);
    EXPECT_FALSE(c.groups[0].in_next);
    const MetricDelta* peak = c.groups[0].find("peak_bytes.median");
    EXPECT_EQ(peak->verdict, Verdict::NotCompared);
    EXPECT_EQ(peak->next_missing, "no sessions");
}

TEST(Compare, SummaryOnlyProfileDecodesNoEvents) {
    TempDir dir;
    const std::string path = record(dir, "a.mltrace", {});
    const TraceReader reader(path);
    ProfileOptions options;
    options.decode_events = false;
    const TraceProfile p = profile_trace(reader, options);
    EXPECT_EQ(reader.stats().event_batches_decoded, 0u);
    EXPECT_FALSE(p.order_violations);
    EXPECT_FALSE(p.by_notification);
    const Comparison c = compare(p, p);
    EXPECT_EQ(c.find("order_violations")->verdict, Verdict::NotCompared);
    EXPECT_TRUE(std::count(c.not_compared.begin(), c.not_compared.end(),
                           "by notification: the events were not decoded"));
    EXPECT_TRUE(regressions(c).empty());
}

TEST(Compare, AStoppedProfileHasNoDecodedFigures) {
    TempDir dir;
    const std::string path = record(dir, "a.mltrace", {.sessions = 200, .requests = 40});
    ProfileOptions options;
    int polled = 0;
    options.stop = [&] { return ++polled == 1; };
    const TraceProfile p = profile(path, options);
    EXPECT_EQ(polled, 1);
    EXPECT_FALSE(p.by_notification);
    EXPECT_FALSE(p.order_violations);
    EXPECT_EQ(p.all.sessions, 200u) << "the summary tables are read first";
}

// A version-1 trace (written event by event, stamped as version 1) against a recording of
// today: compared on what both have, and the difference said.
TEST(Compare, TracesOfDifferentVersionsAndKindsCompareOnWhatBothHave) {
    TempDir dir;
    const std::string old_path = dir.file("v1.mltrace");
    {
        Recorder recorder(old_path, RecorderOptions{.source = "jsonl"});
        Event e;
        e.session = 1;
        e.kind = EventKind::SessionOpen;
        e.time_ns = 100;
        recorder.on_session_open(e, "10.0.0.1:4000");
        std::uint64_t t = 100;
        for (std::uint32_t r = 1; r <= 10; ++r) {
            Event begin{.time_ns = ++t, .session = 1, .request = r};
            begin.kind = EventKind::RequestBegin;
            recorder.on_event(begin);
            Event alloc{.time_ns = ++t, .session = 1, .request = r};
            alloc.kind = EventKind::Alloc;
            alloc.block = 2 * r; // not the previous id + 1: no compact record (version 2)
            alloc.address = 0x1000 + 0x100 * r;
            alloc.size = 100;
            recorder.on_event(alloc);
            Event end{.time_ns = ++t, .session = 1, .request = r};
            end.kind = EventKind::RequestEnd;
            recorder.on_event(end);
        }
        Event close{.time_ns = ++t, .session = 1};
        close.kind = EventKind::SessionClose;
        close.size = 1000;
        close.block = 10;
        recorder.on_event(close);
        recorder.commit();
    }
    exec(old_path, "PRAGMA user_version = 1");
    // As `memlife record` writes it: with a block that outlived its connection.
    const std::string new_path = record(dir, "v2.mltrace", {.kept = 0, .outlived = true});
    const TraceProfile base = profile(old_path), next = profile(new_path);
    EXPECT_EQ(base.info.schema_version, 1u);
    EXPECT_DOUBLE_EQ(base.all.growth_bytes_per_request.median, 100);
    EXPECT_EQ(next.all.outlived_blocks, 1u);
    EXPECT_EQ(next.all.outlived_bytes, 64u);
    const Comparison c = compare(base, next);
    EXPECT_EQ(c.find("growth_bytes_per_request.p95")->verdict, Verdict::Better);
    const MetricDelta* outlived = c.find("outlived_blocks");
    EXPECT_EQ(outlived->verdict, Verdict::NotCompared);
    EXPECT_EQ(outlived->base_missing, "not in this trace");
    EXPECT_EQ(*outlived->next, 1);
    const auto said = [&](std::string_view text) {
        return std::any_of(c.not_compared.begin(), c.not_compared.end(),
                           [&](const std::string& line) { return line.starts_with(text); });
    };
    EXPECT_TRUE(said("outlived blocks: not in BASE")) << ::testing::PrintToString(c.not_compared);
    EXPECT_TRUE(said("allocation sites: not in either trace"));
    EXPECT_TRUE(said("by notification: BASE records no notifications; compared as a whole"));
    ASSERT_EQ(c.by_notification.size(), 1u);
    EXPECT_EQ(c.by_notification[0].key, "(all)");
    EXPECT_EQ(c.by_notification[0].find("kept_bytes_per_request")->verdict, Verdict::Better);
    const auto noted = [&](std::string_view text) {
        return std::any_of(c.notes.begin(), c.notes.end(), [&](const std::string& line) {
            return line.find(text) != std::string::npos;
        });
    };
    EXPECT_TRUE(noted("schema version 1, NEW version 3")) << ::testing::PrintToString(c.notes);
    EXPECT_TRUE(noted("BASE comes from jsonl, NEW from record"));
}

// Sites as the call-stack reader will give them: the same code in two runs, at other
// addresses and (after the fix) other lines.
TEST(Compare, SitesMatchByFunctionAndFileNotLineOrAddress) {
    const auto site = [](std::string fn, std::uint32_t line, double growth, std::uint64_t live) {
        SiteFigures s;
        s.frames = {{fn, "server.c", line, "/srv/server"}, {"main", "main.c", 10, "/srv/server"}};
        s.growth_bytes_per_request = growth;
        s.bytes_live_at_end = live;
        s.bytes_allocated = 10000;
        s.blocks = 100;
        return s;
    };
    TraceProfile base, next;
    base.by_site = {site("parse_headers", 40, 0, 0), site("copy_url", 70, 96, 9600),
                    site("log_line", 90, 0, 0)};
    next.by_site = {site("log_line", 91, 0, 0), site("parse_headers", 41, 0, 0),
                    site("copy_url", 72, 0, 0), site("new_cache", 12, 0, 0)};
    const Comparison c = compare(base, next);
    ASSERT_EQ(c.by_site.size(), 4u);
    const RowComparison& fixed = c.by_site[0];
    EXPECT_EQ(fixed.label, "copy_url server.c:72") << "largest change first, NEW's line";
    EXPECT_TRUE(fixed.in_base && fixed.in_next);
    EXPECT_EQ(fixed.find("growth_bytes_per_request")->change(), -96);
    EXPECT_EQ(fixed.find("growth_bytes_per_request")->verdict, Verdict::Better);
    EXPECT_EQ(fixed.find("bytes_live_at_end")->verdict, Verdict::Better);
    for (std::size_t i = 1; i < c.by_site.size(); ++i) {
        const RowComparison& row = c.by_site[i];
        if (row.label.starts_with("new_cache")) {
            EXPECT_FALSE(row.in_base);
            continue;
        }
        EXPECT_TRUE(row.in_base && row.in_next) << row.label;
        for (const MetricDelta& m : row.metrics)
            EXPECT_EQ(m.verdict, Verdict::Same) << row.label << " " << m.key;
    }
    // One trace without stacks: said, and no rows.
    TraceProfile plain;
    plain.sites_note = "no call stacks recorded";
    const Comparison half = compare(base, plain);
    EXPECT_TRUE(half.by_site.empty());
    EXPECT_EQ(half.not_compared.back(), "allocation sites: not in NEW (no call stacks recorded)");
}

TEST(Compare, SiteKeysIgnoreLinesAndAddressesOnly) {
    const std::vector<SiteFrame> a{{"f", "a.c", 1, "m"}, {"g", "b.c", 2, "m"}};
    const std::vector<SiteFrame> moved{{"f", "a.c", 9, "m2"}, {"g", "b.c", 7, "m"}};
    const std::vector<SiteFrame> other_file{{"f", "z.c", 1, "m"}, {"g", "b.c", 2, "m"}};
    const std::vector<SiteFrame> other_caller{{"f", "a.c", 1, "m"}, {"h", "b.c", 2, "m"}};
    EXPECT_EQ(site_key(a), site_key(moved));
    EXPECT_NE(site_key(a), site_key(other_file));
    EXPECT_NE(site_key(a), site_key(other_caller));
    // Unsymbolized frames match by module.
    EXPECT_EQ(site_key({{"", "", 0, "libx.so"}}), site_key({{"", "", 0, "libx.so"}}));
    EXPECT_NE(site_key({{"", "", 0, "libx.so"}}), site_key({{"", "", 0, "liby.so"}}));
}

TEST(Compare, ValuesPrintAsEverywhereElse) {
    EXPECT_EQ(format_measure(8590, Measure::Bytes), "8.39 KiB");
    EXPECT_EQ(format_measure(12, Measure::Count), "12");
    EXPECT_EQ(format_measure(2.5, Measure::Count), "2.5");
    EXPECT_EQ(format_measure(1.0, Measure::CountPerRequest), "1.00");
    MetricDelta m;
    m.measure = Measure::Count;
    m.base = 4;
    m.next = 4;
    EXPECT_EQ(format_change(m), "0");
    m.next = 5;
    EXPECT_EQ(format_change(m), "+1 (+25.0%)");
    m.next.reset();
    EXPECT_EQ(format_change(m), "");
    EXPECT_EQ(verdict_name(Verdict::NotCompared), "not compared");
}
