// The change from a base trace's profile to a new one's: each figure side by side, judged
// against the noise, and what could not be compared.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

#include "memlife/data/compare.hpp"
#include "memlife/data/units.hpp"

namespace memlife::data {

namespace {

// A figure of one trace, or why the trace lacks it.
struct Value {
    std::optional<double> value;
    std::string missing; // for a table cell: "not in this trace", "no sessions", ...
    std::string why;     // for a sentence; empty: the same as `missing`
};
Value of(double v) {
    return {v, {}, {}};
}
Value none(std::string missing, std::string why = {}) {
    return {std::nullopt, std::move(missing), std::move(why)};
}
Value of(std::optional<std::uint64_t> v, const Value& otherwise) {
    return v ? of(static_cast<double>(*v)) : otherwise;
}
std::string why(const Value& v) {
    return v.why.empty() ? v.missing : v.why;
}

Verdict judge(Measure measure, Better better, double base, double next, double noise_percent) {
    const double delta = next - base;
    // Growth is a least-squares slope: below a byte per request it is rounding, not growth.
    const double floor = measure == Measure::BytesPerRequest ? 1.0 : 0.0;
    if (std::abs(delta) <= std::max(floor, noise_percent / 100 * std::abs(base)))
        return Verdict::Same;
    if (better == Better::Neither) return Verdict::Changed;
    return delta < 0 ? Verdict::Better : Verdict::Worse;
}

class MetricList {
public:
    explicit MetricList(double noise_percent) : noise_(noise_percent) {}

    void add(std::string key, std::string label, Measure measure, Better better, Value base,
             Value next) {
        MetricDelta m;
        m.key = std::move(key);
        m.label = std::move(label);
        m.measure = measure;
        m.better = better;
        m.base = base.value;
        m.next = next.value;
        m.base_missing = base.missing;
        m.next_missing = next.missing;
        if (m.base && m.next) {
            m.verdict = judge(measure, better, *m.base, *m.next, noise_);
        } else if (!m.base && !m.next) {
            m.why_not = why(base) == why(next)
                            ? "not in either trace (" + why(base) + ")"
                            : "not in BASE (" + why(base) + ") nor in NEW (" + why(next) + ")";
        } else {
            m.why_not =
                m.base ? "not in NEW (" + why(next) + ")" : "not in BASE (" + why(base) + ")";
        }
        metrics_.push_back(std::move(m));
    }

    // Median, p95 and max of a spread (or those named by `stats`).
    void add_spread(const std::string& key, const std::string& label, Measure measure,
                    Better better, std::pair<const Spread&, const Spread&> spreads,
                    std::pair<std::string, std::string> missing,
                    std::string_view stats = "median,p95,max") {
        const auto& [base, next] = spreads;
        const auto pick = [](const Spread& s, std::string_view stat,
                             const std::string& why_none) -> Value {
            if (s.count == 0) return none(why_none);
            return of(stat == "median" ? s.median : stat == "p95" ? s.p95 : s.max);
        };
        for (const std::string_view stat : {"median", "p95", "max"}) {
            if (stats.find(stat) == std::string_view::npos) continue;
            add(key + "." + std::string(stat), label + " (" + std::string(stat) + ")", measure,
                better, pick(base, stat, missing.first), pick(next, stat, missing.second));
        }
    }

    std::vector<MetricDelta> take() { return std::move(metrics_); }

private:
    double noise_;
    std::vector<MetricDelta> metrics_;
};

const Value kNoOutlived = none("not in this trace", "only `memlife record` finds them");

std::vector<MetricDelta> session_metrics(const SessionFigures& b, const SessionFigures& n,
                                         double noise) {
    MetricList list(noise);
    const auto count = [](std::uint64_t v) { return of(static_cast<double>(v)); };
    list.add("sessions", "sessions", Measure::Count, Better::Neither, count(b.sessions),
             count(n.sessions));
    list.add("open_sessions", "sessions still open", Measure::Count, Better::Neither,
             count(b.open_sessions), count(n.open_sessions));
    list.add("requests", "requests", Measure::Count, Better::Neither, count(b.requests),
             count(n.requests));
    // Why a side's spread is empty: it has no sessions at all, or none that qualify.
    const auto missing = [&](const char* otherwise) {
        return std::pair<std::string, std::string>(b.sessions == 0 ? "no sessions" : otherwise,
                                                   n.sessions == 0 ? "no sessions" : otherwise);
    };
    list.add_spread("requests_per_session", "requests per session", Measure::Count, Better::Neither,
                    {b.requests_per_session, n.requests_per_session}, missing("no sessions"),
                    "median,max");
    list.add_spread("peak_bytes", "peak", Measure::Bytes, Better::Lower,
                    {b.peak_bytes, n.peak_bytes}, missing("no sessions"));
    list.add_spread("released_at_close_bytes", "released at close", Measure::Bytes, Better::Lower,
                    {b.released_at_close_bytes, n.released_at_close_bytes},
                    missing("no closed sessions"), "median,max");
    list.add_spread("growth_bytes_per_request", "growth per request", Measure::BytesPerRequest,
                    Better::Lower, {b.growth_bytes_per_request, n.growth_bytes_per_request},
                    missing("no 2-request session"));
    list.add("leaks", "leaked blocks", Measure::Count, Better::Lower, count(b.leaks),
             count(n.leaks));
    list.add("leaked_bytes", "leaked bytes", Measure::Bytes, Better::Lower, count(b.leaked_bytes),
             count(n.leaked_bytes));
    list.add("outlived_blocks", "outlived blocks", Measure::Count, Better::Lower,
             of(b.outlived_blocks, kNoOutlived), of(n.outlived_blocks, kNoOutlived));
    list.add("outlived_bytes", "outlived bytes", Measure::Bytes, Better::Lower,
             of(b.outlived_bytes, kNoOutlived), of(n.outlived_bytes, kNoOutlived));
    list.add("corruptions", "corruptions", Measure::Count, Better::Lower, count(b.corruptions),
             count(n.corruptions));
    return list.take();
}

std::vector<RowComparison> compare_groups(const TraceProfile& base, const TraceProfile& next,
                                          double noise) {
    std::map<std::string, std::pair<const SessionFigures*, const SessionFigures*>> keys;
    for (const auto& [key, f] : base.groups)
        keys[key].first = &f;
    for (const auto& [key, f] : next.groups)
        keys[key].second = &f;
    const SessionFigures absent;
    std::vector<RowComparison> rows;
    for (const auto& [key, pair] : keys) {
        RowComparison row;
        row.key = row.label = key;
        row.in_base = pair.first != nullptr;
        row.in_next = pair.second != nullptr;
        row.metrics = session_metrics(row.in_base ? *pair.first : absent,
                                      row.in_next ? *pair.second : absent, noise);
        rows.push_back(std::move(row));
    }
    // The sessions no glob matched last.
    std::stable_partition(rows.begin(), rows.end(),
                          [](const RowComparison& r) { return r.key != kOtherGroup; });
    return rows;
}

// Every notification's figures summed into one (for a trace that records none).
NotificationFigures all_notifications(const std::vector<NotificationFigures>& rows) {
    NotificationFigures sum;
    for (const auto& r : rows) {
        sum.blocks += r.blocks;
        sum.bytes += r.bytes;
        sum.kept_bytes += r.kept_bytes;
        sum.leaks += r.leaks;
        sum.leaked_bytes += r.leaked_bytes;
        sum.corruptions += r.corruptions;
    }
    return sum;
}

bool records_notifications(const std::vector<NotificationFigures>& rows) {
    return std::any_of(rows.begin(), rows.end(),
                       [](const auto& r) { return r.notification != Notification::None; });
}

void compare_notifications(Comparison& c) {
    if (!c.base.by_notification || !c.next.by_notification) {
        c.not_compared.push_back("by notification: the events were not decoded");
        return;
    }
    std::vector<NotificationFigures> base = *c.base.by_notification;
    std::vector<NotificationFigures> next = *c.next.by_notification;
    const bool base_has = records_notifications(base), next_has = records_notifications(next);
    const bool as_whole = base_has != next_has;
    if (as_whole) { // e.g. an nginx import against a recording: compare all allocations
        c.not_compared.push_back(std::string("by notification: ") + (base_has ? "NEW" : "BASE") +
                                 " records no notifications; compared as a whole");
        base = {all_notifications(base)};
        next = {all_notifications(next)};
    }
    std::map<Notification, std::pair<const NotificationFigures*, const NotificationFigures*>> keys;
    for (const auto& r : base)
        keys[r.notification].first = &r;
    for (const auto& r : next)
        keys[r.notification].second = &r;
    const NotificationFigures absent;
    const auto per_request = [](std::uint64_t v, std::uint64_t requests) -> Value {
        if (requests == 0) return none("no requests");
        return of(static_cast<double>(v) / static_cast<double>(requests));
    };
    const std::uint64_t rb = c.base.all.requests, rn = c.next.all.requests;
    for (const auto& [id, pair] : keys) {
        const NotificationFigures& b = pair.first ? *pair.first : absent;
        const NotificationFigures& n = pair.second ? *pair.second : absent;
        MetricList list(c.noise_percent);
        list.add("bytes_per_request", "allocated per request", Measure::BytesPerRequest,
                 Better::Neither, per_request(b.bytes, rb), per_request(n.bytes, rn));
        list.add("blocks_per_request", "blocks per request", Measure::CountPerRequest,
                 Better::Neither, per_request(b.blocks, rb), per_request(n.blocks, rn));
        list.add("kept_bytes_per_request", "kept until close per request", Measure::BytesPerRequest,
                 Better::Lower, per_request(b.kept_bytes, rb), per_request(n.kept_bytes, rn));
        list.add("leaks", "leaked blocks", Measure::Count, Better::Lower, of(double(b.leaks)),
                 of(double(n.leaks)));
        list.add("leaked_bytes", "leaked bytes", Measure::Bytes, Better::Lower,
                 of(double(b.leaked_bytes)), of(double(n.leaked_bytes)));
        list.add("corruptions", "corruptions", Measure::Count, Better::Lower,
                 of(double(b.corruptions)), of(double(n.corruptions)));
        RowComparison row;
        row.key = row.label = as_whole ? std::string("(all)") : std::string(name(id));
        if (!as_whole && id == Notification::None) row.key = row.label = "(none)";
        row.in_base = pair.first != nullptr;
        row.in_next = pair.second != nullptr;
        row.metrics = list.take();
        c.by_notification.push_back(std::move(row));
    }
}

// Sites of one trace summed by key (lines and addresses may differ within one key).
std::map<std::string, SiteFigures> sites_by_key(const std::vector<SiteFigures>& sites) {
    std::map<std::string, SiteFigures> out;
    for (const SiteFigures& s : sites) {
        auto [it, fresh] = out.try_emplace(site_key(s.frames), s);
        if (fresh) continue;
        SiteFigures& sum = it->second;
        sum.bytes_allocated += s.bytes_allocated;
        sum.bytes_live_at_end += s.bytes_live_at_end;
        sum.growth_bytes_per_request += s.growth_bytes_per_request;
        sum.blocks += s.blocks;
        sum.leaks += s.leaks;
        sum.corruptions += s.corruptions;
    }
    return out;
}

std::string site_label(const std::vector<SiteFrame>& frames) {
    if (frames.empty()) return "(no frames)";
    const SiteFrame& f = frames.front();
    std::string label = f.function.empty() ? "??" : f.function;
    if (!f.file.empty())
        label += " " + f.file + (f.line != 0 ? ":" + std::to_string(f.line) : std::string());
    else if (!f.module.empty())
        label += " (" + f.module + ")";
    return label;
}

void compare_sites(Comparison& c) {
    if (!c.base.by_site || !c.next.by_site) {
        const auto why = [](const TraceProfile& p) {
            return p.sites_note.empty() ? std::string("no call stacks") : p.sites_note;
        };
        std::string line = "allocation sites: ";
        if (!c.base.by_site && !c.next.by_site)
            line += "not in either trace (" + why(c.base) + ")";
        else
            line += c.base.by_site ? "not in NEW (" + why(c.next) + ")"
                                   : "not in BASE (" + why(c.base) + ")";
        c.not_compared.push_back(std::move(line));
        return;
    }
    const auto base = sites_by_key(*c.base.by_site), next = sites_by_key(*c.next.by_site);
    std::map<std::string, std::pair<const SiteFigures*, const SiteFigures*>> keys;
    for (const auto& [key, s] : base)
        keys[key].first = &s;
    for (const auto& [key, s] : next)
        keys[key].second = &s;
    const SiteFigures absent;
    for (const auto& [key, pair] : keys) {
        const SiteFigures& b = pair.first ? *pair.first : absent;
        const SiteFigures& n = pair.second ? *pair.second : absent;
        MetricList list(c.noise_percent);
        list.add("growth_bytes_per_request", "growth per request", Measure::BytesPerRequest,
                 Better::Lower, of(b.growth_bytes_per_request), of(n.growth_bytes_per_request));
        list.add("bytes_live_at_end", "live at session end", Measure::Bytes, Better::Lower,
                 of(double(b.bytes_live_at_end)), of(double(n.bytes_live_at_end)));
        list.add("bytes_allocated", "allocated", Measure::Bytes, Better::Neither,
                 of(double(b.bytes_allocated)), of(double(n.bytes_allocated)));
        list.add("blocks", "blocks", Measure::Count, Better::Neither, of(double(b.blocks)),
                 of(double(n.blocks)));
        list.add("leaks", "leaked blocks", Measure::Count, Better::Lower, of(double(b.leaks)),
                 of(double(n.leaks)));
        list.add("corruptions", "corruptions", Measure::Count, Better::Lower,
                 of(double(b.corruptions)), of(double(n.corruptions)));
        RowComparison row;
        row.key = key;
        row.in_base = pair.first != nullptr;
        row.in_next = pair.second != nullptr;
        row.frames = (row.in_next ? n : b).frames;
        row.label = site_label(row.frames);
        row.metrics = list.take();
        c.by_site.push_back(std::move(row));
    }
    // The largest changes first: growth, then what stays live, then what is allocated.
    const auto size_of_change = [](const RowComparison& r, std::size_t i) {
        return std::abs(r.metrics[i].change());
    };
    std::stable_sort(c.by_site.begin(), c.by_site.end(), [&](const auto& a, const auto& b) {
        for (std::size_t i = 0; i < 3; ++i)
            if (size_of_change(a, i) != size_of_change(b, i))
                return size_of_change(a, i) > size_of_change(b, i);
        return false;
    });
}

void add_notes(Comparison& c) {
    const auto each = [&](const TraceProfile& p, const char* which) {
        if (p.info.dropped_events != 0)
            c.notes.push_back(std::string(which) + " lost " +
                              std::to_string(p.info.dropped_events) +
                              " events to back-pressure: its figures miss them");
        if (p.all.open_sessions != 0)
            c.notes.push_back(std::string(which) + " has " + std::to_string(p.all.open_sessions) +
                              " session(s) still open: counted as far as they went");
    };
    each(c.base, "BASE");
    each(c.next, "NEW");
    if (c.base.info.source != c.next.info.source)
        c.notes.push_back("BASE comes from " + c.base.info.source + ", NEW from " +
                          c.next.info.source + ": compared on what both record");
    if (c.base.info.schema_version != c.next.info.schema_version)
        c.notes.push_back("BASE has schema version " + std::to_string(c.base.info.schema_version) +
                          ", NEW version " + std::to_string(c.next.info.schema_version));
}

const MetricDelta* find_in(const std::vector<MetricDelta>& metrics, std::string_view key) {
    for (const MetricDelta& m : metrics)
        if (m.key == key) return &m;
    return nullptr;
}

} // namespace

std::optional<double> MetricDelta::change_percent() const {
    if (!base || !next || *base == 0) return std::nullopt;
    return (*next - *base) / std::abs(*base) * 100;
}

const MetricDelta* RowComparison::find(std::string_view key) const {
    return find_in(metrics, key);
}

const MetricDelta* Comparison::find(std::string_view key) const {
    return find_in(totals, key);
}

Comparison compare(TraceProfile base, TraceProfile next, const CompareOptions& options) {
    Comparison c;
    c.noise_percent = options.noise_percent;
    c.base = std::move(base);
    c.next = std::move(next);
    c.totals = session_metrics(c.base.all, c.next.all, c.noise_percent);
    {
        MetricList list(c.noise_percent);
        const auto violations = [](const TraceProfile& p) {
            return of(p.order_violations, none("not decoded", "the events were not decoded"));
        };
        list.add("order_violations", "order violations", Measure::Count, Better::Lower,
                 violations(c.base), violations(c.next));
        for (MetricDelta& m : list.take())
            c.totals.push_back(std::move(m));
    }
    for (const MetricDelta& m : c.totals)
        if (m.verdict == Verdict::NotCompared) c.not_compared.push_back(m.label + ": " + m.why_not);
    c.groups = compare_groups(c.base, c.next, c.noise_percent);
    compare_notifications(c);
    compare_sites(c);
    add_notes(c);
    return c;
}

std::vector<MetricDelta> regressions(const Comparison& c) {
    std::vector<MetricDelta> out;
    for (const std::string_view key : kGateKeys)
        if (const MetricDelta* m = c.find(key); m != nullptr && m->verdict == Verdict::Worse)
            out.push_back(*m);
    return out;
}

std::string format_measure(double value, Measure measure) {
    char text[64];
    switch (measure) {
    case Measure::Bytes:
    case Measure::BytesPerRequest:
        return format_bytes(value);
    case Measure::CountPerRequest:
        std::snprintf(text, sizeof text, "%.2f", value);
        return text;
    case Measure::Count:
        break;
    }
    std::snprintf(text, sizeof text, value == std::floor(value) ? "%.0f" : "%.1f", value);
    return text;
}

std::string format_change(const MetricDelta& m) {
    if (!m.base || !m.next) return {};
    const double delta = m.change();
    if (delta == 0) return "0";
    std::string text = (delta > 0 ? "+" : "-") + format_measure(std::abs(delta), m.measure);
    if (const auto pct = m.change_percent()) {
        char buffer[32];
        std::snprintf(buffer, sizeof buffer, " (%+.1f%%)", *pct);
        text += buffer;
    } else {
        text += " (from 0)";
    }
    return text;
}

std::string_view verdict_name(Verdict verdict) {
    switch (verdict) {
    case Verdict::Same:
        return "same";
    case Verdict::Better:
        return "better";
    case Verdict::Worse:
        return "worse";
    case Verdict::Changed:
        return "changed";
    case Verdict::NotCompared:
        return "not compared";
    }
    return "";
}

} // namespace memlife::data
