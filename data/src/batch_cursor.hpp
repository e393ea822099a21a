// Pull-style iteration over stored events: the reader API, the `events` virtual table and
// the global stream merge use it. Keeps one batch (a few thousand events) in memory.
#pragma once

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

// The batch being decoded. Owns a copy of the BLOB (SQLite's pointer dies with the step).
class BatchDecoder {
public:
    // Columns of `stmt` at `column`: session, first_seq, first_ns, count, data.
    void load(const store::Statement& stmt, int column = 0) {
        session_ = stmt.u64(column);
        const std::uint64_t first_seq = stmt.u64(column + 1);
        const std::uint64_t first_ns = stmt.u64(column + 2);
        expected_ = stmt.u64(column + 3);
        data_ = stmt.blob(column + 4);
        decoded_ = 0;
        decoder_.emplace(reinterpret_cast<const std::uint8_t*>(data_.data()), data_.size(),
                         session_, first_ns, first_seq);
    }
    // False at the end of the batch; throws CorruptBatch when the BLOB does not decode to
    // the row's count of events.
    bool next(Event& e, std::uint64_t& seq) {
        if (!decoder_) return false;
        if (decoder_->next(e, seq)) return ++decoded_, true;
        if (decoder_->error() || decoded_ != expected_)
            throw CorruptBatch("event batch of session " + std::to_string(session_) +
                               " does not decode");
        decoder_.reset();
        return false;
    }

private:
    std::string data_;
    std::optional<codec::EventDecoder> decoder_;
    std::uint64_t session_ = 0, expected_ = 0, decoded_ = 0;
};

// Events of the batches a statement yields, in the statement's order.
class BatchCursor {
public:
    explicit BatchCursor(store::Statement stmt) : stmt_(std::move(stmt)) {}
    bool next(Event& e, std::uint64_t& seq) {
        for (;;) {
            if (loaded_ && batch_.next(e, seq)) return true;
            if (!step()) return false;
            batch_.load(stmt_);
            loaded_ = true;
        }
    }
    // Passes over the first n events (before any next()): whole batches by their count
    // column, without reading their BLOBs; the rest by decoding.
    void skip(std::uint64_t n) {
        while (n > 0) {
            if (!step()) return;
            const std::uint64_t count = stmt_.u64(3); // kBatchColumns: session, first_seq,
            if (count <= n) {                         // first_ns, count, data
                n -= count;
                continue;
            }
            batch_.load(stmt_);
            loaded_ = true;
            Event e;
            std::uint64_t seq = 0;
            while (n > 0 && batch_.next(e, seq))
                --n;
            return;
        }
    }
    store::Statement& statement() { return stmt_; }

private:
    // Once the rows are done, stays done (stepping a finished statement would restart it).
    bool step() { return !done_ && (stmt_.step() || (done_ = true, false)); }

    store::Statement stmt_;
    BatchDecoder batch_;
    bool loaded_ = false, done_ = false;
};

inline constexpr const char* kBatchColumns = "session, first_seq, first_ns, count, data";

// Appends the rows of the request batch in `stmt`'s columns `data` and `count` (the row's
// claim); throws CorruptBatch when the BLOB does not decode to that many rows.
inline void decode_request_batch(const store::Statement& stmt, int data, int count,
                                 std::uint64_t session, std::vector<RequestRow>& out) {
    const std::string bytes = stmt.blob(data);
    const std::size_t before = out.size();
    if (!codec::decode_requests(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size(),
                                session, out) ||
        out.size() - before != stmt.u64(count))
        throw CorruptBatch("request batch of session " + std::to_string(session) +
                           " does not decode");
}

} // namespace memlife::data
