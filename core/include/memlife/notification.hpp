// The ISAPI filter notifications as data (flag values from httpfilt.h; see
// ../shared/reference/domain.md section 2).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

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

} // namespace memlife
