// The recorder's costs, each against a baseline measured in the same run:
//   append_ns_vs_malloc             ns per Recorder::on_event  vs  a malloc+free pair
//   persisted_events_vs_row_ceiling events/s the Recorder persists (incl. commit)  vs
//                                   rows/s of a plain row-per-event INSERT (100k per txn)
//   sustained_recording_vs_malloc   s for 10M alloc_mem in sessions of 1000 requests with
//                                   the Recorder attached (block)  vs  the loop with malloc
//   sustained_recording_vs_alloc_mem  the same against the alloc_mem loop without a sink
//   sustained_events_only_vs_malloc   the loop with a sink that takes the sessions' batches
//                                     and drops them: what producing the events costs before
//                                     any recording (clock readings, event fill)
// The sustained loops run in kRounds interleaved rounds (the machine is shared: one
// round can land in another job's burst); each sustained figure is the round with the
// median ratio.
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "figures.hpp"
#include "memlife/data/reader.hpp"
#include "memlife/data/recorder.hpp"
#include "memlife/session.hpp"
#include "workloads.hpp"

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

// A scratch directory for the traces (removed at exit).
const std::string& scratch() {
    static const std::string dir = [] {
        char pattern[] = "/tmp/memlife-bench-XXXXXX";
        const char* made = ::mkdtemp(pattern);
        std::string d = made != nullptr ? made : "/tmp";
        std::atexit([] { std::filesystem::remove_all(scratch()); });
        return d;
    }();
    return dir;
}

using memlife::bench::BM_MallocFree;
BENCHMARK(BM_MallocFree);

// The hot path alone. Every 1M appends the timer pauses while the writer catches up, so
// that back-pressure (the writer's speed, measured below) does not enter this figure.
void BM_RecorderAppend(benchmark::State& state) {
    memlife::data::Recorder recorder(scratch() + "/append.mltrace");
    memlife::Event e;
    e.session = 1;
    e.kind = memlife::EventKind::Alloc;
    e.address = 0x7f0000000000;
    e.request = 1;
    const auto& sz = memlife::bench::allocation_sizes();
    std::uint64_t n = 0;
    for (auto _ : state) {
        e.time_ns += 37;
        ++e.block;
        e.size = sz[n & 4095];
        recorder.on_event(e);
        if ((++n & ((1u << 20) - 1)) == 0) {
            state.PauseTiming();
            recorder.flush();
            state.ResumeTiming();
        }
    }
    state.SetItemsProcessed(state.iterations());
} // the recorder commits here, after the timed loop
BENCHMARK(BM_RecorderAppend);

// A keep-alive server's work: sessions of `requests` requests, each with a few
// notifications, `allocs` AllocMem calls and one request allocation.
void workload(memlife::Runtime& rt, std::uint64_t total_allocs, int requests, int allocs) {
    const auto& sz = memlife::bench::allocation_sizes();
    std::size_t i = 0;
    std::uint64_t done = 0;
    while (done < total_allocs) {
        memlife::Session* s = rt.open("10.0.0.7:51234");
        for (int r = 0; r < requests && done < total_allocs; ++r) {
            s->request_begin();
            s->set_notification(memlife::Notification::UrlMap);
            for (int a = 0; a < allocs && done < total_allocs; ++a, ++done)
                benchmark::DoNotOptimize(s->alloc_mem(sz[i++ & 4095]));
            s->set_notification(memlife::Notification::EndOfRequest);
            s->request_end();
        }
        rt.close(s);
    }
}

// The same loop shape with malloc+free in place of alloc_mem.
void malloc_workload(std::uint64_t total_allocs) {
    const auto& sz = memlife::bench::allocation_sizes();
    std::size_t i = 0;
    for (std::uint64_t done = 0; done < total_allocs; ++done) {
        void* p = std::malloc(sz[i++ & 4095]);
        benchmark::DoNotOptimize(p);
        std::free(p);
    }
}

// Rows per second of the plain design: one row per event, a prepared INSERT, 100k rows
// per transaction, WAL with the recorder's settings.
double row_per_event_ceiling(std::uint64_t rows) {
    const std::string path = scratch() + "/rows.db";
    std::filesystem::remove(path);
    sqlite3* db = nullptr;
    sqlite3_open(path.c_str(), &db);
    sqlite3_exec(db,
                 "PRAGMA page_size = 8192; PRAGMA journal_mode = WAL; PRAGMA synchronous = "
                 "NORMAL; CREATE TABLE events(seq INTEGER PRIMARY KEY, time_ns INTEGER, session "
                 "INTEGER, request INTEGER, kind INTEGER, scope INTEGER, notification INTEGER, "
                 "block INTEGER, address INTEGER, size INTEGER, flags INTEGER)",
                 nullptr, nullptr, nullptr);
    sqlite3_stmt* insert = nullptr;
    sqlite3_prepare_v2(db, "INSERT INTO events VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", -1,
                       &insert, nullptr);
    const auto& sz = memlife::bench::allocation_sizes();
    const auto start = Clock::now();
    std::uint64_t time = 1'000'000;
    for (std::uint64_t i = 0; i < rows; ++i) {
        if (i % 100'000 == 0) sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr);
        time += 40;
        sqlite3_bind_int64(insert, 1, static_cast<sqlite3_int64>(i + 1));
        sqlite3_bind_int64(insert, 2, static_cast<sqlite3_int64>(time));
        sqlite3_bind_int64(insert, 3, static_cast<sqlite3_int64>(1 + i / 12000));
        sqlite3_bind_int64(insert, 4, static_cast<sqlite3_int64>(1 + (i / 12) % 1000));
        sqlite3_bind_int64(insert, 5, 6);
        sqlite3_bind_int64(insert, 6, 0);
        sqlite3_bind_int64(insert, 7, 3);
        sqlite3_bind_int64(insert, 8, static_cast<sqlite3_int64>(i % 12000));
        sqlite3_bind_int64(insert, 9, static_cast<sqlite3_int64>(0x7f0000000000 + i * 64));
        sqlite3_bind_int64(insert, 10, sz[i & 4095]);
        sqlite3_bind_int64(insert, 11, 0);
        sqlite3_step(insert);
        sqlite3_reset(insert);
        if (i % 100'000 == 99'999 || i + 1 == rows)
            sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
    }
    const double elapsed = seconds_since(start);
    sqlite3_finalize(insert);
    sqlite3_close(db);
    std::filesystem::remove(path);
    return static_cast<double>(rows) / elapsed;
}

// Events per second the Recorder persists: from the first event to the end of commit().
double recorder_persisted_per_second() {
    const std::string path = scratch() + "/persist.mltrace";
    memlife::data::Recorder recorder(path);
    memlife::Runtime rt(memlife::Config{}, &recorder);
    const auto start = Clock::now();
    workload(rt, 10'000'000, 100, 10);
    recorder.commit();
    const double elapsed = seconds_since(start);
    const std::uint64_t events = memlife::data::TraceReader(path).info().events;
    std::filesystem::remove(path);
    return static_cast<double>(events) / elapsed;
}

double sustained_recording_seconds() {
    const std::string path = scratch() + "/sustained.mltrace";
    const auto start = Clock::now();
    {
        memlife::data::Recorder recorder(path); // back-pressure = block
        memlife::Runtime rt(memlife::Config{}, &recorder);
        workload(rt, 10'000'000, 1000, 10);
        recorder.commit();
    }
    const double elapsed = seconds_since(start);
    std::filesystem::remove(path);
    return elapsed;
}

// The same loop without a sink: separates the allocator's share from the recorder's.
double alloc_mem_loop_seconds() {
    const auto start = Clock::now();
    memlife::Runtime rt(memlife::Config{});
    workload(rt, 10'000'000, 1000, 10);
    return seconds_since(start);
}

// A sink that takes batches and drops them.
class DropBatches : public memlife::EventSink {
public:
    void on_event(const memlife::Event&) noexcept override {}
    bool accepts_batches() const noexcept override { return true; }
    void on_events(const memlife::Event* events, std::size_t count) noexcept override {
        benchmark::DoNotOptimize(events);
        benchmark::DoNotOptimize(count);
    }
};

double events_only_loop_seconds() {
    DropBatches sink;
    const auto start = Clock::now();
    memlife::Runtime rt(memlife::Config{}, &sink);
    workload(rt, 10'000'000, 1000, 10);
    return seconds_since(start);
}

double malloc_loop_seconds() {
    const auto start = Clock::now();
    malloc_workload(10'000'000);
    return seconds_since(start);
}

} // namespace

int main(int argc, char** argv) {
    memlife::bench::figure("append_ns_vs_malloc", "BM_RecorderAppend", "BM_MallocFree", "ns");
    memlife::bench::run_figures(argc, argv);

    const double ceiling = row_per_event_ceiling(1'000'000);
    const double persisted = recorder_persisted_per_second();
    memlife::bench::print_figure("persisted_events_vs_row_ceiling", persisted, "ev/s", ceiling);

    struct Pair {
        double value, baseline;
    };
    constexpr int kRounds = 3;
    std::vector<Pair> recording, recording_vs_alloc_mem, events_only;
    for (int round = 0; round < kRounds; ++round) {
        const double baseline = malloc_loop_seconds();
        const double recorded = sustained_recording_seconds();
        recording.push_back({recorded, baseline});
        recording_vs_alloc_mem.push_back({recorded, alloc_mem_loop_seconds()});
        events_only.push_back({events_only_loop_seconds(), baseline});
    }
    auto print_median = [](const char* name, std::vector<Pair> pairs) {
        std::sort(pairs.begin(), pairs.end(), [](const Pair& a, const Pair& b) {
            return a.value / a.baseline < b.value / b.baseline;
        });
        const Pair& median = pairs[pairs.size() / 2];
        memlife::bench::print_figure(name, median.value, "s", median.baseline);
    };
    print_median("sustained_recording_vs_malloc", recording);
    // Not a target: how much of the above is the allocator's own cost.
    print_median("sustained_recording_vs_alloc_mem", recording_vs_alloc_mem);
    print_median("sustained_events_only_vs_malloc", events_only);
    return 0;
}
