/* memlife-demo: one keep-alive connection through the C API, as an ISAPI-style filter
 * would use it. Every request allocates session memory (AllocMem) - it is not freed at
 * END_OF_REQUEST, so the connection's memory grows - and request memory, which is.
 * Request 3 writes one byte past its block: the tail check catches it. */
#include <memlife/memlife.h>
#include <stdio.h>
#include <string.h>

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
    printf("memlife %s demo: one keep-alive connection, %d requests\n\n", ml_version(), requests);

    ml_session* connection = ml_session_open("127.0.0.1:50123");
    if (connection == NULL) {
        fprintf(stderr, "memlife-demo: cannot open a session: %s\n", ml_strerror(ml_last_error()));
        return 1;
    }
    for (int i = 1; i <= requests; ++i) {
        ml_request_begin(connection);
        ml_set_notification(connection, ML_NOTIFY_PREPROC_HEADERS);
        char* header_copy = ml_alloc_mem(connection, 2048, 0); /* session scope: stays */
        memset(header_copy, 'h', 2048);
        ml_set_notification(connection, ML_NOTIFY_URL_MAP);
        char* scratch = ml_alloc_request(connection, 4096); /* request scope: freed at end */
        memset(scratch, 's', 4096);
        ml_set_notification(connection, ML_NOTIFY_SEND_RESPONSE);
        char* status = ml_alloc_mem(connection, 15, 0);
        if (i == 3)
            strcpy(status, "HTTP/1.1 200 OK"); /* 15 characters + terminator: one byte too many */
        else
            memcpy(status, "HTTP/1.1 200 OK", 15);
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
