#include "models/eventfilter.hpp"

#include <QCoreApplication>

#include <algorithm>
#include <cctype>
#include <cstdio>

#include "style/format.hpp"

namespace memlife::ui {

namespace {

std::string lower(std::string text) {
    std::transform(text.begin(), text.end(), text.begin(),
                   [](unsigned char c) { return char(std::tolower(c)); });
    return text;
}

bool contains(const std::string& haystack, const std::string& needle) {
    return lower(haystack).find(needle) != std::string::npos;
}

bool hasAddress(EventKind kind) {
    return kind == EventKind::Alloc || kind == EventKind::Release ||
           kind == EventKind::Corruption || kind == EventKind::Leak;
}

} // namespace

QString eventKindLabel(EventKind kind) {
    auto tr = [](const char* text) { return QCoreApplication::translate("memlife::ui", text); };
    switch (kind) {
    case EventKind::SessionOpen:
        return tr("Session open");
    case EventKind::SessionClose:
        return tr("Session close");
    case EventKind::RequestBegin:
        return tr("Request begin");
    case EventKind::RequestEnd:
        return tr("Request end");
    case EventKind::Notification:
        return tr("Notification");
    case EventKind::Alloc:
        return tr("Allocation");
    case EventKind::Release:
        return tr("Release");
    case EventKind::Corruption:
        return tr("Corruption");
    case EventKind::Leak:
        return tr("Leak");
    case EventKind::Drop:
        return tr("Dropped events");
    }
    return eventKindName(kind);
}

EventFilter::EventFilter(TracePtr trace, std::optional<EventKind> kind, const QString& search)
    : trace_(std::move(trace)), kind_(kind), search_(search.trimmed()),
      needle_(lower(search_.toStdString())) {}

void EventFilter::prepare() const {
    if (needle_.empty() || !trace_) return;
    for (const data::SessionRow& s : trace_->sessions)
        if (contains(s.peer, needle_) || std::to_string(s.id) == needle_) sessions_.insert(s.id);
    for (int k = 1; k <= kEventKindMax; ++k) {
        const auto kind = static_cast<EventKind>(k);
        if (contains(eventKindLabel(kind).toStdString(), needle_) ||
            contains(eventKindName(kind).toStdString(), needle_))
            kinds_ |= 1u << k;
    }
    for (std::size_t n = 1; n < kNotificationCount && n < 64; ++n)
        if (contains(std::string(name(static_cast<Notification>(n))), needle_))
            notifications_ |= std::uint64_t{1} << n;
    std::string hex = needle_.starts_with("0x") ? needle_.substr(2) : needle_;
    if (!hex.empty() && hex.size() <= 16 &&
        std::all_of(hex.begin(), hex.end(), [](unsigned char c) { return std::isxdigit(c); }))
        hexNeedle_ = hex;
    for (const data::LeakRow& r : trace_->leaks)
        if (contains(r.message, needle_)) reports_.emplace(r.session, r.block);
    for (const data::CorruptionRow& r : trace_->corruptions)
        if (contains(r.message, needle_)) reports_.emplace(r.session, r.block);
}

bool EventFilter::matches(const Event& e) const {
    if (kind_ && e.kind != *kind_) return false;
    if (needle_.empty()) return true;
    std::call_once(prepared_, [this] { prepare(); });
    if (kinds_ & (1u << static_cast<unsigned>(e.kind))) return true;
    if (sessions_.contains(e.session)) return true;
    const auto n = static_cast<unsigned>(e.notification);
    if (n != 0 && n < 64 && (notifications_ & (std::uint64_t{1} << n))) return true;
    if (!hasAddress(e.kind)) return false;
    if ((e.kind == EventKind::Leak || e.kind == EventKind::Corruption) &&
        reports_.contains({e.session, e.block}))
        return true;
    if (hexNeedle_.empty()) return false;
    char text[17];
    std::snprintf(text, sizeof text, "%llx", static_cast<unsigned long long>(e.address));
    return std::string_view(text).find(hexNeedle_) != std::string_view::npos;
}

} // namespace memlife::ui
