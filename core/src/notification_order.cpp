// The canonical notification order and the filter statuses as data.
#include <algorithm>

#include "memlife/notification.hpp"

namespace memlife {

std::string_view name(FilterStatus status) noexcept {
    switch (status) {
    case FilterStatus::ReqFinished:
        return "REQ_FINISHED";
    case FilterStatus::FinishedKeepConn:
        return "REQ_FINISHED_KEEP_CONN";
    case FilterStatus::NextNotification:
        return "REQ_NEXT_NOTIFICATION";
    case FilterStatus::HandledNotification:
        return "REQ_HANDLED_NOTIFICATION";
    case FilterStatus::Error:
        return "REQ_ERROR";
    case FilterStatus::ReadNext:
        return "REQ_READ_NEXT";
    }
    return "UNKNOWN";
}

std::optional<FilterStatus> filter_status_from_value(std::uint32_t value) noexcept {
    if (value < ML_STATUS_REQ_FINISHED || value > ML_STATUS_REQ_READ_NEXT) return std::nullopt;
    return static_cast<FilterStatus>(value);
}

int canonical_rank(Notification notification) noexcept {
    switch (notification) {
    case Notification::None:
        return -1;
    case Notification::ReadRawData:
        return 0;
    case Notification::PreprocHeaders:
        return 1;
    case Notification::UrlMap:
        return 2;
    case Notification::Authentication:
        return 3;
    case Notification::AuthComplete:
        return 4;
    case Notification::AccessDenied:
        return 5;
    case Notification::SendResponse:
        return 7;
    case Notification::SendRawData:
        return 8;
    case Notification::EndOfRequest:
        return 9;
    case Notification::Log:
        return 9;
    case Notification::EndOfNetSession:
        return 10;
    }
    return -1;
}

std::vector<Notification> canonical_request_order(const RequestShape& shape) {
    using enum Notification;
    std::vector<Notification> order;
    order.insert(order.end(), std::max(shape.raw_reads, 1u), ReadRawData);
    order.push_back(PreprocHeaders);
    order.insert(order.end(), std::max(shape.url_maps, 1u), UrlMap);
    if (shape.authentication) order.push_back(Authentication);
    order.push_back(AuthComplete);
    if (shape.access_denied)
        order.push_back(AccessDenied);
    else
        order.insert(order.end(), shape.body_reads, ReadRawData);
    order.push_back(SendResponse);
    order.insert(order.end(), std::max(shape.raw_sends, 1u), SendRawData);
    order.push_back(EndOfRequest);
    order.push_back(Log);
    return order;
}

std::vector<Notification> canonical_connection_order(std::uint32_t requests, bool keep_alive,
                                                     const RequestShape& shape) {
    std::vector<Notification> order;
    for (std::uint32_t i = 1; i <= requests; ++i) {
        RequestShape this_one = shape;
        if (keep_alive && i > 1) this_one.authentication = false;
        if (!keep_alive) this_one.authentication = true;
        const auto one = canonical_request_order(this_one);
        order.insert(order.end(), one.begin(), one.end());
    }
    order.push_back(Notification::EndOfNetSession);
    return order;
}

} // namespace memlife

extern "C" MEMLIFE_API const char* ml_filter_status_name(int status) {
    const auto known = memlife::filter_status_from_value(static_cast<std::uint32_t>(status));
    // The names are string literals, so data() is NUL-terminated.
    return known ? memlife::name(*known).data() : "UNKNOWN";
}
