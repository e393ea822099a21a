#include "window/traceloader.hpp"

#include <QtConcurrent/QtConcurrentRun>

#include <exception>

namespace memlife::ui {

TraceLoader::TraceLoader(QObject* parent) : QObject(parent) {
    connect(&watcher_, &QFutureWatcherBase::finished, this, &TraceLoader::onFinished);
}

TraceLoader::~TraceLoader() {
    cancel();
    watcher_.disconnect(this);
    watcher_.waitForFinished();
}

bool TraceLoader::isLoading() const {
    return watcher_.isRunning();
}

void TraceLoader::cancel() {
    job_.cancel();
}

std::shared_ptr<LoadedTrace> TraceLoader::loadNow(const QString& path,
                                                  const std::function<void(int)>& progress,
                                                  const std::atomic<bool>& canceled) {
    auto trace = std::make_shared<LoadedTrace>();
    trace->path = path;
    progress(2);
    trace->reader = std::make_shared<data::TraceReader>(path.toStdString());
    trace->info = trace->reader->info();
    progress(10);
    if (canceled) return nullptr;

    const std::uint64_t expected = std::max<std::uint64_t>(trace->info.sessions, 1);
    trace->sessions.reserve(static_cast<std::size_t>(std::min<std::uint64_t>(expected, 1u << 24)));
    int last = 10;
    trace->reader->for_each_session([&](const data::SessionRow& row) {
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
    trace->corruptions = trace->reader->corruptions();
    if (canceled) return nullptr;
    progress(93);
    trace->leaks = trace->reader->leaks();
    progress(100);
    return canceled ? nullptr : trace;
}

void TraceLoader::load(const QString& path) {
    if (watcher_.isRunning()) {
        cancel();
        // The canceled worker stops at its next row; its outcome is dropped in onFinished.
        watcher_.disconnect(this);
        watcher_.waitForFinished();
        connect(&watcher_, &QFutureWatcherBase::finished, this, &TraceLoader::onFinished);
    }
    path_ = path;
    auto cancelFlag = job_.begin(0);
    Q_EMIT started(path);
    auto report = job_.reporter(this, [this](int percent) { Q_EMIT progressChanged(percent); });
    watcher_.setFuture(QtConcurrent::run([path, cancelFlag, report]() -> Outcome {
        try {
            return {loadNow(path, report, *cancelFlag), {}};
        } catch (const data::TraceError& error) {
            return {nullptr, QString::fromStdString(error.what())}; // already "PATH: reason"
        } catch (const std::exception& error) {
            return {nullptr, path + QStringLiteral(": ") + QString::fromUtf8(error.what())};
        }
    }));
}

void TraceLoader::onFinished() {
    const Outcome outcome = watcher_.result();
    const bool wasCanceled = job_.canceled();
    job_.end();
    if (!outcome.error.isEmpty()) {
        Q_EMIT failed(path_, outcome.error);
    } else if (wasCanceled || !outcome.trace) {
        Q_EMIT canceled(path_);
    } else {
        Q_EMIT loaded(outcome.trace);
    }
}

} // namespace memlife::ui
