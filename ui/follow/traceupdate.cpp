#include "follow/traceupdate.hpp"

namespace memlife::ui {

std::shared_ptr<LoadedTrace> applyChanges(const LoadedTrace& trace,
                                          const data::TraceChanges& changes, TraceUpdate& update) {
    auto next = std::make_shared<LoadedTrace>(trace);
    update = {};
    update.previousLastNs = trace.lastNs();
    update.state = changes.info.recording;
    next->info = changes.info;
    next->cursor = changes.cursor;
    for (const data::SessionRow& row : changes.sessions) {
        if (const data::SessionRow* old = trace.session(row.id)) {
            next->sessions[static_cast<std::size_t>(old - trace.sessions.data())] = row;
            update.changed.push_back(row.id);
        } else {
            next->sessions.push_back(row);
            update.added.push_back(row.id);
        }
    }
    next->corruptions.insert(next->corruptions.end(), changes.corruptions.begin(),
                             changes.corruptions.end());
    next->leaks.insert(next->leaks.end(), changes.leaks.begin(), changes.leaks.end());
    update.corruptionsAdded = changes.corruptions.size();
    update.leaksAdded = changes.leaks.size();
    next->indexAppended(trace.sessions.size());
    return next;
}

} // namespace memlife::ui
