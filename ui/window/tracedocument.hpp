// The state the pages share: the loaded trace and the selected sessions. Pages read it and
// react to its signals; none of them talks to another page directly.
#pragma once

#include <QList>
#include <QObject>

#include <cstdint>
#include <vector>

#include "window/loadedtrace.hpp"

namespace memlife::ui {

class TraceDocument : public QObject {
    Q_OBJECT
public:
    static constexpr std::size_t kTopSessions = 8; // shown when nothing is selected

    explicit TraceDocument(QObject* parent = nullptr);

    const TracePtr& trace() const { return trace_; }
    void setTrace(TracePtr trace); // clears the selection

    const std::vector<std::uint64_t>& selection() const { return selection_; }
    void setSelection(std::vector<std::uint64_t> sessions);

    // The selection, or the top sessions by peak bytes when nothing is selected.
    std::vector<std::uint64_t> chartSessions() const;
    // One session to detail (blocks): the first selected, else the first with a
    // corruption, else the one with the highest peak; 0 without a trace.
    std::uint64_t focusSession() const;

Q_SIGNALS:
    void traceChanged();
    void selectionChanged();

private:
    TracePtr trace_;
    std::vector<std::uint64_t> selection_;
};

} // namespace memlife::ui
