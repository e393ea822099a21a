// StackReader (memlife/data/stacks.hpp): the stack tables of schema version 3.
#include <algorithm>
#include <unordered_map>

#include "batch_cursor.hpp"
#include "memlife/data/stacks.hpp"
#include "stacks_ledger.hpp"
#include "store.hpp"

namespace memlife::data {

namespace {

std::string hex(std::uint64_t v) {
    char text[32];
    std::snprintf(text, sizeof text, "0x%llx", static_cast<unsigned long long>(v));
    return text;
}

std::string base_name(const std::string& path) {
    const auto slash = path.rfind('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

void add_to(StackCost& to, const StackCost& c) {
    to.blocks += c.blocks;
    to.bytes_allocated += c.bytes_allocated;
    to.bytes_live_at_end += c.bytes_live_at_end;
    to.growth_bytes_per_request += c.growth_bytes_per_request;
    to.leaks += c.leaks;
    to.leaked_bytes += c.leaked_bytes;
    to.corruptions += c.corruptions;
    to.sessions += c.sessions;
}

// True when a comes before b in `order` (largest first; ties by the next key, then id).
bool before(const StackCost& a, const StackCost& b, StackOrder order) {
    auto key = [order](const StackCost& c) {
        switch (order) {
        case StackOrder::Allocated:
            return std::tuple(static_cast<double>(c.bytes_allocated),
                              static_cast<double>(c.bytes_live_at_end));
        case StackOrder::Growth:
            return std::tuple(c.growth_bytes_per_request, static_cast<double>(c.bytes_live_at_end));
        case StackOrder::LiveAtEnd:
            break;
        }
        return std::tuple(static_cast<double>(c.bytes_live_at_end),
                          static_cast<double>(c.bytes_allocated));
    };
    const auto ka = key(a), kb = key(b);
    if (ka != kb) return ka > kb;
    return a.stack < b.stack;
}

// The summary columns of session_stacks as a StackCost (column 0 is the stack).
constexpr const char* kCostColumns =
    "stack, sum(blocks), sum(bytes_allocated), sum(live_bytes + live_bytes_at_close), "
    "sum(growth_bytes_per_request), sum(leaks), sum(leaked_bytes), sum(corruptions), count(*)";

StackCost cost_from(const store::Statement& s) {
    StackCost c;
    c.stack = s.u64(0);
    c.blocks = s.u64(1);
    c.bytes_allocated = s.u64(2);
    c.bytes_live_at_end = s.u64(3);
    c.growth_bytes_per_request = s.real(4);
    c.leaks = s.u64(5);
    c.leaked_bytes = s.u64(6);
    c.corruptions = s.u64(7);
    c.sessions = s.u64(8);
    return c;
}

using CostMap = std::unordered_map<std::uint64_t, StackCost>;

void merge(CostMap& into, const StackCost& c) {
    StackCost& to = into[c.stack];
    to.stack = c.stack;
    add_to(to, c);
}

} // namespace

std::string frame_name(const StackFrame& f) {
    if (!f.function.empty()) return f.function;
    if (!f.module.empty()) return base_name(f.module) + "+" + hex(f.module_offset);
    return hex(f.address);
}

std::string frame_location(const StackFrame& f) {
    if (f.file.empty()) return {};
    return f.line != 0 ? f.file + ":" + std::to_string(f.line) : f.file;
}

struct StackReader::Impl {
    std::string path;
    store::Database db;
    std::uint32_t version = 0;
    struct Node {
        std::uint64_t parent = 0, address = 0, module = 0;
    };
    struct Module {
        std::string path;
        std::uint64_t load_address = 0;
    };
    // What frames() learnt: bounded by the trace's nodes and addresses.
    std::unordered_map<std::uint64_t, Node> nodes;
    std::unordered_map<std::uint64_t, std::vector<StackFrame>> frames_by_address;
    std::unordered_map<std::uint64_t, Module> modules;
    bool modules_loaded = false;

    bool has_stack_tables() const { return version >= store::kStacksSchemaVersion; }

    template <typename Fn> auto guarded(Fn&& fn) const -> decltype(fn()) {
        return guarded_read(path, db.get(), std::forward<Fn>(fn));
    }

    const Module* module(std::uint64_t id) {
        if (!modules_loaded) {
            constexpr const auto& c = store::kModuleColumns;
            store::Statement s(db.get(), c.select("modules"));
            while (s.step())
                modules[s.u64(c["id"])] = {s.text(c["path"]), s.u64(c["load_address"])};
            modules_loaded = true;
        }
        const auto it = modules.find(id);
        return it == modules.end() ? nullptr : &it->second;
    }

    const Node* node(std::uint64_t id) {
        if (const auto it = nodes.find(id); it != nodes.end()) return &it->second;
        store::Statement s(db.get(),
                           "SELECT parent, address, module FROM stack_nodes WHERE id = ?");
        s.bind(1, id);
        if (!s.step()) return nullptr;
        const Node n{s.u64(0), s.u64(1), s.u64(2)};
        s.reset();
        return &(nodes[id] = n);
    }

    const std::vector<StackFrame>& frames_at(const Node& n) {
        if (const auto it = frames_by_address.find(n.address); it != frames_by_address.end())
            return it->second;
        std::vector<StackFrame> out;
        const Module* m = module(n.module);
        StackFrame base;
        base.address = n.address;
        if (m != nullptr) {
            base.module = m->path;
            base.module_offset = n.address - m->load_address;
        }
        store::Statement s(db.get(), "SELECT function, file, line FROM frames WHERE address = ? "
                                     "ORDER BY inline_depth");
        s.bind(1, n.address);
        while (s.step()) {
            StackFrame f = base;
            f.function = s.text(0);
            f.file = s.text(1);
            f.line = s.u32(2);
            f.inlined = true;
            out.push_back(std::move(f));
        }
        if (out.empty()) out.push_back(base);
        out.back().inlined = false; // the function the others were inlined into
        return frames_by_address[n.address] = std::move(out);
    }

    // The whole trace: one GROUP BY over the summary rows (all sessions) or point queries
    // per session (a set of them).
    void summary_costs(const StackQuery& q, CostMap& into) {
        if (q.sessions.empty()) {
            store::Statement s(db.get(), std::string("SELECT ") + kCostColumns +
                                             " FROM session_stacks GROUP BY stack");
            while (s.step())
                merge(into, cost_from(s));
            return;
        }
        store::Statement s(db.get(), std::string("SELECT ") + kCostColumns +
                                         " FROM session_stacks WHERE session = ? GROUP BY stack");
        for (std::uint64_t session : q.sessions) {
            s.bind(1, session);
            while (s.step())
                merge(into, cost_from(s));
        }
    }

    // One session's events in the window, through a ledger that starts with the window.
    // `e` is the session's first event; on return, the next session's (if `have`).
    void window_session(BatchCursor& cursor, const TimeWindow& w, CostMap& into, Event& e,
                        std::uint64_t& seq, bool& have) {
        const std::uint64_t session = e.session;
        StackLedger ledger(StackLedger::Points::FromFirstRequestEnd);
        for (; have && e.session == session; have = cursor.next(e, seq)) {
            if (e.time_ns < w.begin_ns || e.time_ns > w.end_ns) continue;
            switch (e.kind) {
            case EventKind::Alloc:
                if (const StackId stack = cursor.stack(); stack != 0) {
                    if (static_cast<AllocOrigin>(e.flags) == AllocOrigin::Noted)
                        ledger.noted(stack, e.block, e.size);
                    else
                        ledger.allocated(stack, 1, e.size, e.scope == Scope::Request ? e.size : 0);
                }
                break;
            case EventKind::Release:
                ledger.released(e.block);
                break;
            case EventKind::RequestEnd:
                ledger.request_ended(e.request);
                break;
            case EventKind::SessionClose:
                ledger.closed();
                break;
            default:
                break;
            }
        }
        ledger.changed(
            [&](const StackTotals& t) {
                StackCost c;
                c.stack = t.stack;
                c.blocks = t.blocks;
                c.bytes_allocated = t.bytes_allocated;
                c.bytes_live_at_end = t.live_bytes + t.live_bytes_at_close;
                c.growth_bytes_per_request = t.growth_bytes_per_request;
                c.sessions = t.blocks != 0 ? 1 : 0;
                merge(into, c);
            },
            true);
    }

    void window_costs(const StackQuery& q, const TimeWindow& w, CostMap& into) {
        auto decode = [&](BatchCursor cursor) {
            Event e;
            std::uint64_t seq = 0;
            bool have = cursor.next(e, seq);
            while (have)
                window_session(cursor, w, into, e, seq, have);
        };
        constexpr std::string_view kReaching = "last_ns >= ?1 AND first_ns <= ?2";
        // Leaks and corruptions detected in the window, by the stack of their block.
        store::Statement leaks(
            db.get(), std::string("SELECT stack, count(*), total(size) FROM leaks WHERE "
                                  "stack != 0 AND time_ns BETWEEN ?1 AND ?2") +
                          (q.sessions.empty() ? "" : " AND session = ?3") + " GROUP BY stack");
        store::Statement corruptions(
            db.get(), std::string("SELECT stack, count(*) FROM corruptions WHERE stack != 0 AND "
                                  "time_ns BETWEEN ?1 AND ?2") +
                          (q.sessions.empty() ? "" : " AND session = ?3") + " GROUP BY stack");
        auto reports = [&](std::optional<std::uint64_t> session) {
            for (store::Statement* s : {&leaks, &corruptions}) {
                s->bind(1, w.begin_ns).bind(2, w.end_ns);
                if (session) s->bind(3, *session);
                while (s->step()) {
                    StackCost c;
                    c.stack = s->u64(0);
                    if (s == &leaks) {
                        c.leaks = s->u64(1);
                        c.leaked_bytes = static_cast<std::uint64_t>(s->real(2));
                    } else {
                        c.corruptions = s->u64(1);
                    }
                    merge(into, c);
                }
            }
        };
        if (q.sessions.empty()) {
            store::Statement s(db.get(), select_event_batches("WHERE " + std::string(kReaching) +
                                                              " ORDER BY session, first_seq"));
            s.bind(1, w.begin_ns).bind(2, w.end_ns);
            decode(BatchCursor(std::move(s)));
            reports(std::nullopt);
            return;
        }
        for (std::uint64_t session : q.sessions) {
            store::Statement s(db.get(), select_event_batches("WHERE session = ?3 AND " +
                                                              std::string(kReaching) +
                                                              " ORDER BY first_seq"));
            s.bind(1, w.begin_ns).bind(2, w.end_ns).bind(3, session);
            decode(BatchCursor(std::move(s)));
            reports(session);
        }
    }

    std::vector<StackCost> costs(const StackQuery& q) {
        if (q.window && q.window->begin_ns > q.window->end_ns)
            throw TraceError(TraceError::Kind::Usage, path, "time window ends before it begins");
        std::vector<StackCost> out;
        if (!has_stack_tables()) return out;
        CostMap map;
        if (q.window)
            window_costs(q, *q.window, map);
        else
            summary_costs(q, map);
        out.reserve(map.size());
        for (auto& [id, c] : map)
            if (c.blocks != 0 || c.leaks != 0 || c.corruptions != 0) out.push_back(c);
        std::sort(out.begin(), out.end(),
                  [&](const StackCost& a, const StackCost& b) { return before(a, b, q.order); });
        return out;
    }
};

StackReader::StackReader(const std::string& path) : impl_(std::make_unique<Impl>()) {
    impl_->path = path;
    impl_->db = store::open_trace(path);
    impl_->guarded([&] {
        store::Statement v(impl_->db.get(), "PRAGMA user_version");
        if (v.step()) impl_->version = v.u32(0);
    });
}

StackReader::~StackReader() = default;
StackReader::StackReader(StackReader&&) noexcept = default;
StackReader& StackReader::operator=(StackReader&&) noexcept = default;

StacksStatus StackReader::status() const {
    return impl_->guarded([&]() -> StacksStatus {
        if (!impl_->has_stack_tables())
            return {false, "no stacks recorded (a schema version " +
                               std::to_string(impl_->version) +
                               " trace: written before memlife recorded call stacks)"};
        store::Statement any(impl_->db.get(), "SELECT 1 FROM stack_nodes LIMIT 1");
        if (any.step()) return {true, ""};
        const std::string source = store::meta(impl_->db.get(), "source");
        if (source == "nginx")
            return {false, "no stacks recorded (an nginx debug log has no call stacks)"};
        if (source == "jsonl")
            return {false, "no stacks recorded (a JSON-lines import has no call stacks)"};
        return {false, "no stacks recorded (recorded with stacks off: memlife simulate or serve "
                       "--stacks N, or Config::stack_depth / ml_set_stack_depth)"};
    });
}

void StackReader::for_each_stack(const StackQuery& query,
                                 const std::function<bool(const StackCost&)>& fn) const {
    const std::vector<StackCost> all = impl_->guarded([&] { return impl_->costs(query); });
    const std::size_t n = query.limit != 0 ? std::min(query.limit, all.size()) : all.size();
    for (std::size_t i = 0; i < n; ++i)
        if (!fn(all[i])) break;
}

std::vector<StackCost> StackReader::top_stacks(const StackQuery& query) const {
    std::vector<StackCost> out = impl_->guarded([&] { return impl_->costs(query); });
    if (query.limit != 0 && out.size() > query.limit) out.resize(query.limit);
    return out;
}

std::vector<StackFrame> StackReader::frames(std::uint64_t stack) const {
    return impl_->guarded([&] {
        std::vector<StackFrame> out;
        const Impl::Node* n = impl_->has_stack_tables() ? impl_->node(stack) : nullptr;
        if (n == nullptr)
            throw TraceError(TraceError::Kind::Usage, impl_->path,
                             "no stack " + std::to_string(stack) + " in this trace");
        for (std::size_t depth = 0; n != nullptr && depth <= 1024; ++depth) {
            const std::vector<StackFrame>& at = impl_->frames_at(*n);
            out.insert(out.end(), at.begin(), at.end());
            n = n->parent != 0 ? impl_->node(n->parent) : nullptr;
        }
        return out;
    });
}

StackTree StackReader::tree(const StackQuery& query, TreeDirection direction,
                            std::size_t max_stacks) const {
    StackQuery all = query;
    all.limit = 0;
    const std::vector<StackCost> costs = impl_->guarded([&] { return impl_->costs(all); });
    StackTree tree;
    tree.nodes.emplace_back();
    std::unordered_map<std::string, std::uint32_t> children; // "parent\0frame key" -> node
    const std::size_t used = max_stacks != 0 ? std::min(max_stacks, costs.size()) : costs.size();
    for (std::size_t i = 0; i < costs.size(); ++i) {
        StackCost c = costs[i];
        if (i >= used) {
            ++tree.stacks_left_out;
            add_to(tree.left_out, c);
            continue;
        }
        ++tree.stacks;
        std::vector<StackFrame> path = frames(c.stack);
        if (direction == TreeDirection::TopDown) std::reverse(path.begin(), path.end());
        c.stack = 0;
        c.sessions = 0;
        add_to(tree.nodes[0].cost, c);
        std::uint32_t at = 0;
        for (StackFrame& f : path) {
            // One node per function (as heaptrack's and hotspot's trees): the calls a
            // function makes from different lines are one node, whose line is theirs when
            // they agree and 0 when not.
            std::string key =
                std::to_string(at) + '\0' + f.function + '\0' + f.file + '\0' + f.module;
            if (f.function.empty()) key += '\0' + std::to_string(f.address);
            auto [it, added] = children.try_emplace(std::move(key), 0);
            if (added) {
                it->second = static_cast<std::uint32_t>(tree.nodes.size());
                StackTreeNode& node = tree.nodes.emplace_back();
                node.parent = at;
                node.frame = std::move(f);
                tree.nodes[at].children.push_back(it->second);
            } else if (tree.nodes[it->second].frame.line != f.line) {
                tree.nodes[it->second].frame.line = 0;
            }
            at = it->second;
            add_to(tree.nodes[at].cost, c);
        }
    }
    for (StackTreeNode& node : tree.nodes)
        std::sort(node.children.begin(), node.children.end(),
                  [&](std::uint32_t a, std::uint32_t b) {
                      return before(tree.nodes[a].cost, tree.nodes[b].cost, query.order);
                  });
    return tree;
}

} // namespace memlife::data
