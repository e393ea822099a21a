#include <algorithm>
#include <cctype>

#include "memlife/notification.hpp"

namespace memlife {

const std::array<NotificationInfo, kNotificationCount>& notification_table() noexcept {
    using enum Notification;
    using S = NotificationScope;
    static const std::array<NotificationInfo, kNotificationCount> table{{
        {None, "NONE", ML_NOTIFY_NONE, S::Connection, false, false, "outside any notification"},
        {ReadRawData, "READ_RAW_DATA", ML_NOTIFY_READ_RAW_DATA, S::Request, true, false,
         "raw bytes read from the client: first before the headers, again for a body"},
        {PreprocHeaders, "PREPROC_HEADERS", ML_NOTIFY_PREPROC_HEADERS, S::Request, false, false,
         "headers parsed, not yet acted on"},
        {UrlMap, "URL_MAP", ML_NOTIFY_URL_MAP, S::Request, true, false,
         "the URL is mapped to a physical path; may fire several times"},
        {Authentication, "AUTHENTICATION", ML_NOTIFY_AUTHENTICATION, S::Connection, false, true,
         "before the client is authenticated; with keep-alive only on the first request"},
        {AuthComplete, "AUTH_COMPLETE", ML_NOTIFY_AUTH_COMPLETE, S::Request, false, false,
         "after authentication succeeded"},
        {AccessDenied, "ACCESS_DENIED", ML_NOTIFY_ACCESS_DENIED, S::Request, false, true,
         "only when access is denied (HTTP 401), before the response is sent"},
        {SendResponse, "SEND_RESPONSE", ML_NOTIFY_SEND_RESPONSE, S::Request, false, false,
         "request processed, before the response headers are sent"},
        {SendRawData, "SEND_RAW_DATA", ML_NOTIFY_SEND_RAW_DATA, S::Request, true, false,
         "raw bytes sent to the client, possibly many times"},
        {EndOfRequest, "END_OF_REQUEST", ML_NOTIFY_END_OF_REQUEST, S::Request, false, false,
         "the request is finished; the connection may stay open"},
        {Log, "LOG", ML_NOTIFY_LOG, S::Request, false, false,
         "just before the transaction is written to the log"},
        {EndOfNetSession, "END_OF_NET_SESSION", ML_NOTIFY_END_OF_NET_SESSION, S::Connection, false,
         false, "the connection is closing; AllocMem blocks are freed after it"},
    }};
    return table;
}

std::optional<Notification> notification_from_flag(std::uint32_t value) noexcept {
    for (const auto& n : notification_table())
        if (n.flag == value) return n.id;
    return std::nullopt;
}

std::optional<Notification> notification_from_name(std::string_view text) noexcept {
    constexpr std::string_view prefix = "SF_NOTIFY_";
    auto iequal = [](std::string_view a, std::string_view b) {
        return a.size() == b.size() &&
               std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
                   return std::toupper(static_cast<unsigned char>(x)) ==
                          std::toupper(static_cast<unsigned char>(y));
               });
    };
    if (text.size() > prefix.size() && iequal(text.substr(0, prefix.size()), prefix))
        text.remove_prefix(prefix.size());
    for (const auto& n : notification_table())
        if (iequal(n.name, text)) return n.id;
    return std::nullopt;
}

} // namespace memlife
