// Worker-thread jobs owned by a model: each job gets a stop flag it checks per row, and the
// owner waits for its jobs before it is destroyed, so a late result never reaches a dead
// object. Jobs open their own TraceReader: a reader is used by one thread at a time.
#pragma once

#include <QFuture>
#include <QList>

#include <atomic>
#include <functional>
#include <memory>

namespace memlife::ui {

class BackgroundTasks {
public:
    using Job = std::function<void(const std::atomic<bool>& stop)>;

    BackgroundTasks();
    ~BackgroundTasks(); // stops and waits
    BackgroundTasks(const BackgroundTasks&) = delete;
    BackgroundTasks& operator=(const BackgroundTasks&) = delete;

    void run(Job job);
    void stopAll(); // jobs started before see their flag set; later jobs get a fresh one
    void wait();
    bool idle();

private:
    void prune();
    std::shared_ptr<std::atomic<bool>> stop_;
    QList<QFuture<void>> futures_;
};

} // namespace memlife::ui
