// The windowed live-bytes series: a zoomed window decodes only the event batches it shows,
// starting from the live bytes the writer stores per batch (event_batches.live_bytes_at_start),
// and gives exactly what a full decode restricted to the window gives. Also: every writer
// (recorder, importers, the C API) stores those live bytes, and a trace written before the
// column existed still reads the same.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "memlife/data/import.hpp"
#include "memlife/data/reader.hpp"
#include "memlife/data/recorder.hpp"
#include "memlife/session.hpp"
#include "memlife/trace.h"
#include "read_events.hpp"
#include "sql_exec.hpp"
#include "temp_dir.hpp"

using namespace memlife;
using namespace memlife::data;

namespace {

using memlife::test::read_events;
using memlife::test::TempDir;

constexpr std::uint64_t kMs = 1'000'000;

struct BatchRow {
    std::uint64_t session = 0, first_ns = 0, last_ns = 0, count = 0;
    std::optional<std::uint64_t> live_bytes_at_start;
};

// The event_batches rows of a trace in stream order per session, read with plain SQLite.
std::vector<BatchRow> batch_rows(const std::string& path, std::uint64_t session) {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
    sqlite3_stmt* q = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db,
                                 "SELECT session, first_ns, last_ns, count, live_bytes_at_start "
                                 "FROM event_batches WHERE session = ? ORDER BY first_seq",
                                 -1, &q, nullptr),
              SQLITE_OK);
    sqlite3_bind_int64(q, 1, static_cast<sqlite3_int64>(session));
    std::vector<BatchRow> rows;
    while (sqlite3_step(q) == SQLITE_ROW) {
        BatchRow& r = rows.emplace_back();
        r.session = static_cast<std::uint64_t>(sqlite3_column_int64(q, 0));
        r.first_ns = static_cast<std::uint64_t>(sqlite3_column_int64(q, 1));
        r.last_ns = static_cast<std::uint64_t>(sqlite3_column_int64(q, 2));
        r.count = static_cast<std::uint64_t>(sqlite3_column_int64(q, 3));
        if (sqlite3_column_type(q, 4) != SQLITE_NULL)
            r.live_bytes_at_start = static_cast<std::uint64_t>(sqlite3_column_int64(q, 4));
    }
    sqlite3_finalize(q);
    sqlite3_close(db);
    return rows;
}

// A copy of the trace as memlife wrote it before event_batches.live_bytes_at_start existed
// (a version 2 trace: the column came within version 2; these traces have no stacks).
std::string without_batch_live_bytes(const std::string& path) {
    const std::string old = path + ".old.mltrace";
    std::filesystem::copy_file(path, old, std::filesystem::copy_options::overwrite_existing);
    memlife::test::sql_exec(old, "ALTER TABLE event_batches DROP COLUMN live_bytes_at_start; "
                                 "PRAGMA user_version = 2");
    return old;
}

bool sets_live_bytes(EventKind kind) {
    return kind == EventKind::Alloc || kind == EventKind::Release ||
           kind == EventKind::RequestEnd || kind == EventKind::SessionOpen ||
           kind == EventKind::SessionClose;
}

std::uint64_t live_after(std::uint64_t live, const Event& e) {
    switch (e.kind) {
    case EventKind::Alloc:
        return live + e.size;
    case EventKind::Release:
    case EventKind::RequestEnd:
        return live - std::min(live, e.size);
    case EventKind::SessionClose:
        return 0;
    default:
        return live;
    }
}

// The writer's live_bytes_at_start of every batch of every session equals the live bytes a
// full decode reaches at the batch's first event (NULL before any event set them).
void expect_batch_starts_match_the_events(const std::string& path) {
    const TraceReader reader(path);
    std::size_t batches = 0;
    for (const SessionRow& s : reader.sessions()) {
        const std::vector<Event> events = read_events(reader, s.id);
        std::size_t next = 0;
        std::uint64_t live = 0;
        bool set = false;
        for (const BatchRow& b : batch_rows(path, s.id)) {
            ++batches;
            if (set)
                EXPECT_EQ(b.live_bytes_at_start, live) << path << " session " << s.id;
            else
                EXPECT_FALSE(b.live_bytes_at_start.has_value()) << path << " session " << s.id;
            for (std::uint64_t i = 0; i < b.count && next < events.size(); ++i, ++next) {
                live = live_after(live, events[next]);
                set = set || sets_live_bytes(events[next].kind);
            }
        }
        EXPECT_EQ(next, events.size());
    }
    EXPECT_GT(batches, 0u) << path;
}

// The series a full decode gives, restricted to the window: the live bytes holding at the
// window's start (if any event before it set them), then a step at every event in the
// window that changed them (and at open and close). Sessions' times never go back.
std::vector<SeriesPoint> full_decode_series(const std::vector<Event>& events, TimeWindow w) {
    std::vector<SeriesPoint> out;
    if (events.empty()) return out;
    std::uint64_t first = UINT64_MAX, last = 0;
    for (const Event& e : events) {
        first = std::min(first, e.time_ns);
        last = std::max(last, e.time_ns);
    }
    const std::uint64_t begin = std::max(first, w.begin_ns), end = std::min(last, w.end_ns);
    if (begin > end) return out;
    std::uint64_t live = 0;
    bool before = false;
    std::vector<SeriesPoint> inside;
    std::optional<std::uint64_t> first_inside_ns;
    std::uint64_t live_at_begin = 0;
    for (const Event& e : events) {
        if (!sets_live_bytes(e.kind)) continue;
        const std::uint64_t previous = live;
        live = live_after(live, e);
        if (e.time_ns < w.begin_ns) {
            before = true;
            live_at_begin = live;
        } else if (e.time_ns <= w.end_ns) {
            if (!first_inside_ns) first_inside_ns = e.time_ns;
            if (live != previous || e.kind == EventKind::SessionOpen ||
                e.kind == EventKind::SessionClose)
                inside.push_back({e.time_ns, live});
        }
    }
    if (before && (!first_inside_ns || *first_inside_ns > begin))
        out.push_back({begin, live_at_begin});
    out.insert(out.end(), inside.begin(), inside.end());
    return out;
}

bool same(const std::vector<SeriesPoint>& a, const std::vector<SeriesPoint>& b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                      [](const SeriesPoint& x, const SeriesPoint& y) {
                          return x.time_ns == y.time_ns && x.live_bytes == y.live_bytes;
                      });
}

std::uint64_t batches_decoded(const TraceReader& reader) {
    return reader.stats().event_batches_decoded;
}

// Windows that matter for one session: random ones, ones between two batches, before the
// first and after the last event, straddling both ends, single instants, the whole session
// and its last millisecond.
std::vector<TimeWindow> windows_for(const std::vector<BatchRow>& batches, std::mt19937_64& rng) {
    const std::uint64_t first = batches.front().first_ns, last = batches.back().last_ns;
    std::vector<TimeWindow> w = {
        {0, UINT64_MAX},          {0, first - 1},       {first - 10, first - 1},
        {last + 1, UINT64_MAX},   {0, first},           {last, UINT64_MAX},
        {first, first},           {last, last},         {last - kMs, last},
        {last - kMs, UINT64_MAX}, {first, first + kMs}, {(first + last) / 2, (first + last) / 2},
    };
    for (std::size_t i = 0; i + 1 < batches.size(); i += 1 + batches.size() / 20) {
        const BatchRow &a = batches[i], &b = batches[i + 1];
        if (a.last_ns + 1 < b.first_ns) w.push_back({a.last_ns + 1, b.first_ns - 1}); // a gap
        w.push_back({a.last_ns, b.first_ns});
        w.push_back({a.first_ns, a.last_ns});
        w.push_back({a.last_ns - (a.last_ns - a.first_ns) / 3, b.first_ns + 1});
    }
    std::uniform_int_distribution<std::uint64_t> t(first - 2 * kMs, last + 2 * kMs);
    for (int i = 0; i < 90; ++i) {
        std::uint64_t a = t(rng), b = t(rng);
        if (a > b) std::swap(a, b);
        w.push_back({a, i % 3 == 0 ? std::min(b, a + kMs) : b}); // some short, zoomed in
    }
    return w;
}

// The batches a window reaches into: their events are all the reader needs (plus the
// first event after the window, in the next batch, to know the window is over).
std::uint64_t batches_in(const std::vector<BatchRow>& batches, TimeWindow w) {
    return static_cast<std::uint64_t>(
        std::count_if(batches.begin(), batches.end(), [&](const BatchRow& b) {
            return b.first_ns <= w.end_ns && b.last_ns >= w.begin_ns;
        }));
}

// Batches without an event that sets live bytes: the reader passes over them (decoding
// them) on its way to the first such event after the window, or back from the window to
// the first batch whose live bytes at start are known.
std::uint64_t quiet_batches(const std::vector<BatchRow>& batches,
                            const std::vector<Event>& events) {
    std::uint64_t quiet = 0;
    std::size_t next = 0;
    for (const BatchRow& b : batches) {
        bool sets = false;
        for (std::uint64_t i = 0; i < b.count && next < events.size(); ++i, ++next)
            sets = sets || sets_live_bytes(events[next].kind);
        quiet += sets ? 0 : 1;
    }
    return quiet;
}

// Every window of every session: the windowed series equals the full decode restricted to
// the window, and equals (reduced, too) what a trace without live_bytes_at_start gives;
// the reader decodes only the batches the window reaches into, and one more (and quiet
// batches around them).
void check_windows(const std::string& path, const std::vector<std::uint64_t>& sessions) {
    const std::string old = without_batch_live_bytes(path);
    std::mt19937_64 rng(12);
    for (const std::uint64_t session : sessions) {
        SCOPED_TRACE("session " + std::to_string(session));
        const std::vector<BatchRow> batches = batch_rows(path, session);
        ASSERT_GT(batches.size(), 100u);
        const TraceReader reader(path);
        const std::vector<Event> events = read_events(reader, session);
        const std::uint64_t quiet = quiet_batches(batches, events);
        EXPECT_LT(quiet, batches.size() / 10);
        // Without live_bytes_at_start: one reader learns as it goes, some start afresh.
        const TraceReader learning_reader(old);
        int n = 0;
        for (const TimeWindow& w : windows_for(batches, rng)) {
            SCOPED_TRACE("window " + std::to_string(w.begin_ns) + ".." + std::to_string(w.end_ns));
            const std::uint64_t decoded_before = batches_decoded(reader);
            const std::vector<SeriesPoint> windowed = reader.live_bytes_series(session, w);
            EXPECT_LE(batches_decoded(reader) - decoded_before, batches_in(batches, w) + 1 + quiet);
            ASSERT_TRUE(same(windowed, full_decode_series(events, w)));
            std::optional<TraceReader> fresh_reader;
            if (n++ % 8 == 0) fresh_reader.emplace(old);
            const TraceReader& old_reader = fresh_reader ? *fresh_reader : learning_reader;
            ASSERT_TRUE(same(old_reader.live_bytes_series(session, w), windowed));
            for (const std::size_t max_points : {1, 3, 2000})
                ASSERT_TRUE(same(reader.live_bytes_series(session, w, max_points),
                                 old_reader.live_bytes_series(session, w, max_points)))
                    << max_points << " points";
        }
    }
}

// Sessions whose events the test makes up, so that their times are known: session 1 is
// closed, 2 and 3 are still open at the end, and 3 has no SessionOpen (its first batches
// carry no event that sets live bytes). Every request is a batch of its own (a flush after
// each: a batch never spans two commits), 10 ms apart, so there are gaps between batches;
// a few batches hold only a notification.
std::string record_made_up(const TempDir& dir) {
    const std::string path = dir.file("made-up.mltrace");
    Recorder recorder(path);
    std::mt19937_64 rng(7);
    const std::uint64_t t0 = 1'000'000'000;
    struct State {
        std::uint64_t block = 0, address = 0x100000;
        std::uint32_t request = 0;
    } state[4];
    for (std::uint64_t session : {1, 2}) {
        Event open;
        open.session = session;
        open.kind = EventKind::SessionOpen;
        open.time_ns = t0 + session;
        recorder.on_session_open(open, "made-up");
    }
    for (int r = 0; r < 300; ++r) {
        for (std::uint64_t session : {1, 2, 3}) {
            State& st = state[session];
            std::vector<Event> batch;
            std::uint64_t t = t0 + static_cast<std::uint64_t>(r) * 10 * kMs + session * 3 * kMs;
            auto add = [&](EventKind kind, std::uint64_t size = 0, Scope scope = Scope::Session) {
                Event& e = batch.emplace_back();
                e.session = session;
                e.kind = kind;
                e.time_ns = t += rng() % 20'000;
                e.request = st.request;
                e.scope = scope;
                e.size = size;
                if (kind == EventKind::Alloc) {
                    e.block = ++st.block;
                    e.address = st.address;
                    st.address += size + 16;
                    if (scope == Scope::Request) e.flags = 1;
                }
            };
            if (r % 37 == 5 || (session == 3 && r < 3)) { // nothing but a notification
                add(EventKind::Notification);
                recorder.on_events(batch.data(), batch.size());
                recorder.flush();
                continue;
            }
            ++st.request;
            add(EventKind::RequestBegin, 0, Scope::Request);
            std::uint64_t request_bytes = 0;
            for (int i = 0, n = 1 + static_cast<int>(rng() % 40); i < n; ++i) {
                const bool request_scope = rng() % 3 != 0;
                const std::uint64_t size = 1 + rng() % 3000;
                add(EventKind::Alloc, size, request_scope ? Scope::Request : Scope::Session);
                if (request_scope) request_bytes += size;
            }
            add(EventKind::RequestEnd, request_bytes, Scope::Request);
            recorder.on_events(batch.data(), batch.size());
            recorder.flush();
        }
    }
    Event close;
    close.session = 1;
    close.kind = EventKind::SessionClose;
    close.time_ns = t0 + 300 * 10 * kMs;
    recorder.on_event(close);
    recorder.commit();
    return path;
}

// Sessions of a real runtime: one closed, one still open when the recording ends; a flush
// after every request gives hundreds of batches each.
std::string record_runtime(const TempDir& dir, std::vector<std::uint64_t>& ids) {
    const std::string path = dir.file("runtime.mltrace");
    Recorder recorder(path);
    Runtime rt(Config{}, &recorder);
    Session* closed = rt.open("closed");
    Session* open = rt.open("open");
    ids = {closed->id(), open->id()};
    for (int r = 0; r < 250; ++r) {
        for (Session* s : {closed, open}) {
            s->request_begin();
            s->set_notification(Notification::UrlMap);
            for (int i = 0; i < 1 + r % 7; ++i)
                s->alloc_mem(16 + static_cast<std::uint32_t>(i) * 8);
            s->alloc_request(500 + static_cast<std::uint32_t>(r));
            s->request_end();
            recorder.flush();
        }
    }
    rt.close(closed);
    recorder.commit(); // `open` closes after this, unrecorded
    return path;
}

} // namespace

TEST(LiveSeries, WindowsOfMadeUpSessionsMatchAFullDecode) {
    TempDir dir;
    const std::string path = record_made_up(dir);
    expect_batch_starts_match_the_events(path);
    check_windows(path, {1, 2, 3});
}

TEST(LiveSeries, WindowsOfRecordedSessionsMatchAFullDecode) {
    TempDir dir;
    std::vector<std::uint64_t> ids;
    const std::string path = record_runtime(dir, ids);
    ASSERT_EQ(TraceReader(path).session(ids[1])->close_ns, 0u); // still open in the trace
    expect_batch_starts_match_the_events(path);
    check_windows(path, ids);
}

// The acceptance case, on a smaller trace: zooming into the last millisecond of a session
// of hundreds of batches decodes one or two of them. A trace written before the writer
// stored live bytes per batch decodes all of them once, then only what the window needs.
TEST(LiveSeries, TheLastMillisecondDecodesAFewBatches) {
    TempDir dir;
    const std::string path = record_made_up(dir);
    const std::vector<BatchRow> batches = batch_rows(path, 2);
    ASSERT_GE(batches.size(), 250u);
    const TimeWindow last_ms{batches.back().last_ns - kMs, batches.back().last_ns};

    const TraceReader reader(path);
    const std::vector<SeriesPoint> series = reader.live_bytes_series(2, last_ms, 2000);
    EXPECT_FALSE(series.empty());
    EXPECT_LE(batches_decoded(reader), 2u);

    const std::string old = without_batch_live_bytes(path);
    const TraceReader old_reader(old);
    EXPECT_TRUE(same(old_reader.live_bytes_series(2, last_ms, 2000), series));
    EXPECT_EQ(batches_decoded(old_reader), batches.size());
    const std::uint64_t first_time = batches_decoded(old_reader);
    EXPECT_TRUE(same(old_reader.live_bytes_series(2, last_ms, 2000), series));
    EXPECT_LE(batches_decoded(old_reader) - first_time, 2u);

    // The whole session still decodes every batch once.
    const std::uint64_t before_full = batches_decoded(reader);
    reader.live_bytes_series(2, std::nullopt, 2000);
    EXPECT_EQ(batches_decoded(reader) - before_full, batches.size());
}

TEST(LiveSeries, ImportersAndTheCApiStoreLiveBytesPerBatch) {
    TempDir dir;
    const std::string nginx = dir.file("nginx.mltrace");
    import_nginx_to_trace(
        std::string(MEMLIFE_SOURCE_DIR) + "/tests/fixtures/nginx-debug-keepalive.log", nginx);
    expect_batch_starts_match_the_events(nginx);
    // A session of several batches (they close at 16384 events).
    const std::string lines = dir.file("long.jsonl");
    {
        std::ofstream out(lines);
        std::uint64_t t = 1000, block = 0;
        out << R"({"kind":"session_open","t":1000,"session":1,"peer":"long"})" << '\n';
        for (int r = 1; r <= 25; ++r) {
            out << R"({"kind":"request_begin","t":)" << ++t << R"(,"session":1,"request":)" << r
                << R"(,"scope":"request"})" << '\n';
            std::uint64_t bytes = 0;
            for (int i = 0; i < 2000; ++i) {
                const int size = 64 + i % 5;
                bytes += size;
                ++block;
                out << R"({"kind":"alloc","t":)" << ++t << R"(,"session":1,"request":)" << r
                    << R"(,"block":)" << block << R"(,"address":)" << 0x10000 + block * 128
                    << R"(,"size":)" << size << R"(,"scope":"request","origin":"alloc_request"})"
                    << '\n';
            }
            out << R"({"kind":"request_end","t":)" << ++t << R"(,"session":1,"request":)" << r
                << R"(,"size":)" << bytes << R"(,"scope":"request"})" << '\n';
        }
    }
    const std::string jsonl = dir.file("jsonl.mltrace");
    import_jsonl_to_trace(lines, jsonl);
    EXPECT_GE(batch_rows(jsonl, 1).size(), 3u);
    expect_batch_starts_match_the_events(jsonl);

    const std::string c_trace = dir.file("c.mltrace");
    ASSERT_EQ(ml_trace_start(c_trace.c_str()), ML_OK);
    ml_session* s = ml_session_open("10.0.0.1:5000");
    for (int r = 0; r < 20; ++r) {
        ASSERT_EQ(ml_request_begin(s), ML_OK);
        ASSERT_NE(ml_alloc_mem(s, 100 + r, 0), nullptr);
        ASSERT_NE(ml_alloc_request(s, 1000), nullptr);
        ASSERT_EQ(ml_request_end(s), ML_OK);
        ASSERT_EQ(ml_trace_flush(), ML_OK); // a batch per request
    }
    ml_session_close(s);
    ASSERT_EQ(ml_trace_stop(), ML_OK);
    EXPECT_GE(batch_rows(c_trace, TraceReader(c_trace).sessions().at(0).id).size(), 20u);
    expect_batch_starts_match_the_events(c_trace);
}
