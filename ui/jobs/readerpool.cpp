#include "jobs/readerpool.hpp"

#include <QCoreApplication>
#include <QFile>
#include <QThread>

namespace memlife::ui {

namespace {
std::atomic<std::uint64_t> guiUses{0};
} // namespace

ReaderPool::ReaderPool(const QString& path) : path_(QFile::encodeName(path).toStdString()) {}

std::unique_ptr<data::TraceReader> ReaderPool::take() {
    const QCoreApplication* app = QCoreApplication::instance();
    if (app && QThread::currentThread() == app->thread()) ++guiUses;
    {
        const std::lock_guard lock(mutex_);
        if (!idle_.empty()) {
            auto reader = std::move(idle_.back());
            idle_.pop_back();
            return reader;
        }
    }
    return std::make_unique<data::TraceReader>(path_); // opened outside the lock
}

void ReaderPool::give(std::unique_ptr<data::TraceReader> reader) {
    if (!reader) return;
    std::unique_ptr<data::TraceReader> closing; // closed outside the lock
    const std::lock_guard lock(mutex_);
    if (idle_.size() < kMaxIdle && keeps())
        idle_.push_back(std::move(reader));
    else
        closing = std::move(reader);
}

bool ReaderPool::keeps() const {
    if (std::chrono::steady_clock::now() >= lettingGoUntil_) return true;
    return !QFile::exists(QFile::decodeName(QByteArray::fromStdString(path_ + "-wal")));
}

void ReaderPool::letGo() {
    std::vector<std::unique_ptr<data::TraceReader>> closing;
    const std::lock_guard lock(mutex_);
    lettingGoUntil_ = std::chrono::steady_clock::now() + kLetGoFor;
    closing.swap(idle_);
}

std::uint64_t ReaderPool::guiThreadUses() {
    return guiUses.load();
}

} // namespace memlife::ui
