// The Recorder puts its three parts together: the producer queue (recorder_queue.*: what
// the instrumented threads touch), the writer loop (recorder_writer.*: the background
// thread feeding a TraceWriter) and the trace file (recorder_file.*: creation, WAL, the
// rename into place).
#include "memlife/data/recorder.hpp"

#include <cstdio>
#include <exception>

#include "memlife/data/symbolize.hpp"
#include "recorder_file.hpp"
#include "recorder_queue.hpp"
#include "recorder_writer.hpp"
#include "symbolize_db.hpp"

namespace memlife::data {

namespace {
std::atomic<std::uint64_t> next_recorder_id{1};
} // namespace

struct Recorder::Impl {
    explicit Impl(const std::string& path, const RecorderOptions& options)
        : atomic(options.atomic),
          symbolize(options.symbolize), symbolize_options{options.debug_dirs},
          queue(options.back_pressure, options.max_buffered_events, [this] { writer->wake(); }),
          file(path, options, next_recorder_id.fetch_add(1)),
          writer(std::make_unique<WriterLoop>(
              queue, file.db(), options.flush_interval_ms,
              [this, report = options.on_failure](const std::string& reason) {
                  if (report) report(failure_of(reason).what());
              },
              options.stack_source)) {}

    TraceError failure_of(const std::string& reason) const {
        return TraceError(TraceError::Kind::Io, file.path(),
                          "cannot write the trace (" + reason + ")");
    }

    const bool atomic;
    const bool symbolize;
    const SymbolizeOptions symbolize_options;
    SymbolizeResult symbolized;
    EventQueue queue;
    TraceFile file;
    // Declared last: its thread uses the queue and the file's database.
    std::unique_ptr<WriterLoop> writer;
    bool finished = false;
};

Recorder::Recorder(const std::string& path, RecorderOptions options)
    : impl_(std::make_unique<Impl>(path, options)) {}

Recorder::~Recorder() {
    if (!impl_->finished) {
        if (impl_->atomic) {
            abort();
        } else {
            try {
                commit();
            } catch (const std::exception& ex) {
                std::fprintf(stderr, "memlife: %s\n", ex.what());
            }
        }
    }
}

void Recorder::on_event(const Event& event) noexcept {
    impl_->queue.push(event);
}

void Recorder::on_events(const Event* events, std::size_t count) noexcept {
    impl_->queue.push(events, count);
}

void Recorder::on_stacked_events(const Event* events, const StackId* stacks,
                                 std::size_t count) noexcept {
    impl_->queue.push_stacked(events, stacks, count);
}

void Recorder::on_stacked_event(const Event& event, StackId stack) noexcept {
    impl_->queue.push_stacked(&event, &stack, 1);
}

void Recorder::on_session_open(const Event& event, std::string_view peer) noexcept {
    impl_->queue.push_peer(event.session, peer);
    impl_->queue.push(event);
}

void Recorder::on_report(const ml_report& report) noexcept {
    if (report.kind != ML_REPORT_CORRUPTION && report.kind != ML_REPORT_LEAK &&
        report.kind != ML_REPORT_OUTLIVED)
        return;
    impl_->queue.push_report(report);
}

void Recorder::flush() noexcept {
    impl_->writer->flush();
}

void Recorder::set_skipped_lines(std::uint64_t n) {
    impl_->writer->set_skipped_lines(n);
}

void Recorder::set_malformed_lines(std::uint64_t n) {
    impl_->writer->set_malformed_lines(n);
}

void Recorder::set_meta(const std::string& key, const std::string& value) {
    impl_->writer->set_meta(key, value);
}

void Recorder::commit() {
    Impl& im = *impl_;
    if (im.finished) return;
    im.finished = true;
    std::string error = im.writer->finish();
    if (error.empty() && im.symbolize) {
        // The binaries are at hand now. A failure here leaves the trace unsymbolized, not
        // unusable: `memlife symbolize` can try again.
        try {
            store::Statement any(im.file.db(), "SELECT 1 FROM stack_nodes LIMIT 1");
            if (any.step()) {
                any.reset();
                im.symbolized = symbolize_database(im.file.db(), im.symbolize_options);
            }
        } catch (const std::exception& ex) {
            im.symbolized.problems.push_back(std::string("symbolization failed: ") + ex.what());
        }
    }
    if (error.empty())
        error = im.file.finish();
    else
        im.file.discard();
    if (!error.empty()) throw im.failure_of(error);
}

void Recorder::abort() noexcept {
    Impl& im = *impl_;
    if (im.finished) return;
    if (!im.atomic) {
        try {
            commit();
        } catch (const std::exception& ex) {
            std::fprintf(stderr, "memlife: %s\n", ex.what());
        }
        return;
    }
    im.finished = true;
    im.writer->stop();
    im.file.discard();
}

std::uint64_t Recorder::dropped_events() const {
    return impl_->queue.dropped();
}

const SymbolizeResult& Recorder::symbolized() const {
    return impl_->symbolized;
}

const std::string& Recorder::path() const {
    return impl_->file.path();
}

bool Recorder::failed() const noexcept {
    return impl_->writer->failed();
}

TraceError Recorder::failure() const {
    return impl_->failure_of(impl_->writer->error());
}

} // namespace memlife::data
