#include "trace_summary.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <utility>

#include "cli.hpp"
#include "memlife/data/units.hpp"

namespace memlife::cli {

TraceSummary summarize(const std::string& path) {
    data::TraceReader reader(path);
    TraceSummary s;
    s.path = path;
    s.info = reader.info();
    s.sessions = reader.sessions();
    s.violations = reader.order_violations();
    for (const auto& row : s.sessions) {
        ++s.totals.sessions;
        s.totals.requests += row.requests;
        s.totals.peak_bytes = std::max(s.totals.peak_bytes, row.peak_bytes);
        s.totals.released_at_close_bytes += row.released_at_close_bytes;
        s.totals.corruptions += row.corruptions;
        s.totals.leaks += row.leaks;
        s.totals.leaked_bytes += row.leaked_bytes;
        s.totals.open_sessions += row.closed() ? 0 : 1;
    }
    return s;
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
            {"blocks", row.blocks},
        });
        sessions.push_back(std::move(session));
    }
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
    return {
        {"trace", s.path},
        {"source", s.info.source},
        {"schema_version", s.info.schema_version},
        {"events", s.info.events},
        {"dropped_events", s.info.dropped_events},
        {"time_resolution_ns", s.info.time_resolution_ns},
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
          {"order_violations", s.violations.size()}}},
        {"order_violations", std::move(violations)},
    };
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

// Text from the trace as one terminal-safe line: control characters, invalid UTF-8 and C1
// controls become \n, \t, \r or \xNN; at most `max_chars` characters (an escape counts as its
// length), cut between characters.
std::string escape_for_terminal(std::string_view text, std::size_t max_chars = SIZE_MAX) {
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

} // namespace

std::string to_text(const TraceSummary& s) {
    std::string out = fmt::format("{} ({} trace, {} events", escape_for_terminal(s.path),
                                  escape_for_terminal(s.info.source), s.info.events);
    if (s.info.dropped_events != 0) out += fmt::format(", {} DROPPED", s.info.dropped_events);
    if (const std::uint64_t r = s.info.time_resolution_ns; r > 1) {
        // e.g. an nginx log: durations below the step are not measured
        out += fmt::format("; times to {}: the order is real, times within a step are not",
                           data::format_duration(double(r), r));
    }
    out += ")\n\n";
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
    out += fmt::format("{:>8}  {:<{}} {:>8} {:>10} {:>12} {:>12} {:>14} {:>7} {:>6}\n", "session",
                       "peer", peer_width, "requests", "duration", "peak", "at close",
                       "growth/request", "corrupt", "leaks");
    for (std::size_t i = 0; i < s.sessions.size(); ++i) {
        const auto& row = s.sessions[i];
        const std::string duration = row.closed() ? data::format_interval(row.open_ns, row.close_ns,
                                                                          s.info.time_resolution_ns)
                                                  : std::string("open");
        out += fmt::format("{:>8}  {:<{}} {:>8} {:>10} {:>12} {:>12} {:>14} {:>7} {:>6}\n", row.id,
                           peers[i], peer_width, row.requests, duration,
                           data::format_bytes(static_cast<double>(row.peak_bytes)),
                           data::format_bytes(static_cast<double>(row.released_at_close_bytes)),
                           data::format_bytes(row.growth_bytes_per_request), row.corruptions,
                           row.leaks);
    }
    const auto& t = s.totals;
    out +=
        fmt::format("\ntotals: {} sessions ({} still open), {} requests, largest peak {}, "
                    "{} corruptions, {} leaks ({}), {} order violations\n",
                    t.sessions, t.open_sessions, t.requests,
                    data::format_bytes(static_cast<double>(t.peak_bytes)), t.corruptions, t.leaks,
                    data::format_bytes(static_cast<double>(t.leaked_bytes)), s.violations.size());
    for (const auto& v : s.violations)
        out += fmt::format("  event {}: session {} request {}: {} [{}]\n", v.position, v.session,
                           v.request, v.message, v.rule);
    return out;
}

} // namespace memlife::cli
