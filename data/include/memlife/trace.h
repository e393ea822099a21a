/*
 * memlife/trace.h - record the C API's sessions into a trace file (memlife_data).
 *
 * This header is a contract: names and values only ever grow.
 *
 * Between ml_trace_start() and ml_trace_stop(), every session opened with
 * ml_session_open() is recorded into the trace: its requests, notifications, allocations,
 * releases, corruptions and leaks, in the SQLite format that `memlife report`, `memlife
 * check` and memlife-gui read (docs/trace-format.md). Sessions opened before the start are
 * not recorded. The recorder commits at least every 100 ms. Call ml_trace_stop() before
 * the process ends: it leaves one self-contained file. A process that exits or is killed
 * without it keeps everything up to its last commit, in the trace and its "-wal" file
 * next to it (keep them together).
 *
 * Link: with CMake, memlife::data; by hand, -lmemlife_data -lmemlife_core -lsqlite3
 * -lstdc++ -lpthread -lm (memlife_data is a static C++ library).
 *
 * Functions return ML_OK or an error code (memlife.h) and set ml_last_error() on failure.
 * They may be called from any thread; one recording at a time per process.
 */
#ifndef MEMLIFE_TRACE_H
#define MEMLIFE_TRACE_H

#include "memlife/memlife.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Creates (or replaces) the trace at path and records the sessions opened from now on.
 * ML_ERR_INVALID_PARAMETER: path is NULL or empty; ML_ERR_TRACE_ACTIVE: already recording;
 * ML_ERR_TRACE_IO: the file cannot be created (ml_trace_error() says why). */
MEMLIFE_API int ml_trace_start(const char* path);

/* Commits everything the sessions have handed over (each hands its events over at every
 * request end, when its buffer fills and at close). ML_ERR_NO_TRACE: not recording;
 * ML_ERR_TRACE_IO: a write has failed (see ml_trace_status()). */
MEMLIFE_API int ml_trace_flush(void);

/* Whether the recording still works: ML_OK; ML_ERR_TRACE_IO once a write has failed (a full
 * disk, a file-size limit, an I/O error; ml_trace_error() says why), from then on the
 * sessions' events are discarded and the trace keeps what was committed before (it opens,
 * and `memlife report` calls it an incomplete recording); ML_ERR_NO_TRACE: not recording.
 * Cheap (no lock, no I/O): a server may call it per request or per connection and stop,
 * or carry on unrecorded, at once instead of learning it at ml_trace_stop(). */
MEMLIFE_API int ml_trace_status(void);

/* Ends the recording: the trace is complete and closed. Every session must be closed
 * first (a session keeps the recording it was opened with): ML_ERR_SESSIONS_OPEN leaves
 * the recording running. ML_ERR_NO_TRACE: not recording; ML_ERR_TRACE_IO: the final
 * commit failed (the recording is ended anyway). */
MEMLIFE_API int ml_trace_stop(void);

/* The last recording error of this process as one line, "PATH: reason" ("" if none).
 * Valid until the next ml_trace_* call. */
MEMLIFE_API const char* ml_trace_error(void);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* MEMLIFE_TRACE_H */
