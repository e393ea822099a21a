#include "demo_filters.hpp"

#include <cstdlib>
#include <cstring>
#include <stdexcept>

namespace memlife::cli {
namespace {

// The per-request work every demo filter does: keep a copy of the URL and the headers
// (what a real filter does to log or rewrite them).
std::uint32_t copy_size(const FilterContext& ctx) {
    std::size_t bytes = ctx.http->url.size() + 1;
    for (const auto& [name, value] : ctx.http->headers)
        bytes += name.size() + value.size() + 4;
    return static_cast<std::uint32_t>(bytes < 64 ? 64 : bytes);
}

void fill(void* p, std::uint32_t size, const FilterContext& ctx) {
    if (p == nullptr) return;
    const std::string& url = ctx.http->url;
    std::memset(p, 0, size);
    std::memcpy(p, url.data(), std::min<std::size_t>(url.size(), size - 1));
}

// Blocks a MissingFree filter allocated: really freed at END_OF_NET_SESSION (so the demo
// does not leak for real), but the free is never noted: each one is reported as a leak at
// the end of its request.
struct Unnoted {
    std::vector<void*> blocks;
};

// Each filter allocates in a function of its own (noipa: a frame of its own, never folded
// with another), so that a
// trace's call stacks tell the code paths apart.
[[gnu::noipa]] void leaky_copy_headers(FilterContext& ctx) {
    const std::uint32_t size = copy_size(ctx);
    fill(ctx.session.alloc_mem(size), size, ctx); // session memory: kept until the close
}

[[gnu::noipa]] void clean_copy_headers(FilterContext& ctx) {
    const std::uint32_t size = copy_size(ctx);
    fill(ctx.session.alloc_request(size), size, ctx); // released at the request's end
}

// Formats a status line into a buffer sized for the text without its terminator: the
// classic off-by-one, when `bad`.
[[gnu::noipa]] void overrun_status_line(FilterContext& ctx, bool bad) {
    const std::string status = "HTTP/1.1 " + std::to_string(ctx.response->status);
    const auto size = static_cast<std::uint32_t>(status.size());
    auto* p = static_cast<char*>(ctx.session.alloc_mem(size));
    if (p == nullptr) return;
    std::memcpy(p, status.data(), size);
    if (bad) p[size] = '\0'; // one past the end: caught at END_OF_NET_SESSION
}

[[gnu::noipa]] void missing_free_copy(FilterContext& ctx, Unnoted& state) {
    const std::uint32_t size = copy_size(ctx);
    void* p = std::malloc(size);
    if (p == nullptr) return;
    fill(p, size, ctx);
    ctx.session.note_alloc(p, size, Scope::Request); // its free is never noted
    state.blocks.push_back(p); // after the call: not a tail call, this frame stays
}

bool path_is(const FilterContext& ctx, std::string_view path) {
    const std::string& url = ctx.http->url;
    return url.compare(0, url.find('?'), path) == 0;
}

// The Responder: each answer is made where a real filter would make it.
FilterStatus respond(FilterContext& ctx) {
    Response& response = *ctx.response;
    switch (ctx.notification) {
    case Notification::AuthComplete: // an authentication filter turning the client away
        if (!path_is(ctx, "/private")) break;
        response.status = 401;
        response.headers.emplace_back("WWW-Authenticate", "Basic realm=\"memlife\"");
        response.headers.emplace_back("Content-Type", "text/plain; charset=utf-8");
        response.body = "authentication required\n";
        return FilterStatus::FinishedKeepConn;
    case Notification::SendResponse: // rewriting the application's response
        if (path_is(ctx, "/teapot")) {
            response.status = 418;
            response.reason = "Short And Stout";
            response.headers.emplace_back("X-Memlife-Filter", "responder");
        } else if (path_is(ctx, "/gone")) {
            response.status = 410;
            response.reason.clear(); // the standard phrase
        }
        break;
    case Notification::SendRawData: // failing half-way through the bytes: the rest is cut
        if (path_is(ctx, "/cut") && ctx.repeat == 1) return FilterStatus::Error;
        break;
    default:
        break;
    }
    return FilterStatus::NextNotification;
}

} // namespace

const std::vector<std::string>& demo_filter_names() {
    static const std::vector<std::string> names{"leaky", "clean", "overrun", "missing-free",
                                                "responder"};
    return names;
}

DemoFilter demo_filter_from_name(const std::string& name) {
    if (name == "leaky") return DemoFilter::Leaky;
    if (name == "clean") return DemoFilter::Clean;
    if (name == "overrun") return DemoFilter::Overrun;
    if (name == "missing-free") return DemoFilter::MissingFree;
    if (name == "responder") return DemoFilter::Responder;
    throw std::invalid_argument("unknown filter '" + name +
                                "' (known: leaky, clean, overrun, missing-free, responder)");
}

void add_demo_filter(FilterHost& host, DemoFilter filter, OverrunPolicy overrun) {
    switch (filter) {
    case DemoFilter::Leaky:
        host.add_filter("leaky", ML_NOTIFY_URL_MAP | ML_FILTER_ORDER_DEFAULT,
                        [](FilterContext& ctx) {
                            if (ctx.repeat == 0) leaky_copy_headers(ctx);
                            return FilterStatus::NextNotification;
                        });
        break;
    case DemoFilter::Clean:
        host.add_filter("clean", ML_NOTIFY_URL_MAP | ML_FILTER_ORDER_DEFAULT,
                        [](FilterContext& ctx) {
                            if (ctx.repeat == 0) clean_copy_headers(ctx);
                            return FilterStatus::NextNotification;
                        });
        break;
    case DemoFilter::Overrun:
        host.add_filter("overrun", ML_NOTIFY_SEND_RESPONSE | ML_FILTER_ORDER_DEFAULT,
                        [overrun = std::move(overrun)](FilterContext& ctx) {
                            overrun_status_line(ctx, overrun ? overrun(ctx)
                                                             : ctx.http->url.find("overrun") !=
                                                                   std::string::npos);
                            return FilterStatus::NextNotification;
                        });
        break;
    case DemoFilter::MissingFree:
        host.add_filter("missing-free",
                        ML_NOTIFY_PREPROC_HEADERS | ML_NOTIFY_END_OF_NET_SESSION |
                            ML_FILTER_ORDER_DEFAULT,
                        [](FilterContext& ctx) {
                            auto*& state = reinterpret_cast<Unnoted*&>(ctx.connection_context);
                            if (ctx.notification == Notification::EndOfNetSession) {
                                if (state != nullptr) {
                                    for (void* p : state->blocks)
                                        std::free(p);
                                    delete state;
                                    state = nullptr;
                                }
                                return FilterStatus::NextNotification;
                            }
                            if (state == nullptr) state = new Unnoted;
                            missing_free_copy(ctx, *state);
                            return FilterStatus::NextNotification;
                        });
        break;
    case DemoFilter::Responder:
        host.add_filter("responder",
                        ML_NOTIFY_AUTH_COMPLETE | ML_NOTIFY_SEND_RESPONSE |
                            ML_NOTIFY_SEND_RAW_DATA | ML_FILTER_ORDER_DEFAULT,
                        respond);
        break;
    }
}

} // namespace memlife::cli
