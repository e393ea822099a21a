#include "jobs/backgroundtask.hpp"

#include <QFile>

#include <exception>
#include <stdexcept>

#include "memlife/data/import.hpp"
#include "memlife/data/trace.hpp"

namespace memlife::ui {

BackgroundTask::BackgroundTask(QObject* parent) : QObject(parent), job_(this) {}

void BackgroundTask::cancel() {
    job_.cancel();
}

bool BackgroundTask::isRunning() const {
    return job_.isRunning();
}

void BackgroundTask::rethrowNamed(const QString& subject) {
    try {
        throw;
    } catch (const data::TraceError&) {
        throw; // "PATH: reason"
    } catch (const data::ImportError&) {
        throw; // "FILE:LINE: reason"
    } catch (const std::exception& error) {
        throw std::runtime_error(QFile::encodeName(subject).toStdString() + ": " + error.what());
    }
}

} // namespace memlife::ui
