#include "window/traceloader.hpp"

#include <algorithm>

#include "charts/timescale.hpp"

namespace memlife::ui {

TraceLoader::TraceLoader(QObject* parent) : BackgroundTask(parent) {}

namespace {

// The stacks are extra: a trace whose stack tables cannot be read opens as before, and the
// allocation sites say why they are empty.
std::unique_ptr<data::StackReader> openStacks(const QString& path, LoadedTrace& trace) {
    try {
        auto stacks = std::make_unique<data::StackReader>(path.toStdString());
        trace.stacks = stacks->status();
        return stacks;
    } catch (const data::TraceError& e) {
        trace.stacks = {false, std::string("cannot read the call stacks: ") + e.what()};
        return nullptr;
    }
}

} // namespace

std::shared_ptr<LoadedTrace> TraceLoader::loadNow(const QString& path,
                                                  const std::function<void(int)>& progress,
                                                  const std::atomic<bool>& canceled) {
    auto trace = std::make_shared<LoadedTrace>();
    trace->path = path;
    progress(2);
    auto reader = std::make_unique<data::TraceReader>(path.toStdString());
    trace->info = reader->info();
    progress(10);
    if (canceled) return nullptr;
    if (trace->info.recording == data::RecordingState::Live) {
        // Being recorded: the summary tables in one read with the cursor that following
        // starts from (follow/followcontroller.hpp).
        data::TraceChanges all =
            data::TraceFollower(path.toStdString()).changes_since(std::nullopt);
        trace->info = all.info;
        trace->sessions = std::move(all.sessions);
        trace->corruptions = std::move(all.corruptions);
        trace->leaks = std::move(all.leaks);
        trace->cursor = all.cursor;
        trace->index();
        std::unique_ptr<data::StackReader> stacks = openStacks(path, *trace);
        progress(100);
        trace->readers = std::make_shared<ReaderPool>(path);
        trace->readers->give(std::move(reader));
        if (stacks) trace->readers->give(std::move(stacks));
        return trace;
    }

    const std::uint64_t expected = std::max<std::uint64_t>(trace->info.sessions, 1);
    trace->sessions.reserve(static_cast<std::size_t>(std::min<std::uint64_t>(expected, 1u << 24)));
    int last = 10;
    reader->for_each_session([&](const data::SessionRow& row) {
        trace->sessions.push_back(row);
        const int percent =
            10 + static_cast<int>(70 * std::min<std::uint64_t>(trace->sessions.size(), expected) /
                                  expected);
        if (percent != last) progress(last = percent);
        return !canceled.load(std::memory_order_relaxed);
    });
    if (canceled) return nullptr;
    trace->index();
    progress(85);
    trace->corruptions = reader->corruptions();
    if (canceled) return nullptr;
    progress(93);
    trace->leaks = reader->leaks();
    // A coarse clock (an nginx import): the charts draw its events in order, per second.
    if (const std::uint64_t r = trace->info.time_resolution_ns; r > 1)
        trace->steps = std::make_shared<const StepIndex>(StepIndex::scan(*reader, r, canceled));
    std::unique_ptr<data::StackReader> stacks = openStacks(path, *trace);
    progress(100);
    if (canceled) return nullptr;
    trace->readers = std::make_shared<ReaderPool>(path);
    trace->readers->give(std::move(reader)); // its cache is warm: the first job uses it
    if (stacks) trace->readers->give(std::move(stacks));
    return trace;
}

void TraceLoader::load(const QString& path) {
    run<std::shared_ptr<LoadedTrace>>(
        path,
        [path](const JobControl& job) {
            return loadNow(path, job.progressReporter(), job.canceledFlag());
        },
        [this](std::shared_ptr<LoadedTrace> trace) {
            if (trace)
                Q_EMIT loaded(trace);
            else
                Q_EMIT canceled(subject());
        });
}

} // namespace memlife::ui
