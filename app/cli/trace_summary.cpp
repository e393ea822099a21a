#include "trace_summary.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <unordered_map>
#include <utility>

#include "cli.hpp"
#include "finding_lines.hpp"
#include "memlife/data/units.hpp"

namespace memlife::cli {

TraceSummary summarize(const std::string& path) {
    data::TraceReader reader(path);
    TraceSummary s;
    s.path = path;
    s.info = reader.info();
    s.sessions = reader.sessions();
    reader.verify(); // the event batch rows against the sessions (the whole file is read below)
    s.violations = reader.order_violations();
    s.corruptions = reader.corruptions();
    s.leaks = reader.leaks();
    s.outlived = reader.outlived();
    for (const auto& row : s.sessions) {
        ++s.totals.sessions;
        s.totals.requests += row.requests;
        s.totals.peak_bytes = std::max(s.totals.peak_bytes, row.peak_bytes);
        s.totals.released_at_close_bytes += row.released_at_close_bytes;
        s.totals.corruptions += row.corruptions;
        s.totals.leaks += row.leaks;
        s.totals.leaked_bytes += row.leaked_bytes;
        s.totals.outlived += row.outlived;
        s.totals.outlived_bytes += row.outlived_bytes;
        s.totals.open_sessions += row.closed() ? 0 : 1;
    }
    return s;
}

const std::vector<std::string>& session_orders() {
    static const std::vector<std::string> orders{"id", "growth", "peak", "requests", "corruptions"};
    return orders;
}

void select_sessions(TraceSummary& s, const std::string& order, std::size_t top) {
    using Row = data::SessionRow;
    auto key = [&order](const Row& r) -> double {
        if (order == "growth") return r.growth_bytes_per_request;
        if (order == "peak") return double(r.peak_bytes);
        if (order == "requests") return double(r.requests);
        if (order == "corruptions") return double(r.corruptions);
        return -double(r.id); // "id": ascending
    };
    std::stable_sort(s.sessions.begin(), s.sessions.end(), [&](const Row& a, const Row& b) {
        const double ka = key(a), kb = key(b);
        return ka != kb ? ka > kb : a.id < b.id;
    });
    if (top != 0 && s.sessions.size() > top) s.sessions.resize(top);
    s.order = order;
    // The details follow the sessions shown, in their order.
    std::unordered_map<std::uint64_t, std::size_t> rank;
    for (std::size_t i = 0; i < s.sessions.size(); ++i)
        rank.emplace(s.sessions[i].id, i);
    auto keep = [&rank](auto& rows) {
        std::erase_if(rows, [&rank](const auto& r) { return !rank.contains(r.session); });
        std::stable_sort(rows.begin(), rows.end(), [&rank](const auto& a, const auto& b) {
            return rank.at(a.session) < rank.at(b.session);
        });
    };
    keep(s.corruptions);
    keep(s.leaks);
    keep(s.outlived);
}

namespace {

// A time as the trace's clock gave it: for a coarse trace (an nginx import) the stamp cut
// to the clock's step, with the order within the step beside it ("KEY_order", 1-based);
// the nanoseconds below a step are not a measurement (trace-format.md).
void put_time(nlohmann::json& object, const std::string& key, std::uint64_t time_ns,
              std::uint64_t resolution_ns) {
    if (time_ns == 0 || resolution_ns <= 1) {
        object[key + "_ns"] = time_ns;
        return;
    }
    object[key + "_ns"] = data::stamp_ns(time_ns, resolution_ns);
    object[key + "_order"] = data::order_in_step(time_ns, resolution_ns);
}

nlohmann::json corruption_json(const data::CorruptionRow& c) {
    auto hex = [](const std::string& bytes) {
        std::string out;
        for (unsigned char b : bytes)
            out += fmt::format("{:02x}", b);
        return out;
    };
    return {{"session", c.session},
            {"block", c.block},
            {"address", c.address},
            {"size", c.size},
            {"scope", c.scope == Scope::Request ? "request" : "session"},
            {"first_offset", c.first_offset},
            {"first_modified_address", c.address + c.size + c.first_offset},
            {"modified_count", c.modified_count},
            {"alloc_request", c.alloc_request},
            {"alloc_notification", std::string(name(c.alloc_notification))},
            {"request", c.request},
            {"last_notification", std::string(name(c.last_notification))},
            {"time_ns", c.time_ns},
            {"expected", hex(c.expected)},
            {"found", hex(c.found)},
            {"fault_address", c.fault_address},
            {"detail", corruption_line(c)}};
}

} // namespace

nlohmann::json to_json(const TraceSummary& s) {
    const std::uint64_t resolution = s.info.time_resolution_ns;
    nlohmann::json sessions = nlohmann::json::array();
    for (const auto& row : s.sessions) {
        nlohmann::json session = {
            {"id", row.id},
            {"peer", row.peer},
            {"requests", row.requests},
        };
        put_time(session, "open", row.open_ns, resolution);
        put_time(session, "close", row.close_ns, resolution);
        session.update({
            {"closed", row.closed()},
            {"duration_ns",
             row.closed() ? data::interval_ns(row.open_ns, row.close_ns, resolution) : 0},
            {"peak_bytes", row.peak_bytes},
            {"released_at_close_bytes", row.released_at_close_bytes},
            {"growth_bytes_per_request", row.growth_bytes_per_request},
            {"corruptions", row.corruptions},
            {"leaks", row.leaks},
            {"leaked_bytes", row.leaked_bytes},
            {"outlived", row.outlived},
            {"outlived_bytes", row.outlived_bytes},
            {"blocks", row.blocks},
        });
        sessions.push_back(std::move(session));
    }
    nlohmann::json corruptions = nlohmann::json::array();
    for (const auto& c : s.corruptions)
        corruptions.push_back(corruption_json(c));
    nlohmann::json violations = nlohmann::json::array();
    for (const auto& v : s.violations) {
        nlohmann::json violation = {{"position", v.position}};
        put_time(violation, "time", v.time_ns, resolution);
        violation.update({{"session", v.session},
                          {"request", v.request},
                          {"rule", v.rule},
                          {"message", v.message}});
        violations.push_back(std::move(violation));
    }
    nlohmann::json summary = {
        {"trace", s.path},
        {"source", s.info.source},
        {"schema_version", s.info.schema_version},
        {"events", s.info.events},
        {"dropped_events", s.info.dropped_events},
        {"time_resolution_ns", s.info.time_resolution_ns},
        {"complete", s.info.complete},
        {"sessions", std::move(sessions)},
        {"totals",
         {{"sessions", s.totals.sessions},
          {"open_sessions", s.totals.open_sessions},
          {"requests", s.totals.requests},
          {"peak_bytes", s.totals.peak_bytes},
          {"released_at_close_bytes", s.totals.released_at_close_bytes},
          {"corruptions", s.totals.corruptions},
          {"leaks", s.totals.leaks},
          {"leaked_bytes", s.totals.leaked_bytes},
          {"outlived", s.totals.outlived},
          {"outlived_bytes", s.totals.outlived_bytes},
          {"order_violations", s.violations.size()}}},
        {"order_violations", std::move(violations)},
        {"sort", s.order},
        {"sessions_shown", s.sessions.size()},
        {"corruptions", std::move(corruptions)},
    };
    if (s.info.source == "record")
        summary["recording"] = {{"command", s.info.command},
                                {"processes", s.info.processes},
                                {"process_allocations", s.info.process_allocations},
                                {"process_allocated_bytes", s.info.process_allocated_bytes}};
    return summary;
}

namespace {

// Length of the valid UTF-8 sequence at the start of `s` that is not a control character
// (C1: U+0080..U+009F), or 0.
std::size_t printable_sequence(std::string_view s) {
    const auto b = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
    const auto continuation = [&](std::size_t i) { return i < s.size() && (b(i) & 0xC0) == 0x80; };
    const unsigned char lead = b(0);
    if (lead >= 0x20 && lead < 0x7F) return 1;
    if (lead >= 0xC2 && lead <= 0xDF && continuation(1)) return lead == 0xC2 && b(1) < 0xA0 ? 0 : 2;
    if (lead >= 0xE0 && lead <= 0xEF && continuation(1) && continuation(2)) {
        if ((lead == 0xE0 && b(1) < 0xA0) || (lead == 0xED && b(1) >= 0xA0)) return 0;
        return 3; // not overlong, not a surrogate
    }
    if (lead >= 0xF0 && lead <= 0xF4 && continuation(1) && continuation(2) && continuation(3)) {
        if ((lead == 0xF0 && b(1) < 0x90) || (lead == 0xF4 && b(1) >= 0x90)) return 0;
        return 4;
    }
    return 0;
}

} // namespace

// Text from the trace as one terminal-safe line: control characters, invalid UTF-8 and C1
// controls become \n, \t, \r or \xNN; at most `max_chars` characters (an escape counts as its
// length), cut between characters.
std::string escape_for_terminal(std::string_view text, std::size_t max_chars) {
    std::string out;
    std::size_t chars = 0;
    for (std::size_t i = 0; i < text.size();) {
        std::string piece;
        if (const std::size_t n = printable_sequence(text.substr(i)); n != 0) {
            piece.assign(text.substr(i, n));
            i += n;
        } else {
            const char c = text[i++];
            piece = c == '\n'   ? "\\n"
                    : c == '\t' ? "\\t"
                    : c == '\r' ? "\\r"
                                : fmt::format("\\x{:02x}", static_cast<unsigned char>(c));
        }
        const std::size_t width = piece.size() > 1 && piece[0] == '\\' ? piece.size() : 1;
        if (chars + width > max_chars) break;
        chars += width;
        out += piece;
    }
    return out;
}

std::string to_text(const TraceSummary& s) {
    std::string out = fmt::format("{} ({} trace, {} events", escape_for_terminal(s.path),
                                  escape_for_terminal(s.info.source), s.info.events);
    if (s.info.dropped_events != 0) out += fmt::format(", {} DROPPED", s.info.dropped_events);
    if (const std::uint64_t r = s.info.time_resolution_ns; r > 1) {
        // e.g. an nginx log: durations below the step are not measured
        out += fmt::format("; times to {}: the order is real, times within a step are not",
                           data::format_duration(double(r), r));
    }
    out += ")\n";
    if (const std::string note = data::completeness_note(s.info); !note.empty())
        out += "WARNING: " + note + "\n";
    if (s.info.source == "record") // the process's own memory, apart from the sessions
        out += fmt::format("recorded: {}; {} process(es); outside connections: {} "
                           "allocation(s), {}\n",
                           escape_for_terminal(s.info.command, 200), s.info.processes,
                           s.info.process_allocations,
                           data::format_bytes(static_cast<double>(s.info.process_allocated_bytes)));
    // The outlived column: traces of memlife record (the only ones that can have them).
    const bool outlived = s.info.source == "record" || s.totals.outlived != 0;
    out += "\n";
    if (s.order != "id" || s.sessions.size() < s.totals.sessions)
        out += fmt::format("{} of {} sessions, by {}:\n", s.sessions.size(), s.totals.sessions,
                           s.order == "growth" ? "growth per request, highest first"
                           : s.order == "id"   ? "id"
                                               : s.order + ", highest first");
    constexpr std::size_t kPeerColumns = 48;
    std::vector<std::string> peers;
    peers.reserve(s.sessions.size());
    std::size_t peer_width = 4;
    for (const auto& row : s.sessions) {
        peers.push_back(escape_for_terminal(row.peer, kPeerColumns));
        const std::string& p = peers.back(); // valid UTF-8: one column per code point
        peer_width = std::max<std::size_t>(
            peer_width,
            std::count_if(p.begin(), p.end(), [](char c) { return (c & 0xC0) != 0x80; }));
    }
    out += fmt::format("{:>8}  {:<{}} {:>8} {:>10} {:>12} {:>12} {:>14} {:>7} {:>6}{}\n", "session",
                       "peer", peer_width, "requests", "duration", "peak", "at close",
                       "growth/request", "corrupt", "leaks", outlived ? "  outlived" : "");
    for (std::size_t i = 0; i < s.sessions.size(); ++i) {
        const auto& row = s.sessions[i];
        const std::string duration = row.closed() ? data::format_interval(row.open_ns, row.close_ns,
                                                                          s.info.time_resolution_ns)
                                                  : std::string("open");
        out +=
            fmt::format("{:>8}  {:<{}} {:>8} {:>10} {:>12} {:>12} {:>14} {:>7} {:>6}{}\n", row.id,
                        peers[i], peer_width, row.requests, duration,
                        data::format_bytes(static_cast<double>(row.peak_bytes)),
                        data::format_bytes(static_cast<double>(row.released_at_close_bytes)),
                        data::format_bytes(row.growth_bytes_per_request), row.corruptions,
                        row.leaks, outlived ? fmt::format("{:>10}", row.outlived) : std::string());
    }
    const auto& t = s.totals;
    out +=
        fmt::format("\ntotals: {} sessions ({} still open), {} requests, largest peak {}, "
                    "{} corruptions, {} leaks ({}), {} order violations\n",
                    t.sessions, t.open_sessions, t.requests,
                    data::format_bytes(static_cast<double>(t.peak_bytes)), t.corruptions, t.leaks,
                    data::format_bytes(static_cast<double>(t.leaked_bytes)), s.violations.size());
    if (outlived)
        out += fmt::format("outlived their connection: {} block(s) ({}), still live after the "
                           "connection closed\n",
                           t.outlived, data::format_bytes(static_cast<double>(t.outlived_bytes)));
    for (const auto& v : s.violations)
        out += fmt::format("  {}\n", violation_line(v));
    if (!s.corruptions.empty()) {
        out += fmt::format("\ncorruptions{}:\n",
                           s.sessions.size() < s.totals.sessions ? " of these sessions" : "");
        for (const auto& c : s.corruptions)
            out += fmt::format("  {}\n", corruption_line(c));
    }
    return out;
}

} // namespace memlife::cli
