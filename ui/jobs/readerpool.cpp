#include "jobs/readerpool.hpp"

#include <QCoreApplication>
#include <QFile>
#include <QThread>

namespace memlife::ui {

namespace {
std::atomic<std::uint64_t> guiUses{0};
} // namespace

ReaderPool::ReaderPool(const QString& path) : path_(QFile::encodeName(path).toStdString()) {}

template <class Reader> std::unique_ptr<Reader> ReaderPool::take(Idle<Reader>& idle) {
    const QCoreApplication* app = QCoreApplication::instance();
    if (app && QThread::currentThread() == app->thread()) ++guiUses;
    {
        const std::lock_guard lock(mutex_);
        if (!idle.empty()) {
            auto reader = std::move(idle.back());
            idle.pop_back();
            return reader;
        }
    }
    return std::make_unique<Reader>(path_); // opened outside the lock
}

template <class Reader> void ReaderPool::put(Idle<Reader>& idle, std::unique_ptr<Reader> reader) {
    if (!reader) return;
    std::unique_ptr<Reader> closing; // closed outside the lock
    const std::lock_guard lock(mutex_);
    if (idle.size() < kMaxIdle && keeps())
        idle.push_back(std::move(reader));
    else
        closing = std::move(reader);
}

template std::unique_ptr<data::TraceReader> ReaderPool::take(Idle<data::TraceReader>&);
template std::unique_ptr<data::StackReader> ReaderPool::take(Idle<data::StackReader>&);
template void ReaderPool::put(Idle<data::TraceReader>&, std::unique_ptr<data::TraceReader>);
template void ReaderPool::put(Idle<data::StackReader>&, std::unique_ptr<data::StackReader>);

void ReaderPool::give(std::unique_ptr<data::TraceReader> reader) {
    put(traces_, std::move(reader));
}

void ReaderPool::give(std::unique_ptr<data::StackReader> reader) {
    put(stacks_, std::move(reader));
}

bool ReaderPool::keeps() const {
    if (std::chrono::steady_clock::now() >= lettingGoUntil_) return true;
    return !QFile::exists(QFile::decodeName(QByteArray::fromStdString(path_ + "-wal")));
}

void ReaderPool::letGo() {
    Idle<data::TraceReader> traces; // closed outside the lock
    Idle<data::StackReader> stacks;
    const std::lock_guard lock(mutex_);
    lettingGoUntil_ = std::chrono::steady_clock::now() + kLetGoFor;
    traces.swap(traces_);
    stacks.swap(stacks_);
}

std::uint64_t ReaderPool::guiThreadUses() {
    return guiUses.load();
}

} // namespace memlife::ui
