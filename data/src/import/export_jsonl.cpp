// JSON-lines export: every event of a trace in stream order (format: docs/trace-format.md,
// "JSON-lines format"), so that import_jsonl gives back an equal trace.
#include <cinttypes>
#include <cstdio>
#include <deque>
#include <map>
#include <ostream>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "jsonl_schema.hpp"
#include "memlife/data/import.hpp"
#include "memlife/data/reader.hpp"

namespace memlife::data {

namespace {

using ordered_json = nlohmann::ordered_json; // keys in the documented order

std::string hex_address(std::uint64_t v) {
    char buffer[24];
    std::snprintf(buffer, sizeof buffer, "0x%" PRIx64, v);
    return buffer;
}

std::string hex_bytes(const std::string& bytes) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out;
    for (unsigned char c : bytes) {
        out += kDigits[c >> 4];
        out += kDigits[c & 15];
    }
    return out;
}

void put_notification(ordered_json& line, const char* key, Notification n) {
    if (n != Notification::None) line[key] = std::string(name(n));
}

} // namespace

void export_jsonl(const TraceReader& reader, std::ostream& out) {
    std::unordered_map<std::uint64_t, std::string> peers;
    for (const SessionRow& s : reader.sessions())
        peers.emplace(s.id, s.peer);
    // Report details, matched to their Corruption / Leak events by session and block, in order.
    std::map<std::pair<std::uint64_t, std::uint64_t>, std::deque<CorruptionRow>> corruptions;
    for (CorruptionRow& c : reader.corruptions())
        corruptions[{c.session, c.block}].push_back(std::move(c));
    std::map<std::pair<std::uint64_t, std::uint64_t>, std::deque<LeakRow>> leaks;
    for (LeakRow& l : reader.leaks())
        leaks[{l.session, l.block}].push_back(std::move(l));

    reader.for_each_event([&](const Event& e) {
        ordered_json line;
        line["kind"] = std::string(name(e.kind));
        line["t"] = e.time_ns;
        if (e.session != 0) line["session"] = e.session;
        if (e.request != 0) line["request"] = e.request;
        if (e.block != 0) line["block"] = e.block;
        if (e.address != 0) line["address"] = hex_address(e.address);
        if (e.size != 0) line["size"] = e.size;
        if (e.scope != Scope::Session)
            line["scope"] = std::string(jsonl::kScopeNames[static_cast<std::size_t>(e.scope)]);
        put_notification(line, "notification", e.notification);
        if (jsonl::has_origin(e.kind) && !jsonl::origin_name(e.flags).empty())
            line["origin"] = std::string(jsonl::origin_name(e.flags));
        else if (e.flags != 0)
            line["flags"] = e.flags;
        if (e.kind == EventKind::SessionOpen) {
            const auto peer = peers.find(e.session);
            if (peer != peers.end() && !peer->second.empty()) line["peer"] = peer->second;
        } else if (e.kind == EventKind::Corruption) {
            auto it = corruptions.find({e.session, e.block});
            if (it != corruptions.end() && !it->second.empty()) {
                const CorruptionRow& c = it->second.front();
                if (c.alloc_request != 0) line["alloc_request"] = c.alloc_request;
                put_notification(line, "alloc_notification", c.alloc_notification);
                put_notification(line, "last_notification", c.last_notification);
                if (c.time_ns != e.time_ns) line["report_t"] = c.time_ns;
                line["first_offset"] = c.first_offset;
                line["modified_count"] = c.modified_count;
                line["expected"] = hex_bytes(c.expected);
                line["found"] = hex_bytes(c.found);
                if (c.fault_address != 0) line["fault_address"] = hex_address(c.fault_address);
                line["message"] = c.message;
                it->second.pop_front();
            }
        } else if (e.kind == EventKind::Leak) {
            auto it = leaks.find({e.session, e.block});
            if (it != leaks.end() && !it->second.empty()) {
                const LeakRow& l = it->second.front();
                if (l.alloc_request != 0) line["alloc_request"] = l.alloc_request;
                put_notification(line, "alloc_notification", l.alloc_notification);
                if (l.time_ns != e.time_ns) line["report_t"] = l.time_ns;
                line["message"] = l.message;
                it->second.pop_front();
            }
        }
        // Invalid UTF-8 in a peer or message (C servers label peers freely) is replaced
        // rather than failing the whole export.
        out << line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
        return static_cast<bool>(out);
    });
    out.flush();
}

} // namespace memlife::data
