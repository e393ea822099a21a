// What the loader hands to the models: the trace's summary tables, read once on a worker
// thread, plus the readers that jobs borrow afterwards for on-demand queries (series,
// requests, blocks, events). Events and blocks are never held whole: their models stream
// them. Nothing here reads the trace on the GUI thread.
#pragma once

#include <QString>

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "jobs/readerpool.hpp"
#include "memlife/data/follow.hpp"
#include "memlife/data/stacks.hpp"
#include "memlife/data/trace.hpp"

namespace memlife::ui {

class StepIndex;

struct LoadedTrace {
    QString path;
    // For jobs only (jobs/jobtracker.hpp): a reader serves one thread at a time.
    std::shared_ptr<ReaderPool> readers;
    data::TraceInfo info;
    std::vector<data::SessionRow> sessions;
    std::vector<data::CorruptionRow> corruptions;
    std::vector<data::LeakRow> leaks;
    // A coarse trace's seconds, for charts drawn against event order (charts/timescale.hpp);
    // null for a measured trace.
    std::shared_ptr<const StepIndex> steps;
    // What the rows above hold, for following a trace being recorded (follow/): read in
    // one transaction with them when the trace was live.
    data::TraceCursor cursor;
    data::StacksStatus stacks; // whether call stacks were recorded, and if not, why not

    // Builds the id -> row index and the time span; called after filling sessions.
    void index();
    // The same for sessions[from..] appended (and rows changed in place) since index():
    // costs what was appended, not the whole trace (a followed trace grows every 100 ms).
    void indexAppended(std::size_t from);
    const data::SessionRow* session(std::uint64_t id) const;
    // The first and last timestamps (trace metadata, or the sessions' span if absent).
    std::uint64_t firstNs() const;
    std::uint64_t lastNs() const;
    // Ids of the n sessions with the highest peak bytes, highest first.
    std::vector<std::uint64_t> topByPeak(std::size_t n) const;
    // Ids of the n sessions with the steepest growth per request, steepest first (of those
    // `only` accepts, if given).
    std::vector<std::uint64_t>
    topByGrowth(std::size_t n,
                const std::function<bool(const data::SessionRow&)>& only = nullptr) const;

    // Whether the trace can hold blocks that outlived their connection (memlife record's,
    // or any that has such blocks): the views show their columns only then.
    bool tracksOutlived() const { return info.source == "record" || anyOutlived_; }

private:
    bool anyOutlived_ = false;
    // (id, row), sorted by id: copied with the trace at every followed update, so a flat
    // array (a memcpy), not a hash map.
    std::vector<std::pair<std::uint64_t, std::size_t>> byId_;
    std::uint64_t firstNs_ = 0, lastNs_ = 0; // cached: models ask per cell
};

using TracePtr = std::shared_ptr<const LoadedTrace>;

} // namespace memlife::ui
