// The C API: handle checks, then the C++ implementation. Nothing here throws.
#include <new>

#include "last_error.hpp"
#include "memlife/memlife.h"
#include "memlife/session.hpp"

using memlife::Runtime;
using memlife::Scope;
using memlife::Session;

namespace memlife::detail {
namespace {
thread_local int t_last_error = ML_OK;
}
void set_last_error(int code) noexcept {
    t_last_error = code;
}
int last_error() noexcept {
    return t_last_error;
}
} // namespace memlife::detail

void memlife::set_last_error(int code) noexcept {
    detail::set_last_error(code);
}

namespace {

Session* session_of(const ml_session* handle) {
    if (handle == nullptr) {
        memlife::detail::set_last_error(ML_ERR_INVALID_CONTEXT);
        return nullptr;
    }
    return Runtime::global().lookup(handle);
}

int set_global(void (*apply)(memlife::Config&, std::uint64_t), std::uint64_t value) {
    memlife::Config c = Runtime::global().config();
    apply(c, value);
    return Runtime::global().set_config(c);
}

} // namespace

extern "C" {

ml_session* ml_session_open(const char* peer) {
    try {
        Session* s = Runtime::global().open(peer != nullptr ? peer : "");
        return s == nullptr ? nullptr : Runtime::global().handle(s);
    } catch (...) {
        memlife::detail::set_last_error(ML_ERR_NOT_ENOUGH_MEMORY);
        return nullptr;
    }
}

void ml_session_close(ml_session* handle) {
    if (Session* s = session_of(handle)) {
        try {
            Runtime::global().close(s);
        } catch (...) {
            memlife::detail::set_last_error(ML_ERR_NOT_ENOUGH_MEMORY);
        }
    }
}

uint64_t ml_session_id(const ml_session* handle) {
    const Session* s = session_of(handle);
    return s != nullptr ? s->id() : 0;
}

int ml_session_set_limit(ml_session* handle, uint64_t max_bytes) {
    Session* s = session_of(handle);
    return s != nullptr ? s->set_limit(max_bytes) : memlife::detail::last_error();
}

int ml_session_set_guard_pages(ml_session* handle, int enabled) {
    Session* s = session_of(handle);
    return s != nullptr ? s->set_guard_pages(enabled != 0) : memlife::detail::last_error();
}

uint64_t ml_session_live_bytes(const ml_session* handle) {
    const Session* s = session_of(handle);
    return s != nullptr ? s->live_bytes() : 0;
}

int ml_request_begin(ml_session* handle) {
    Session* s = session_of(handle);
    return s != nullptr ? s->request_begin() : memlife::detail::last_error();
}

int ml_request_end(ml_session* handle) {
    Session* s = session_of(handle);
    if (s == nullptr) return memlife::detail::last_error();
    try {
        return s->request_end();
    } catch (...) {
        memlife::detail::set_last_error(ML_ERR_NOT_ENOUGH_MEMORY);
        return ML_ERR_NOT_ENOUGH_MEMORY;
    }
}

uint32_t ml_request_number(const ml_session* handle) {
    const Session* s = session_of(handle);
    return s != nullptr ? s->current_request() : 0;
}

int ml_set_notification(ml_session* handle, uint32_t notification) {
    Session* s = session_of(handle);
    if (s == nullptr) return memlife::detail::last_error();
    const auto n = memlife::notification_from_flag(notification);
    if (!n) {
        memlife::detail::set_last_error(ML_ERR_INVALID_PARAMETER);
        return ML_ERR_INVALID_PARAMETER;
    }
    s->set_notification(*n);
    return ML_OK;
}

void* ml_alloc_mem(ml_session* handle, uint32_t size, uint32_t reserved) {
    Session* s = session_of(handle);
    return s != nullptr ? s->alloc_mem(size, reserved) : nullptr;
}

void* ml_alloc_request(ml_session* handle, uint32_t size) {
    Session* s = session_of(handle);
    return s != nullptr ? s->alloc_request(size) : nullptr;
}

size_t ml_check_session(ml_session* handle) {
    Session* s = session_of(handle);
    return s != nullptr ? s->check() : 0;
}

int ml_note_alloc(ml_session* handle, const void* ptr, size_t size, int scope) {
    Session* s = session_of(handle);
    if (s == nullptr) return memlife::detail::last_error();
    if (scope != ML_SCOPE_SESSION && scope != ML_SCOPE_REQUEST) {
        memlife::detail::set_last_error(ML_ERR_INVALID_PARAMETER);
        return ML_ERR_INVALID_PARAMETER;
    }
    return s->note_alloc(ptr, size, static_cast<Scope>(scope));
}

int ml_note_free(ml_session* handle, const void* ptr) {
    Session* s = session_of(handle);
    return s != nullptr ? s->note_free(ptr) : memlife::detail::last_error();
}

void ml_set_report_handler(ml_report_fn fn, void* user) {
    Runtime::global().set_report_handler(fn, user);
}

int ml_set_tail_bytes(uint32_t bytes) {
    return set_global(
        [](memlife::Config& c, std::uint64_t v) { c.tail_bytes = static_cast<std::uint32_t>(v); },
        bytes);
}

int ml_set_guard_pages(int enabled) {
    return set_global([](memlife::Config& c, std::uint64_t v) { c.guard_pages = v != 0; },
                      enabled != 0);
}

int ml_set_session_limit(uint64_t max_bytes) {
    return set_global([](memlife::Config& c, std::uint64_t v) { c.session_limit = v; }, max_bytes);
}

int ml_set_clock_interval(uint32_t interval) {
    return set_global([](memlife::Config& c,
                         std::uint64_t v) { c.clock_interval = static_cast<std::uint32_t>(v); },
                      interval);
}

int ml_set_stack_depth(uint32_t depth) {
    return set_global(
        [](memlife::Config& c, std::uint64_t v) { c.stack_depth = static_cast<std::uint32_t>(v); },
        depth);
}

int ml_last_error(void) {
    return memlife::detail::last_error();
}

const char* ml_strerror(int code) {
    switch (code) {
    case ML_OK:
        return "success";
    case ML_ERR_INVALID_PARAMETER:
        return "invalid parameter";
    case ML_ERR_NOT_ENOUGH_MEMORY:
        return "not enough memory";
    case ML_ERR_INVALID_CONTEXT:
        return "invalid session context";
    case ML_ERR_SESSION_CLOSED:
        return "session already closed";
    case ML_ERR_ZERO_SIZE:
        return "size of zero";
    case ML_ERR_SIZE_OVERFLOW:
        return "size plus tail signature overflows";
    case ML_ERR_LIMIT_EXCEEDED:
        return "session memory limit exceeded";
    case ML_ERR_NO_REQUEST:
        return "no request is active";
    case ML_ERR_REQUEST_ACTIVE:
        return "a request is already active";
    case ML_ERR_UNKNOWN_POINTER:
        return "pointer was never noted";
    case ML_ERR_DUPLICATE_POINTER:
        return "pointer is already noted";
    case ML_ERR_BAD_CONFIG:
        return "configuration value out of range";
    case ML_ERR_TRACE_ACTIVE:
        return "a trace is already being recorded";
    case ML_ERR_NO_TRACE:
        return "no trace is being recorded";
    case ML_ERR_TRACE_IO:
        return "the trace file cannot be written";
    case ML_ERR_SESSIONS_OPEN:
        return "sessions are still open";
    default:
        return "unknown error";
    }
}

const char* ml_version(void) {
    return MEMLIFE_VERSION;
}

} // extern "C"
