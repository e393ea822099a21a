// Every event of a trace (or of one session) in stream order, for comparisons.
#pragma once

#include <optional>
#include <vector>

#include "memlife/data/reader.hpp"

namespace memlife::test {

inline std::vector<Event> read_events(const data::TraceReader& reader,
                                      std::optional<std::uint64_t> session) {
    std::vector<Event> out;
    reader.for_each_event(
        [&](const Event& e) {
            out.push_back(e);
            return true;
        },
        session);
    return out;
}

} // namespace memlife::test
