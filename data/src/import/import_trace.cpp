// The importers writing a trace file: atomic, so a failed import leaves nothing behind. The
// input is opened once (a FIFO can only be read once) before the output exists.
#include <sys/stat.h>

#include "line_reader.hpp"
#include "memlife/data/import.hpp"
#include "memlife/data/recorder.hpp"

namespace memlife::data {

namespace {

bool same_file(const std::string& a, const std::string& b) {
    struct stat sa {
    }, sb{};
    return ::stat(a.c_str(), &sa) == 0 && ::stat(b.c_str(), &sb) == 0 && sa.st_dev == sb.st_dev &&
           sa.st_ino == sb.st_ino;
}

template <class Import>
ImportStats import_to_trace(const std::string& input, const std::string& trace_path,
                            const ImportOptions& options, const char* source,
                            std::uint64_t time_resolution_ns, Import&& import) {
    auto in = import_detail::open_file(input); // a missing input: no output is created
    // The rename on commit would replace the input by the trace.
    if (same_file(input, trace_path))
        throw ImportError(trace_path, 0, "the output would overwrite the input");
    RecorderOptions recorder_options;
    recorder_options.back_pressure = BackPressure::Block; // an import never drops events
    recorder_options.source = source;
    recorder_options.time_resolution_ns = time_resolution_ns;
    recorder_options.atomic = true;
    Recorder recorder(trace_path, recorder_options);
    // A write failure (full disk, `ulimit -f`) stops the import at the next progress report
    // (about every MiB of input) instead of reading the input to its end.
    ImportOptions checked = options;
    checked.progress = [&](std::uint64_t done, std::uint64_t total) {
        if (recorder.failed()) throw recorder.failure();
        if (options.progress) options.progress(done, total);
    };
    try {
        const ImportStats stats = import(*in, recorder, checked, input);
        recorder.set_skipped_lines(stats.skipped_lines);
        recorder.set_malformed_lines(stats.malformed_lines);
        recorder.commit();
        return stats;
    } catch (...) {
        recorder.abort();
        throw;
    }
}

} // namespace

ImportStats import_nginx_to_trace(const std::string& log_path, const std::string& trace_path,
                                  const ImportOptions& options) {
    // nginx stamps its log lines to the second; the importer keeps their order.
    return import_to_trace(log_path, trace_path, options, "nginx", 1'000'000'000,
                           import_detail::import_nginx_source);
}

ImportStats import_jsonl_to_trace(const std::string& jsonl_path, const std::string& trace_path,
                                  const ImportOptions& options) {
    return import_to_trace(jsonl_path, trace_path, options, "jsonl", 1,
                           import_detail::import_jsonl_source);
}

} // namespace memlife::data
