#include "jobs/backgroundtasks.hpp"

#include <QtConcurrent/QtConcurrentRun>

namespace memlife::ui {

BackgroundTasks::BackgroundTasks() : stop_(std::make_shared<std::atomic<bool>>(false)) {}

BackgroundTasks::~BackgroundTasks() {
    stopAll();
    wait();
}

void BackgroundTasks::run(Job job) {
    prune();
    auto stop = stop_;
    futures_.push_back(QtConcurrent::run([job = std::move(job), stop] { job(*stop); }));
}

void BackgroundTasks::stopAll() {
    stop_->store(true);
    stop_ = std::make_shared<std::atomic<bool>>(false);
}

void BackgroundTasks::wait() {
    for (auto& future : futures_)
        future.waitForFinished();
    futures_.clear();
}

bool BackgroundTasks::idle() {
    prune();
    return futures_.isEmpty();
}

void BackgroundTasks::prune() {
    futures_.removeIf([](const QFuture<void>& f) { return f.isFinished(); });
}

} // namespace memlife::ui
