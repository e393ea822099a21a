// nginx debug-log importer. The mapping (connection -> session, request pool -> request,
// malloc/posix_memalign -> block, free -> release) is documented in docs/trace-format.md,
// section "Importing nginx debug logs".
//
// The line scanner is hand-written (fixed-offset timestamp check, memchr-free prefix walk, a
// switch on the message's first byte) instead of a regex or an istream: nine lines in ten are
// not pool activity and must cost almost nothing, and the import has to run at a multiple of
// 50 MB/s; std::regex costs microseconds per line and getline adds a copy per line.
#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <optional>
#include <unordered_map>
#include <vector>

#include "line_reader.hpp"
#include "memlife/data/import.hpp"

namespace memlife::data {

namespace {

using import_detail::Line;

constexpr std::uint64_t kNsPerSecond = 1'000'000'000;
constexpr std::size_t kStampLength = 19; // "2026/11/24 16:42:11"

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
    const auto yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

// Cursor over one line's fields; every parse_* returns false on a format mismatch.
struct Cursor {
    const char* p;
    const char* end;

    bool literal(std::string_view s) {
        if (static_cast<std::size_t>(end - p) < s.size() || std::memcmp(p, s.data(), s.size()) != 0)
            return false;
        p += s.size();
        return true;
    }
    bool decimal(std::uint64_t& out) {
        const char* start = p;
        std::uint64_t v = 0;
        while (p != end && is_digit(*p)) {
            const auto digit = static_cast<std::uint64_t>(*p - '0');
            if (v > (UINT64_MAX - digit) / 10) return false; // overflow
            v = v * 10 + digit;
            ++p;
        }
        out = v;
        return p != start;
    }
    bool hex(std::uint64_t& out) { // nginx's %p: 16 upper-case digits; accept 1..16, any case
        const char* start = p;
        std::uint64_t v = 0;
        while (p != end) {
            const char c = *p;
            unsigned d;
            if (c >= '0' && c <= '9')
                d = static_cast<unsigned>(c - '0');
            else if (c >= 'A' && c <= 'F')
                d = static_cast<unsigned>(c - 'A' + 10);
            else if (c >= 'a' && c <= 'f')
                d = static_cast<unsigned>(c - 'a' + 10);
            else
                break;
            if (p - start == 16) return false;
            v = (v << 4) | d;
            ++p;
        }
        out = v;
        return p != start;
    }
    bool at_end() {
        while (p != end && *p == ' ')
            ++p;
        return p == end;
    }
};

struct Block {
    std::uint64_t id = 0;
    std::uint64_t size = 0;
    std::uint32_t request = 0; // request number at allocation (0 = between requests)
    Scope scope = Scope::Session;
    bool reported = false; // leak already reported
};

// One open nginx connection (= one session).
struct Connection {
    std::uint64_t session = 0;
    std::uint64_t number = 0;    // nginx's *N
    std::uint64_t pool_size = 0; // the connection pool's size (0 = not seen)
    std::uint64_t next_block = 1;
    std::uint32_t requests = 0;
    bool in_request = false;
    bool request_ending = false; // "http close request" seen, its pool frees may follow
    bool closing = false;        // "close http connection" seen, its pool frees may follow
    // "http alloc large header buffer" seen: the next malloc is a large header buffer, which
    // nginx takes from the connection's pool (c->pool), not the request's.
    bool large_header_pending = false;
    std::uint64_t request_pool_size = 0;
    std::uint64_t request_live_blocks = 0; // live blocks of the current request's scope
    std::uint64_t live_bytes = 0;
    std::uint64_t live_blocks = 0;                   // blocks + orphans
    std::unordered_map<std::uint64_t, Block> blocks; // by address
    // Still live, but their address was handed out again without a logged free (so they can
    // never be freed in the log): reported at close.
    std::vector<std::pair<std::uint64_t, Block>> orphans;

    std::uint32_t current_request() const { return in_request ? requests : 0; }
};

// One nginx process/thread (PID#TID): connections and addresses are kept apart per worker.
struct Worker {
    std::unordered_map<std::uint64_t, Connection> connections; // by *N
    std::unordered_map<std::uint64_t, std::uint64_t> owner;    // live address -> *N
    // A posix_memalign without *N: the pool of the connection this worker accepts next.
    bool has_pending_pool = false;
    std::uint64_t pending_pool_address = 0, pending_pool_size = 0;
    // Connections whose request end or close is in progress (the pool frees that follow
    // "http close request" / "close http connection" are still theirs).
    std::vector<std::uint64_t> finishing;
};

enum class Activity {
    Malloc,
    Memalign,
    Free,
    Accept,
    CloseRequest,
    CloseConnection,
    LargeHeaderAlloc, // "http alloc large header buffer": a c->pool buffer follows
    LargeHeaderDone,  // "http large header alloc/free: ...": it was allocated or reused
    None
};

std::string_view activity_name(Activity a) {
    switch (a) {
    case Activity::Malloc:
        return "malloc";
    case Activity::Memalign:
        return "posix_memalign";
    case Activity::Free:
        return "free";
    case Activity::Accept:
        return "accept";
    case Activity::CloseRequest:
        return "http close request";
    case Activity::CloseConnection:
        return "close http connection";
    case Activity::LargeHeaderAlloc:
    case Activity::LargeHeaderDone:
    case Activity::None:
        break;
    }
    return "unknown";
}

class NginxImporter {
public:
    NginxImporter(EventSink& sink, const ImportOptions& options, std::string name,
                  ImportStats& stats)
        : sink_(sink), options_(options), name_(std::move(name)), stats_(stats) {}

    void on_line(const Line& line);
    void finish();

private:
    // Parsed line prefix.
    struct Prefix {
        std::uint64_t worker = 0; // PID << 32 | TID
        bool has_connection = false;
        bool bad_connection = false; // a connection number nginx cannot have written
        std::uint64_t connection = 0;
        std::string_view message;
    };
    bool parse_prefix(std::string_view text, Prefix& out);
    std::uint64_t stamp(std::uint64_t seconds);

    // Fields of a relevant line.
    struct Fields {
        std::uint64_t address = 0, size = 0;
        std::string_view peer;
    };
    bool parse_fields(Activity activity, std::string_view rest, Fields& out);
    void malformed(const Line& line, std::string reason);

    Worker& worker(std::uint64_t key);
    Connection* find(Worker& w, const Prefix& prefix);
    void settle_finishing(Worker& w, Activity activity, const Fields& fields);
    void settle(Worker& w, std::uint64_t number); // completes a request end or a close

    void allocate(Worker& w, const Prefix& prefix, Activity activity, const Fields& fields);
    void release(Worker& w, const Prefix& prefix, const Fields& fields);
    void accept(Worker& w, const Prefix& prefix, const Fields& fields);
    void close_request(Worker& w, const Prefix& prefix);
    void close_connection(Worker& w, const Prefix& prefix);

    void begin_request(Connection& c);
    void end_request(Worker& w, Connection& c);
    void close_session(Worker& w, std::uint64_t number); // erases the connection
    void add_block(Worker& w, Connection& c, std::uint64_t address, std::uint64_t size,
                   Scope scope);
    void report_leak(Connection& c, std::uint64_t address, Block& block, bool at_close);
    void emit(const Connection& c, EventKind kind, std::uint64_t block, std::uint64_t address,
              std::uint64_t size, Scope scope, std::uint8_t flags = 0);

    EventSink& sink_;
    const ImportOptions& options_;
    std::string name_;
    ImportStats& stats_;

    std::unordered_map<std::uint64_t, Worker> workers_;
    std::uint64_t cached_worker_key_ = 0;
    Worker* cached_worker_ = nullptr;
    std::uint64_t next_session_ = 1;

    // Synthetic time: seconds from the timestamp, plus the line's index within its second.
    char last_stamp_[kStampLength] = {};
    std::uint64_t last_stamp_seconds_ = 0;
    bool have_stamp_ = false;
    std::uint64_t current_second_ = 0, index_in_second_ = 0;
    std::uint64_t now_ = 0; // time of the current line
    std::uint64_t nginx_lines_ = 0, activity_lines_ = 0;
};

bool NginxImporter::parse_prefix(std::string_view text, Prefix& out) {
    // "YYYY/MM/DD HH:MM:SS [level] PID#TID: [*N ]message"
    if (text.size() < kStampLength + 8) return false;
    const char* s = text.data();
    if (!have_stamp_ || std::memcmp(s, last_stamp_, kStampLength) != 0) {
        static constexpr char kShape[] = "dddd/dd/dd dd:dd:dd";
        for (std::size_t i = 0; i < kStampLength; ++i)
            if (kShape[i] == 'd' ? !is_digit(s[i]) : s[i] != kShape[i]) return false;
        auto num = [s](int at, int len) {
            unsigned v = 0;
            for (int i = 0; i < len; ++i)
                v = v * 10 + static_cast<unsigned>(s[at + i] - '0');
            return v;
        };
        const unsigned year = num(0, 4), month = num(5, 2), day = num(8, 2);
        const unsigned hour = num(11, 2), minute = num(14, 2), second = num(17, 2);
        // Nanoseconds since 1970 fit in 64 bits until 2554.
        if (year < 1970 || year > 2500 || month < 1 || month > 12 || day < 1 || day > 31 ||
            hour > 23 || minute > 59 || second > 60)
            return false;
        last_stamp_seconds_ =
            static_cast<std::uint64_t>(days_from_civil(year, month, day)) * 86400 + hour * 3600u +
            minute * 60u + second;
        std::memcpy(last_stamp_, s, kStampLength);
        have_stamp_ = true;
    }
    Cursor c{s + kStampLength, s + text.size()};
    if (!c.literal(" [")) return false;
    const char* level_end =
        static_cast<const char*>(std::memchr(c.p, ']', std::min<std::size_t>(c.end - c.p, 16)));
    if (level_end == nullptr) return false;
    c.p = level_end + 1;
    std::uint64_t pid = 0, tid = 0;
    if (!c.literal(" ") || !c.decimal(pid) || !c.literal("#") || !c.decimal(tid) ||
        !c.literal(": ") || pid > UINT32_MAX || tid > UINT32_MAX)
        return false;
    out.worker = pid << 32 | tid;
    out.has_connection = false;
    out.bad_connection = false;
    if (c.p != c.end && *c.p == '*') {
        Cursor n{c.p + 1, c.end};
        if (n.decimal(out.connection) && n.literal(" ")) {
            out.has_connection = true;
            c.p = n.p;
        } else if (n.p != n.end && is_digit(*n.p)) { // digits past 2^64 - 1
            out.bad_connection = true;
        }
    }
    out.message = std::string_view(c.p, static_cast<std::size_t>(c.end - c.p));
    now_ = stamp(last_stamp_seconds_);
    return true;
}

std::uint64_t NginxImporter::stamp(std::uint64_t seconds) {
    // Several workers write to one log with their own cached clocks, so a line may carry an
    // earlier second than the one before it: time never goes back in the trace.
    if (seconds > current_second_) {
        current_second_ = seconds;
        index_in_second_ = 0;
    }
    std::uint64_t t = current_second_ * kNsPerSecond + index_in_second_++;
    if (t <= now_) t = now_ + 1;
    return t;
}

bool NginxImporter::parse_fields(Activity activity, std::string_view rest, Fields& out) {
    Cursor c{rest.data(), rest.data() + rest.size()};
    switch (activity) {
    case Activity::Malloc: // "ADDR:SIZE"
        return c.hex(out.address) && c.literal(":") && c.decimal(out.size) && c.at_end() &&
               out.address != 0;
    case Activity::Memalign: { // "ADDR:SIZE @ALIGN"
        std::uint64_t alignment = 0;
        return c.hex(out.address) && c.literal(":") && c.decimal(out.size) && c.literal(" @") &&
               c.decimal(alignment) && c.at_end() && out.address != 0;
    }
    case Activity::Free: { // "ADDR" or "ADDR, unused: N"
        if (!c.hex(out.address)) return false;
        if (c.at_end()) return true;
        std::uint64_t unused = 0;
        return c.literal(", unused: ") && c.decimal(unused) && c.at_end();
    }
    case Activity::Accept: { // "PEER fd:N"
        const std::size_t fd_at = rest.rfind(" fd:");
        if (fd_at == std::string_view::npos || fd_at == 0) return false;
        out.peer = rest.substr(0, fd_at);
        Cursor fd{rest.data() + fd_at + 4, c.end};
        std::uint64_t n = 0;
        return fd.decimal(n) && fd.at_end();
    }
    case Activity::CloseConnection: { // "FD" (-1 once the socket is gone)
        std::uint64_t n = 0;
        c.literal("-");
        return c.decimal(n) && c.at_end();
    }
    case Activity::CloseRequest:
        return c.at_end();
    case Activity::LargeHeaderAlloc:
    case Activity::LargeHeaderDone:
    case Activity::None:
        break;
    }
    return false;
}

void NginxImporter::malformed(const Line& line, std::string reason) {
    if (!options_.lenient) throw ImportError(name_, line.number, std::move(reason));
    ++stats_.malformed_lines;
}

Worker& NginxImporter::worker(std::uint64_t key) {
    if (cached_worker_ == nullptr || cached_worker_key_ != key) {
        cached_worker_ = &workers_[key]; // node-based map: the pointer stays valid
        cached_worker_key_ = key;
    }
    return *cached_worker_;
}

Connection* NginxImporter::find(Worker& w, const Prefix& prefix) {
    if (!prefix.has_connection) return nullptr;
    const auto it = w.connections.find(prefix.connection);
    return it == w.connections.end() ? nullptr : &it->second;
}

void NginxImporter::on_line(const Line& line) {
    Prefix prefix;
    if (!parse_prefix(line.text, prefix)) { // a continuation line (header dump) or foreign
        ++stats_.skipped_lines;
        return;
    }
    ++nginx_lines_;
    if (prefix.bad_connection) return malformed(line, "connection number out of range");
    const std::string_view m = prefix.message;
    Activity activity = Activity::None;
    std::size_t keyword = 0;
    auto starts = [&](std::string_view k, Activity a) {
        if (m.size() >= k.size() && std::memcmp(m.data(), k.data(), k.size()) == 0) {
            activity = a;
            keyword = k.size();
        }
    };
    switch (m.empty() ? '\0' : m[0]) {
    case 'm':
        starts("malloc: ", Activity::Malloc);
        if (activity == Activity::None) starts("memalign: ", Activity::Memalign);
        break;
    case 'p':
        starts("posix_memalign: ", Activity::Memalign);
        break;
    case 'f':
        starts("free: ", Activity::Free);
        break;
    case 'a':
        if (prefix.has_connection) starts("accept: ", Activity::Accept);
        break;
    case 'h':
        if (!prefix.has_connection) break;
        starts("http close request", Activity::CloseRequest);
        if (activity == Activity::None)
            starts("http alloc large header buffer", Activity::LargeHeaderAlloc);
        if (activity == Activity::None) starts("http large header ", Activity::LargeHeaderDone);
        break;
    case 'c':
        if (prefix.has_connection) starts("close http connection: ", Activity::CloseConnection);
        break;
    default:
        break;
    }
    if (activity == Activity::LargeHeaderAlloc || activity == Activity::LargeHeaderDone) {
        // Not pool activity (skipped like any other line), but it says who owns the next
        // malloc of this connection.
        if (Connection* c = find(worker(prefix.worker), prefix))
            c->large_header_pending = activity == Activity::LargeHeaderAlloc;
        activity = Activity::None;
    }
    if (activity == Activity::None) {
        ++stats_.skipped_lines;
        return;
    }
    ++activity_lines_;
    const std::string_view name = activity_name(activity);
    if (line.overlong) return malformed(line, std::string(name) + " line too long");
    // nginx ends every line with '\n': without it the file was cut while being written.
    if (!line.terminated)
        return malformed(line,
                         "truncated " + std::string(name) + " line (no newline at end of file)");
    Fields fields;
    if (!parse_fields(activity, m.substr(keyword), fields))
        return malformed(line, "malformed " + std::string(name) + " line");

    Worker& w = worker(prefix.worker);
    // ngx_destroy_pool logs every large allocation of the pool, also those ngx_pfree freed
    // before (their slot reads NULL): such a line frees nothing and is part of the pool's
    // run of frees, so it neither releases nor ends a request end or a close.
    if (activity == Activity::Free && fields.address == 0) {
        ++stats_.skipped_lines;
        return;
    }
    if (!w.finishing.empty()) settle_finishing(w, activity, fields);
    switch (activity) {
    case Activity::Malloc:
    case Activity::Memalign:
        return allocate(w, prefix, activity, fields);
    case Activity::Free:
        return release(w, prefix, fields);
    case Activity::Accept:
        return accept(w, prefix, fields);
    case Activity::CloseRequest:
        return close_request(w, prefix);
    case Activity::CloseConnection:
        return close_connection(w, prefix);
    case Activity::LargeHeaderAlloc:
    case Activity::LargeHeaderDone:
    case Activity::None:
        break;
    }
}

// A request end or a connection close is complete once its pool frees are over: at the first
// activity of the same worker that is not one of them (nginx destroys a pool in one go).
void NginxImporter::settle_finishing(Worker& w, Activity activity, const Fields& fields) {
    std::uint64_t keep = 0;
    bool keep_one = false;
    if (activity == Activity::Free) {
        const auto it = w.owner.find(fields.address);
        if (it != w.owner.end()) {
            const Connection& c = w.connections.at(it->second);
            const Block& b = c.blocks.at(fields.address);
            if (c.closing ||
                (c.request_ending && b.scope == Scope::Request && b.request == c.requests)) {
                keep = it->second;
                keep_one = true;
            }
        }
    }
    const std::vector<std::uint64_t> finishing = w.finishing;
    for (std::uint64_t number : finishing)
        if (!keep_one || number != keep) settle(w, number);
}

void NginxImporter::settle(Worker& w, std::uint64_t number) {
    const auto it = w.connections.find(number);
    if (it == w.connections.end()) return;
    if (it->second.closing)
        close_session(w, number);
    else if (it->second.request_ending)
        end_request(w, it->second);
}

void NginxImporter::emit(const Connection& c, EventKind kind, std::uint64_t block,
                         std::uint64_t address, std::uint64_t size, Scope scope,
                         std::uint8_t flags) {
    Event e;
    e.time_ns = now_;
    e.session = c.session;
    e.block = block;
    e.address = address;
    e.size = size;
    e.request = c.current_request();
    e.kind = kind;
    e.scope = scope;
    e.flags = flags;
    sink_.on_event(e);
    ++stats_.events;
}

void NginxImporter::add_block(Worker& w, Connection& c, std::uint64_t address, std::uint64_t size,
                              Scope scope) {
    // The address is live already: its free was never logged. The old block stays live
    // (it will be reported at close), it just cannot be freed by address any more.
    if (const auto it = w.owner.find(address); it != w.owner.end()) {
        Connection& old = w.connections.at(it->second);
        const auto b = old.blocks.find(address);
        old.orphans.emplace_back(address, b->second);
        old.blocks.erase(b);
        w.owner.erase(it);
    }
    Block block;
    block.id = c.next_block++;
    block.size = size;
    block.request = c.current_request();
    block.scope = scope;
    c.blocks.emplace(address, block);
    w.owner.emplace(address, c.number);
    c.live_bytes += size;
    ++c.live_blocks;
    if (scope == Scope::Request) ++c.request_live_blocks;
    emit(c, EventKind::Alloc, block.id, address, size, scope,
         static_cast<std::uint8_t>(AllocOrigin::Noted));
}

void NginxImporter::allocate(Worker& w, const Prefix& prefix, Activity activity,
                             const Fields& fields) {
    if (!prefix.has_connection) {
        // Worker-level memory (cycle, modules) is not a session's; a pool created without
        // a connection is the pool of the connection accepted next (ngx_event_accept).
        if (activity != Activity::Memalign) {
            ++stats_.skipped_lines;
            return;
        }
        if (w.has_pending_pool) ++stats_.skipped_lines; // an earlier one no accept took
        w.has_pending_pool = true;
        w.pending_pool_address = fields.address;
        w.pending_pool_size = fields.size;
        return;
    }
    Connection* c = find(w, prefix);
    if (c == nullptr) { // a connection accepted before the log starts
        ++stats_.skipped_lines;
        return;
    }
    Scope scope = c->in_request ? Scope::Request : Scope::Session;
    if (activity == Activity::Malloc && c->large_header_pending) {
        // A large header buffer (ngx_http_alloc_large_header_buffer): c->pool memory that
        // ngx_http_set_keepalive frees after the request (or keeps for a pipelined one).
        c->large_header_pending = false;
        scope = Scope::Session;
    }
    if (activity == Activity::Memalign) {
        // A pool block: the connection pool grows by blocks of its own size; otherwise,
        // between requests, it is the next request's pool.
        const bool connection_pool_block =
            fields.size == c->pool_size && (!c->in_request || fields.size != c->request_pool_size);
        if (connection_pool_block) {
            scope = Scope::Session;
        } else if (!c->in_request) {
            c->request_pool_size = fields.size;
            begin_request(*c);
            scope = Scope::Request;
        }
    }
    add_block(w, *c, fields.address, fields.size, scope);
}

void NginxImporter::release(Worker& w, const Prefix& prefix, const Fields& fields) {
    const auto it = w.owner.find(fields.address);
    if (it == w.owner.end()) {
        // Memory allocated before the log starts, or by the worker itself (skipped above):
        // nothing to release. Counted, never an error.
        if (!prefix.has_connection && w.has_pending_pool &&
            w.pending_pool_address == fields.address) {
            w.has_pending_pool = false;
            ++stats_.skipped_lines; // the pool line
        }
        ++stats_.skipped_lines;
        ++stats_.unknown_frees;
        return;
    }
    const std::uint64_t number = it->second;
    Connection& c = w.connections.at(number);
    const auto b = c.blocks.find(fields.address);
    const Block block = b->second;
    c.blocks.erase(b);
    w.owner.erase(it);
    c.live_bytes -= block.size;
    --c.live_blocks;
    const bool current_request_block =
        block.scope == Scope::Request && c.in_request && block.request == c.requests;
    if (current_request_block) --c.request_live_blocks;
    emit(c, EventKind::Release, block.id, fields.address, block.size, block.scope,
         static_cast<std::uint8_t>(AllocOrigin::Noted));
    if (c.request_ending && c.request_live_blocks == 0) end_request(w, c);
    if (c.closing && c.live_blocks == 0) close_session(w, number);
}

void NginxImporter::accept(Worker& w, const Prefix& prefix, const Fields& fields) {
    if (w.connections.contains(prefix.connection)) // its close was never logged
        close_session(w, prefix.connection);
    Connection& c = w.connections[prefix.connection];
    c.session = next_session_++;
    c.number = prefix.connection;
    ++stats_.sessions;
    // The peer label keeps nginx's own names so the trace leads back to the log.
    char tag[64];
    std::snprintf(tag, sizeof tag, " (*%" PRIu64 " %" PRIu64 "#%" PRIu64 ")", c.number,
                  prefix.worker >> 32, prefix.worker & 0xffffffffu);
    const std::string peer = std::string(fields.peer) + tag;
    Event open;
    open.time_ns = now_;
    open.session = c.session;
    open.kind = EventKind::SessionOpen;
    sink_.on_session_open(open, peer);
    ++stats_.events;
    if (w.has_pending_pool) {
        w.has_pending_pool = false;
        c.pool_size = w.pending_pool_size;
        add_block(w, c, w.pending_pool_address, w.pending_pool_size, Scope::Session);
    }
}

void NginxImporter::close_request(Worker& w, const Prefix& prefix) {
    Connection* c = find(w, prefix);
    if (c == nullptr || !c->in_request || c->request_ending) {
        ++stats_.skipped_lines;
        return;
    }
    if (c->request_live_blocks == 0) return end_request(w, *c);
    c->request_ending = true;
    w.finishing.push_back(c->number);
}

void NginxImporter::close_connection(Worker& w, const Prefix& prefix) {
    Connection* c = find(w, prefix);
    if (c == nullptr || c->closing) {
        ++stats_.skipped_lines;
        return;
    }
    if (c->in_request) end_request(w, *c); // a request the log never closed
    if (c->live_blocks == 0) return close_session(w, c->number);
    c->closing = true;
    w.finishing.push_back(c->number);
}

void NginxImporter::begin_request(Connection& c) {
    ++c.requests;
    c.in_request = true;
    c.request_ending = false;
    c.request_live_blocks = 0;
    emit(c, EventKind::RequestBegin, 0, 0, 0, Scope::Request);
}

void NginxImporter::end_request(Worker& w, Connection& c) {
    if (c.request_live_blocks != 0) { // request-pool memory never freed: leaks, still live
        std::vector<std::pair<std::uint64_t, Block*>> leaked;
        for (auto& [address, block] : c.blocks)
            if (block.scope == Scope::Request && block.request == c.requests && !block.reported)
                leaked.emplace_back(address, &block);
        for (auto& [address, block] : c.orphans)
            if (block.scope == Scope::Request && block.request == c.requests && !block.reported)
                leaked.emplace_back(address, &block);
        std::sort(leaked.begin(), leaked.end(),
                  [](const auto& a, const auto& b) { return a.second->id < b.second->id; });
        for (auto& [address, block] : leaked)
            report_leak(c, address, *block, false);
    }
    // Every block was released one by one (Release events), so the scope itself releases
    // nothing more: size 0, as for memory noted from another allocator.
    emit(c, EventKind::RequestEnd, 0, 0, 0, Scope::Request);
    c.in_request = false;
    c.request_ending = false;
    c.request_live_blocks = 0;
    if (!c.closing) std::erase(w.finishing, c.number);
}

void NginxImporter::close_session(Worker& w, std::uint64_t number) {
    const auto it = w.connections.find(number);
    Connection& c = it->second;
    if (c.in_request) end_request(w, c);
    std::vector<std::pair<std::uint64_t, Block*>> live;
    for (auto& [address, block] : c.blocks)
        if (!block.reported) live.emplace_back(address, &block);
    for (auto& [address, block] : c.orphans)
        if (!block.reported) live.emplace_back(address, &block);
    std::sort(live.begin(), live.end(),
              [](const auto& a, const auto& b) { return a.second->id < b.second->id; });
    for (auto& [address, block] : live)
        report_leak(c, address, *block, true);
    emit(c, EventKind::SessionClose, c.live_blocks, 0, c.live_bytes, Scope::Session);
    for (const auto& entry : c.blocks)
        w.owner.erase(entry.first);
    w.connections.erase(it);
    std::erase(w.finishing, number);
}

void NginxImporter::report_leak(Connection& c, std::uint64_t address, Block& block, bool at_close) {
    block.reported = true;
    ++stats_.leaks;
    emit(c, EventKind::Leak, block.id, address, block.size, block.scope,
         static_cast<std::uint8_t>(AllocOrigin::Noted));
    ml_report r{};
    r.kind = ML_REPORT_LEAK;
    r.session_id = c.session;
    r.request = c.current_request();
    r.alloc_request = block.request;
    r.block_id = block.id;
    r.address = address;
    r.size = block.size;
    r.scope = static_cast<int>(block.scope);
    r.time_ns = now_;
    char allocated[48] = "between requests";
    if (block.request != 0)
        std::snprintf(allocated, sizeof allocated, "in request %" PRIu32, block.request);
    std::snprintf(r.message, sizeof r.message,
                  "Leak: %" PRIu64 " bytes at 0x%" PRIx64 " allocated %s still live at end of %s"
                  " (nginx *%" PRIu64 ")",
                  block.size, address, allocated, at_close ? "session" : "request", c.number);
    sink_.on_report(r);
}

void NginxImporter::finish() {
    for (auto& [key, w] : workers_) {
        const std::vector<std::uint64_t> finishing = w.finishing;
        for (std::uint64_t number : finishing)
            settle(w, number);
        if (w.has_pending_pool) ++stats_.skipped_lines;
        stats_.open_sessions += w.connections.size();
    }
    if (stats_.bytes == 0) throw ImportError(name_, 0, "empty file");
    if (nginx_lines_ == 0)
        throw ImportError(name_, 0,
                          "not an nginx error log (no line starts with "
                          "'YYYY/MM/DD HH:MM:SS [level] PID#TID: ')");
    if (activity_lines_ == 0)
        throw ImportError(name_, 0,
                          "no pool activity in this nginx log (it needs 'error_log FILE "
                          "debug;' and an nginx built --with-debug)");
}

} // namespace

ImportStats import_detail::import_nginx_source(import_detail::ByteSource& source, EventSink& sink,
                                               const ImportOptions& options,
                                               const std::string& name) {
    return run_importer<NginxImporter>(source, sink, options, name);
}

ImportStats import_nginx(const std::string& log_path, EventSink& sink,
                         const ImportOptions& options) {
    auto source = import_detail::open_file(log_path);
    return import_detail::run_importer<NginxImporter>(*source, sink, options, log_path);
}

ImportStats import_nginx_buffer(std::string_view text, EventSink& sink,
                                const ImportOptions& options, const std::string& name) {
    auto source = import_detail::open_memory(text);
    return import_detail::run_importer<NginxImporter>(*source, sink, options, name);
}

} // namespace memlife::data
