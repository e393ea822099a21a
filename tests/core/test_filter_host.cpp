// The filter host: the order it drives, the filter statuses, priorities, C filters and
// what the allocator records.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "memlife/filter.h"
#include "memlife/filter_host.hpp"
#include "memlife/order_checker.hpp"

using namespace memlife;
using enum Notification;

namespace {

constexpr std::uint32_t kAllNotifications =
    ML_NOTIFY_READ_RAW_DATA | ML_NOTIFY_PREPROC_HEADERS | ML_NOTIFY_URL_MAP |
    ML_NOTIFY_AUTHENTICATION | ML_NOTIFY_AUTH_COMPLETE | ML_NOTIFY_ACCESS_DENIED |
    ML_NOTIFY_SEND_RESPONSE | ML_NOTIFY_SEND_RAW_DATA | ML_NOTIFY_END_OF_REQUEST | ML_NOTIFY_LOG |
    ML_NOTIFY_END_OF_NET_SESSION;

struct CaptureSink : EventSink {
    std::vector<Event> events;
    std::vector<ml_report> reports;
    void on_event(const Event& e) noexcept override { events.push_back(e); }
    void on_report(const ml_report& r) noexcept override { reports.push_back(r); }

    std::vector<Event> notification_events(std::uint64_t session) const {
        std::vector<Event> out;
        for (const auto& e : events)
            if (e.session == session && e.kind == EventKind::Notification) out.push_back(e);
        return out;
    }
    std::vector<Notification> notifications(std::uint64_t session) const {
        std::vector<Notification> out;
        for (const auto& e : notification_events(session))
            out.push_back(e.notification);
        return out;
    }
};

// Sends every event to the capture and to an order checker.
struct TeeSink : EventSink {
    CaptureSink capture;
    OrderChecker checker;
    void on_event(const Event& e) noexcept override {
        capture.on_event(e);
        checker.on_event(e);
    }
    void on_report(const ml_report& r) noexcept override { capture.on_report(r); }
};

struct FilterHostTest : ::testing::Test {
    TeeSink sink;
    CaptureSink& capture = sink.capture;
    Runtime runtime{Config{}, &sink};
    FilterHost host{runtime};

    // A filter for every notification that only records it was called.
    std::vector<Notification> seen;
    void add_recorder(std::uint32_t flags = kAllNotifications) {
        host.add_filter("recorder", flags, [this](FilterContext& ctx) {
            seen.push_back(ctx.notification);
            return FilterStatus::NextNotification;
        });
    }
    // A filter that returns `status` at `at` (the `repeat`-th time it fires).
    void add_returning(Notification at, FilterStatus status, std::uint32_t repeat = 0,
                       std::uint32_t order = ML_FILTER_ORDER_HIGH) {
        host.add_filter("returns", flag(at) | order, [at, status, repeat](FilterContext& ctx) {
            if (ctx.notification == at && ctx.repeat == repeat) return status;
            return FilterStatus::NextNotification;
        });
    }
    void expect_no_violations() {
        for (const auto& v : sink.checker.violations())
            ADD_FAILURE() << v.rule << " at " << v.position << ": " << v.message;
    }
};

std::vector<Notification> tail_from(const std::vector<Notification>& all, Notification first) {
    auto it = std::find(all.begin(), all.end(), first);
    return {it, all.end()};
}

} // namespace

TEST_F(FilterHostTest, OneRequestRunsTheCanonicalOrder) {
    add_recorder();
    Session* s = host.open_session("10.0.0.1:1000");
    const std::uint64_t id = s->id();
    const RequestOutcome out = host.run_request(*s, Request{});
    EXPECT_TRUE(out.keep_connection);
    EXPECT_EQ(out.status, FilterStatus::NextNotification);
    EXPECT_EQ(out.response.status, 200);
    host.end_session(*s);

    EXPECT_EQ(capture.notifications(id), canonical_connection_order(1));
    EXPECT_EQ(seen, canonical_connection_order(1)); // the filter saw each one, once
    for (const Event& e : capture.notification_events(id))
        EXPECT_EQ(e.flags, 0) << name(e.notification); // nobody ended a chain
    EXPECT_EQ(runtime.open_sessions(), 0u);
    expect_no_violations();
}

TEST_F(FilterHostTest, KeepAliveConnectionWithFiveRequests) {
    add_recorder();
    Session* s = host.open_session("peer");
    const std::uint64_t id = s->id();
    for (int i = 0; i < 5; ++i)
        ASSERT_TRUE(host.run_request(*s, Request{}).keep_connection);
    host.end_session(*s);

    EXPECT_EQ(capture.notifications(id), canonical_connection_order(5));
    std::vector<std::uint32_t> begun;
    for (const auto& e : capture.events)
        if (e.kind == EventKind::RequestBegin) begun.push_back(e.request);
    EXPECT_EQ(begun, (std::vector<std::uint32_t>{1, 2, 3, 4, 5}));
    // Notifications carry their request; END_OF_NET_SESSION is outside any.
    for (const Event& e : capture.notification_events(id))
        EXPECT_EQ(e.request == 0, e.notification == EndOfNetSession);
    expect_no_violations();
}

TEST_F(FilterHostTest, WithoutKeepAliveTheConnectionClosesAfterOneAuthenticatedRequest) {
    add_recorder();
    Session* s = host.open_session("peer");
    const std::uint64_t id = s->id();
    Request request;
    request.keep_alive = false;
    const RequestOutcome out = host.run_request(*s, request);
    EXPECT_FALSE(out.keep_connection);
    EXPECT_NE(out.wire.find("Connection: close\r\n"), std::string::npos);
    host.end_session(*s);
    EXPECT_EQ(capture.notifications(id), canonical_connection_order(1, false));
}

TEST_F(FilterHostTest, ConnectionCloseOnTheLastKeepAliveRequestDoesNotAuthenticateAgain) {
    add_recorder();
    Session* s = host.open_session("peer");
    const std::uint64_t id = s->id();
    Request request;
    host.run_request(*s, request);
    request.keep_alive = false; // "Connection: close" on the last request
    EXPECT_FALSE(host.run_request(*s, request).keep_connection);
    host.end_session(*s);
    EXPECT_EQ(capture.notifications(id), canonical_connection_order(2, true));
}

TEST_F(FilterHostTest, RequestShapeAndDataReachTheFilters) {
    std::string read, sent;
    std::vector<std::uint32_t> read_repeats;
    host.add_filter("data", ML_NOTIFY_READ_RAW_DATA | ML_NOTIFY_SEND_RAW_DATA,
                    [&](FilterContext& ctx) {
                        if (ctx.notification == ReadRawData) {
                            read += ctx.data;
                            read_repeats.push_back(ctx.repeat);
                        } else {
                            sent += ctx.data;
                        }
                        return FilterStatus::NextNotification;
                    });
    host.set_handler([](const Request& request, Response& response) {
        response.headers.emplace_back("Content-Type", "text/plain");
        response.body = "you sent " + std::to_string(request.body.size()) + " bytes\n";
    });
    Session* s = host.open_session("peer");
    const std::uint64_t id = s->id();
    Request request;
    request.method = "POST";
    request.raw = "POST /form HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\n";
    request.body = "hello world";
    request.raw_reads = 2;
    request.url_maps = 3;
    request.body_reads = 2;
    request.raw_sends = 3;
    const RequestOutcome out = host.run_request(*s, request);
    host.end_session(*s);

    RequestShape shape;
    shape.raw_reads = 2;
    shape.url_maps = 3;
    shape.body_reads = 2;
    shape.raw_sends = 3;
    auto expected = canonical_request_order(shape);
    expected.push_back(EndOfNetSession);
    EXPECT_EQ(capture.notifications(id), expected);
    EXPECT_EQ(read, request.raw + request.body);
    EXPECT_EQ(read_repeats, (std::vector<std::uint32_t>{0, 1, 2, 3}));
    EXPECT_EQ(sent, out.wire);
    EXPECT_EQ(out.wire.rfind("HTTP/1.1 200 OK\r\n", 0), 0u);
    EXPECT_NE(out.wire.find("Content-Type: text/plain\r\n"), std::string::npos);
    EXPECT_NE(out.wire.find("Content-Length: 18\r\n"), std::string::npos);
    EXPECT_EQ(out.wire.substr(out.wire.size() - 18), "you sent 11 bytes\n");
    expect_no_violations();
}

TEST_F(FilterHostTest, AccessDeniedFiresAndAnswers401WithoutTheHandler) {
    add_recorder();
    bool handler_called = false;
    host.set_handler([&](const Request&, Response&) { handler_called = true; });
    Session* s = host.open_session("peer");
    const std::uint64_t id = s->id();
    Request request;
    request.access_denied = true;
    request.body_reads = 2; // a denied body is not read
    const RequestOutcome out = host.run_request(*s, request);
    host.end_session(*s);

    RequestShape shape;
    shape.access_denied = true;
    auto expected = canonical_request_order(shape);
    expected.push_back(EndOfNetSession);
    EXPECT_EQ(capture.notifications(id), expected);
    EXPECT_FALSE(handler_called);
    EXPECT_EQ(out.response.status, 401);
    EXPECT_EQ(out.wire.rfind("HTTP/1.1 401 Unauthorized\r\n", 0), 0u);
    EXPECT_TRUE(out.keep_connection);
    expect_no_violations();
}

// ---- statuses ----------------------------------------------------------------------------

TEST_F(FilterHostTest, ReqFinishedAnswersSkipsToEndOfRequestAndClosesTheConnection) {
    host.add_filter("answers", ML_NOTIFY_URL_MAP | ML_FILTER_ORDER_HIGH, [](FilterContext& ctx) {
        ctx.response->status = 302;
        ctx.response->headers.emplace_back("Location", "/elsewhere");
        return FilterStatus::ReqFinished;
    });
    add_recorder();
    bool handler_called = false;
    host.set_handler([&](const Request&, Response&) { handler_called = true; });
    Session* s = host.open_session("peer");
    const std::uint64_t id = s->id();
    const RequestOutcome out = host.run_request(*s, Request{});
    EXPECT_FALSE(out.keep_connection);
    EXPECT_EQ(out.status, FilterStatus::ReqFinished);
    EXPECT_EQ(out.ended_at, UrlMap);
    EXPECT_FALSE(handler_called);
    EXPECT_EQ(out.wire.rfind("HTTP/1.1 302 Found\r\nLocation: /elsewhere\r\n", 0), 0u);
    EXPECT_NE(out.wire.find("Connection: close\r\n"), std::string::npos);
    host.end_session(*s);

    const std::vector<Notification> expected{ReadRawData, PreprocHeaders, UrlMap, EndOfRequest,
                                             Log,         EndOfNetSession};
    EXPECT_EQ(capture.notifications(id), expected);
    // The recorder (low priority) was not called for URL_MAP: the chain ended there.
    EXPECT_EQ(std::count(seen.begin(), seen.end(), UrlMap), 0);
    // END_OF_REQUEST tells why it fires early.
    const auto events = capture.notification_events(id);
    EXPECT_EQ(events[3].flags, status_byte(FilterStatus::ReqFinished));
    EXPECT_EQ(events[4].flags, 0);
    expect_no_violations();
}

TEST_F(FilterHostTest, FinishedKeepConnAnswersAndKeepsTheConnection) {
    add_returning(PreprocHeaders, FilterStatus::FinishedKeepConn);
    add_recorder();
    Session* s = host.open_session("peer");
    const std::uint64_t id = s->id();
    const RequestOutcome first = host.run_request(*s, Request{});
    EXPECT_TRUE(first.keep_connection);
    EXPECT_EQ(first.status, FilterStatus::FinishedKeepConn);
    EXPECT_EQ(first.ended_at, PreprocHeaders);
    EXPECT_NE(first.wire.find("Connection: keep-alive\r\n"), std::string::npos);
    // Without keep-alive negotiated the connection closes anyway.
    Request no_keep_alive;
    no_keep_alive.keep_alive = false;
    EXPECT_FALSE(host.run_request(*s, no_keep_alive).keep_connection);
    host.end_session(*s);
    const auto all = capture.notifications(id);
    EXPECT_EQ(std::count(all.begin(), all.end(), EndOfRequest), 2);
    EXPECT_EQ(std::count(all.begin(), all.end(), UrlMap), 0);
    expect_no_violations();
}

TEST_F(FilterHostTest, NextNotificationCallsEveryFilterInTurn) {
    int calls = 0;
    for (int i = 0; i < 3; ++i)
        host.add_filter("next", ML_NOTIFY_URL_MAP, [&](FilterContext&) {
            ++calls;
            return FilterStatus::NextNotification;
        });
    Session* s = host.open_session("peer");
    host.run_request(*s, Request{});
    host.end_session(*s);
    EXPECT_EQ(calls, 3);
}

TEST_F(FilterHostTest, HandledNotificationStopsTheChainForThatNotificationOnly) {
    add_returning(AuthComplete, FilterStatus::HandledNotification);
    add_recorder(ML_NOTIFY_AUTH_COMPLETE | ML_NOTIFY_SEND_RESPONSE);
    Session* s = host.open_session("peer");
    const std::uint64_t id = s->id();
    const RequestOutcome out = host.run_request(*s, Request{});
    host.end_session(*s);
    EXPECT_EQ(seen, std::vector<Notification>{SendResponse});
    EXPECT_EQ(out.status, FilterStatus::NextNotification);
    EXPECT_TRUE(out.keep_connection);
    EXPECT_EQ(capture.notifications(id), canonical_connection_order(1));
    const auto events = capture.notification_events(id);
    EXPECT_EQ(events[5].notification, SendResponse);
    EXPECT_EQ(events[5].flags, status_byte(FilterStatus::HandledNotification));
    expect_no_violations();
}

TEST_F(FilterHostTest, ErrorBeforeTheResponseSends500AndKeepsTheConnection) {
    add_returning(AuthComplete, FilterStatus::Error);
    add_recorder();
    bool handler_called = false;
    host.set_handler([&](const Request&, Response&) { handler_called = true; });
    Session* s = host.open_session("peer");
    const std::uint64_t id = s->id();
    const RequestOutcome out = host.run_request(*s, Request{});
    EXPECT_EQ(out.status, FilterStatus::Error);
    EXPECT_EQ(out.ended_at, AuthComplete);
    EXPECT_EQ(out.response.status, 500);
    EXPECT_EQ(out.wire.rfind("HTTP/1.1 500 Internal Server Error\r\n", 0), 0u);
    EXPECT_TRUE(out.keep_connection);
    EXPECT_FALSE(handler_called);
    host.end_session(*s);
    EXPECT_EQ(tail_from(capture.notifications(id), AuthComplete),
              (std::vector<Notification>{AuthComplete, EndOfRequest, Log, EndOfNetSession}));
    EXPECT_EQ(capture.notification_events(id)[5].flags, status_byte(FilterStatus::Error));
    expect_no_violations();
}

TEST_F(FilterHostTest, ErrorWhileSendingCutsTheResponseAndClosesTheConnection) {
    add_returning(SendRawData, FilterStatus::Error, 1);
    host.set_handler([](const Request&, Response& r) { r.body = std::string(300, 'x'); });
    Session* s = host.open_session("peer");
    const std::uint64_t id = s->id();
    Request request;
    request.raw_sends = 3;
    const RequestOutcome out = host.run_request(*s, request);
    EXPECT_EQ(out.status, FilterStatus::Error);
    EXPECT_EQ(out.ended_at, SendRawData);
    EXPECT_FALSE(out.keep_connection);
    const std::string full = out.response.wire(true);
    EXPECT_EQ(out.wire, full.substr(0, (full.size() + 2) / 3)); // only the first chunk
    host.end_session(*s);
    const auto all = capture.notifications(id);
    EXPECT_EQ(std::count(all.begin(), all.end(), SendRawData), 2);
    expect_no_violations();
}

TEST_F(FilterHostTest, FinishedWhileSendingSendsTheRestUnnotified) {
    add_returning(SendRawData, FilterStatus::FinishedKeepConn, 0);
    Session* s = host.open_session("peer");
    const std::uint64_t id = s->id();
    Request request;
    request.raw_sends = 4;
    const RequestOutcome out = host.run_request(*s, request);
    EXPECT_TRUE(out.keep_connection);
    EXPECT_EQ(out.wire, out.response.wire(true));
    host.end_session(*s);
    const auto all = capture.notifications(id);
    EXPECT_EQ(std::count(all.begin(), all.end(), SendRawData), 1);
    expect_no_violations();
}

TEST_F(FilterHostTest, ReadNextAsksForAnotherRawRead) {
    add_returning(ReadRawData, FilterStatus::ReadNext, 0);
    Session* s = host.open_session("peer");
    const std::uint64_t id = s->id();
    const RequestOutcome out = host.run_request(*s, Request{});
    EXPECT_EQ(out.status, FilterStatus::NextNotification);
    host.end_session(*s);
    const auto events = capture.notification_events(id);
    ASSERT_GE(events.size(), 3u);
    EXPECT_EQ(events[0].notification, ReadRawData);
    EXPECT_EQ(events[1].notification, ReadRawData);
    EXPECT_EQ(events[1].flags, status_byte(FilterStatus::ReadNext));
    EXPECT_EQ(events[2].notification, PreprocHeaders);
    expect_no_violations();
}

TEST_F(FilterHostTest, EndlessReadNextFailsTheRequestAfterTheLimit) {
    FilterHost strict{runtime, HostOptions{.max_extra_reads = 3}};
    strict.add_filter("greedy", ML_NOTIFY_READ_RAW_DATA,
                      [](FilterContext&) { return FilterStatus::ReadNext; });
    Session* s = strict.open_session("peer");
    const std::uint64_t id = s->id();
    const RequestOutcome out = strict.run_request(*s, Request{});
    EXPECT_EQ(out.status, FilterStatus::Error);
    EXPECT_EQ(out.ended_at, ReadRawData);
    EXPECT_EQ(out.response.status, 500);
    strict.end_session(*s);
    const auto all = capture.notifications(id);
    EXPECT_EQ(std::count(all.begin(), all.end(), ReadRawData), 4); // 1 planned + 3 extra
    EXPECT_EQ(tail_from(all, EndOfRequest),
              (std::vector<Notification>{EndOfRequest, Log, EndOfNetSession}));
    expect_no_violations();
}

TEST_F(FilterHostTest, InvalidStatusesAndExceptionsCountAsErrors) {
    add_returning(UrlMap, FilterStatus::ReadNext); // READ_NEXT is for raw reads only
    Session* s = host.open_session("peer");
    RequestOutcome out = host.run_request(*s, Request{});
    EXPECT_EQ(out.status, FilterStatus::Error);
    EXPECT_EQ(out.ended_at, UrlMap);
    host.end_session(*s);

    FilterHost other{runtime};
    other.add_filter("throws", ML_NOTIFY_PREPROC_HEADERS,
                     [](FilterContext&) -> FilterStatus { throw std::runtime_error("boom"); });
    other.add_filter("garbage", ML_NOTIFY_AUTH_COMPLETE,
                     [](FilterContext&) { return static_cast<FilterStatus>(42); });
    s = other.open_session("peer");
    out = other.run_request(*s, Request{});
    EXPECT_EQ(out.status, FilterStatus::Error);
    EXPECT_EQ(out.ended_at, PreprocHeaders);
    other.end_session(*s);
    expect_no_violations();
}

TEST_F(FilterHostTest, ReqFinishedAtLogClosesTheConnectionAfterTheRequest) {
    add_returning(Log, FilterStatus::ReqFinished);
    add_returning(EndOfRequest, FilterStatus::FinishedKeepConn); // no effect this late
    Session* s = host.open_session("peer");
    const RequestOutcome out = host.run_request(*s, Request{});
    EXPECT_FALSE(out.keep_connection);
    EXPECT_EQ(out.status, FilterStatus::ReqFinished);
    EXPECT_EQ(out.ended_at, Log);
    EXPECT_EQ(out.response.status, 200); // the response was complete
    host.end_session(*s);
    expect_no_violations();
}

TEST_F(FilterHostTest, EndOfNetSessionStatusesChangeNothing) {
    add_returning(EndOfNetSession, FilterStatus::Error);
    Session* s = host.open_session("peer");
    const std::uint64_t id = s->id();
    host.run_request(*s, Request{});
    host.end_session(*s);
    EXPECT_EQ(capture.notifications(id), canonical_connection_order(1));
    EXPECT_EQ(runtime.open_sessions(), 0u);
    EXPECT_EQ(capture.events.back().kind, EventKind::SessionClose);
    expect_no_violations();
}

// ---- priorities --------------------------------------------------------------------------

TEST_F(FilterHostTest, PriorityOrderWithTiesByLoadOrderAndReversedRawSends) {
    std::vector<std::string> calls;
    auto add = [&](std::string name, std::uint32_t order) {
        host.add_filter(name, ML_NOTIFY_URL_MAP | ML_NOTIFY_SEND_RAW_DATA | order,
                        [&calls, name](FilterContext& ctx) {
                            calls.push_back(std::string(memlife::name(ctx.notification)) + ":" +
                                            name);
                            return FilterStatus::NextNotification;
                        });
    };
    add("low-a", 0); // no ORDER_* flag: default low
    add("high-b", ML_FILTER_ORDER_HIGH);
    add("medium-c", ML_FILTER_ORDER_MEDIUM);
    add("low-d", ML_FILTER_ORDER_LOW);
    add("high-e", ML_FILTER_ORDER_HIGH | ML_FILTER_ORDER_LOW); // the highest flag wins
    Session* s = host.open_session("peer");
    host.run_request(*s, Request{});
    host.end_session(*s);
    const std::vector<std::string> expected{"URL_MAP:high-b",       "URL_MAP:high-e",
                                            "URL_MAP:medium-c",     "URL_MAP:low-a",
                                            "URL_MAP:low-d",        "SEND_RAW_DATA:low-d",
                                            "SEND_RAW_DATA:low-a",  "SEND_RAW_DATA:medium-c",
                                            "SEND_RAW_DATA:high-e", "SEND_RAW_DATA:high-b"};
    EXPECT_EQ(calls, expected);
    EXPECT_EQ(host.call_order(UrlMap), (std::vector<std::size_t>{1, 4, 2, 0, 3}));
    EXPECT_TRUE(host.call_order(Log).empty());
    EXPECT_EQ(host.filters()[2].priority, FilterPriority::Medium);
    EXPECT_EQ(notification_mask(ML_NOTIFY_LOG | ML_FILTER_ORDER_HIGH | ML_FILTER_SECURE_PORT),
              static_cast<std::uint32_t>(ML_NOTIFY_LOG));
}

// ---- the allocator sees the notification -------------------------------------------------

TEST_F(FilterHostTest, EveryAllocationRecordsTheNotificationThatMadeIt) {
    host.add_filter("allocates", kAllNotifications, [](FilterContext& ctx) {
        if (ctx.notification == EndOfNetSession) {
            ctx.session.alloc_mem(8);
        } else {
            ctx.session.alloc_mem(16);     // session memory: grows per request
            ctx.session.alloc_request(32); // request memory: flat
        }
        return FilterStatus::NextNotification;
    });
    Session* s = host.open_session("peer");
    const std::uint64_t id = s->id();
    host.run_request(*s, Request{});
    host.run_request(*s, Request{});
    host.end_session(*s);

    Notification running = None;
    std::size_t allocs = 0;
    for (const auto& e : capture.events) {
        if (e.session != id) continue;
        if (e.kind == EventKind::Notification) running = e.notification;
        if (e.kind != EventKind::Alloc) continue;
        ++allocs;
        EXPECT_EQ(e.notification, running);
        EXPECT_EQ(e.scope == Scope::Request, e.size == 32);
    }
    EXPECT_EQ(allocs, 2 * (canonical_connection_order(2).size() - 1) + 1);
    expect_no_violations();
}

TEST_F(FilterHostTest, OverrunIsReportedWithTheAllocatingNotification) {
    host.add_filter("overruns", ML_NOTIFY_SEND_RESPONSE, [](FilterContext& ctx) {
        auto* p = static_cast<char*>(ctx.session.alloc_mem(10));
        std::memset(p, 'x', 11); // one byte past the block: the tail signature catches it
        return FilterStatus::NextNotification;
    });
    Session* s = host.open_session("peer");
    host.run_request(*s, Request{});
    host.end_session(*s);
    ASSERT_EQ(capture.reports.size(), 1u);
    EXPECT_EQ(capture.reports[0].kind, ML_REPORT_CORRUPTION);
    EXPECT_EQ(capture.reports[0].alloc_notification, ML_NOTIFY_SEND_RESPONSE);
    EXPECT_EQ(capture.reports[0].last_notification, ML_NOTIFY_END_OF_NET_SESSION);
    EXPECT_EQ(capture.reports[0].alloc_request, 1u);
}

TEST_F(FilterHostTest, ConnectionContextIsPerFilterAndPerConnection) {
    std::vector<std::string> at_end;
    for (int f = 0; f < 2; ++f)
        host.add_filter("counter", ML_NOTIFY_LOG | ML_NOTIFY_END_OF_NET_SESSION,
                        [f, &at_end](FilterContext& ctx) {
                            const auto n = reinterpret_cast<std::uintptr_t>(ctx.connection_context);
                            if (ctx.notification == Log)
                                ctx.connection_context = reinterpret_cast<void*>(n + 1);
                            else
                                at_end.push_back(ctx.session.peer() + ":" + std::to_string(f) +
                                                 "=" + std::to_string(n));
                            return FilterStatus::NextNotification;
                        });
    host.add_filter("peek", ML_NOTIFY_END_OF_NET_SESSION, [](FilterContext& ctx) {
        EXPECT_EQ(ctx.http, nullptr);
        EXPECT_EQ(ctx.response, nullptr);
        EXPECT_EQ(ctx.request, 0u);
        return FilterStatus::NextNotification;
    });
    Session* a = host.open_session("a");
    Session* b = host.open_session("b");
    host.run_request(*a, Request{});
    host.run_request(*b, Request{});
    host.run_request(*a, Request{});
    host.end_session(*a);
    host.end_session(*b);
    EXPECT_EQ(at_end, (std::vector<std::string>{"a:0=2", "a:1=2", "b:0=1", "b:1=1"}));
    expect_no_violations();
}

// ---- C filters ---------------------------------------------------------------------------

namespace {

struct CFilterState {
    int calls = 0;
    int raw_calls = 0;
    std::size_t raw_bytes = 0;
    std::vector<std::uint32_t> contexts_seen; // filter_context at LOG, per request
    bool handle_valid = false;
};

extern "C" int c_filter(ml_filter_context* ctx, uint32_t notification, void* data, void* user) {
    auto* state = static_cast<CFilterState*>(user);
    ++state->calls;
    if (ctx->size != sizeof(ml_filter_context) || notification != ctx->notification)
        return ML_STATUS_REQ_ERROR;
    if (notification == ML_NOTIFY_READ_RAW_DATA || notification == ML_NOTIFY_SEND_RAW_DATA) {
        ++state->raw_calls;
        state->raw_bytes += static_cast<const ml_raw_data*>(data)->length;
    } else if (data != nullptr) {
        return ML_STATUS_REQ_ERROR;
    }
    if (notification == ML_NOTIFY_URL_MAP) {
        // Per-request memory from AllocMem: the classic growth on keep-alive.
        char* copy = static_cast<char*>(ctx->alloc_mem(ctx, 64, 0));
        if (copy == nullptr) return ML_STATUS_REQ_ERROR;
        std::strncpy(copy, ctx->url, 63);
        copy[63] = '\0';
        ctx->filter_context = copy; // pFilterContext: kept across requests
    }
    if (notification == ML_NOTIFY_LOG) {
        const char* last = static_cast<const char*>(ctx->filter_context);
        state->contexts_seen.push_back(last != nullptr ? static_cast<std::uint32_t>(last[1]) : 0);
        void* scratch = ctx->alloc_request(ctx, 128);
        if (scratch == nullptr) return ML_STATUS_REQ_ERROR;
    }
    if (notification == ML_NOTIFY_AUTH_COMPLETE && std::strcmp(ctx->url, "/deny") == 0) {
        ctx->response_status = 403;
        return ML_STATUS_REQ_FINISHED_KEEP_CONN;
    }
    if (ctx->session != nullptr) {
        state->handle_valid = ml_session_id(ctx->session) == ctx->session_id &&
                              ml_request_number(ctx->session) == ctx->request;
    }
    return ML_STATUS_REQ_NEXT_NOTIFICATION;
}

extern "C" int c_garbage_filter(ml_filter_context*, uint32_t, void*, void*) {
    return 7;
}

} // namespace

TEST_F(FilterHostTest, CFunctionPointerFilterAllocatesAndAnswers) {
    CFilterState state;
    host.add_filter("c", kAllNotifications, c_filter, &state);
    Session* s = host.open_session("peer");
    const std::uint64_t id = s->id();
    Request first;
    first.url = "/a";
    EXPECT_EQ(host.run_request(*s, first).status, FilterStatus::NextNotification);
    Request second;
    second.url = "/deny";
    const RequestOutcome denied = host.run_request(*s, second);
    EXPECT_EQ(denied.status, FilterStatus::FinishedKeepConn);
    EXPECT_EQ(denied.response.status, 403);
    EXPECT_TRUE(denied.keep_connection);
    const std::uint64_t live_before_end = s->live_bytes();
    host.end_session(*s);

    EXPECT_EQ(state.calls, static_cast<int>(capture.notifications(id).size()));
    EXPECT_EQ(state.contexts_seen, (std::vector<std::uint32_t>{'a', 'd'}));
    EXPECT_GT(state.raw_bytes, 0u);
    EXPECT_EQ(live_before_end, 2 * 64u); // two AllocMem blocks; request memory released
    EXPECT_FALSE(state.handle_valid);    // not the global runtime: no C handle
    std::size_t url_map_allocs = 0;
    for (const auto& e : capture.events)
        if (e.session == id && e.kind == EventKind::Alloc && e.notification == UrlMap)
            ++url_map_allocs;
    EXPECT_EQ(url_map_allocs, 2u);
    expect_no_violations();
}

TEST_F(FilterHostTest, CFilterReturningAnUnknownValueIsAnError) {
    host.add_filter("garbage", ML_NOTIFY_PREPROC_HEADERS, c_garbage_filter, nullptr);
    Session* s = host.open_session("peer");
    const RequestOutcome out = host.run_request(*s, Request{});
    EXPECT_EQ(out.status, FilterStatus::Error);
    EXPECT_EQ(out.ended_at, PreprocHeaders);
    host.end_session(*s);
}

TEST(FilterHostGlobal, CFilterOnTheGlobalRuntimeGetsAWorkingHandle) {
    FilterHost host{Runtime::global()};
    CFilterState state;
    host.add_filter("c", ML_NOTIFY_PREPROC_HEADERS, c_filter, &state);
    Session* s = host.open_session("peer");
    ASSERT_NE(s, nullptr);
    host.run_request(*s, Request{});
    host.end_session(*s);
    EXPECT_EQ(state.calls, 1);
    EXPECT_TRUE(state.handle_valid);
}

TEST_F(FilterHostTest, RunRequestOnAnActiveRequestDoesNothing) {
    add_recorder();
    Session* s = host.open_session("peer");
    ASSERT_EQ(s->request_begin(), ML_OK);
    const RequestOutcome out = host.run_request(*s, Request{});
    EXPECT_FALSE(out.keep_connection);
    EXPECT_EQ(out.status, FilterStatus::Error);
    EXPECT_TRUE(seen.empty());
    s->request_end();
    host.end_session(*s);
}

TEST(FilterHostThreads, SessionsOnSeveralThreadsShareOneHost) {
    OrderChecker checker; // thread-safe as a sink (the capture sink is not)
    Runtime runtime{Config{}, &checker};
    FilterHost host{runtime};
    std::atomic<int> calls{0};
    host.add_filter("counts", kAllNotifications, [&](FilterContext& ctx) {
        ++calls;
        ctx.session.alloc_mem(8);
        return FilterStatus::NextNotification;
    });
    auto serve = [&] {
        for (int c = 0; c < 50; ++c) {
            Session* s = host.open_session("thread");
            for (int r = 0; r < 3; ++r)
                host.run_request(*s, Request{});
            host.end_session(*s);
        }
    };
    std::thread a(serve), b(serve);
    a.join();
    b.join();
    EXPECT_EQ(calls.load(), 2 * 50 * static_cast<int>(canonical_connection_order(3).size()));
    EXPECT_EQ(runtime.open_sessions(), 0u);
    EXPECT_TRUE(checker.violations().empty());
    EXPECT_GT(checker.events_seen(), 2u * 50 * 3 * 9);
}

// The one serialiser of memlife serve: an empty reason is the status's standard phrase
// (never "OK" for another status), a filter's own reason and headers go out as they are.
TEST(FilterHostResponse, WireKeepsReasonAndHeaders) {
    Response gone;
    gone.status = 410;
    EXPECT_EQ(gone.wire(true), "HTTP/1.1 410 Gone\r\nContent-Length: 0\r\n"
                               "Connection: keep-alive\r\n\r\n");
    for (const auto& [status, phrase] :
         std::vector<std::pair<int, std::string>>{{408, "Request Timeout"},
                                                  {413, "Content Too Large"},
                                                  {431, "Request Header Fields Too Large"},
                                                  {501, "Not Implemented"},
                                                  {505, "HTTP Version Not Supported"},
                                                  {299, "Status"}}) {
        Response r;
        r.status = status;
        EXPECT_EQ(
            r.wire(false).rfind("HTTP/1.1 " + std::to_string(status) + " " + phrase + "\r\n", 0),
            0u)
            << status;
    }
    Response custom;
    custom.status = 401;
    custom.reason = "Who Are You";
    custom.headers = {{"WWW-Authenticate", "Basic realm=\"x\""}};
    custom.body = "no";
    EXPECT_EQ(custom.wire(false),
              "HTTP/1.1 401 Who Are You\r\nWWW-Authenticate: Basic "
              "realm=\"x\"\r\nContent-Length: 2\r\nConnection: close\r\n\r\nno");
}
