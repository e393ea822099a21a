#include "jobs/workerjob.hpp"

#include <QMetaObject>

namespace memlife::ui {

std::shared_ptr<std::atomic<bool>> WorkerJob::begin(int initialPercent) {
    cancel_ = std::make_shared<std::atomic<bool>>(false);
    progress_ = std::make_shared<std::atomic<int>>(initialPercent);
    return cancel_;
}

std::function<void(int)> WorkerJob::reporter(QObject* receiver, std::function<void(int)> emit) {
    auto latest = progress_;
    // Only a changed percent posts a queued call.
    return [this, receiver, latest, emit = std::move(emit)](int percent) {
        if (latest->exchange(percent) == percent) return;
        QMetaObject::invokeMethod(
            receiver,
            [this, latest, emit] {
                if (latest == progress_) emit(latest->load());
            },
            Qt::QueuedConnection);
    };
}

} // namespace memlife::ui
