#include "window/importtask.hpp"

#include <QDir>
#include <QFile>
#include <QFileInfo>

#include <algorithm>

#include "memlife/data/trace.hpp"

namespace memlife::ui {

namespace {

// Thrown from the importer's progress callback: the library then aborts the trace it was
// writing and removes it.
struct ImportCanceled {};

constexpr int kUnknownPercent = -1;

} // namespace

ImportTask::ImportTask(QObject* parent) : BackgroundTask(parent) {}

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
    if (isRunning()) return false;
    request_ = request;
    run<std::optional<data::ImportStats>>(
        request.input,
        [request](const JobControl& job) {
            return importNow(request, job.progressReporter(), job.canceledFlag());
        },
        [this](std::optional<data::ImportStats> stats) {
            if (stats)
                Q_EMIT finished(request_.output, *stats);
            else
                Q_EMIT canceled(request_.input);
        });
    return true;
}

} // namespace memlife::ui
