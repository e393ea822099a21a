/* memlife-demo: one keep-alive connection through the C API, as an ISAPI-style filter
 * would use it. Every request allocates session memory (AllocMem) - it is not freed at
 * END_OF_REQUEST, so the connection's memory grows - and request memory, which is.
 * Request 3 writes one byte past its block: the tail check catches it, and the report
 * names the function that allocated the block (call stacks are on). */
#define _GNU_SOURCE /* dladdr */
#include <dlfcn.h>
#include <memlife/memlife.h>
#include <stdio.h>
#include <string.h>

/* Each code path allocates in a function of its own (noinline: a frame of its own; not
 * static: -rdynamic exports it for dladdr), so that the allocating stacks tell them apart. */
char* copy_request_headers(ml_session* s);
char* url_scratch_buffer(ml_session* s);
char* format_status_line(ml_session* s, int off_by_one);

__attribute__((noinline)) char* copy_request_headers(ml_session* s) {
    char* copy = ml_alloc_mem(s, 2048, 0); /* session scope: stays until the close */
    memset(copy, 'h', 2048);
    return copy;
}

__attribute__((noinline)) char* url_scratch_buffer(ml_session* s) {
    char* scratch = ml_alloc_request(s, 4096); /* request scope: freed at END_OF_REQUEST */
    memset(scratch, 's', 4096);
    return scratch;
}

__attribute__((noinline)) char* format_status_line(ml_session* s, int off_by_one) {
    char* status = ml_alloc_mem(s, 15, 0);
    if (off_by_one)
        strcpy(status, "HTTP/1.1 200 OK"); /* 15 characters + terminator: one byte too many */
    else
        memcpy(status, "HTTP/1.1 200 OK", 15);
    return status;
}

/* The allocating function of a report's block, by its symbol (the demo is linked with
 * -rdynamic); memlife symbolize names it with its file and line in a trace. */
static const char* allocated_by(const ml_report* r) {
    Dl_info info;
    if (r->alloc_backtrace_len > 0 && dladdr(r->alloc_backtrace[0], &info) != 0 &&
        info.dli_sname != NULL)
        return info.dli_sname;
    return "(no stack recorded)";
}

static void print_report(const ml_report* r, void* user) {
    (void)user;
    if (r->kind == ML_REPORT_CORRUPTION) {
        printf("  !! CORRUPTION  %s\n", r->message);
        printf("     block %llu (%llu bytes) of session %llu, allocated in request %u, ",
               (unsigned long long)r->block_id, (unsigned long long)r->size,
               (unsigned long long)r->session_id, r->alloc_request);
        if (r->request != 0)
            printf("found in request %u\n", r->request);
        else
            printf("found between requests\n");
        printf("     first modified byte at +%u past the end, %u byte(s) modified\n",
               r->first_offset, r->modified_count);
        printf("     allocated by %s (%d frames recorded)\n", allocated_by(r),
               r->alloc_backtrace_len);
        printf("     expected:");
        for (uint32_t i = 0; i < r->tail_len; ++i)
            printf(" %02x", r->expected[i]);
        printf("\n     found:   ");
        for (uint32_t i = 0; i < r->tail_len; ++i)
            printf(" %02x", r->found[i]);
        printf("\n");
    } else {
        printf("  !! LEAK        %s\n", r->message);
    }
}

int main(void) {
    const int requests = 5;
    ml_set_report_handler(print_report, NULL);
    ml_set_stack_depth(16); /* every allocation records its caller's stack */
    printf("memlife %s demo: one keep-alive connection, %d requests\n\n", ml_version(), requests);

    ml_session* connection = ml_session_open("127.0.0.1:50123");
    if (connection == NULL) {
        fprintf(stderr, "memlife-demo: cannot open a session: %s\n", ml_strerror(ml_last_error()));
        return 1;
    }
    for (int i = 1; i <= requests; ++i) {
        ml_request_begin(connection);
        ml_set_notification(connection, ML_NOTIFY_PREPROC_HEADERS);
        copy_request_headers(connection);
        ml_set_notification(connection, ML_NOTIFY_URL_MAP);
        url_scratch_buffer(connection);
        ml_set_notification(connection, ML_NOTIFY_SEND_RESPONSE);
        format_status_line(connection, i == 3);
        ml_set_notification(connection, ML_NOTIFY_END_OF_REQUEST);
        printf("request %d: live bytes before END_OF_REQUEST %6llu", i,
               (unsigned long long)ml_session_live_bytes(connection));
        ml_request_end(connection);
        printf(", after %6llu  (connection memory keeps growing)\n",
               (unsigned long long)ml_session_live_bytes(connection));
        if (i == 4) {
            printf("\nml_check_session after request 4:\n");
            printf("  corruptions found so far: %zu\n\n", ml_check_session(connection));
        }
    }
    printf("\nEND_OF_NET_SESSION: releasing %llu bytes at once\n",
           (unsigned long long)ml_session_live_bytes(connection));
    ml_set_notification(connection, ML_NOTIFY_END_OF_NET_SESSION);
    ml_session_close(connection);
    printf("after close: ml_alloc_mem on the closed session -> %s\n",
           ml_alloc_mem(connection, 1, 0) == NULL ? ml_strerror(ml_last_error()) : "?");
    return 0;
}
