#include "window/loadedtrace.hpp"

#include <algorithm>

namespace memlife::ui {

void LoadedTrace::index() {
    byId_.clear();
    byId_.reserve(sessions.size());
    for (std::size_t i = 0; i < sessions.size(); ++i)
        byId_.emplace(sessions[i].id, i);
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
    auto it = byId_.find(id);
    return it == byId_.end() ? nullptr : &sessions[it->second];
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
