// Imports an nginx debug log or a JSON-lines file into a new trace in a job
// (jobs/jobtracker.hpp, like TraceLoader), with progress and cancel. The library writes the
// trace atomically, so a failed or canceled import leaves no output file behind.
#pragma once

#include <QObject>
#include <QString>

#include <atomic>
#include <functional>
#include <memory>
#include <optional>

#include "jobs/backgroundtask.hpp"
#include "memlife/data/import.hpp"

namespace memlife::ui {

enum class ImportKind { NginxLog, JsonLines };

struct ImportRequest {
    ImportKind kind = ImportKind::NginxLog;
    QString input;
    QString output;
    bool lenient = false;
};

class ImportTask : public BackgroundTask {
    Q_OBJECT
public:
    explicit ImportTask(QObject* parent = nullptr);

    // Starts the import; returns false (and does nothing) while another import runs.
    bool start(const ImportRequest& request);
    const ImportRequest& request() const { return request_; }

    // The work itself, on the calling thread. progress(percent) is called from that thread
    // (percent -1: the input's size is unknown); returns nullopt when `canceled` was set
    // before the importer's last progress report, and then no output file exists. Throws
    // data::ImportError (bad input: "FILE:LINE: reason" or "FILE: reason") and
    // data::TraceError (the output cannot be written).
    static std::optional<data::ImportStats> importNow(const ImportRequest& request,
                                                      const std::function<void(int)>& progress,
                                                      const std::atomic<bool>& canceled);

    // The input path with the extension ".memlife", in the input's folder.
    static QString defaultOutput(const QString& input);
    // defaultOutput(), or "NAME-2.memlife", "NAME-3.memlife", ... if that file exists: a
    // dropped file never replaces a trace without asking.
    static QString unusedOutput(const QString& input);
    // The importer for a file that is not an SQLite database, by its extension (.log:
    // nginx; .jsonl, .ndjson: JSON lines); nullopt for a trace or an unknown extension.
    static std::optional<ImportKind> kindOf(const QString& path);

Q_SIGNALS:
    // Or started, failed, canceled with the input; progressChanged -1: the size is unknown.
    void finished(const QString& output, const memlife::data::ImportStats& stats);

private:
    ImportRequest request_;
};

} // namespace memlife::ui
