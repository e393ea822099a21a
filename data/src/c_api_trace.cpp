// memlife/trace.h: the C API's sessions recorded by a Recorder set as the global
// runtime's sink. Nothing here throws.
#include "memlife/trace.h"

#include <atomic>
#include <memory>
#include <mutex>
#include <string>

#include "memlife/data/recorder.hpp"
#include "memlife/session.hpp"

namespace {

using memlife::Runtime;
using memlife::data::Recorder;

struct Recording {
    std::mutex mutex; // start, flush and stop, one at a time
    std::unique_ptr<Recorder> recorder;
    std::string error; // the last failure, "PATH: reason"
    // For ml_trace_status(), lock-free while the recording works: it runs; its writer failed.
    std::atomic<bool> active{false}, failed{false};
    std::mutex failure_mutex; // guards `failure` and `error`
    std::string failure;      // the writer's failure, set on its thread
};

Recording& recording() {
    static Recording* r = new Recording; // never destroyed: sessions may close after main
    return *r;
}

int fail(Recording& r, int code, std::string message = {}) {
    if (!message.empty()) {
        std::lock_guard failure_lock(r.failure_mutex); // ml_trace_status() takes no other lock
        r.error = std::move(message);
    }
    memlife::set_last_error(code);
    return code;
}

} // namespace

extern "C" {

int ml_trace_start(const char* path) {
    Recording& r = recording();
    std::lock_guard lock(r.mutex);
    if (path == nullptr || *path == '\0') return fail(r, ML_ERR_INVALID_PARAMETER);
    if (r.recorder) return fail(r, ML_ERR_TRACE_ACTIVE);
    try {
        memlife::data::RecorderOptions options;
        options.source = "c-api";
        options.on_failure = [&r](const std::string& message) {
            {
                std::lock_guard failure_lock(r.failure_mutex);
                r.failure = message;
            }
            r.failed.store(true, std::memory_order_release);
        };
        r.failed.store(false);
        r.recorder = std::make_unique<Recorder>(path, std::move(options));
    } catch (const std::exception& e) {
        return fail(r, ML_ERR_TRACE_IO, e.what());
    }
    Runtime::global().set_sink(r.recorder.get());
    r.active.store(true, std::memory_order_release);
    return ML_OK;
}

int ml_trace_flush(void) {
    Recording& r = recording();
    std::lock_guard lock(r.mutex);
    if (!r.recorder) return fail(r, ML_ERR_NO_TRACE);
    r.recorder->flush();
    if (r.recorder->failed()) return fail(r, ML_ERR_TRACE_IO, r.recorder->failure().what());
    return ML_OK;
}

int ml_trace_status(void) {
    Recording& r = recording();
    if (!r.active.load(std::memory_order_acquire)) return fail(r, ML_ERR_NO_TRACE);
    if (!r.failed.load(std::memory_order_acquire)) return ML_OK;
    std::string failure;
    {
        std::lock_guard failure_lock(r.failure_mutex);
        failure = r.failure;
    }
    return fail(r, ML_ERR_TRACE_IO, std::move(failure));
}

int ml_trace_stop(void) {
    Recording& r = recording();
    std::lock_guard lock(r.mutex);
    if (!r.recorder) return fail(r, ML_ERR_NO_TRACE);
    // Unhook first, then count: a session opened after the unhook does not see the
    // recorder, and one opened before it is counted (Runtime::open counts, then reads the
    // sink).
    Runtime::global().set_sink(nullptr);
    if (Runtime::global().open_sessions() != 0) {
        Runtime::global().set_sink(r.recorder.get());
        return fail(r, ML_ERR_SESSIONS_OPEN);
    }
    std::unique_ptr<Recorder> recorder = std::move(r.recorder);
    r.active.store(false, std::memory_order_release);
    try {
        recorder->commit();
    } catch (const std::exception& e) {
        return fail(r, ML_ERR_TRACE_IO, e.what());
    }
    return ML_OK;
}

const char* ml_trace_error(void) {
    return recording().error.c_str();
}

} // extern "C"
