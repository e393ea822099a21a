#include "trace_summary.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <utility>

#include "cli.hpp"

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

nlohmann::json to_json(const TraceSummary& s) {
    nlohmann::json sessions = nlohmann::json::array();
    for (const auto& row : s.sessions) {
        sessions.push_back({
            {"id", row.id},
            {"peer", row.peer},
            {"requests", row.requests},
            {"open_ns", row.open_ns},
            {"close_ns", row.close_ns},
            {"closed", row.closed()},
            {"duration_ns", row.closed() ? row.close_ns - row.open_ns : 0},
            {"peak_bytes", row.peak_bytes},
            {"released_at_close_bytes", row.released_at_close_bytes},
            {"growth_bytes_per_request", row.growth_bytes_per_request},
            {"corruptions", row.corruptions},
            {"leaks", row.leaks},
            {"leaked_bytes", row.leaked_bytes},
            {"blocks", row.blocks},
        });
    }
    nlohmann::json violations = nlohmann::json::array();
    for (const auto& v : s.violations) {
        violations.push_back({{"position", v.position},
                              {"time_ns", v.time_ns},
                              {"session", v.session},
                              {"request", v.request},
                              {"rule", v.rule},
                              {"message", v.message}});
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

std::string format_duration(std::uint64_t ns) {
    const double v = static_cast<double>(ns);
    if (ns < 1'000) return fmt::format("{} ns", ns);
    if (ns < 1'000'000) return fmt::format("{:.1f} us", v / 1e3);
    if (ns < 1'000'000'000) return fmt::format("{:.1f} ms", v / 1e6);
    return fmt::format("{:.2f} s", v / 1e9);
}

} // namespace

std::string to_text(const TraceSummary& s) {
    std::string out = fmt::format("{} ({} trace, {} events", s.path, s.info.source, s.info.events);
    if (s.info.dropped_events != 0) out += fmt::format(", {} DROPPED", s.info.dropped_events);
    if (const std::uint64_t r = s.info.time_resolution_ns; r > 1) {
        // e.g. an nginx log: durations below the step are not measured
        const auto [value, unit] = r % 1'000'000'000 == 0 ? std::pair{r / 1'000'000'000, "s"}
                                   : r % 1'000'000 == 0   ? std::pair{r / 1'000'000, "ms"}
                                   : r % 1'000 == 0       ? std::pair{r / 1'000, "us"}
                                                          : std::pair{r, "ns"};
        out += fmt::format("; times to {} {}: the order is real, times within a step are not",
                           value, unit);
    }
    out += ")\n\n";
    std::size_t peer_width = 4;
    for (const auto& row : s.sessions)
        peer_width = std::max(peer_width, row.peer.size());
    peer_width = std::min<std::size_t>(peer_width, 48);
    out += fmt::format("{:>8}  {:<{}} {:>8} {:>10} {:>12} {:>12} {:>14} {:>7} {:>6}\n", "session",
                       "peer", peer_width, "requests", "duration", "peak", "at close",
                       "growth/request", "corrupt", "leaks");
    for (const auto& row : s.sessions) {
        const std::string duration =
            row.closed() ? format_duration(row.close_ns - row.open_ns) : std::string("open");
        out += fmt::format("{:>8}  {:<{}} {:>8} {:>10} {:>12} {:>12} {:>14} {:>7} {:>6}\n", row.id,
                           row.peer.substr(0, peer_width), peer_width, row.requests, duration,
                           format_bytes(static_cast<double>(row.peak_bytes)),
                           format_bytes(static_cast<double>(row.released_at_close_bytes)),
                           format_bytes(row.growth_bytes_per_request), row.corruptions, row.leaks);
    }
    const auto& t = s.totals;
    out += fmt::format("\ntotals: {} sessions ({} still open), {} requests, largest peak {}, "
                       "{} corruptions, {} leaks ({}), {} order violations\n",
                       t.sessions, t.open_sessions, t.requests,
                       format_bytes(static_cast<double>(t.peak_bytes)), t.corruptions, t.leaks,
                       format_bytes(static_cast<double>(t.leaked_bytes)), s.violations.size());
    for (const auto& v : s.violations)
        out += fmt::format("  event {}: session {} request {}: {} [{}]\n", v.position, v.session,
                           v.request, v.message, v.rule);
    return out;
}

} // namespace memlife::cli
