#include "compare_cli.hpp"

#include <fmt/format.h>

#include <charconv>
#include <cmath>

#include "cli.hpp"
#include "memlife/data/reader.hpp"
#include "trace_summary.hpp"

namespace memlife::cli {

const CLI::Validator kPercent = non_negative_number("a percentage", "PCT");

data::Comparison compare_files(const std::string& base, const std::string& next,
                               const data::ProfileOptions& profile,
                               const data::CompareOptions& options) {
    const data::TraceReader base_reader(base), next_reader(next); // both open, or one line
    return data::compare(data::profile_trace(base_reader, profile),
                         data::profile_trace(next_reader, profile), options);
}

namespace {

constexpr std::string_view kRowFormat = "{:<36} {:>20} {:>20} {:>24}  {}";

std::string cell(const std::optional<double>& value, const std::string& missing,
                 data::Measure measure) {
    return value ? data::format_measure(*value, measure) : missing;
}

// One row of a table, without trailing blanks.
std::string row_text(std::string_view label, std::string_view base, std::string_view next,
                     std::string_view change, std::string_view verdict) {
    std::string line = fmt::format(kRowFormat, label, base, next, change, verdict);
    line.erase(line.find_last_not_of(' ') + 1);
    return line + '\n';
}

void add_rows(std::string& out, const std::vector<data::MetricDelta>& metrics,
              std::string_view indent, const std::vector<std::string_view>& only = {}) {
    for (const data::MetricDelta& m : metrics) {
        if (!only.empty() && std::find(only.begin(), only.end(), m.key) == only.end()) continue;
        out +=
            row_text(fmt::format("{}{}", indent, m.label), cell(m.base, m.base_missing, m.measure),
                     cell(m.next, m.next_missing, m.measure), data::format_change(m),
                     data::verdict_name(m.verdict));
    }
}

std::string presence(const data::RowComparison& row) {
    if (row.in_base && row.in_next) return {};
    return row.in_base ? "  (only in BASE)" : "  (only in NEW)";
}

std::string trace_line(const data::TraceProfile& p) {
    return fmt::format("{} ({} trace, schema version {}, {} sessions, {} requests)",
                       escape_for_terminal(p.path), escape_for_terminal(p.info.source),
                       p.info.schema_version, p.all.sessions, p.all.requests);
}

// The figures a group shows in text (JSON has them all).
const std::vector<std::string_view> kGroupKeys{"sessions",          "requests_per_session.median",
                                               "peak_bytes.median", "growth_bytes_per_request.p95",
                                               "leaked_bytes",      "outlived_blocks",
                                               "corruptions"};

} // namespace

std::string comparison_text(const data::Comparison& c, std::size_t top_sites) {
    std::string out = fmt::format("base: {}\nnew:  {}\n", trace_line(c.base), trace_line(c.next));
    out += fmt::format("a change within {}% of the base value (growth: within 1 B per request) "
                       "is \"same\"\n\n",
                       c.noise_percent);
    out += row_text("", "BASE", "NEW", "change", "");
    add_rows(out, c.totals, "");
    if (!c.groups.empty()) {
        out += fmt::format("\nby group ({} groups)\n", c.groups.size());
        for (const data::RowComparison& g : c.groups) {
            out += fmt::format("{}{}\n", escape_for_terminal(g.label, 64), presence(g));
            add_rows(out, g.metrics, "  ", kGroupKeys);
        }
    }
    if (!c.by_notification.empty()) {
        out += "\nby notification (per request: each trace's own requests)\n";
        for (const data::RowComparison& n : c.by_notification) {
            out += fmt::format("{}{}\n", n.label, presence(n));
            add_rows(out, n.metrics, "  ");
        }
    }
    if (!c.by_site.empty()) {
        const std::size_t shown = std::min(top_sites, c.by_site.size());
        out += fmt::format("\nallocation sites, largest change first ({} of {})\n", shown,
                           c.by_site.size());
        for (std::size_t i = 0; i < shown; ++i) {
            const data::RowComparison& s = c.by_site[i];
            out += fmt::format("{}{}\n", escape_for_terminal(s.label, 96), presence(s));
            add_rows(out, s.metrics, "  ");
        }
    }
    if (!c.not_compared.empty()) {
        out += "\nnot compared:\n";
        for (const std::string& line : c.not_compared)
            out += fmt::format("  {}\n", escape_for_terminal(line));
    }
    if (!c.notes.empty()) {
        out += "\nnotes:\n";
        for (const std::string& line : c.notes)
            out += fmt::format("  {}\n", escape_for_terminal(line));
    }
    return out;
}

namespace {

nlohmann::json value_json(const std::optional<double>& v) {
    return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

nlohmann::json metrics_json(const std::vector<data::MetricDelta>& metrics) {
    nlohmann::json out = nlohmann::json::array();
    for (const data::MetricDelta& m : metrics) {
        nlohmann::json j{{"key", m.key},
                         {"label", m.label},
                         {"base", value_json(m.base)},
                         {"new", value_json(m.next)},
                         {"change", m.base && m.next ? nlohmann::json(m.change()) : nullptr},
                         {"change_percent", value_json(m.change_percent())},
                         {"verdict", data::verdict_name(m.verdict)}};
        if (m.verdict == data::Verdict::NotCompared) j["why_not"] = m.why_not;
        out.push_back(std::move(j));
    }
    return out;
}

nlohmann::json row_json(const data::RowComparison& row, const char* key_name) {
    return {{key_name, row.key},
            {"in_base", row.in_base},
            {"in_new", row.in_next},
            {"metrics", metrics_json(row.metrics)}};
}

nlohmann::json trace_json(const data::TraceProfile& p) {
    return {{"trace", p.path},
            {"source", p.info.source},
            {"schema_version", p.info.schema_version},
            {"sessions", p.all.sessions},
            {"requests", p.all.requests},
            {"dropped_events", p.info.dropped_events}};
}

} // namespace

nlohmann::json comparison_json(const data::Comparison& c, std::size_t top_sites) {
    nlohmann::json groups = nlohmann::json::array();
    for (const auto& g : c.groups)
        groups.push_back(row_json(g, "key"));
    nlohmann::json notifications = nlohmann::json::array();
    for (const auto& n : c.by_notification)
        notifications.push_back(row_json(n, "notification"));
    nlohmann::json sites = nlohmann::json::array();
    for (std::size_t i = 0; i < std::min(top_sites, c.by_site.size()); ++i) {
        nlohmann::json site = row_json(c.by_site[i], "key");
        site.erase("key"); // internal separators; the frames say it
        nlohmann::json frames = nlohmann::json::array();
        for (const auto& f : c.by_site[i].frames)
            frames.push_back({{"function", f.function},
                              {"file", f.file},
                              {"line", f.line},
                              {"module", f.module}});
        site["frames"] = std::move(frames);
        sites.push_back(std::move(site));
    }
    return {{"base", trace_json(c.base)},
            {"new", trace_json(c.next)},
            {"noise_percent", c.noise_percent},
            {"totals", metrics_json(c.totals)},
            {"groups", std::move(groups)},
            {"by_notification", std::move(notifications)},
            {"by_site", std::move(sites)},
            {"not_compared", c.not_compared},
            {"notes", c.notes}};
}

int check_against_baseline(const std::string& base, const std::string& next,
                           double tolerance_percent, bool quiet) {
    data::Comparison c;
    try {
        // The gate needs only the summary tables: no events are decoded.
        data::ProfileOptions profile;
        profile.decode_events = false;
        c = compare_files(base, next, profile, {.noise_percent = tolerance_percent});
    } catch (const data::TraceError& e) {
        return error("check", e.what(), kUnusable);
    }
    const auto found = data::regressions(c);
    if (quiet) return found.empty() ? kOk : kFindings;
    const std::string path = escape_for_terminal(next);
    for (const data::MetricDelta& m : found)
        fmt::print("{}: {} rose from {} to {} against {} (tolerance {}%)\n", path, m.label,
                   data::format_measure(*m.base, m.measure),
                   data::format_measure(*m.next, m.measure), escape_for_terminal(base),
                   tolerance_percent);
    if (found.empty()) {
        std::vector<std::string> figures;
        for (const std::string_view key : data::kGateKeys) {
            const data::MetricDelta* m = c.find(key);
            if (m == nullptr) continue;
            figures.push_back(m->verdict == data::Verdict::NotCompared
                                  ? fmt::format("{} not compared: {}", m->label, m->why_not)
                                  : fmt::format("{} {} -> {}", m->label,
                                                data::format_measure(*m->base, m->measure),
                                                data::format_measure(*m->next, m->measure)));
        }
        fmt::print("{}: no regression against {} ({})\n", path, escape_for_terminal(base),
                   fmt::join(figures, ", "));
    }
    return found.empty() ? kOk : kFindings;
}

} // namespace memlife::cli
