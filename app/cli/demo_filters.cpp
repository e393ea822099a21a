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

} // namespace

const std::vector<std::string>& demo_filter_names() {
    static const std::vector<std::string> names{"leaky", "clean", "overrun", "missing-free"};
    return names;
}

DemoFilter demo_filter_from_name(const std::string& name) {
    if (name == "leaky") return DemoFilter::Leaky;
    if (name == "clean") return DemoFilter::Clean;
    if (name == "overrun") return DemoFilter::Overrun;
    if (name == "missing-free") return DemoFilter::MissingFree;
    throw std::invalid_argument("unknown filter '" + name +
                                "' (known: leaky, clean, overrun, missing-free)");
}

void add_demo_filter(FilterHost& host, DemoFilter filter, OverrunPolicy overrun) {
    switch (filter) {
    case DemoFilter::Leaky:
        host.add_filter("leaky", ML_NOTIFY_URL_MAP | ML_FILTER_ORDER_DEFAULT,
                        [](FilterContext& ctx) {
                            if (ctx.repeat == 0) {
                                const std::uint32_t size = copy_size(ctx);
                                fill(ctx.session.alloc_mem(size), size, ctx);
                            }
                            return FilterStatus::NextNotification;
                        });
        break;
    case DemoFilter::Clean:
        host.add_filter("clean", ML_NOTIFY_URL_MAP | ML_FILTER_ORDER_DEFAULT,
                        [](FilterContext& ctx) {
                            if (ctx.repeat == 0) {
                                const std::uint32_t size = copy_size(ctx);
                                fill(ctx.session.alloc_request(size), size, ctx);
                            }
                            return FilterStatus::NextNotification;
                        });
        break;
    case DemoFilter::Overrun:
        host.add_filter(
            "overrun", ML_NOTIFY_SEND_RESPONSE | ML_FILTER_ORDER_DEFAULT,
            [overrun = std::move(overrun)](FilterContext& ctx) {
                // Formats a status line into a buffer sized for the text without its
                // terminator: the classic off-by-one.
                const std::string status = "HTTP/1.1 " + std::to_string(ctx.response->status);
                const auto size = static_cast<std::uint32_t>(status.size());
                auto* p = static_cast<char*>(ctx.session.alloc_mem(size));
                if (p == nullptr) return FilterStatus::NextNotification;
                const bool bad =
                    overrun ? overrun(ctx) : ctx.http->url.find("overrun") != std::string::npos;
                std::memcpy(p, status.data(), size);
                if (bad) p[size] = '\0'; // one past the end: caught at END_OF_NET_SESSION
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
                            const std::uint32_t size = copy_size(ctx);
                            void* p = std::malloc(size);
                            if (p == nullptr) return FilterStatus::NextNotification;
                            fill(p, size, ctx);
                            state->blocks.push_back(p);
                            ctx.session.note_alloc(p, size, Scope::Request);
                            return FilterStatus::NextNotification;
                        });
        break;
    }
}

} // namespace memlife::cli
