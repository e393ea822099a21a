// The ISAPI filter notifications as data (flag values from httpfilt.h; see
// ../shared/reference/domain.md section 2).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "memlife/filter.h"
#include "memlife/memlife.h"

namespace memlife {

// Compact index used inside events (one byte); the flag value is the public identity.
enum class Notification : std::uint8_t {
    None = 0,
    ReadRawData,
    PreprocHeaders,
    UrlMap,
    Authentication,
    AuthComplete,
    AccessDenied,
    SendResponse,
    SendRawData,
    EndOfRequest,
    Log,
    EndOfNetSession,
};
inline constexpr std::size_t kNotificationCount = 12;

enum class NotificationScope : std::uint8_t { Connection, Request };

struct NotificationInfo {
    Notification id;
    std::string_view name; // "READ_RAW_DATA" (SF_NOTIFY_ prefix dropped)
    std::uint32_t flag;    // ML_NOTIFY_* / SF_NOTIFY_* value
    NotificationScope scope;
    bool repeats;               // may fire several times per request
    bool conditional;           // fires only under a condition
    std::string_view condition; // when it fires, in our words
};

// Indexed by Notification.
MEMLIFE_API const std::array<NotificationInfo, kNotificationCount>& notification_table() noexcept;

inline const NotificationInfo& info(Notification n) noexcept {
    return notification_table()[static_cast<std::size_t>(n)];
}
inline std::string_view name(Notification n) noexcept {
    return info(n).name;
}
inline std::uint32_t flag(Notification n) noexcept {
    return info(n).flag;
}

MEMLIFE_API std::optional<Notification> notification_from_flag(std::uint32_t flag) noexcept;
// Accepts "URL_MAP", "SF_NOTIFY_URL_MAP", case-insensitive.
MEMLIFE_API std::optional<Notification> notification_from_name(std::string_view name) noexcept;

// ---- filter return statuses ------------------------------------------------------------

// A filter's return value (SF_STATUS_TYPE; the values of httpfilt.h and filter.h).
enum class FilterStatus : std::uint32_t {
    ReqFinished = ML_STATUS_REQ_FINISHED,
    FinishedKeepConn = ML_STATUS_REQ_FINISHED_KEEP_CONN,
    NextNotification = ML_STATUS_REQ_NEXT_NOTIFICATION,
    HandledNotification = ML_STATUS_REQ_HANDLED_NOTIFICATION,
    Error = ML_STATUS_REQ_ERROR,
    ReadNext = ML_STATUS_REQ_READ_NEXT,
};

// "REQ_FINISHED", "REQ_FINISHED_KEEP_CONN", ... (SF_STATUS_ dropped).
MEMLIFE_API std::string_view name(FilterStatus status) noexcept;
MEMLIFE_API std::optional<FilterStatus> filter_status_from_value(std::uint32_t value) noexcept;

// The status byte of a Notification event (Event::flags): which filter status ended the
// chain of the *previous* notification of the same session, i.e. why this notification
// fires now. 0 = none (every filter passed it on, or no filter ran, or unknown);
// otherwise 1 + (status - ML_STATUS_REQ_FINISHED): 1 REQ_FINISHED .. 6 READ_NEXT.
// So "READ_RAW_DATA, flags READ_NEXT" reads "read again because a filter asked for more",
// "END_OF_REQUEST, flags REQ_ERROR" reads "the request was cut short by a filter error".
// (The host emits the event before the filters run, so a status can only travel forward.)
constexpr std::uint8_t status_byte(FilterStatus status) noexcept {
    return static_cast<std::uint8_t>(static_cast<std::uint32_t>(status) - ML_STATUS_REQ_FINISHED +
                                     1);
}
constexpr std::optional<FilterStatus> status_from_byte(std::uint8_t byte) noexcept {
    if (byte < 1 || byte > 6) return std::nullopt;
    return static_cast<FilterStatus>(ML_STATUS_REQ_FINISHED + byte - 1u);
}

// ---- the canonical order (domain.md section 2) -----------------------------------------

// Position of a notification in the canonical order of one request: READ_RAW_DATA 0,
// PREPROC_HEADERS 1, URL_MAP 2, AUTHENTICATION 3, AUTH_COMPLETE 4, ACCESS_DENIED 5,
// (READ_RAW_DATA for a body: kBodyReadRank), SEND_RESPONSE 7, SEND_RAW_DATA 8,
// END_OF_REQUEST and LOG 9 (unordered between themselves), END_OF_NET_SESSION 10.
// None: -1.
inline constexpr int kBodyReadRank = 6;
MEMLIFE_API int canonical_rank(Notification notification) noexcept;

// What varies between requests: how many times the repeating notifications fire and the
// conditional ones.
struct RequestShape {
    std::uint32_t raw_reads = 1;  // READ_RAW_DATA before the headers (at least 1)
    std::uint32_t url_maps = 1;   // URL_MAP (at least 1)
    bool authentication = true;   // AUTHENTICATION fires (see canonical_connection_order)
    bool access_denied = false;   // ACCESS_DENIED fires (401); a denied body is not read
    std::uint32_t body_reads = 0; // READ_RAW_DATA for a request body
    std::uint32_t raw_sends = 1;  // SEND_RAW_DATA (at least 1)
};

// One request, READ_RAW_DATA .. LOG.
MEMLIFE_API std::vector<Notification> canonical_request_order(const RequestShape& shape = {});
// A connection carrying `requests` requests of the given shape, then END_OF_NET_SESSION.
// With keep-alive AUTHENTICATION fires on the first request only (shape.authentication
// decides for that one); without, on every request.
MEMLIFE_API std::vector<Notification> canonical_connection_order(std::uint32_t requests,
                                                                 bool keep_alive = true,
                                                                 const RequestShape& shape = {});

} // namespace memlife
