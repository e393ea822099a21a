// Reconstructs blocks (allocation to release) from one session's events; used by
// TraceReader::for_each_block and the `blocks` SQL table.
#pragma once

#include <algorithm>
#include <functional>
#include <map>
#include <vector>

#include "memlife/data/trace.hpp"

namespace memlife::data {

// Blocks are emitted when released (request end, noted free, session close; in id order
// within one release), and by finish() for those still live at the end of the trace.
class BlockTracker {
public:
    explicit BlockTracker(const std::function<bool(const BlockRow&)>& emit) : emit_(emit) {}

    // False when the callback asked to stop. `stack`: an Alloc's stack.
    bool add(const Event& e, StackId stack = 0) {
        switch (e.kind) {
        case EventKind::Alloc: {
            BlockRow b;
            b.stack = stack;
            b.session = e.session;
            b.id = e.block;
            b.address = e.address;
            b.size = e.size;
            b.scope = e.scope;
            b.origin = static_cast<AllocOrigin>(e.flags);
            b.notification = e.notification;
            b.request = e.request;
            b.alloc_ns = e.time_ns;
            b.tail = b.origin == AllocOrigin::Noted ? TailStatus::NotChecked : TailStatus::Intact;
            if (b.origin == AllocOrigin::Noted)
                noted_[b.id] = b;
            else if (b.scope == Scope::Request)
                request_.push_back(b);
            else
                session_.push_back(b);
            return true;
        }
        case EventKind::Release: {
            auto it = noted_.find(e.block);
            if (it == noted_.end()) return true;
            BlockRow b = it->second;
            noted_.erase(it);
            b.release_ns = e.time_ns;
            b.released_by = ReleasedBy::Free;
            return emit_(b);
        }
        case EventKind::Corruption:
            if (BlockRow* b = find(e.block)) b->tail = TailStatus::Corrupted;
            return true;
        case EventKind::Leak:
            if (BlockRow* b = find(e.block)) b->leaked = true;
            return true;
        case EventKind::RequestEnd:
            return release_all(request_, e.time_ns, ReleasedBy::RequestEnd);
        case EventKind::SessionClose: {
            if (!release_all(request_, e.time_ns, ReleasedBy::SessionClose)) return false;
            for (auto& [id, b] : noted_)
                session_.push_back(b);
            noted_.clear();
            std::sort(session_.begin(), session_.end(),
                      [](const BlockRow& a, const BlockRow& b) { return a.id < b.id; });
            return release_all(session_, e.time_ns, ReleasedBy::SessionClose);
        }
        default:
            return true;
        }
    }

    // Blocks still live at the end of the trace (release_ns 0; tails not checked yet).
    void finish() {
        for (auto& [id, b] : noted_)
            session_.push_back(b);
        noted_.clear();
        for (BlockRow& b : request_)
            session_.push_back(b);
        request_.clear();
        std::sort(session_.begin(), session_.end(),
                  [](const BlockRow& a, const BlockRow& b) { return a.id < b.id; });
        for (BlockRow& b : session_) {
            if (b.tail == TailStatus::Intact) b.tail = TailStatus::NotChecked;
            if (!emit_(b)) break;
        }
        session_.clear();
    }

private:
    BlockRow* find(std::uint64_t id) {
        if (auto it = noted_.find(id); it != noted_.end()) return &it->second;
        for (BlockRow& b : request_)
            if (b.id == id) return &b;
        auto it = std::lower_bound(session_.begin(), session_.end(), id,
                                   [](const BlockRow& b, std::uint64_t v) { return b.id < v; });
        if (it != session_.end() && it->id == id) return &*it;
        for (BlockRow& b : session_) // ids out of order (imported traces)
            if (b.id == id) return &b;
        return nullptr;
    }
    bool release_all(std::vector<BlockRow>& blocks, std::uint64_t time_ns, ReleasedBy by) {
        for (BlockRow& b : blocks) {
            b.release_ns = time_ns;
            b.released_by = by;
            if (!emit_(b)) return false;
        }
        blocks.clear();
        return true;
    }

    const std::function<bool(const BlockRow&)>& emit_;
    std::vector<BlockRow> request_, session_;
    std::map<std::uint64_t, BlockRow> noted_;
};

} // namespace memlife::data
