/*
 * filter.h - filters written in C for memlife's filter host (memlife/filter_host.hpp).
 *
 * The model is an ISAPI filter's HttpFilterProc: the host calls the filter for every
 * notification it registered for, with a context that gives it the connection's
 * allocator (like HTTP_FILTER_CONTEXT's AllocMem) and a per-connection pointer of its
 * own (pFilterContext). The filter returns one of the ML_STATUS_* values, which have the
 * numeric values of httpfilt.h's SF_STATUS_*.
 *
 * Like memlife.h, this header is a contract: names, values and layouts only grow.
 */
#ifndef MEMLIFE_FILTER_H
#define MEMLIFE_FILTER_H

#include <stddef.h>
#include <stdint.h>

#include "memlife/memlife.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- filter return values (SF_STATUS_TYPE values) ------------------------------- */
enum {
    ML_STATUS_REQ_FINISHED = 0x8000000,             /* handled; the connection closes */
    ML_STATUS_REQ_FINISHED_KEEP_CONN = 0x8000001,   /* handled; keep-alive connection stays */
    ML_STATUS_REQ_NEXT_NOTIFICATION = 0x8000002,    /* call the next filter */
    ML_STATUS_REQ_HANDLED_NOTIFICATION = 0x8000003, /* no further filter for this notification */
    ML_STATUS_REQ_ERROR = 0x8000004,                /* the request ends with an error response */
    ML_STATUS_REQ_READ_NEXT = 0x8000005             /* READ_RAW_DATA only: read more, call again */
};

/* ---- registration flags (besides the ML_NOTIFY_* notification mask) -------------- */
/* Macros, not an enum: `ML_NOTIFY_URL_MAP | ML_FILTER_ORDER_HIGH` would otherwise mix two
 * enumerations, which C++20 deprecates. */
#define ML_FILTER_SECURE_PORT 0x00000001u    /* accepted, ignored: one kind of port */
#define ML_FILTER_NONSECURE_PORT 0x00000002u /* accepted, ignored */
#define ML_FILTER_ORDER_HIGH 0x00080000u
#define ML_FILTER_ORDER_MEDIUM 0x00040000u
#define ML_FILTER_ORDER_LOW 0x00020000u
#define ML_FILTER_ORDER_DEFAULT ML_FILTER_ORDER_LOW

/* The `data` argument for READ_RAW_DATA (bytes read from the client) and SEND_RAW_DATA
 * (bytes about to be sent); NULL for every other notification. */
typedef struct ml_raw_data {
    const char* bytes;
    size_t length;
} ml_raw_data;

typedef struct ml_filter_context ml_filter_context;

/* Valid only during the call. Fields marked "in/out" are read back by the host. */
struct ml_filter_context {
    uint32_t size;         /* sizeof(ml_filter_context) */
    uint32_t notification; /* the ML_NOTIFY_* running */
    uint32_t request;      /* 1-based request number; 0 at END_OF_NET_SESSION */
    uint32_t repeat;       /* 0 the first time this notification fires in the request, 1.. */
    uint64_t session_id;   /* the connection's id (as in events) */
    /* The session's C API handle when the host runs on the global runtime (the one
     * behind memlife.h); NULL otherwise. The callbacks below work in every case. */
    ml_session* session;
    const char* method;   /* "GET", ...; NULL at END_OF_NET_SESSION */
    const char* url;      /* the request target; NULL at END_OF_NET_SESSION */
    int response_status;  /* in/out: HTTP status of the response; set it to answer yourself */
    void* filter_context; /* in/out: this filter's pointer for this connection (pFilterContext) */
    /* The connection's allocator (AllocMem semantics: released at END_OF_NET_SESSION). */
    void* (*alloc_mem)(ml_filter_context* ctx, uint32_t size, uint32_t reserved);
    /* Request-lifetime memory, released after END_OF_REQUEST and LOG. */
    void* (*alloc_request)(ml_filter_context* ctx, uint32_t size);
    /* Make another allocator's memory visible (scope: ML_SCOPE_*). */
    int (*note_alloc)(ml_filter_context* ctx, const void* ptr, size_t size, int scope);
    int (*note_free)(ml_filter_context* ctx, const void* ptr);
    void* host_private; /* the host's; do not touch */
};

/* A filter: returns ML_STATUS_*. `notification` repeats ctx->notification (as in
 * HttpFilterProc); `user` is the pointer given at registration. An unknown value is
 * treated as ML_STATUS_REQ_ERROR. */
typedef int (*ml_filter_fn)(ml_filter_context* ctx, uint32_t notification, void* data, void* user);

/* "REQ_FINISHED", ...; "UNKNOWN" for anything else. */
MEMLIFE_API const char* ml_filter_status_name(int status);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* MEMLIFE_FILTER_H */
