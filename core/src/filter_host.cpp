// The filter host. The order it drives and what each status does are in
// docs/notifications.md; the comments here say why where it is not obvious.
#include "memlife/filter_host.hpp"

#include <algorithm>
#include <array>
#include <mutex>
#include <string>
#include <unordered_map>

namespace memlife {

namespace {

// RFC 9110's reason phrases for the statuses a filter or the server is likely to send.
constexpr std::pair<int, std::string_view> kReasons[] = {
    {100, "Continue"},
    {200, "OK"},
    {201, "Created"},
    {202, "Accepted"},
    {204, "No Content"},
    {206, "Partial Content"},
    {301, "Moved Permanently"},
    {302, "Found"},
    {303, "See Other"},
    {304, "Not Modified"},
    {307, "Temporary Redirect"},
    {308, "Permanent Redirect"},
    {400, "Bad Request"},
    {401, "Unauthorized"},
    {403, "Forbidden"},
    {404, "Not Found"},
    {405, "Method Not Allowed"},
    {406, "Not Acceptable"},
    {408, "Request Timeout"},
    {409, "Conflict"},
    {410, "Gone"},
    {411, "Length Required"},
    {413, "Content Too Large"},
    {414, "URI Too Long"},
    {415, "Unsupported Media Type"},
    {429, "Too Many Requests"},
    {431, "Request Header Fields Too Large"},
    {500, "Internal Server Error"},
    {501, "Not Implemented"},
    {502, "Bad Gateway"},
    {503, "Service Unavailable"},
    {504, "Gateway Timeout"},
    {505, "HTTP Version Not Supported"},
};

std::string_view standard_reason(int status) {
    for (const auto& [code, reason] : kReasons)
        if (code == status) return reason;
    return "Status";
}

// `count` (at least 1) consecutive pieces of `text`, as even as possible; a piece may be
// empty when the text is shorter than the count.
std::vector<std::string_view> split(std::string_view text, std::uint32_t count) {
    count = std::max(count, 1u);
    std::vector<std::string_view> pieces;
    pieces.reserve(count);
    const std::size_t step = (text.size() + count - 1) / count;
    for (std::uint32_t i = 0; i < count; ++i) {
        const std::size_t begin = std::min(text.size(), i * step);
        pieces.push_back(text.substr(begin, step));
    }
    return pieces;
}

bool ends_request(FilterStatus status) {
    return status == FilterStatus::ReqFinished || status == FilterStatus::FinishedKeepConn ||
           status == FilterStatus::Error;
}

Response error_response() {
    Response r;
    r.status = 500;
    r.body = "a filter reported an error\n";
    return r;
}

// The C filter's view of the session, through the context's private pointer.
Session* session_of(ml_filter_context* ctx) {
    return ctx != nullptr ? static_cast<Session*>(ctx->host_private) : nullptr;
}
void* c_alloc_mem(ml_filter_context* ctx, std::uint32_t size, std::uint32_t reserved) {
    Session* s = session_of(ctx);
    return s != nullptr ? s->alloc_mem(size, reserved) : nullptr;
}
void* c_alloc_request(ml_filter_context* ctx, std::uint32_t size) {
    Session* s = session_of(ctx);
    return s != nullptr ? s->alloc_request(size) : nullptr;
}
int c_note_alloc(ml_filter_context* ctx, const void* ptr, std::size_t size, int scope) {
    Session* s = session_of(ctx);
    if (s == nullptr) return ML_ERR_INVALID_CONTEXT;
    if (scope != ML_SCOPE_SESSION && scope != ML_SCOPE_REQUEST) return ML_ERR_INVALID_PARAMETER;
    return s->note_alloc(ptr, size, static_cast<Scope>(scope));
}
int c_note_free(ml_filter_context* ctx, const void* ptr) {
    Session* s = session_of(ctx);
    return s != nullptr ? s->note_free(ptr) : ML_ERR_INVALID_CONTEXT;
}

} // namespace

std::string Response::wire(bool keep_alive) const {
    std::string out = "HTTP/1.1 " + std::to_string(status) + ' ';
    out += reason.empty() ? standard_reason(status) : std::string_view(reason);
    out += "\r\n";
    for (const auto& [name, value] : headers)
        out += name + ": " + value + "\r\n";
    out += "Content-Length: " + std::to_string(body.size()) + "\r\n";
    out += keep_alive ? "Connection: keep-alive\r\n\r\n" : "Connection: close\r\n\r\n";
    out += body;
    return out;
}

FilterPriority priority_from_flags(std::uint32_t flags) noexcept {
    if (flags & ML_FILTER_ORDER_HIGH) return FilterPriority::High;
    if (flags & ML_FILTER_ORDER_MEDIUM) return FilterPriority::Medium;
    return FilterPriority::Low;
}

std::uint32_t notification_mask(std::uint32_t flags) noexcept {
    std::uint32_t mask = 0;
    for (const auto& n : notification_table())
        mask |= flags & n.flag;
    return mask;
}

// Per connection: what survives between requests.
struct Connection {
    bool authenticated = false;      // AUTHENTICATION fired (keep-alive: first request only)
    std::uint8_t pending_status = 0; // status byte for the next Notification event
    std::vector<void*> filter_contexts;
};

struct FilterHost::Impl {
    HostOptions options;
    bool on_global_runtime = false;
    std::vector<FilterInfo> infos;
    std::vector<FilterFn> functions;
    std::array<std::vector<std::size_t>, kNotificationCount> order;
    Handler handler;
    std::mutex mutex; // guards connections (sessions run on several threads)
    std::unordered_map<std::uint64_t, Connection> connections;

    void rebuild_order() {
        for (const auto& n : notification_table()) {
            auto& list = order[static_cast<std::size_t>(n.id)];
            list.clear();
            for (const auto& f : infos)
                if (n.flag != 0 && (f.flags & n.flag)) list.push_back(f.load_order);
            std::stable_sort(list.begin(), list.end(), [this](std::size_t a, std::size_t b) {
                return infos[a].priority < infos[b].priority;
            });
            // A high-priority filter sees outgoing raw data last, just before the client.
            if (n.id == Notification::SendRawData) std::reverse(list.begin(), list.end());
        }
    }

    Connection& connection(const Session& session) {
        std::lock_guard lock(mutex);
        Connection& c = connections[session.id()]; // node-based: the reference stays valid
        c.filter_contexts.resize(functions.size(), nullptr);
        return c;
    }

    void forget(const Session& session) {
        std::lock_guard lock(mutex);
        connections.erase(session.id());
    }

    // Runs one notification: tells the allocator, calls the filters in order until one
    // ends the chain, and returns the status that ended it (NextNotification if none).
    FilterStatus fire(Session& session, Connection& conn, Notification notification,
                      std::uint32_t repeat, const Request* http, Response* response,
                      std::string_view data) {
        session.set_notification(notification, conn.pending_status);
        FilterStatus decisive = FilterStatus::NextNotification;
        for (std::size_t index : order[static_cast<std::size_t>(notification)]) {
            FilterContext ctx{session,  notification, session.current_request(),  repeat, http,
                              response, data,         conn.filter_contexts[index]};
            FilterStatus status;
            try {
                status = functions[index](ctx);
            } catch (...) { // a filter must not take the server down
                status = FilterStatus::Error;
            }
            if (!filter_status_from_value(static_cast<std::uint32_t>(status)))
                status = FilterStatus::Error;
            // READ_NEXT means nothing outside raw reads: an invalid answer.
            if (status == FilterStatus::ReadNext && notification != Notification::ReadRawData)
                status = FilterStatus::Error;
            if (status == FilterStatus::NextNotification) continue;
            decisive = status;
            break;
        }
        conn.pending_status =
            decisive == FilterStatus::NextNotification ? 0 : status_byte(decisive);
        return decisive;
    }
};

FilterHost::FilterHost(Runtime& runtime, HostOptions options)
    : runtime_(runtime), impl_(std::make_unique<Impl>()) {
    impl_->options = options;
    impl_->on_global_runtime = &runtime == &Runtime::global();
    impl_->rebuild_order();
}

FilterHost::~FilterHost() = default;

std::size_t FilterHost::add_filter(std::string name, std::uint32_t flags, FilterFn filter) {
    const std::size_t load_order = impl_->infos.size();
    impl_->infos.push_back({std::move(name), flags, priority_from_flags(flags), load_order});
    impl_->functions.push_back(std::move(filter));
    impl_->rebuild_order();
    return load_order;
}

std::size_t FilterHost::add_filter(std::string name, std::uint32_t flags, ml_filter_fn filter,
                                   void* user) {
    const bool on_global = impl_->on_global_runtime;
    Runtime* runtime = &runtime_;
    auto adapter = [filter, user, on_global, runtime](FilterContext& ctx) -> FilterStatus {
        ml_filter_context c{};
        c.size = sizeof c;
        c.notification = flag(ctx.notification);
        c.request = ctx.request;
        c.repeat = ctx.repeat;
        c.session_id = ctx.session.id();
        c.session = on_global ? runtime->handle(&ctx.session) : nullptr;
        c.method = ctx.http != nullptr ? ctx.http->method.c_str() : nullptr;
        c.url = ctx.http != nullptr ? ctx.http->url.c_str() : nullptr;
        c.response_status = ctx.response != nullptr ? ctx.response->status : 0;
        c.filter_context = ctx.connection_context;
        c.alloc_mem = c_alloc_mem;
        c.alloc_request = c_alloc_request;
        c.note_alloc = c_note_alloc;
        c.note_free = c_note_free;
        c.host_private = &ctx.session;
        ml_raw_data raw{ctx.data.data(), ctx.data.size()};
        const bool is_raw = ctx.notification == Notification::ReadRawData ||
                            ctx.notification == Notification::SendRawData;
        const int result = filter(&c, c.notification, is_raw ? &raw : nullptr, user);
        ctx.connection_context = c.filter_context;
        if (ctx.response != nullptr) ctx.response->status = c.response_status;
        // The host maps values outside the SF_STATUS range to REQ_ERROR.
        return static_cast<FilterStatus>(static_cast<std::uint32_t>(result));
    };
    return add_filter(std::move(name), flags, FilterFn(adapter));
}

const std::vector<FilterInfo>& FilterHost::filters() const {
    return impl_->infos;
}

const std::vector<std::size_t>& FilterHost::call_order(Notification notification) const {
    return impl_->order[static_cast<std::size_t>(notification)];
}

void FilterHost::set_handler(Handler handler) {
    impl_->handler = std::move(handler);
}

Session* FilterHost::open_session(std::string_view peer) {
    return runtime_.open(peer);
}

RequestOutcome FilterHost::run_request(Session& session, const Request& request) {
    RequestOutcome out;
    // A closed session, or a request still active: nothing fires.
    if (!session.is_open() || session.request_begin() != ML_OK) {
        out.status = FilterStatus::Error;
        out.response = error_response();
        out.wire = out.response.wire(false);
        return out;
    }

    Connection& conn = impl_->connection(session);
    Response& response = out.response;
    std::array<std::uint32_t, kNotificationCount> repeats{};
    auto fire = [&](Notification n, std::string_view data = {}) {
        const std::uint32_t repeat = repeats[static_cast<std::size_t>(n)]++;
        return impl_->fire(session, conn, n, repeat, &request, &response, data);
    };
    // Records a status that ends the request early; true when the sequence goes on.
    bool running = true;
    auto go_on = [&](FilterStatus status, Notification n) {
        if (!ends_request(status)) return true;
        out.status = status;
        out.ended_at = n;
        running = false;
        return false;
    };
    // Raw reads: READ_NEXT on the last planned read asks for one more (empty) read.
    auto read_raw = [&](std::string_view text, std::uint32_t count) {
        auto pieces = split(text, count);
        std::uint32_t extra = 0;
        for (std::size_t i = 0; i < pieces.size(); ++i) {
            const FilterStatus status = fire(Notification::ReadRawData, pieces[i]);
            if (!go_on(status, Notification::ReadRawData)) return;
            if (status == FilterStatus::ReadNext && i + 1 == pieces.size()) {
                if (extra++ == impl_->options.max_extra_reads) {
                    go_on(FilterStatus::Error, Notification::ReadRawData);
                    return;
                }
                pieces.emplace_back();
            }
        }
    };

    read_raw(request.raw, request.raw_reads);
    if (running) go_on(fire(Notification::PreprocHeaders), Notification::PreprocHeaders);
    for (std::uint32_t i = 0; running && i < std::max(request.url_maps, 1u); ++i)
        go_on(fire(Notification::UrlMap), Notification::UrlMap);
    // Once per connection: with keep-alive on its first request; without keep-alive every
    // request is the first (and only) one of its connection. A client's last request saying
    // "Connection: close" on a keep-alive connection is not authenticated again.
    if (running && !conn.authenticated) {
        conn.authenticated = true;
        go_on(fire(Notification::Authentication), Notification::Authentication);
    }
    if (running) go_on(fire(Notification::AuthComplete), Notification::AuthComplete);
    if (running && request.access_denied) {
        response.status = 401;
        response.headers.emplace_back("WWW-Authenticate", "Basic realm=\"memlife\"");
        response.body = "access denied\n";
        go_on(fire(Notification::AccessDenied), Notification::AccessDenied);
    } else if (running) {
        if (request.body_reads > 0) read_raw(request.body, request.body_reads);
        if (running && impl_->handler) impl_->handler(request, response);
    }
    if (running) go_on(fire(Notification::SendResponse), Notification::SendResponse);

    bool close = false;
    if (running) {
        out.wire = response.wire(request.keep_alive);
        const auto pieces = split(out.wire, request.raw_sends);
        std::size_t sent = 0;
        for (const auto piece : pieces) {
            const FilterStatus status = fire(Notification::SendRawData, piece);
            if (status == FilterStatus::Error) {
                // Part of the response is out: it cannot be replaced, only cut off.
                out.wire.resize(sent);
                close = true;
            }
            // Finished*: the filter takes over the data; the rest goes out unnotified.
            if (!go_on(status, Notification::SendRawData)) break;
            sent += piece.size();
        }
        close = close || out.status == FilterStatus::ReqFinished;
    } else {
        if (out.status == FilterStatus::Error) response = error_response();
        close = out.status == FilterStatus::ReqFinished;
        out.wire = response.wire(request.keep_alive && !close);
    }

    // END_OF_REQUEST and LOG fire for every request, however it ended, so per-request
    // cleanup and logging always happen and the stream stays valid for the checker.
    for (Notification n : {Notification::EndOfRequest, Notification::Log}) {
        const FilterStatus status = fire(n);
        if (status == FilterStatus::ReqFinished || status == FilterStatus::Error) {
            close = true;
            if (out.status == FilterStatus::NextNotification) {
                out.status = status;
                out.ended_at = n;
            }
        }
    }
    session.request_end();
    out.keep_connection = request.keep_alive && !close && session.is_open();
    return out;
}

void FilterHost::end_session(Session& session) {
    if (session.is_open()) {
        Connection& conn = impl_->connection(session);
        // Statuses are recorded but change nothing: the connection is going anyway.
        impl_->fire(session, conn, Notification::EndOfNetSession, 0, nullptr, nullptr, {});
    }
    impl_->forget(session);
    runtime_.close(&session);
}

} // namespace memlife
