// The order checker: one hand-built stream per rule, valid streams that must pass, and
// the filter host's own streams.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "memlife/filter_host.hpp"
#include "memlife/order_checker.hpp"

using namespace memlife;
using enum Notification;

namespace {

// Builds an event stream; every event is 10 ns after the previous one unless told.
struct Stream {
    std::vector<Event> events;
    std::uint64_t time = 1000;

    Event& add(EventKind kind, std::uint64_t session, std::uint32_t request = 0) {
        Event e;
        e.time_ns = time += 10;
        e.session = session;
        e.kind = kind;
        e.request = request;
        events.push_back(e);
        return events.back();
    }
    Stream& open(std::uint64_t s) { return add(EventKind::SessionOpen, s), *this; }
    Stream& close(std::uint64_t s) { return add(EventKind::SessionClose, s), *this; }
    Stream& begin(std::uint64_t s, std::uint32_t r) {
        return add(EventKind::RequestBegin, s, r), *this;
    }
    Stream& end(std::uint64_t s, std::uint32_t r) {
        return add(EventKind::RequestEnd, s, r), *this;
    }
    Stream& note(std::uint64_t s, std::uint32_t r, Notification n) {
        add(EventKind::Notification, s, r).notification = n;
        return *this;
    }
    Stream& notes(std::uint64_t s, std::uint32_t r, const std::vector<Notification>& ns) {
        for (Notification n : ns)
            note(s, r, n);
        return *this;
    }
    Stream& alloc(std::uint64_t s, std::uint32_t r, Scope scope, std::uint64_t block,
                  AllocOrigin origin = AllocOrigin::AllocMem) {
        Event& e = add(EventKind::Alloc, s, r);
        e.scope = scope;
        e.block = block;
        e.size = 16;
        e.flags = static_cast<std::uint8_t>(origin);
        return *this;
    }
    Stream& release(std::uint64_t s, std::uint32_t r, std::uint64_t block) {
        add(EventKind::Release, s, r).block = block;
        return *this;
    }
    // A whole request in the canonical order.
    Stream& request(std::uint64_t s, std::uint32_t r, const RequestShape& shape = {}) {
        begin(s, r);
        notes(s, r, canonical_request_order(shape));
        return end(s, r);
    }
};

std::vector<OrderViolation> run(const Stream& stream) {
    OrderChecker checker;
    for (const Event& e : stream.events)
        checker.check(e);
    EXPECT_EQ(checker.events_seen(), stream.events.size());
    return checker.violations();
}

std::string describe(const std::vector<OrderViolation>& violations) {
    std::string text;
    for (const auto& v : violations)
        text += v.rule + " at " + std::to_string(v.position) + ": " + v.message + "\n";
    return text;
}

const RequestShape kNoAuth{.authentication = false};

// One stream per rule: the rule must be reported exactly once, at the stream's last
// event, and nothing else may be reported.
struct RuleCase {
    std::string rule;
    Stream stream;
};

std::vector<RuleCase> rule_cases() {
    std::vector<RuleCase> cases;
    auto add = [&](std::string rule, Stream s) { cases.push_back({std::move(rule), s}); };

    add("session-not-open", Stream{}.note(7, 0, EndOfNetSession));
    add("session-opened-twice", Stream{}.open(1).open(1));
    {
        Stream s;
        s.open(1).request(1, 1).note(1, 0, EndOfNetSession).close(1).open(1);
        add("session-opened-twice", s);
    }
    {
        Stream s;
        s.open(1).note(1, 0, EndOfNetSession).close(1).alloc(1, 0, Scope::Session, 5);
        add("event-after-session-close", s);
    }
    add("request-notification-outside-request", Stream{}.open(1).note(1, 0, UrlMap));
    {
        Stream s;
        s.open(1).request(1, 1).note(1, 0, EndOfNetSession).begin(1, 2);
        add("request-notification-after-end-of-net-session", s);
    }
    {
        Stream s; // END_OF_NET_SESSION inside a request (an aborted connection), then more
        s.open(1).begin(1, 1).note(1, 1, ReadRawData).note(1, 1, EndOfNetSession);
        s.note(1, 1, PreprocHeaders);
        add("request-notification-after-end-of-net-session", s);
    }
    {
        Stream s;
        s.open(1).request(1, 1).note(1, 0, EndOfNetSession).note(1, 0, EndOfNetSession);
        add("end-of-net-session-repeated", s);
    }
    add("request-begin-while-active", Stream{}.open(1).begin(1, 1).begin(1, 2));
    add("request-end-without-request", Stream{}.open(1).request(1, 1).end(1, 1));
    add("request-number-not-consecutive", Stream{}.open(1).request(1, 1).begin(1, 3));
    add("request-number-not-consecutive", Stream{}.open(1).begin(1, 0));
    {
        Stream s;
        s.open(1).begin(1, 1).notes(1, 1, {ReadRawData, PreprocHeaders, PreprocHeaders});
        add("notification-repeated", s);
    }
    {
        Stream s;
        s.open(1).begin(1, 1).notes(1, 1, {ReadRawData, PreprocHeaders, UrlMap, AuthComplete});
        s.notes(1, 1, {SendResponse, SendRawData, EndOfRequest, Log, EndOfRequest});
        add("notification-repeated", s);
    }
    {
        Stream s;
        s.open(1).begin(1, 1).notes(1, 1, {ReadRawData, PreprocHeaders, UrlMap, AuthComplete});
        s.notes(1, 1, {SendRawData, EndOfRequest, SendResponse});
        add("send-response-after-end-of-request", s);
    }
    {
        Stream s;
        s.open(1).begin(1, 1).notes(1, 1, {ReadRawData, PreprocHeaders, AuthComplete});
        s.notes(1, 1, {SendResponse, UrlMap});
        add("notification-out-of-order", s);
    }
    {
        Stream s;
        s.open(1).begin(1, 1).notes(1, 1, {ReadRawData, PreprocHeaders, UrlMap, AuthComplete});
        s.notes(1, 1, {SendResponse, SendRawData, ReadRawData});
        add("notification-out-of-order", s); // a raw read after the response started
    }
    {
        Stream s;
        s.open(1).begin(1, 1).notes(1, 1, {ReadRawData, PreprocHeaders, UrlMap, AuthComplete});
        s.notes(1, 1, {Log, SendRawData});
        add("notification-out-of-order", s);
    }
    {
        Stream s;
        s.open(1).begin(1, 1).notes(1, 1, {ReadRawData, UrlMap, AuthComplete, Authentication});
        add("notification-out-of-order", s);
    }
    {
        Stream s;
        s.open(1).request(1, 1).begin(1, 2).notes(1, 2, {ReadRawData, PreprocHeaders, UrlMap});
        s.note(1, 2, Authentication);
        add("authentication-repeated-on-keep-alive", s);
    }
    {
        Stream s;
        s.open(1).begin(1, 1);
        s.time -= 500;
        s.note(1, 1, ReadRawData);
        add("time-went-backwards", s);
    }
    add("request-alloc-outside-request",
        Stream{}.open(1).request(1, 1).alloc(1, 0, Scope::Request, 9));
    {
        Stream s;
        s.open(1).alloc(1, 0, Scope::Session, 1, AllocOrigin::Noted).release(1, 0, 1);
        s.release(1, 0, 1); // the second release of the same block
        add("release-of-unknown-block", s);
    }
    add("release-of-unknown-block",
        Stream{}.open(1).alloc(1, 0, Scope::Session, 4).release(1, 0, 4)); // not noted
    return cases;
}

} // namespace

TEST(OrderChecker, EachRuleIsReportedOnceAtTheOffendingEvent) {
    for (const RuleCase& c : rule_cases()) {
        SCOPED_TRACE(c.rule);
        const auto violations = run(c.stream);
        ASSERT_EQ(violations.size(), 1u) << describe(violations);
        const OrderViolation& v = violations[0];
        const Event& last = c.stream.events.back();
        EXPECT_EQ(v.rule, c.rule);
        EXPECT_EQ(v.position, c.stream.events.size() - 1);
        EXPECT_EQ(v.time_ns, last.time_ns);
        EXPECT_EQ(v.session, last.session);
        EXPECT_FALSE(v.message.empty());
    }
}

TEST(OrderChecker, EveryListedRuleHasACaseAndIdsAreUnique) {
    std::set<std::string> covered;
    for (const RuleCase& c : rule_cases())
        covered.insert(c.rule);
    std::set<std::string> ids;
    for (const auto& rule : OrderChecker::rules()) {
        EXPECT_TRUE(ids.insert(rule.id).second) << rule.id;
        EXPECT_TRUE(covered.count(rule.id)) << "no test stream for " << rule.id;
        EXPECT_GT(std::string(rule.description).size(), 10u);
    }
    EXPECT_EQ(ids, covered);
}

TEST(OrderChecker, ViolationCarriesTheRequest) {
    Stream s;
    s.open(3).request(3, 1, kNoAuth).begin(3, 2).notes(3, 2, {ReadRawData, SendResponse, UrlMap});
    const auto v = run(s);
    ASSERT_EQ(v.size(), 1u) << describe(v);
    EXPECT_EQ(v[0].request, 2u);
    EXPECT_EQ(v[0].session, 3u);
    EXPECT_EQ(v[0].message, "URL_MAP after SEND_RESPONSE in request 2");
}

TEST(OrderChecker, CanonicalKeepAliveConnectionsPass) {
    Stream s;
    RequestShape big;
    big.raw_reads = 3;
    big.url_maps = 2;
    big.body_reads = 2;
    big.raw_sends = 5;
    s.open(1).open(2);
    s.request(1, 1, big).request(2, 1).request(1, 2, kNoAuth).request(1, 3, kNoAuth);
    RequestShape denied = kNoAuth;
    denied.access_denied = true;
    s.request(2, 2, denied);
    s.note(1, 0, EndOfNetSession).close(1).note(2, 0, EndOfNetSession).close(2);
    EXPECT_TRUE(run(s).empty()) << describe(run(s));
}

TEST(OrderChecker, AllowancesPass) {
    Stream s;
    s.open(1).begin(1, 1);
    // LOG before END_OF_REQUEST; a body read after ACCESS_DENIED; NONE ignored; a noted
    // request block freed in the request; the session's own allocations anywhere.
    s.notes(1, 1, {ReadRawData, ReadRawData, PreprocHeaders, None, UrlMap, UrlMap});
    s.alloc(1, 1, Scope::Request, 1, AllocOrigin::Noted).release(1, 1, 1);
    s.notes(1, 1, {AuthComplete, AccessDenied, ReadRawData, ReadRawData, SendResponse});
    s.notes(1, 1, {SendRawData, SendRawData});
    s.notes(1, 1, {Log, EndOfRequest}).end(1, 1);
    s.alloc(1, 0, Scope::Session, 2);
    s.note(1, 0, None).note(1, 0, EndOfNetSession).alloc(1, 0, Scope::Session, 3).close(1);
    EXPECT_TRUE(run(s).empty()) << describe(run(s));
}

TEST(OrderChecker, UnknownSessionIsReportedOnceThenChecked) {
    Stream s;
    s.begin(9, 4).note(9, 4, ReadRawData).note(9, 4, ReadRawData).end(9, 4);
    s.begin(9, 6); // numbering is known from request 4 on
    const auto v = run(s);
    ASSERT_EQ(v.size(), 2u) << describe(v);
    EXPECT_EQ(v[0].rule, "session-not-open");
    EXPECT_EQ(v[0].position, 0u);
    EXPECT_EQ(v[1].rule, "request-number-not-consecutive");
}

TEST(OrderChecker, ClosedSessionsAreRememberedInAnyCloseOrder) {
    // Open sessions 1..400, close those not divisible by 3 in a shuffled order (the closed
    // set merges neighbouring ids into ranges and keeps gaps), then touch 1..401: exactly
    // the closed ones and the never-opened 401 are reported.
    Stream s;
    std::vector<std::uint64_t> to_close;
    for (std::uint64_t id = 1; id <= 400; ++id) {
        s.open(id);
        if (id % 3 != 0) to_close.push_back(id);
    }
    std::mt19937 rng(42);
    std::shuffle(to_close.begin(), to_close.end(), rng);
    for (std::uint64_t id : to_close)
        s.close(id);
    for (std::uint64_t id = 1; id <= 401; ++id)
        s.note(id, 0, EndOfNetSession);
    std::size_t after_close = 0;
    for (const auto& v : run(s)) {
        if (v.rule == "event-after-session-close") {
            ++after_close;
            EXPECT_NE(v.session % 3, 0u) << v.session;
        } else {
            EXPECT_EQ(v.rule, "session-not-open");
            EXPECT_EQ(v.session, 401u);
        }
    }
    EXPECT_EQ(after_close, to_close.size());
}

TEST(OrderChecker, DropEventsAreIgnoredButCounted) {
    Stream s;
    s.open(1);
    s.add(EventKind::Drop, 0).size = 12;
    s.request(1, 1);
    OrderChecker checker;
    for (const Event& e : s.events)
        checker.on_event(e);
    EXPECT_TRUE(checker.violations().empty()) << describe(checker.violations());
    EXPECT_EQ(checker.events_seen(), s.events.size());
}

// ---- the host's own streams -------------------------------------------------------------

TEST(OrderChecker, TheFilterHostsStreamHasNoViolations) {
    OrderChecker checker;
    Runtime runtime{Config{}, &checker};
    FilterHost host{runtime};
    // Filters that use every status somewhere, depending on the URL.
    host.add_filter("router",
                    ML_NOTIFY_READ_RAW_DATA | ML_NOTIFY_URL_MAP | ML_NOTIFY_AUTH_COMPLETE |
                        ML_NOTIFY_SEND_RAW_DATA | ML_NOTIFY_LOG | ML_FILTER_ORDER_HIGH,
                    [](FilterContext& ctx) {
                        const std::string& url = ctx.http->url;
                        ctx.session.alloc_mem(24); // AllocMem per request: grows
                        if (ctx.notification == ReadRawData && url == "/more" && ctx.repeat < 2)
                            return FilterStatus::ReadNext;
                        if (ctx.notification == UrlMap && url == "/finish")
                            return FilterStatus::ReqFinished;
                        if (ctx.notification == UrlMap && url == "/keep")
                            return FilterStatus::FinishedKeepConn;
                        if (ctx.notification == AuthComplete && url == "/error")
                            return FilterStatus::Error;
                        if (ctx.notification == SendRawData && url == "/cut")
                            return FilterStatus::Error;
                        if (ctx.notification == Log && url == "/handled")
                            return FilterStatus::HandledNotification;
                        return FilterStatus::NextNotification;
                    });
    host.add_filter("everything", 0x0FFFFFFF, [](FilterContext& ctx) {
        if (ctx.http != nullptr) ctx.session.alloc_request(100); // request memory: flat
        return FilterStatus::NextNotification;
    });
    std::size_t closed_early = 0;
    for (int connection = 0; connection < 4; ++connection) {
        const std::vector<std::string> urls{
            "/", "/more", "/keep", "/error", "/handled", "/", connection % 2 ? "/finish" : "/cut"};
        Session* s = host.open_session("peer");
        for (const std::string& url : urls) {
            Request request;
            request.url = url;
            request.raw_reads = 2;
            request.body_reads = 1;
            request.raw_sends = 2;
            request.access_denied = connection == 2;
            if (!host.run_request(*s, request).keep_connection) {
                ++closed_early;
                break;
            }
        }
        host.end_session(*s);
    }
    EXPECT_EQ(closed_early, 4u); // each connection ends at its last URL
    EXPECT_TRUE(checker.violations().empty()) << describe(checker.violations());
    EXPECT_GT(checker.events_seen(), 200u);
}
