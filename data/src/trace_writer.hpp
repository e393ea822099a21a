// The recorder's writer side: turns the event stream into event batches and keeps the
// summary tables up to date, in one SQLite transaction per commit. Used only by the
// recorder's background thread (or by the thread that calls Recorder::commit()).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "codec.hpp"
#include "memlife/data/recorder.hpp"
#include "stacks_modules.hpp"
#include "store.hpp"

namespace memlife::data {

// A batch closes when its BLOB could outgrow one 32 KiB page (so a row is exactly one page,
// stored without overflow pages and with no space wasted), or at 16384 events.
inline constexpr std::size_t kBatchBytes = 32768 - 256;
inline constexpr std::uint32_t kEventsPerBatch = 16384;
inline constexpr std::size_t kRequestsPerBatch = 256;

// Creates the schema of a new trace in `db` (an empty database).
void create_schema(store::Database& db, const RecorderOptions& options);

class TraceWriter {
public:
    // `stacks`: where the Allocs' stack ids come from; null: this process (LocalStacks).
    explicit TraceWriter(sqlite3* db, std::shared_ptr<StackSource> stacks = nullptr);
    ~TraceWriter();

    // Assigns the next sequence number. `stack`: an Alloc's stack (a node of the stack
    // source's tree), 0 for none.
    void add(const Event& event, StackId stack = 0);
    // Adds events up to the first record that is not an event (a kind outside EventKind);
    // returns how many it added. Runs of Allocs take a faster path than add() one by one.
    // `stacks`: the stacks of the Allocs among them, if any.
    std::size_t add_events(const Event* events, std::size_t count,
                           const codec::StackFeed* stacks = nullptr);
    void set_peer(std::uint64_t session, std::string peer);
    void add_report(const ml_report& report);

    using Meta = std::vector<std::pair<std::string, std::string>>;
    struct Counters {
        std::uint64_t dropped_events = 0;
        std::uint64_t skipped_lines = 0;
        std::uint64_t malformed_lines = 0;
        bool complete = false;
        Meta meta; // Recorder::set_meta()
    };
    // Writes pending batches, dirty summaries and the metadata, then commits. A no-op when
    // nothing changed since the last commit (unless `force`).
    void commit(const Counters& counters, bool force = false);

private:
    struct SessionState;
    // The hot case: consecutive events of one session.
    SessionState& state(std::uint64_t session) {
        return last_ != nullptr && last_session_ == session ? *last_ : switch_session(session);
    }
    SessionState& switch_session(std::uint64_t session);
    void begin();
    void write_batch(SessionState& s);
    void write_requests(SessionState& s);
    void write_session(const SessionState& s);
    void write_session_stacks(SessionState& s);
    // Writes stack `id`'s nodes that are not in the trace yet (and their modules), in the
    // transaction of the batch that uses it.
    void note_stack(StackId id) {
        if (id >= nodes_written_.size() || !nodes_written_[id]) write_stack(id);
    }
    void write_stack(StackId id);
    void allocated(SessionState& s, const Event& e, StackId stack);
    void mark_dirty(SessionState& s);
    // The trace's first and last event times (meta first_ns, last_ns); 0 = none yet.
    void note_times(std::uint64_t min_ns, std::uint64_t max_ns) {
        if (min_ns < first_ns_ || first_ns_ == 0) first_ns_ = min_ns;
        if (max_ns > last_ns_) last_ns_ = max_ns;
    }

    sqlite3* db_;
    store::Statement insert_batch_, upsert_requests_, upsert_session_, insert_corruption_,
        insert_leak_, insert_outlived_, upsert_meta_;
    store::Statement insert_node_, insert_module_, upsert_session_stack_;
    std::vector<bool> nodes_written_; // by stack id
    std::vector<bool> modules_written_;
    std::shared_ptr<StackSource> stacks_;
    std::unordered_map<std::uint64_t, std::unique_ptr<SessionState>> sessions_;
    std::vector<SessionState*> dirty_;
    SessionState* last_ = nullptr;
    std::uint64_t last_session_ = 0;
    std::uint64_t next_seq_ = 1;
    std::uint64_t first_ns_ = 0, last_ns_ = 0;
    bool in_transaction_ = false;
    Counters last_counters_;
    std::vector<std::uint8_t> scratch_;
};

} // namespace memlife::data
