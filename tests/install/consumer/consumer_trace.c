/* A C server's connection recorded into a trace with memlife/trace.h. Usage: TRACE. */
#include <memlife/trace.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char** argv) {
    ml_session* s;
    int r;
    if (argc != 2) return 2;
    if (ml_trace_start(argv[1]) != ML_OK) {
        fprintf(stderr, "%s\n", ml_trace_error());
        return 1;
    }
    s = ml_session_open("127.0.0.1:40000");
    for (r = 0; r < 3; ++r) {
        char* copy;
        ml_request_begin(s);
        ml_set_notification(s, ML_NOTIFY_URL_MAP);
        copy = (char*)ml_alloc_mem(s, 16, 0); /* lives until the close: grows per request */
        memcpy(copy, "GET /index.html", 16);
        ml_request_end(s);
    }
    ml_session_close(s);
    if (ml_trace_stop() != ML_OK) {
        fprintf(stderr, "%s\n", ml_trace_error());
        return 1;
    }
    return 0;
}
