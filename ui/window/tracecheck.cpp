#include "window/tracecheck.hpp"

#include <vector>

namespace memlife::ui {

TraceCheck::TraceCheck(QObject* parent) : QObject(parent), job_(this) {}

void TraceCheck::start(const TracePtr& trace) {
    std::vector<std::uint64_t> sessions;
    sessions.reserve(trace->sessions.size());
    for (const data::SessionRow& s : trace->sessions)
        sessions.push_back(s.id);
    job_.start<bool>({
        .work =
            [readers = trace->readers, sessions = std::move(sessions)](const JobControl& job) {
                readers->use([&](const data::TraceReader& reader) {
                    reader.verify(); // the batch rows against the sessions and the meta
                    // Session by session: no merge of the stream, each batch decoded once
                    // (a reader refuses a batch that does not decode to its count).
                    for (std::uint64_t id : sessions) {
                        if (job.canceled()) return;
                        reader.for_each_event([&job](const Event&) { return !job.canceled(); }, id);
                        reader.requests(id);
                    }
                });
                return true;
            },
        .done = [this](bool) { Q_EMIT finished(); },
        .failed =
            [this](const QString& message) {
                Q_EMIT damaged(message);
                Q_EMIT finished();
            },
        .canceled = [this] { Q_EMIT finished(); },
    });
}

void TraceCheck::stop() {
    job_.discard();
}

} // namespace memlife::ui
