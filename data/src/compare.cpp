// What one trace shows, for a comparison: figures over sessions from the summary tables,
// groups, and (one pass over the events) order violations and figures by notification.
#include <fnmatch.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <unordered_map>

#include "memlife/data/compare.hpp"
#include "memlife/data/reader.hpp"
#include "memlife/data/stacks.hpp"
#include "memlife/order_checker.hpp"

namespace memlife::data {

Spread spread_of(std::vector<double> values) {
    Spread s;
    s.count = values.size();
    if (values.empty()) return s;
    std::sort(values.begin(), values.end());
    const std::size_t n = values.size();
    s.median = n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
    // Nearest rank: the ceil(0.95 n)-th smallest value.
    const auto rank = static_cast<std::size_t>(std::ceil(0.95 * static_cast<double>(n)));
    s.p95 = values[std::max<std::size_t>(rank, 1) - 1];
    s.max = values.back();
    for (const double v : values)
        s.total += v;
    return s;
}

std::string site_key(const std::vector<SiteFrame>& frames) {
    std::string key;
    for (const SiteFrame& f : frames) {
        if (!key.empty()) key += '\x1e'; // record separator: in no symbol or path
        key += f.function.empty() ? "?" : f.function;
        key += '\x1f';
        key += f.function.empty() ? f.module : f.file;
    }
    return key;
}

std::string peer_address(std::string_view label) {
    // The first word (an nginx import appends " (*1 4643#4643)"), less a ":port".
    label = label.substr(0, std::min(label.find(' '), label.size()));
    if (label.starts_with('[')) { // [v6]:port
        const std::size_t close = label.find(']');
        if (close != std::string_view::npos) return std::string(label.substr(1, close - 1));
    }
    const std::size_t colon = label.rfind(':');
    const bool one_colon = colon != std::string_view::npos && label.find(':') == colon;
    if (one_colon && colon + 1 < label.size() &&
        std::all_of(label.begin() + colon + 1, label.end(),
                    [](char c) { return c >= '0' && c <= '9'; }))
        return std::string(label.substr(0, colon));
    return std::string(label);
}

GroupBy GroupBy::parse(const std::vector<std::string>& args) {
    GroupBy g;
    if (args.empty()) return g;
    if (args.size() == 1 && args[0] == "peer") {
        g.kind = Kind::PeerAddress;
        return g;
    }
    g.kind = Kind::PeerGlobs;
    for (const std::string& glob : args) {
        if (glob.empty() || glob == "peer")
            throw TraceError(TraceError::Kind::Usage, "--group-by",
                             glob.empty() ? "an empty glob"
                                          : "'peer' cannot be combined with globs");
        g.globs.push_back(glob);
    }
    return g;
}

std::string GroupBy::key(std::string_view peer) const {
    switch (kind) {
    case Kind::None:
        return {};
    case Kind::PeerAddress:
        return peer_address(peer);
    case Kind::PeerGlobs: {
        const std::string label(peer); // fnmatch wants a terminated string
        for (const std::string& glob : globs)
            if (::fnmatch(glob.c_str(), label.c_str(), 0) == 0) return glob;
        return std::string(kOtherGroup);
    }
    }
    return {};
}

namespace {

// Whether a trace can show blocks that outlived their connection: only `memlife record`
// looks for them (its preload library sees the process keep memory after a close). Every
// trace of schema version 2 has the `outlived` table, but only a recording can fill it: in
// any other trace its zero is not a finding, so the figure is not compared.
bool finds_outlived(const TraceInfo& info, const std::vector<SessionRow>& sessions) {
    return info.source == "record" ||
           std::any_of(sessions.begin(), sessions.end(),
                       [](const SessionRow& row) { return row.outlived != 0; });
}

SessionFigures figures_of(const std::vector<const SessionRow*>& rows, bool outlived) {
    SessionFigures f;
    std::vector<double> requests, peaks, released, growth;
    for (const SessionRow* row : rows) {
        ++f.sessions;
        f.open_sessions += row->closed() ? 0 : 1;
        f.requests += row->requests;
        f.leaks += row->leaks;
        f.leaked_bytes += row->leaked_bytes;
        f.corruptions += row->corruptions;
        requests.push_back(row->requests);
        peaks.push_back(static_cast<double>(row->peak_bytes));
        if (row->closed()) released.push_back(static_cast<double>(row->released_at_close_bytes));
        if (row->requests >= 2) growth.push_back(row->growth_bytes_per_request);
    }
    f.requests_per_session = spread_of(std::move(requests));
    f.peak_bytes = spread_of(std::move(peaks));
    f.released_at_close_bytes = spread_of(std::move(released));
    f.growth_bytes_per_request = spread_of(std::move(growth));
    if (outlived) {
        f.outlived_blocks = 0;
        f.outlived_bytes = 0;
        for (const SessionRow* row : rows) {
            *f.outlived_blocks += row->outlived;
            *f.outlived_bytes += row->outlived_bytes;
        }
    }
    return f;
}

// The figures by notification, from the events in stream order.
class NotificationPass {
public:
    void add(const Event& e) {
        switch (e.kind) {
        case EventKind::Alloc: {
            NotificationFigures& row = at(e.notification);
            ++row.blocks;
            row.bytes += e.size;
            if (static_cast<AllocOrigin>(e.flags) == AllocOrigin::Noted)
                noted_[e.session][e.block] = {e.notification, e.size};
            else if (e.scope == Scope::Session)
                row.kept_bytes += e.size; // AllocMem: released only by the session's close
            break;
        }
        case EventKind::Release:
            if (const auto s = noted_.find(e.session); s != noted_.end()) s->second.erase(e.block);
            break;
        case EventKind::SessionClose:
            if (const auto s = noted_.find(e.session); s != noted_.end()) {
                keep(s->second);
                noted_.erase(s);
            }
            break;
        default:
            break;
        }
    }

    // Noted blocks of sessions still open are kept too.
    std::vector<NotificationFigures> finish() {
        for (auto& [session, blocks] : noted_)
            keep(blocks);
        noted_.clear();
        std::vector<NotificationFigures> out;
        for (const NotificationFigures& row : rows_)
            if (row.blocks != 0) out.push_back(row);
        return out;
    }

    NotificationFigures& at(Notification n) {
        const auto i = static_cast<std::size_t>(n);
        return rows_[i < rows_.size() ? i : 0];
    }

private:
    struct Block {
        Notification notification = Notification::None;
        std::uint64_t size = 0;
    };
    void keep(const std::unordered_map<std::uint64_t, Block>& blocks) {
        for (const auto& [id, b] : blocks)
            at(b.notification).kept_bytes += b.size;
    }

    std::array<NotificationFigures, kNotificationCount> rows_ = [] {
        std::array<NotificationFigures, kNotificationCount> rows{};
        for (std::size_t i = 0; i < rows.size(); ++i)
            rows[i].notification = static_cast<Notification>(i);
        return rows;
    }();
    std::unordered_map<std::uint64_t, std::unordered_map<std::uint64_t, Block>> noted_;
};

// Leaks and corruptions by the notification that allocated the block (summary tables).
void add_reports_by_notification(const TraceReader& reader, NotificationPass& pass,
                                 std::vector<NotificationFigures>& rows) {
    const auto by_flag = [&](const std::optional<std::string>& flag) -> NotificationFigures& {
        const auto n =
            notification_from_flag(static_cast<std::uint32_t>(std::stoull(flag.value_or("0"))));
        const Notification id = n.value_or(Notification::None);
        for (NotificationFigures& row : rows)
            if (row.notification == id) return row;
        rows.push_back(pass.at(id)); // a notification that allocated nothing recorded
        return rows.back();
    };
    run_sql(reader.path(), "SELECT alloc_notification, count(*), total(size) FROM leaks GROUP BY 1",
            [&](const auto&, const auto& values) {
                NotificationFigures& row = by_flag(values[0]);
                row.leaks = std::stoull(values[1].value_or("0"));
                row.leaked_bytes = static_cast<std::uint64_t>(std::stod(values[2].value_or("0")));
            });
    run_sql(reader.path(), "SELECT alloc_notification, count(*) FROM corruptions GROUP BY 1",
            [&](const auto&, const auto& values) {
                by_flag(values[0]).corruptions = std::stoull(values[1].value_or("0"));
            });
    std::sort(rows.begin(), rows.end(),
              [](const auto& a, const auto& b) { return a.notification < b.notification; });
}

// One pass over the events: the order checker and the figures by notification. False when
// options.stop asked to stop.
bool decode_events(const TraceReader& reader, const ProfileOptions& options,
                   TraceProfile& profile) {
    OrderChecker checker;
    NotificationPass pass;
    const std::uint64_t total = std::max<std::uint64_t>(reader.event_count(), 1);
    std::uint64_t seen = 0;
    bool stopped = false;
    reader.for_each_event([&](const Event& e) {
        if ((++seen & 0xFFFF) == 0) {
            if (options.stop && options.stop()) {
                stopped = true;
                return false;
            }
            if (options.progress) options.progress(static_cast<int>(seen * 100 / total));
        }
        checker.check(e);
        pass.add(e);
        return true;
    });
    if (stopped) return false;
    std::vector<NotificationFigures> rows = pass.finish();
    add_reports_by_notification(reader, pass, rows);
    profile.order_violations = checker.violations().size();
    profile.by_notification = std::move(rows);
    return true;
}

} // namespace

namespace {

// The trace's allocation sites from its stack summaries (no event is decoded); a trace
// without stacks says why instead.
void profile_sites(const std::string& path, TraceProfile& profile) {
    const StackReader stacks(path);
    const StacksStatus status = stacks.status();
    if (!status.recorded) {
        profile.sites_note = status.reason.empty() ? "no call stacks recorded" : status.reason;
        return;
    }
    // The largest stacks, bounded: a site beyond them is too small to show in a diff.
    constexpr std::size_t kMaxSites = 10000;
    std::vector<SiteFigures> sites;
    for (const StackCost& cost :
         stacks.top_stacks({.order = StackOrder::LiveAtEnd, .limit = kMaxSites})) {
        SiteFigures site;
        for (const StackFrame& f : stacks.frames(cost.stack))
            site.frames.push_back({f.function, f.file, f.line, f.module});
        site.bytes_allocated = cost.bytes_allocated;
        site.bytes_live_at_end = cost.bytes_live_at_end;
        site.growth_bytes_per_request = cost.growth_bytes_per_request;
        site.blocks = cost.blocks;
        site.leaks = cost.leaks;
        site.corruptions = cost.corruptions;
        sites.push_back(std::move(site));
    }
    profile.by_site = std::move(sites);
}

} // namespace

TraceProfile profile_trace(const TraceReader& reader, const ProfileOptions& options) {
    TraceProfile profile;
    profile.path = reader.path();
    profile.info = reader.info();
    const std::vector<SessionRow> sessions = reader.sessions();
    const bool outlived = finds_outlived(profile.info, sessions);

    std::vector<const SessionRow*> all;
    std::map<std::string, std::vector<const SessionRow*>> groups;
    for (const SessionRow& row : sessions) {
        all.push_back(&row);
        if (options.group_by.kind != GroupBy::Kind::None)
            groups[options.group_by.key(row.peer)].push_back(&row);
    }
    profile.all = figures_of(all, outlived);
    for (const auto& [key, rows] : groups)
        profile.groups.emplace_back(key, figures_of(rows, outlived));

    profile_sites(reader.path(), profile);

    if (options.decode_events) decode_events(reader, options, profile);
    return profile;
}

} // namespace memlife::data
