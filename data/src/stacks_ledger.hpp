// What each allocating stack did in one session: blocks and bytes allocated, bytes still
// live (at each request end, at the close), growth per request, leaks and corruptions. The
// writer keeps one per session for the session_stacks table; the reader runs one over
// decoded events for a time window. docs/trace-format.md, "session_stacks".
#pragma once

#include <algorithm>
#include <cstdint>
#include <unordered_map>
#include <vector>

#include "memlife/event.hpp"
#include "memlife/stacks.hpp"

namespace memlife::data {

// A least-squares slope of y over x, kept as running means and co-moments (numerically
// stable for millions of points), that also takes a run of points with consecutive x and
// one y in O(1) (a stack untouched for many requests adds one such run).
class Slope {
public:
    void add(double x, double y) {
        n_ += 1;
        const double inv_n = 1 / n_;
        const double dx = x - mean_x_;
        mean_x_ += dx * inv_n;
        mean_y_ += (y - mean_y_) * inv_n;
        c_xy_ += dx * (y - mean_y_);
        m2_x_ += dx * (x - mean_x_);
    }
    // The points (first, y), (first + 1, y), ..., (last, y); nothing when last < first.
    void add_run(std::uint64_t first, std::uint64_t last, double y) {
        if (last < first) return;
        const double k = static_cast<double>(last - first + 1);
        if (k == 1) return add(static_cast<double>(first), y);
        // Merge with a set of mean x (first + last) / 2, mean y, M2x = k(k^2 - 1) / 12 and
        // no co-moment (Chan et al.'s parallel update).
        const double mean_x = (static_cast<double>(first) + static_cast<double>(last)) / 2;
        const double n = n_ + k;
        const double dx = mean_x - mean_x_, dy = y - mean_y_;
        m2_x_ += k * (k * k - 1) / 12 + dx * dx * n_ * k / n;
        c_xy_ += dx * dy * n_ * k / n;
        mean_x_ += dx * k / n;
        mean_y_ += dy * k / n;
        n_ = n;
    }
    double slope() const { return m2_x_ > 0 ? c_xy_ / m2_x_ : 0; }

private:
    double n_ = 0, mean_x_ = 0, mean_y_ = 0, c_xy_ = 0, m2_x_ = 0;
};

struct StackTotals {
    StackId stack = 0;
    std::uint64_t blocks = 0, bytes_allocated = 0;
    std::uint64_t live_bytes = 0;                     // now
    std::uint64_t live_bytes_at_last_request_end = 0; // after the last ended request
    std::uint64_t max_live_bytes_at_request_end = 0;
    std::uint64_t live_bytes_at_close = 0; // released by the close (0 while open)
    double growth_bytes_per_request = 0;   // slope of the live bytes at each request end
    std::uint64_t leaks = 0, leaked_bytes = 0, corruptions = 0;
};

class StackLedger {
public:
    // Which request ends the growth is over: all of the session's (from request 1, the
    // writer), or from the first one the ledger sees (a time window of a session).
    enum class Points { FromFirstRequest, FromFirstRequestEnd };
    explicit StackLedger(Points points = Points::FromFirstRequest) : points_(points) {}

    // Allocations of one stack (not noted): `request_bytes` of `bytes` have request scope
    // and are released at the request's end.
    void allocated(StackId stack, std::uint64_t blocks, std::uint64_t bytes,
                   std::uint64_t request_bytes) {
        Entry& e = touch(stack);
        e.t.blocks += blocks;
        e.t.bytes_allocated += bytes;
        e.t.live_bytes += bytes;
        e.request_bytes += request_bytes;
    }
    // A noted block (another allocator's memory): released by its own Release event.
    void noted(StackId stack, std::uint64_t block, std::uint64_t bytes) {
        allocated(stack, 1, bytes, 0);
        noted_[block] = {stack, bytes};
    }
    void released(std::uint64_t block) {
        const auto it = noted_.find(block);
        if (it == noted_.end()) return;
        Entry& e = touch(it->second.stack);
        e.t.live_bytes -= std::min(e.t.live_bytes, it->second.bytes);
        noted_.erase(it);
    }
    // The end of request `number` (its request-scoped arena blocks are released): one point
    // of every stack's growth.
    void request_ended(std::uint32_t number) {
        if (points_ == Points::FromFirstRequestEnd && !seen_end_ && number > 0) {
            // The requests before this one are not counted.
            origin_ = last_ended_ = number - 1;
            for (auto& [id, e] : entries_)
                e.last_point = origin_;
        }
        seen_end_ = true;
        for (StackId id : touched_) {
            Entry& e = entries_[id];
            e.t.live_bytes -= std::min(e.t.live_bytes, e.request_bytes);
            e.request_bytes = 0;
            e.growth.add(number, static_cast<double>(e.t.live_bytes));
            e.last_point = number;
            e.t.live_bytes_at_last_request_end = e.t.live_bytes;
            e.t.max_live_bytes_at_request_end =
                std::max(e.t.max_live_bytes_at_request_end, e.t.live_bytes);
            e.touched = false;
        }
        touched_.clear();
        last_ended_ = number;
    }
    void closed() {
        for (auto& [id, e] : entries_) {
            catch_up(e);
            e.t.live_bytes_at_close = e.t.live_bytes;
            e.t.live_bytes = 0;
            e.request_bytes = 0;
            e.dirty = true;
        }
        noted_.clear();
    }
    void leaked(StackId stack, std::uint64_t bytes) {
        Entry& e = entry(stack);
        ++e.t.leaks;
        e.t.leaked_bytes += bytes;
    }
    void corrupted(StackId stack) { ++entry(stack).t.corruptions; }

    bool empty() const { return entries_.empty(); }
    // Calls fn(const StackTotals&) for each stack changed since the last call (all with
    // `all`), its growth taking the requests it sat out into account.
    template <class Fn> void changed(Fn&& fn, bool all = false) {
        for (auto& [id, e] : entries_) {
            if (!e.dirty && !all) continue;
            e.dirty = false;
            StackTotals t = e.t;
            t.stack = id;
            Slope growth = e.growth;
            if (!e.touched)
                growth.add_run(e.last_point + 1, last_ended_, e.t.live_bytes_at_last_request_end);
            t.growth_bytes_per_request = growth.slope();
            fn(t);
        }
    }

private:
    struct Entry {
        StackTotals t;
        std::uint64_t request_bytes = 0; // request-scoped, released at the request's end
        Slope growth;
        std::uint32_t last_point = 0; // the last request end with a point in `growth`
        bool touched = false;         // changed since the last request end
        bool dirty = false;
    };
    struct Noted {
        StackId stack;
        std::uint64_t bytes;
    };

    Entry& entry(StackId stack) {
        auto [it, added] = entries_.try_emplace(stack);
        // Before its first allocation a stack had 0 bytes live: those request ends count (so
        // that a session's growth is the sum of its stacks').
        if (added) it->second.last_point = origin_;
        it->second.dirty = true;
        return it->second;
    }
    // A stack's points for the requests that ended while it did not change: its live bytes
    // then were what they were at its last point (0 before its first).
    void catch_up(Entry& e) {
        if (e.touched) return;
        e.growth.add_run(e.last_point + 1, last_ended_,
                         static_cast<double>(e.t.live_bytes_at_last_request_end));
        e.last_point = last_ended_;
    }
    Entry& touch(StackId stack) {
        Entry& e = entry(stack);
        if (!e.touched) {
            catch_up(e);
            e.touched = true;
            touched_.push_back(stack);
        }
        return e;
    }

    std::unordered_map<StackId, Entry> entries_;
    std::vector<StackId> touched_;
    std::unordered_map<std::uint64_t, Noted> noted_; // live noted blocks by block id
    std::uint32_t last_ended_ = 0;
    std::uint32_t origin_ = 0; // the request before the first one with a point
    const Points points_;
    bool seen_end_ = false;
};

} // namespace memlife::data
