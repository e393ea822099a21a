#include "window/importtask.hpp"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QtConcurrent/QtConcurrentRun>

#include <algorithm>
#include <exception>

#include "memlife/data/trace.hpp"

namespace memlife::ui {

namespace {

// Thrown from the importer's progress callback: the library then aborts the trace it was
// writing and removes it.
struct ImportCanceled {};

constexpr int kUnknownPercent = -1;
constexpr int kNoPercentYet = -2;

} // namespace

ImportTask::ImportTask(QObject* parent) : QObject(parent) {
    connect(&watcher_, &QFutureWatcherBase::finished, this, &ImportTask::onFinished);
}

ImportTask::~ImportTask() {
    cancel();
    watcher_.disconnect(this);
    watcher_.waitForFinished();
}

bool ImportTask::isRunning() const {
    return watcher_.isRunning();
}

void ImportTask::cancel() {
    job_.cancel();
}

std::optional<data::ImportStats> ImportTask::importNow(const ImportRequest& request,
                                                       const std::function<void(int)>& progress,
                                                       const std::atomic<bool>& canceled) {
    data::ImportOptions options;
    options.lenient = request.lenient;
    // Called about every MiB read and once at the end: the latency of a cancel.
    options.progress = [&](std::uint64_t done, std::uint64_t total) {
        if (canceled.load(std::memory_order_relaxed)) throw ImportCanceled{};
        progress(total == 0 ? kUnknownPercent
                            : static_cast<int>(100 * std::min(done, total) / total));
    };
    const std::string input = QFile::encodeName(request.input).toStdString();
    const std::string output = QFile::encodeName(request.output).toStdString();
    try {
        return request.kind == ImportKind::NginxLog
                   ? data::import_nginx_to_trace(input, output, options)
                   : data::import_jsonl_to_trace(input, output, options);
    } catch (const ImportCanceled&) {
        return std::nullopt;
    }
}

QString ImportTask::defaultOutput(const QString& input) {
    const QFileInfo info(input);
    return info.dir().filePath(info.completeBaseName() + QStringLiteral(".memlife"));
}

QString ImportTask::unusedOutput(const QString& input) {
    QString output = defaultOutput(input);
    const QFileInfo info(output);
    for (int n = 2; QFileInfo::exists(output); ++n)
        output = info.dir().filePath(
            QStringLiteral("%1-%2.memlife").arg(info.completeBaseName()).arg(n));
    return output;
}

std::optional<ImportKind> ImportTask::kindOf(const QString& path) {
    QFile file(path);
    if (file.open(QIODevice::ReadOnly) && file.read(16) == QByteArray("SQLite format 3", 16))
        return std::nullopt; // a trace (or another database) whatever its name
    const QString suffix = QFileInfo(path).suffix().toLower();
    if (suffix == QLatin1String("log")) return ImportKind::NginxLog;
    if (suffix == QLatin1String("jsonl") || suffix == QLatin1String("ndjson"))
        return ImportKind::JsonLines;
    return std::nullopt;
}

bool ImportTask::start(const ImportRequest& request) {
    if (watcher_.isRunning()) return false;
    request_ = request;
    auto cancelFlag = job_.begin(kNoPercentYet);
    Q_EMIT started(request.input);
    auto report = job_.reporter(this, [this](int percent) { Q_EMIT progressChanged(percent); });
    watcher_.setFuture(QtConcurrent::run([request, cancelFlag, report]() -> Outcome {
        try {
            return {importNow(request, report, *cancelFlag), {}};
        } catch (const data::ImportError& error) {
            return {std::nullopt, QString::fromStdString(error.what())}; // "FILE:LINE: reason"
        } catch (const data::TraceError& error) {
            return {std::nullopt, QString::fromStdString(error.what())}; // "PATH: reason"
        } catch (const std::exception& error) {
            return {std::nullopt,
                    request.input + QStringLiteral(": ") + QString::fromUtf8(error.what())};
        }
    }));
    return true;
}

void ImportTask::onFinished() {
    const Outcome outcome = watcher_.result();
    job_.end();
    if (!outcome.error.isEmpty())
        Q_EMIT failed(request_.input, outcome.error);
    else if (!outcome.stats)
        Q_EMIT canceled(request_.input);
    else
        Q_EMIT finished(request_.output, *outcome.stats);
}

} // namespace memlife::ui
