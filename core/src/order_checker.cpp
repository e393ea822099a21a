// The order checker: one small state machine per open session, fed in stream order.
#include "memlife/order_checker.hpp"

#include <iterator>
#include <map>
#include <mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>

namespace memlife {

namespace {

// Rule ids: stable, used in reports, the UI and docs/notifications.md.
constexpr const char* kSessionNotOpen = "session-not-open";
constexpr const char* kSessionOpenedTwice = "session-opened-twice";
constexpr const char* kEventAfterClose = "event-after-session-close";
constexpr const char* kOutsideRequest = "request-notification-outside-request";
constexpr const char* kAfterEndOfNetSession = "request-notification-after-end-of-net-session";
constexpr const char* kEndOfNetSessionRepeated = "end-of-net-session-repeated";
constexpr const char* kBeginWhileActive = "request-begin-while-active";
constexpr const char* kEndWithoutRequest = "request-end-without-request";
constexpr const char* kRequestNotConsecutive = "request-number-not-consecutive";
constexpr const char* kNotificationRepeated = "notification-repeated";
constexpr const char* kSendResponseAfterEnd = "send-response-after-end-of-request";
constexpr const char* kOutOfOrder = "notification-out-of-order";
constexpr const char* kAuthenticationRepeated = "authentication-repeated-on-keep-alive";
constexpr const char* kTimeBackwards = "time-went-backwards";
constexpr const char* kRequestAllocOutside = "request-alloc-outside-request";
constexpr const char* kReleaseUnknown = "release-of-unknown-block";

std::string quoted(Notification n) {
    return std::string(name(n));
}

// Closed session ids as disjoint inclusive ranges. Ids come from a counter and sessions
// close roughly in order, so the ranges merge and the set stays a few entries long.
class IdRanges {
public:
    bool contains(std::uint64_t id) const {
        auto it = ranges_.upper_bound(id);
        if (it == ranges_.begin()) return false;
        --it;
        return id <= it->second;
    }
    void insert(std::uint64_t id) {
        if (contains(id)) return;
        auto next = ranges_.upper_bound(id);
        const bool joins_next = next != ranges_.end() && next->first == id + 1;
        if (next != ranges_.begin()) {
            auto prev = std::prev(next);
            if (prev->second + 1 == id) {
                prev->second = joins_next ? next->second : id;
                if (joins_next) ranges_.erase(next);
                return;
            }
        }
        const std::uint64_t end = joins_next ? next->second : id;
        if (joins_next) ranges_.erase(next);
        ranges_.emplace(id, end);
    }

private:
    std::map<std::uint64_t, std::uint64_t> ranges_; // first id -> last id
};

struct SessionState {
    std::uint64_t last_time = 0;
    std::uint32_t last_request = 0;
    std::uint32_t current_request = 0;
    bool in_request = false;
    bool request_numbers_known = true; // false for a session first seen without its open
    bool end_of_net_session = false;
    bool authenticated = false; // AUTHENTICATION seen on an earlier request
    // The request in progress.
    std::uint32_t seen = 0; // bit per Notification
    int stage = -1;         // highest canonical rank so far
    Notification stage_notification = Notification::None;
    std::unordered_set<std::uint64_t> noted; // live noted blocks (Alloc with origin Noted)
};

} // namespace

struct OrderChecker::Impl {
    std::mutex mutex;
    std::unordered_map<std::uint64_t, SessionState> sessions;
    IdRanges closed;
};

const std::vector<OrderChecker::Rule>& OrderChecker::rules() {
    static const std::vector<Rule> list{
        {kSessionNotOpen, "an event for a session whose SessionOpen was never seen (reported once "
                          "per session; the session is then checked as if open)"},
        {kSessionOpenedTwice, "SessionOpen for a session that is already open or was closed"},
        {kEventAfterClose, "any event for a session after its SessionClose (e.g. an allocation "
                           "in a closed session)"},
        {kOutsideRequest, "a request notification (every one but END_OF_NET_SESSION) outside "
                          "RequestBegin..RequestEnd"},
        {kAfterEndOfNetSession,
         "a request notification or a new request after END_OF_NET_SESSION in the same session"},
        {kEndOfNetSessionRepeated, "END_OF_NET_SESSION more than once in a session"},
        {kBeginWhileActive, "RequestBegin while a request is active"},
        {kEndWithoutRequest, "RequestEnd without an active request"},
        {kRequestNotConsecutive,
         "request numbers of a session do not increase by one (1, 2, 3, ...)"},
        {kNotificationRepeated,
         "a non-repeating notification fires twice in one request (READ_RAW_DATA, URL_MAP and "
         "SEND_RAW_DATA may repeat)"},
        {kSendResponseAfterEnd, "SEND_RESPONSE after END_OF_REQUEST or LOG in the same request"},
        {kOutOfOrder,
         "a notification earlier in the canonical order after a later one in the same request "
         "(e.g. PREPROC_HEADERS after SEND_RESPONSE); READ_RAW_DATA may come again for a body "
         "before SEND_RESPONSE; END_OF_REQUEST and LOG are unordered between themselves"},
        {kAuthenticationRepeated,
         "AUTHENTICATION on a later request of a keep-alive connection (it fires on the first "
         "request only); advisory: a server may re-authenticate"},
        {kTimeBackwards, "an event's timestamp is earlier than the previous one of its session"},
        {kRequestAllocOutside, "an allocation of request scope outside a request"},
        {kReleaseUnknown, "a Release of a block that is not a live noted block of the session"},
    };
    return list;
}

OrderChecker::OrderChecker() : impl_(std::make_unique<Impl>()) {}
OrderChecker::~OrderChecker() = default;

void OrderChecker::on_event(const Event& event) noexcept {
    try {
        check(event);
    } catch (...) { // out of memory: the sink interface cannot throw
    }
}

void OrderChecker::check(const Event& event) {
    std::lock_guard lock(impl_->mutex);
    const std::uint64_t position = position_++;
    if (event.kind == EventKind::Drop) return; // a recorder's note, not a session's event

    auto report = [&](const char* rule, std::uint32_t request, std::string message) {
        violations_.push_back(
            {position, event.time_ns, event.session, request, rule, std::move(message)});
    };
    // Built only when a violation is reported: this is called for every event.
    auto session_text = [&] { return "session " + std::to_string(event.session); };

    auto found = impl_->sessions.find(event.session);
    if (found == impl_->sessions.end()) {
        if (impl_->closed.contains(event.session)) {
            if (event.kind == EventKind::SessionOpen)
                report(kSessionOpenedTwice, event.request,
                       session_text() + " opened again after it was closed");
            else
                report(
                    kEventAfterClose, event.request,
                    std::string(event.kind == EventKind::Alloc ? "allocation" : name(event.kind)) +
                        " in " + session_text() + " after it was closed");
            return;
        }
        SessionState fresh;
        fresh.last_time = event.time_ns;
        if (event.kind != EventKind::SessionOpen) {
            report(kSessionNotOpen, event.request,
                   std::string(name(event.kind)) + " for " + session_text() +
                       ", which was never opened");
            fresh.request_numbers_known = false;
        }
        found = impl_->sessions.emplace(event.session, std::move(fresh)).first;
        if (event.kind == EventKind::SessionOpen) return;
    } else if (event.kind == EventKind::SessionOpen) {
        report(kSessionOpenedTwice, event.request, session_text() + " opened while already open");
        return;
    }
    SessionState& st = found->second;
    const std::uint32_t request = event.request != 0 ? event.request : st.current_request;

    if (event.time_ns < st.last_time) {
        report(kTimeBackwards, request,
               "time " + std::to_string(event.time_ns) + " ns is " +
                   std::to_string(st.last_time - event.time_ns) +
                   " ns before the previous event of " + session_text());
    } else {
        st.last_time = event.time_ns;
    }

    switch (event.kind) {
    case EventKind::SessionClose:
        impl_->sessions.erase(found);
        impl_->closed.insert(event.session);
        return;
    case EventKind::RequestBegin: {
        if (st.end_of_net_session)
            report(kAfterEndOfNetSession, event.request,
                   "request " + std::to_string(event.request) +
                       " begins after END_OF_NET_SESSION in " + session_text());
        if (st.in_request)
            report(kBeginWhileActive, event.request,
                   "request " + std::to_string(event.request) + " begins while request " +
                       std::to_string(st.current_request) + " is active");
        if (st.request_numbers_known && event.request != st.last_request + 1)
            report(kRequestNotConsecutive, event.request,
                   "request " + std::to_string(event.request) + " follows request " +
                       std::to_string(st.last_request) + " (expected " +
                       std::to_string(st.last_request + 1) + ")");
        st.request_numbers_known = true;
        st.last_request = st.current_request = event.request;
        st.in_request = true;
        st.seen = 0;
        st.stage = -1;
        st.stage_notification = Notification::None;
        return;
    }
    case EventKind::RequestEnd:
        if (!st.in_request)
            report(kEndWithoutRequest, event.request,
                   "RequestEnd without an active request in " + session_text());
        st.in_request = false;
        st.current_request = 0;
        return;
    case EventKind::Alloc:
        if (event.scope == Scope::Request && !st.in_request)
            report(kRequestAllocOutside, request,
                   "request-scoped block " + std::to_string(event.block) + " of " +
                       std::to_string(event.size) + " bytes allocated outside a request");
        if (event.flags == static_cast<std::uint8_t>(AllocOrigin::Noted))
            st.noted.insert(event.block);
        return;
    case EventKind::Release:
        if (st.noted.erase(event.block) == 0)
            report(kReleaseUnknown, request,
                   "release of block " + std::to_string(event.block) +
                       ", which is not a live noted block of " + session_text());
        return;
    case EventKind::Notification:
        break;
    default:
        return; // Corruption, Leak: only the session checks above apply
    }

    const Notification n = event.notification;
    if (n == Notification::None || static_cast<std::size_t>(n) >= kNotificationCount) return;
    if (n == Notification::EndOfNetSession) {
        if (st.end_of_net_session)
            report(kEndOfNetSessionRepeated, request,
                   "END_OF_NET_SESSION again in " + session_text());
        st.end_of_net_session = true;
        return;
    }
    if (st.end_of_net_session) {
        report(kAfterEndOfNetSession, request,
               quoted(n) + " after END_OF_NET_SESSION in " + session_text());
        return;
    }
    if (!st.in_request) {
        report(kOutsideRequest, request, quoted(n) + " outside a request in " + session_text());
        return;
    }
    const std::uint32_t bit = 1u << static_cast<unsigned>(n);
    const std::uint32_t ended = (1u << static_cast<unsigned>(Notification::EndOfRequest)) |
                                (1u << static_cast<unsigned>(Notification::Log));
    if (!info(n).repeats && (st.seen & bit)) {
        report(kNotificationRepeated, request,
               quoted(n) + " fires again in request " + std::to_string(request));
        return;
    }
    st.seen |= bit;
    if (n == Notification::SendResponse && (st.seen & ended)) {
        report(kSendResponseAfterEnd, request,
               "SEND_RESPONSE after " + quoted(st.stage_notification) + " in request " +
                   std::to_string(request));
        return;
    }
    if (n == Notification::Authentication) {
        if (st.authenticated)
            report(kAuthenticationRepeated, request,
                   "AUTHENTICATION again on request " + std::to_string(request) +
                       " of a keep-alive connection");
        st.authenticated = true;
    }
    int rank = canonical_rank(n);
    // A raw read after the headers is a body read: allowed until SEND_RESPONSE.
    if (n == Notification::ReadRawData && st.stage > 0) rank = kBodyReadRank;
    if (rank < st.stage) {
        report(kOutOfOrder, request,
               quoted(n) + " after " + quoted(st.stage_notification) + " in request " +
                   std::to_string(request));
        return;
    }
    st.stage = rank;
    st.stage_notification = n;
}

} // namespace memlife
