// Pull-style iteration over stored events: the reader API, the `events` virtual table and
// the global stream merge use it. Keeps one batch (a few thousand events) in memory.
#pragma once

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "codec.hpp"
#include "store.hpp"

namespace memlife::data {

// A malformed BLOB: the reader reports it as a corrupt file.
struct CorruptBatch : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// Runs fn, turning SQLite failures and malformed BLOBs into TraceErrors naming the file.
template <typename Fn>
auto guarded_read(const std::string& path, sqlite3* db, Fn&& fn) -> decltype(fn()) {
    try {
        return fn();
    } catch (const store::SqlError& e) {
        store::throw_read_error(path, db, e.what());
    } catch (const CorruptBatch& e) {
        store::throw_corrupt_trace(path, e.what());
    }
}

// The event_batches rows a statement yields, in its columns store::kEventBatchColumns.
inline std::string select_event_batches(std::string_view where_and_order) {
    return store::kEventBatchColumns.select("event_batches") + " " + std::string(where_and_order);
}
// One session's batches in stream order; parameter 1 is the session.
inline constexpr std::string_view kOfSession = "WHERE session = ?1 ORDER BY first_seq";

// The batch being decoded. Owns a copy of the BLOB (SQLite's pointer dies with the step).
class BatchDecoder {
public:
    // The current row of `stmt`, a select_event_batches() statement.
    void load(const store::Statement& stmt) {
        constexpr const auto& c = store::kEventBatchColumns;
        session_ = stmt.u64(c["session"]);
        const std::uint64_t first_seq = stmt.u64(c["first_seq"]);
        const std::uint64_t first_ns = stmt.u64(c["first_ns"]);
        expected_ = stmt.u64(c["count"]);
        last_seq_ = stmt.u64(c["last_seq"]);
        last_ns_ = stmt.u64(c["last_ns"]);
        data_ = stmt.blob(c["data"]);
        decoded_ = 0;
        seq_ = 0;
        decoder_.emplace(reinterpret_cast<const std::uint8_t*>(data_.data()), data_.size(),
                         session_, first_ns, first_seq);
    }
    // The stack of the event next() returned last (0: none, or not an Alloc).
    StackId stack() const { return decoder_ ? decoder_->stack() : 0; }
    // False at the end of the batch; throws CorruptBatch when the BLOB does not decode to
    // the row's count of events, numbered up to its last_seq, at times up to its last_ns
    // (so that what a reader shows stays within what the rows say).
    bool next(Event& e, std::uint64_t& seq) {
        if (!decoder_) return false;
        if (decoder_->next(e, seq)) {
            if (++decoded_ <= expected_ && seq <= last_seq_ && e.time_ns <= last_ns_) {
                seq_ = seq;
                return true;
            }
        } else if (!decoder_->error() && decoded_ == expected_ && seq_ == last_seq_) {
            decoder_.reset();
            return false;
        }
        throw CorruptBatch("event batch of session " + std::to_string(session_) +
                           " does not decode");
    }

private:
    std::string data_;
    std::optional<codec::EventDecoder> decoder_;
    std::uint64_t session_ = 0, expected_ = 0, decoded_ = 0;
    std::uint64_t last_seq_ = 0, last_ns_ = 0, seq_ = 0; // seq_: the last decoded
};

// Events of the batches a select_event_batches() statement yields, in its order.
class BatchCursor {
public:
    explicit BatchCursor(store::Statement stmt) : stmt_(std::move(stmt)) {}
    // The batches of one session.
    BatchCursor(sqlite3* db, std::uint64_t session) : stmt_(db, select_event_batches(kOfSession)) {
        stmt_.bind(1, session);
    }
    bool next(Event& e, std::uint64_t& seq) {
        for (;;) {
            if (loaded_ && batch_.next(e, seq)) return true;
            if (!step()) return false;
            batch_.load(stmt_);
            loaded_ = true;
            ++batches_loaded_;
        }
    }
    // Passes over the first n events (before any next()): whole batches by their count
    // column, without reading their BLOBs; the rest by decoding.
    void skip(std::uint64_t n) {
        while (n > 0) {
            if (!step()) return;
            const std::uint64_t count = stmt_.u64(store::kEventBatchColumns["count"]);
            if (count <= n) {
                n -= count;
                continue;
            }
            batch_.load(stmt_);
            loaded_ = true;
            ++batches_loaded_;
            Event e;
            std::uint64_t seq = 0;
            while (n > 0 && batch_.next(e, seq))
                --n;
            return;
        }
    }
    // Batches whose BLOB was decoded (wholly or in part) so far.
    std::uint64_t batches_loaded() const { return batches_loaded_; }
    // The stack of the event next() returned last (0: none, or not an Alloc).
    StackId stack() const { return batch_.stack(); }

private:
    // Once the rows are done, stays done (stepping a finished statement would restart it).
    bool step() { return !done_ && (stmt_.step() || (done_ = true, false)); }

    store::Statement stmt_;
    BatchDecoder batch_;
    bool loaded_ = false, done_ = false;
    std::uint64_t batches_loaded_ = 0;
};

// Appends the rows of the request batch in `stmt`'s current row (store::kRequestBatchColumns);
// throws CorruptBatch when the BLOB does not decode to the row's count of rows.
inline void decode_request_batch(const store::Statement& stmt, std::vector<RequestRow>& out) {
    constexpr const auto& c = store::kRequestBatchColumns;
    const std::uint64_t session = stmt.u64(c["session"]);
    const std::string bytes = stmt.blob(c["data"]);
    const std::size_t before = out.size();
    // A record whose end or peak wrapped around 2^64 is made up.
    const auto impossible = [](const RequestRow& r) {
        return (r.end_ns != 0 && r.end_ns < r.begin_ns) || r.peak_bytes < r.live_bytes_at_end;
    };
    if (!codec::decode_requests(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size(),
                                session, out) ||
        out.size() - before != stmt.u64(c["count"]) ||
        std::any_of(out.begin() + static_cast<std::ptrdiff_t>(before), out.end(), impossible))
        throw CorruptBatch("request batch of session " + std::to_string(session) +
                           " does not decode");
}

} // namespace memlife::data
