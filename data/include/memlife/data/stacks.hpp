// The call stacks of a trace (schema version 3): which code allocated, per stack and per
// session, and the trees of frames (top-down and bottom-up) a flame graph or an allocation-
// sites view shows. Like TraceReader: streaming over the summary rows where it can, bounded
// in memory by the number of distinct stacks (never by the number of events), and one
// thread at a time (open one StackReader per worker thread).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "memlife/data/trace.hpp"

namespace memlife::data {

// Whether the trace has stacks, and if not, why not (a sentence for the user).
struct StacksStatus {
    bool recorded = false;
    std::string reason; // "no stacks recorded (...)" when !recorded
};

// One frame of a stack. An address inside inlined code gives several frames: the inlined
// functions (innermost first, `inlined` set) and then the function they were inlined into.
struct StackFrame {
    std::string function;            // demangled; "" when not symbolized
    std::string file;                // source file; "" when unknown
    std::uint32_t line = 0;          // 0 when unknown
    std::string module;              // the binary's path as recorded; "" when unknown
    std::uint64_t address = 0;       // the return address in the recording process
    std::uint64_t module_offset = 0; // address in the module's file (for addr2line -e MODULE)
    bool inlined = false;
};

// "function", or "module+0xOFFSET" when not symbolized; "file:line" when known.
std::string frame_name(const StackFrame& frame);
std::string frame_location(const StackFrame& frame);

// What one stack (or, in a tree, every stack through one frame) did in the sessions asked
// about.
struct StackCost {
    std::uint64_t stack = 0; // its id (the innermost node); 0 in tree nodes
    std::uint64_t blocks = 0;
    std::uint64_t bytes_allocated = 0;
    // Still live at the end: at the session's close (or now, for a session still open at
    // the end of the trace). With a time window: of the blocks allocated in it, at the
    // window's end (or at the close, if the session closed in it).
    std::uint64_t bytes_live_at_end = 0;
    // Least-squares slope of the stack's live bytes at each request end, summed over the
    // sessions (a session's growth is the sum of its stacks'). With a window: over the
    // request ends in it, of the bytes allocated in it.
    double growth_bytes_per_request = 0;
    std::uint64_t leaks = 0, leaked_bytes = 0, corruptions = 0;
    std::uint64_t sessions = 0; // sessions in which it allocated
};

enum class StackOrder {
    LiveAtEnd, // bytes_live_at_end, then bytes_allocated (memlife report --by-stack)
    Allocated, // bytes_allocated, then bytes_live_at_end
    Growth,    // growth_bytes_per_request, then bytes_live_at_end
};

struct StackQuery {
    std::vector<std::uint64_t> sessions{}; // empty: all
    // nullopt: the whole trace, from the summary rows (no event is decoded). A window
    // decodes the selected sessions' event batches that reach into it.
    std::optional<TimeWindow> window{};
    StackOrder order = StackOrder::LiveAtEnd;
    std::size_t limit = 0; // the first `limit` in that order; 0: all
};

enum class TreeDirection {
    TopDown,  // from the outermost frame (main) to the allocating function
    BottomUp, // from the allocating function to its callers
};

struct StackTreeNode {
    std::uint32_t parent = 0;            // index into StackTree::nodes; the root (index 0) has none
    StackFrame frame;                    // the root's is empty
    StackCost cost;                      // of every stack through this node
    std::vector<std::uint32_t> children; // in the query's order, largest first
};

struct StackTree {
    std::vector<StackTreeNode> nodes;  // nodes[0] is the root: the total of the stacks in it
    std::uint64_t stacks = 0;          // stacks in the tree
    std::uint64_t stacks_left_out = 0; // beyond the max_stacks asked for
    StackCost left_out;                // their total
};

class StackReader {
public:
    // Opens read-only, with the checks TraceReader makes. Throws TraceError.
    explicit StackReader(const std::string& path);
    ~StackReader();
    StackReader(StackReader&&) noexcept;
    StackReader& operator=(StackReader&&) noexcept;

    StacksStatus status() const;

    // The stacks of the query, in its order (a stack that allocated nothing in it is left
    // out). Without a window, a GROUP BY over session_stacks; with one, bounded by the
    // stacks in it plus one batch per session.
    void for_each_stack(const StackQuery& query,
                        const std::function<bool(const StackCost&)>& fn) const;
    std::vector<StackCost> top_stacks(const StackQuery& query) const;

    // The frames of a stack, innermost first, inlined frames expanded. Throws TraceError
    // (Usage) for an id the trace does not have.
    std::vector<StackFrame> frames(std::uint64_t stack) const;

    // The first `max_stacks` stacks of the query (in its order) merged into a tree of
    // frames: below one node, the frames of one function (same function, file and module;
    // unsymbolized: same address) are one node, whose line is 0 when theirs differ.
    StackTree tree(const StackQuery& query, TreeDirection direction,
                   std::size_t max_stacks = 10000) const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

} // namespace memlife::data
