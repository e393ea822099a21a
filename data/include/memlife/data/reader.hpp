// The reader API used by the CLI and the GUI. Streaming: for_each_* calls its callback per
// row and never holds a whole trace in memory; the callback returns false to stop.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "memlife/data/trace.hpp"
#include "memlife/order_checker.hpp"

namespace memlife::data {

// What a reader has done so far (for tests and diagnostics; counts since it was opened).
struct ReaderStats {
    std::uint64_t event_batches_decoded = 0; // event batch BLOBs decoded, wholly or in part
};

// One thread at a time: a reader holds one SQLite connection and what its queries learn
// (open one reader per worker thread, or hand a reader over between them).
class TraceReader {
public:
    // Opens read-only and defensively (docs/trace-format.md, "What a reader refuses").
    // Throws TraceError (missing, empty, not SQLite, truncated, foreign, newer schema,
    // damaged) with a one-line message naming the file. Checks the schema objects, the meta
    // table and the sessions table's totals and its agreement with the event batches'
    // index at once; each sessions row when it is read; the event batch rows in verify().
    explicit TraceReader(const std::string& path);
    ~TraceReader();
    TraceReader(TraceReader&&) noexcept;
    TraceReader& operator=(TraceReader&&) noexcept;

    const std::string& path() const;
    // Checked at open. info().complete is false for a recording that did not finish
    // (completeness_note() below).
    TraceInfo info() const;
    // Checks every event batch row (not its BLOB) against its session's row and the meta
    // table: counts, sequence numbers, times. One pass over the batch rows, so it reads the
    // whole file; `report` and `check` run it. Throws TraceError(Damaged).
    void verify() const;

    // Sessions from the summary tables (no event scan).
    std::vector<SessionRow> sessions() const;
    void for_each_session(const std::function<bool(const SessionRow&)>& fn) const;
    std::optional<SessionRow> session(std::uint64_t id) const;
    std::vector<RequestRow> requests(std::uint64_t session) const;

    // Live bytes of one session over time, as steps (value holds until the next point).
    // With max_points > 0 the series is reduced to at most max_points points keeping each
    // bucket's minimum and maximum (so peaks and drops survive). Decodes only the event
    // batches that reach into the window (and the one after it), starting from the live
    // bytes stored with the first of them; a trace written before those were stored is
    // decoded from the session's first batch once, then from what this reader learnt.
    std::vector<SeriesPoint> live_bytes_series(std::uint64_t session,
                                               std::optional<TimeWindow> window = std::nullopt,
                                               std::size_t max_points = 0) const;

    void for_each_block(std::uint64_t session,
                        const std::function<bool(const BlockRow&)>& fn) const;
    // Every event in stream order (optionally one session's), decoded, after the first
    // `skip` of them. Skipping passes over whole batches without decoding them (for the
    // stream of all sessions, when its sequence numbers are dense, as a recording's are).
    void for_each_event(const std::function<bool(const Event&)>& fn,
                        std::optional<std::uint64_t> session = std::nullopt,
                        std::uint64_t skip = 0) const;
    // The number of events for_each_event() yields (without skip), from the batch rows:
    // no decoding. Throws TraceError(Damaged) when the rows claim more than meta.events.
    std::uint64_t event_count(std::optional<std::uint64_t> session = std::nullopt) const;

    std::vector<CorruptionRow>
    corruptions(std::optional<std::uint64_t> session = std::nullopt) const;
    std::vector<LeakRow> leaks(std::optional<std::uint64_t> session = std::nullopt) const;
    // Blocks that outlived their connection (memlife record); none in other traces.
    std::vector<OutlivedRow> outlived(std::optional<std::uint64_t> session = std::nullopt) const;
    // The order checker run over the trace's events.
    std::vector<OrderViolation> order_violations() const;

    ReaderStats stats() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// The words for a trace whose writer did not finish (TraceInfo::complete false): "incomplete
// recording (...)"; "" for a complete one. Every front end (report, check, the GUI) says it
// this way: "incomplete" is not "damaged", and a trace still being recorded is incomplete
// too.
std::string completeness_note(const TraceInfo& info);

struct SqlOptions {
    // A statement still running after this long is stopped: TraceError(Usage) "SQL error:
    // query stopped after N s". Zero: no limit.
    std::chrono::milliseconds time_limit{0};
};

// Opens a trace for ad-hoc SQL (`memlife sql TRACE "SELECT ..."`): the summary tables plus
// an `events` virtual table that decodes the stored batches. Calls fn(column names, values)
// per row. Only reading statements run, and they read only the trace's tables, its virtual
// tables and schema information (see store::open_trace). Throws TraceError on a bad file or
// bad or refused SQL.
void run_sql(const std::string& path, const std::string& sql,
             const std::function<void(const std::vector<std::string>& columns,
                                      const std::vector<std::optional<std::string>>& values)>& fn,
             const SqlOptions& options = {});

} // namespace memlife::data
