// The filter host: drives each request of each session through the ISAPI notifications
// in order, calls the registered filters and honours their return statuses. See
// docs/notifications.md for the order, the statuses and what still fires after a filter
// ends a request early.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "memlife/filter.h"
#include "memlife/notification.hpp"
#include "memlife/session.hpp"

namespace memlife {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

// One request as the host sees it. The counts shape the notification sequence (a
// simulated request sets them; `memlife serve` sets them from what it read).
struct Request {
    std::string method = "GET";
    std::string url = "/";
    HeaderList headers;
    bool keep_alive = true;       // the client negotiated keep-alive (HTTP/1.1 default)
    bool access_denied = false;   // ACCESS_DENIED fires and the response is 401
    std::string raw;              // the request head as read; split across the raw reads
    std::string body;             // the request body; split across the body reads
    std::uint32_t raw_reads = 1;  // READ_RAW_DATA before the headers (at least 1)
    std::uint32_t url_maps = 1;   // URL_MAP (at least 1)
    std::uint32_t body_reads = 0; // READ_RAW_DATA for the body (skipped when denied)
    std::uint32_t raw_sends = 1;  // SEND_RAW_DATA: the response bytes in this many chunks
};

struct MEMLIFE_API Response {
    int status = 200;
    std::string reason; // empty: the standard phrase for status
    HeaderList headers; // besides Content-Length and Connection, which wire() adds
    std::string body;
    // The HTTP/1.1 bytes: status line, headers, Content-Length, Connection, body.
    std::string wire(bool keep_alive) const;
};

// What a filter gets on each call (HTTP_FILTER_CONTEXT plus the notification's data).
struct FilterContext {
    Session& session; // alloc_mem / alloc_request / note_alloc: records `notification`
    Notification notification;
    std::uint32_t request; // 1-based; 0 at END_OF_NET_SESSION
    std::uint32_t repeat;  // 0 the first time this notification fires in the request
    const Request* http;   // nullptr at END_OF_NET_SESSION
    // The response being built: set it and return ReqFinished / FinishedKeepConn to answer
    // the request yourself; at SEND_RESPONSE its status is final. nullptr at
    // END_OF_NET_SESSION.
    Response* response;
    std::string_view data;     // READ_RAW_DATA: bytes read; SEND_RAW_DATA: bytes being sent
    void*& connection_context; // this filter's pointer for this connection (pFilterContext)
};

using FilterFn = std::function<FilterStatus(FilterContext&)>;

enum class FilterPriority : std::uint8_t { High = 0, Medium = 1, Low = 2 };

// The registration flags' priority (ORDER_HIGH > ORDER_MEDIUM > ORDER_LOW = default).
MEMLIFE_API FilterPriority priority_from_flags(std::uint32_t flags) noexcept;
// The ML_NOTIFY_* bits of a registration's flags.
MEMLIFE_API std::uint32_t notification_mask(std::uint32_t flags) noexcept;

struct FilterInfo {
    std::string name;
    std::uint32_t flags = 0; // ML_NOTIFY_* mask | ML_FILTER_ORDER_*
    FilterPriority priority = FilterPriority::Low;
    std::size_t load_order = 0;
};

// How a request ended (run_request's answer).
struct RequestOutcome {
    bool keep_connection = false; // false: call end_session (the caller closes the socket)
    Response response;            // the response sent
    std::string wire;             // the bytes to write to the client (what SEND_RAW_DATA saw)
    // ReqFinished / FinishedKeepConn / Error when a filter ended the request early (or an
    // END_OF_REQUEST / LOG filter asked to close); NextNotification when it ran in full.
    FilterStatus status = FilterStatus::NextNotification;
    Notification ended_at = Notification::None; // the notification that returned `status`
};

struct HostOptions {
    // READ_NEXT after the last planned raw read adds one more (empty) READ_RAW_DATA; past
    // this many extra reads in one request the request fails as REQ_ERROR (a filter that
    // waits for data the client never sends).
    std::uint32_t max_extra_reads = 8;
};

// Register filters first, then run requests; the registry is read-only while requests
// run, so sessions may run on different threads (one session on one thread at a time).
class MEMLIFE_API FilterHost {
public:
    explicit FilterHost(Runtime& runtime, HostOptions options = {});
    ~FilterHost();
    FilterHost(const FilterHost&) = delete;
    FilterHost& operator=(const FilterHost&) = delete;

    // flags: the ML_NOTIFY_* notifications wanted | ML_FILTER_ORDER_* (default low).
    // Returns the filter's load order (0, 1, ...).
    std::size_t add_filter(std::string name, std::uint32_t flags, FilterFn filter);
    std::size_t add_filter(std::string name, std::uint32_t flags, ml_filter_fn filter, void* user);
    const std::vector<FilterInfo>& filters() const;
    // Load orders of the filters called for a notification, in call order (priority, then
    // load order; reversed for SEND_RAW_DATA).
    const std::vector<std::size_t>& call_order(Notification notification) const;

    // The application: fills the response of a request no filter answered (after
    // AUTH_COMPLETE and the body reads, before SEND_RESPONSE). Default: 200, empty body.
    using Handler = std::function<void(const Request&, Response&)>;
    void set_handler(Handler handler);

    Runtime& runtime() const { return runtime_; }
    Session* open_session(std::string_view peer); // runtime().open(peer)

    // One request: request_begin, the notifications with their filters, request_end.
    RequestOutcome run_request(Session& session, const Request& request);
    // END_OF_NET_SESSION, then runtime().close(&session). The session is gone afterwards.
    void end_session(Session& session);

private:
    struct Impl;
    Runtime& runtime_;
    std::unique_ptr<Impl> impl_;
};

} // namespace memlife
