#include "window/loadedtrace.hpp"

#include <algorithm>

namespace memlife::ui {

void LoadedTrace::index() {
    byId_.clear();
    indexAppended(0);
}

void LoadedTrace::indexAppended(std::size_t from) {
    const auto sorted = byId_.size();
    byId_.reserve(sessions.size());
    for (std::size_t i = from; i < sessions.size(); ++i) {
        byId_.emplace_back(sessions[i].id, i);
        anyOutlived_ = anyOutlived_ || sessions[i].outlived != 0;
    }
    const auto middle = byId_.begin() + static_cast<std::ptrdiff_t>(sorted);
    if (!std::is_sorted(middle, byId_.end())) std::sort(middle, byId_.end());
    if (middle != byId_.begin() && middle != byId_.end() && (middle - 1)->first > middle->first)
        std::inplace_merge(byId_.begin(), middle, byId_.end());
    if (from > 0) { // the trace grew: its span only widens
        if (info.first_ns != 0) firstNs_ = info.first_ns;
        lastNs_ = std::max(lastNs_, info.last_ns);
        for (std::size_t i = from; i < sessions.size(); ++i) {
            const data::SessionRow& s = sessions[i];
            if (info.first_ns == 0) firstNs_ = std::min(firstNs_, s.open_ns);
            lastNs_ = std::max({lastNs_, s.close_ns, s.open_ns});
        }
        return;
    }
    firstNs_ = info.first_ns;
    lastNs_ = info.last_ns;
    if (firstNs_ == 0 && !sessions.empty()) {
        firstNs_ = UINT64_MAX;
        for (const auto& s : sessions)
            firstNs_ = std::min(firstNs_, s.open_ns);
    }
    for (const auto& s : sessions)
        lastNs_ = std::max({lastNs_, s.close_ns, s.open_ns});
}

const data::SessionRow* LoadedTrace::session(std::uint64_t id) const {
    const auto it =
        std::lower_bound(byId_.begin(), byId_.end(), std::make_pair(id, std::size_t{0}));
    return it == byId_.end() || it->first != id ? nullptr : &sessions[it->second];
}

std::uint64_t LoadedTrace::firstNs() const {
    return firstNs_;
}

std::uint64_t LoadedTrace::lastNs() const {
    return lastNs_;
}

namespace {
template <class Key>
std::vector<std::uint64_t> topBy(const std::vector<data::SessionRow>& sessions, std::size_t n,
                                 Key key,
                                 const std::function<bool(const data::SessionRow&)>& only = {}) {
    std::vector<const data::SessionRow*> rows;
    rows.reserve(sessions.size());
    for (const auto& s : sessions)
        if (!only || only(s)) rows.push_back(&s);
    n = std::min(n, rows.size());
    std::partial_sort(rows.begin(), rows.begin() + static_cast<std::ptrdiff_t>(n), rows.end(),
                      [&](const data::SessionRow* a, const data::SessionRow* b) {
                          const auto ka = key(*a), kb = key(*b);
                          return ka != kb ? ka > kb : a->id < b->id;
                      });
    std::vector<std::uint64_t> ids;
    for (std::size_t i = 0; i < n; ++i)
        ids.push_back(rows[i]->id);
    return ids;
}
} // namespace

std::vector<std::uint64_t> LoadedTrace::topByPeak(std::size_t n) const {
    return topBy(sessions, n, [](const data::SessionRow& s) { return double(s.peak_bytes); });
}

std::vector<std::uint64_t>
LoadedTrace::topByGrowth(std::size_t n,
                         const std::function<bool(const data::SessionRow&)>& only) const {
    return topBy(
        sessions, n, [](const data::SessionRow& s) { return s.growth_bytes_per_request; }, only);
}

} // namespace memlife::ui
