/*
 * memlife.h - the C API of memlife's session-scoped allocator.
 *
 * This header is a contract: names, values and struct layouts only ever grow.
 *
 * Model (after the IIS AllocMem callback): a session is one client connection.
 * Memory from ml_alloc_mem() belongs to the session and is released all at once by
 * ml_session_close() (END_OF_NET_SESSION) - never by the request and never one block
 * at a time. Memory from ml_alloc_request() is released by ml_request_end().
 * Every block is followed by a tail signature that is checked when the block is
 * released and on demand (ml_check_session()); a modified tail is reported as heap
 * corruption through the report handler.
 *
 * No function here throws or aborts. Functions that fail return NULL or an error code
 * and set a thread-local last error (ml_last_error()).
 *
 * Threads: sessions may be used from different threads at once; one session must be
 * used by one thread at a time.
 */
#ifndef MEMLIFE_MEMLIFE_H
#define MEMLIFE_MEMLIFE_H

#include <stddef.h>
#include <stdint.h>

#if defined(_WIN32)
#define MEMLIFE_API __declspec(dllexport)
#else
#define MEMLIFE_API __attribute__((visibility("default")))
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ---- error codes (stable values) ---------------------------------------------- */
enum {
    ML_OK = 0,
    ML_ERR_INVALID_PARAMETER = 1,  /* reserved != 0, bad scope, null pointer argument */
    ML_ERR_NOT_ENOUGH_MEMORY = 2,  /* the operating system refused memory */
    ML_ERR_INVALID_CONTEXT = 3,    /* not a session handle (never opened, or garbage) */
    ML_ERR_SESSION_CLOSED = 4,     /* the session was already closed */
    ML_ERR_ZERO_SIZE = 5,          /* size of 0 */
    ML_ERR_SIZE_OVERFLOW = 6,      /* size + tail signature does not fit in 32 bits */
    ML_ERR_LIMIT_EXCEEDED = 7,     /* the session's byte limit would be exceeded */
    ML_ERR_NO_REQUEST = 8,         /* request-scoped call outside a request */
    ML_ERR_REQUEST_ACTIVE = 9,     /* ml_request_begin while a request is active */
    ML_ERR_UNKNOWN_POINTER = 10,   /* ml_note_free of a pointer that was never noted */
    ML_ERR_DUPLICATE_POINTER = 11, /* ml_note_alloc of a pointer already live */
    ML_ERR_BAD_CONFIG = 12,        /* configuration value out of range */
    /* Recording (memlife/trace.h, in memlife_data): */
    ML_ERR_TRACE_ACTIVE = 13, /* ml_trace_start while a trace is being recorded */
    ML_ERR_NO_TRACE = 14,     /* ml_trace_flush / ml_trace_stop with no trace being recorded */
    ML_ERR_TRACE_IO = 15,     /* the trace file cannot be written (ml_trace_error() says why) */
    ML_ERR_SESSIONS_OPEN = 16 /* ml_trace_stop while sessions are still open */
};

/* ---- scopes -------------------------------------------------------------------- */
enum { ML_SCOPE_SESSION = 0, ML_SCOPE_REQUEST = 1 };

/* ---- ISAPI filter notifications (flag values from httpfilt.h) ------------------- */
enum {
    ML_NOTIFY_NONE = 0,
    ML_NOTIFY_READ_RAW_DATA = 0x00008000,
    ML_NOTIFY_PREPROC_HEADERS = 0x00004000,
    ML_NOTIFY_URL_MAP = 0x00001000,
    ML_NOTIFY_AUTHENTICATION = 0x00002000,
    ML_NOTIFY_AUTH_COMPLETE = 0x04000000,
    ML_NOTIFY_ACCESS_DENIED = 0x00000800,
    ML_NOTIFY_SEND_RESPONSE = 0x00000040,
    ML_NOTIFY_SEND_RAW_DATA = 0x00000400,
    ML_NOTIFY_END_OF_REQUEST = 0x00000080,
    ML_NOTIFY_LOG = 0x00000200,
    ML_NOTIFY_END_OF_NET_SESSION = 0x00000100
};

/* ---- reports ------------------------------------------------------------------- */
/* ML_REPORT_OUTLIVED: a block still live after its connection closed. The core never sends
 * it; `memlife record` does (docs/record.md), and a trace stores it (table `outlived`). */
enum { ML_REPORT_CORRUPTION = 1, ML_REPORT_LEAK = 2, ML_REPORT_OUTLIVED = 3 };

#define ML_TAIL_MAX 64
#define ML_MESSAGE_MAX 256
#define ML_BACKTRACE_MAX 32
#define ML_STACK_DEPTH_MAX 64 /* the deepest allocation stack (ml_set_stack_depth) */

/* One corruption or leak. Strings and arrays are owned by memlife and valid only for
 * the duration of the handler call. */
typedef struct ml_report {
    int kind;                    /* ML_REPORT_CORRUPTION, ML_REPORT_LEAK or ML_REPORT_OUTLIVED */
    uint64_t session_id;         /* session (connection) id */
    uint32_t request;            /* request number (1-based) when detected; 0 = none */
    uint32_t alloc_request;      /* request number when the block was allocated */
    uint64_t block_id;           /* block id, unique within the session */
    uint64_t address;            /* first byte of the block */
    uint64_t size;               /* requested size in bytes */
    int scope;                   /* ML_SCOPE_SESSION or ML_SCOPE_REQUEST */
    uint32_t alloc_notification; /* ML_NOTIFY_* running when the block was allocated */
    uint32_t last_notification;  /* ML_NOTIFY_* that ran last before detection */
    uint64_t time_ns;            /* monotonic time of detection */
    /* corruption only */
    uint32_t first_offset;         /* offset past the requested size of the first modified byte */
    uint32_t modified_count;       /* number of modified tail bytes */
    uint32_t tail_len;             /* bytes in expected[] and found[] */
    uint8_t expected[ML_TAIL_MAX]; /* the signature that should be there */
    uint8_t found[ML_TAIL_MAX];    /* what was there */
    uint64_t fault_address;        /* guard-page mode: the faulting address; else 0 */
    int backtrace_len;             /* guard-page mode: frames in backtrace[] */
    void* backtrace[ML_BACKTRACE_MAX];
    char message[ML_MESSAGE_MAX]; /* "Heap block at 0x... modified at 0x... past requested size of
                                     N" */
    /* Since 0.2 (appended: the fields above keep their offsets). The stack that allocated
     * the block, when stacks are recorded (ml_set_stack_depth), as pageheap keeps it in the
     * block's header: return addresses, innermost first, memlife's own frames left out. */
    uint32_t alloc_stack_id; /* the stack's id in the trace (its stack_nodes row); 0 = none */
    int alloc_backtrace_len; /* frames in alloc_backtrace[]; 0 = none recorded */
    void* alloc_backtrace[ML_STACK_DEPTH_MAX];
} ml_report;

typedef void (*ml_report_fn)(const ml_report* report, void* user);

/* ---- sessions ------------------------------------------------------------------ */
typedef struct ml_session ml_session;

/* Opens a session (one client connection). peer is a label such as "127.0.0.1:5123"
 * (may be NULL). Returns NULL and sets the last error on failure. */
MEMLIFE_API ml_session* ml_session_open(const char* peer);
/* End of net session: ends an open request, checks every tail, reports leaks of noted
 * blocks, releases everything. The handle is invalid afterwards (later calls with it
 * fail with ML_ERR_SESSION_CLOSED). */
MEMLIFE_API void ml_session_close(ml_session* session);
MEMLIFE_API uint64_t ml_session_id(const ml_session* session);
/* Byte limit of the session (requested bytes plus tails); 0 = no limit. */
MEMLIFE_API int ml_session_set_limit(ml_session* session, uint64_t max_bytes);
/* Enables or disables guard-page mode for blocks allocated from now on. */
MEMLIFE_API int ml_session_set_guard_pages(ml_session* session, int enabled);
/* Bytes currently live in the session (requested sizes, all scopes, noted blocks too). */
MEMLIFE_API uint64_t ml_session_live_bytes(const ml_session* session);

/* Requests: returns ML_OK or an error code. */
MEMLIFE_API int ml_request_begin(ml_session* session);
MEMLIFE_API int ml_request_end(ml_session* session);
/* Current request number (1-based; 0 before the first or between requests). */
MEMLIFE_API uint32_t ml_request_number(const ml_session* session);

/* Tells the allocator which filter notification is running (ML_NOTIFY_*). */
MEMLIFE_API int ml_set_notification(ml_session* session, uint32_t notification);

/* AllocMem: session-lifetime memory, aligned to alignof(max_align_t). */
MEMLIFE_API void* ml_alloc_mem(ml_session* session, uint32_t size, uint32_t reserved);
/* Request-lifetime memory, released by ml_request_end(). */
MEMLIFE_API void* ml_alloc_request(ml_session* session, uint32_t size);

/* Checks every live block's tail now; returns the corruptions found in the session so
 * far (each block is reported once). */
MEMLIFE_API size_t ml_check_session(ml_session* session);

/* Instrumentation of memory from other allocators (malloc, APR and nginx pools). */
MEMLIFE_API int ml_note_alloc(ml_session* session, const void* ptr, size_t size, int scope);
MEMLIFE_API int ml_note_free(ml_session* session, const void* ptr);

/* ---- global configuration ------------------------------------------------------ */
/* Handler for every corruption and leak report (NULL removes it). */
MEMLIFE_API void ml_set_report_handler(ml_report_fn fn, void* user);
/* Tail signature length for sessions opened from now on: 4..64 bytes (default 16). */
MEMLIFE_API int ml_set_tail_bytes(uint32_t bytes);
/* Guard-page mode for sessions opened from now on (the pageheap analog). */
MEMLIFE_API int ml_set_guard_pages(int enabled);
/* Default byte limit for sessions opened from now on (0 = none). */
MEMLIFE_API int ml_set_session_limit(uint64_t max_bytes);
/* Allocation and release events read the clock every `interval`-th time per session
 * (1..65536, default 16); the others carry the session's latest reading. Every other
 * event always reads it. 1 times every event exactly, at ~10 ns each. */
MEMLIFE_API int ml_set_clock_interval(uint32_t interval);
/* Call stacks for sessions opened from now on: every ml_alloc_mem, ml_alloc_request and
 * ml_note_alloc records the caller's stack, at most `depth` frames (0 = off, the default;
 * up to ML_STACK_DEPTH_MAX). Reports then carry the allocating stack, and a recorded trace
 * tells which code allocated each block. Costs an unwind per allocation (~10 ns a frame). */
MEMLIFE_API int ml_set_stack_depth(uint32_t depth);

/* ---- errors -------------------------------------------------------------------- */
MEMLIFE_API int ml_last_error(void);
MEMLIFE_API const char* ml_strerror(int code);

/* Library version, "MAJOR.MINOR.PATCH". */
MEMLIFE_API const char* ml_version(void);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* MEMLIFE_MEMLIFE_H */
