/* The C API used from C: each function returns 0 when every expectation held, or the
 * number of the first expectation that failed (so the driving test can say which). */
#include <memlife/memlife.h>
#include <stdint.h>
#include <string.h>

static int g_reports;
static ml_report g_last;

static void on_report(const ml_report* report, void* user) {
    (void)user;
    ++g_reports;
    g_last = *report;
}

int c_api_alloc_mem_rules(void) {
    ml_session* s = ml_session_open("127.0.0.1:1");
    if (s == NULL) return 1;
    if (ml_alloc_mem(s, 16, 7) != NULL || ml_last_error() != ML_ERR_INVALID_PARAMETER) return 2;
    if (ml_alloc_mem(s, 0, 0) != NULL || ml_last_error() != ML_ERR_ZERO_SIZE) return 3;
    if (ml_alloc_mem(s, UINT32_MAX, 0) != NULL || ml_last_error() != ML_ERR_SIZE_OVERFLOW) return 4;
    if (ml_session_set_limit(s, 64) != ML_OK) return 5;
    if (ml_alloc_mem(s, 100, 0) != NULL || ml_last_error() != ML_ERR_LIMIT_EXCEEDED) return 6;
    if (ml_session_set_limit(s, 0) != ML_OK) return 7;
    void* p = ml_alloc_mem(s, 100, 0);
    if (p == NULL || ((uintptr_t)p % 16) != 0) return 8;
    memset(p, 1, 100);
    if (ml_alloc_request(s, 10) != NULL || ml_last_error() != ML_ERR_NO_REQUEST) return 9;
    if (ml_request_begin(s) != ML_OK || ml_request_number(s) != 1) return 10;
    if (ml_alloc_request(s, 10) == NULL) return 11;
    if (ml_session_live_bytes(s) != 110) return 12;
    if (ml_request_end(s) != ML_OK || ml_session_live_bytes(s) != 100) return 13;
    ml_session_close(s);
    /* The handle is dead now: every call says so, none crashes. */
    if (ml_alloc_mem(s, 16, 0) != NULL || ml_last_error() != ML_ERR_SESSION_CLOSED) return 14;
    if (ml_request_begin(s) != ML_ERR_SESSION_CLOSED) return 15;
    ml_session_close(s);
    if (ml_last_error() != ML_ERR_SESSION_CLOSED) return 16;
    if (ml_alloc_mem(NULL, 16, 0) != NULL || ml_last_error() != ML_ERR_INVALID_CONTEXT) return 17;
    int not_a_session = 0;
    if (ml_alloc_mem((ml_session*)&not_a_session, 16, 0) != NULL ||
        ml_last_error() != ML_ERR_INVALID_CONTEXT)
        return 18;
    return 0;
}

int c_api_reports(void) {
    ml_set_report_handler(on_report, NULL);
    g_reports = 0;
    ml_session* s = ml_session_open("127.0.0.1:2");
    if (ml_request_begin(s) != ML_OK) return 1;
    if (ml_set_notification(s, ML_NOTIFY_URL_MAP) != ML_OK) return 2;
    if (ml_set_notification(s, 12345) != ML_ERR_INVALID_PARAMETER) return 3;
    char* p = (char*)ml_alloc_mem(s, 8, 0);
    strcpy(p, "overflow"); /* 9 bytes into 8 */
    if (ml_check_session(s) != 1 || g_reports != 1) return 4;
    if (g_last.kind != ML_REPORT_CORRUPTION || g_last.size != 8 || g_last.first_offset != 0)
        return 5;
    if (g_last.alloc_notification != ML_NOTIFY_URL_MAP) return 6;
    if (strstr(g_last.message, "past requested size of 8") == NULL) return 7;

    static char pool_block[256];
    if (ml_note_alloc(s, pool_block, sizeof pool_block, ML_SCOPE_REQUEST) != ML_OK) return 8;
    if (ml_note_alloc(s, pool_block, 1, ML_SCOPE_REQUEST) != ML_ERR_DUPLICATE_POINTER) return 9;
    if (ml_note_alloc(s, pool_block + 1, 1, 7) != ML_ERR_INVALID_PARAMETER) return 10;
    if (ml_note_free(s, pool_block + 2) != ML_ERR_UNKNOWN_POINTER) return 11;
    if (ml_request_end(s) != ML_OK) return 12;
    if (g_reports != 2 || g_last.kind != ML_REPORT_LEAK || g_last.size != 256) return 13;
    ml_session_close(s);
    ml_set_report_handler(NULL, NULL);
    return 0;
}

int c_api_strerror(void) {
    int codes[] = {ML_OK,
                   ML_ERR_INVALID_PARAMETER,
                   ML_ERR_NOT_ENOUGH_MEMORY,
                   ML_ERR_INVALID_CONTEXT,
                   ML_ERR_SESSION_CLOSED,
                   ML_ERR_ZERO_SIZE,
                   ML_ERR_SIZE_OVERFLOW,
                   ML_ERR_LIMIT_EXCEEDED,
                   ML_ERR_NO_REQUEST,
                   ML_ERR_REQUEST_ACTIVE,
                   ML_ERR_UNKNOWN_POINTER,
                   ML_ERR_DUPLICATE_POINTER,
                   ML_ERR_BAD_CONFIG};
    int n = (int)(sizeof codes / sizeof codes[0]);
    for (int i = 0; i < n; ++i)
        for (int j = i + 1; j < n; ++j)
            if (strcmp(ml_strerror(codes[i]), ml_strerror(codes[j])) == 0) return 1;
    if (strcmp(ml_strerror(-42), "unknown error") != 0) return 2;
    if (ml_set_tail_bytes(3) != ML_ERR_BAD_CONFIG || ml_set_tail_bytes(65) != ML_ERR_BAD_CONFIG)
        return 3;
    if (ml_set_tail_bytes(32) != ML_OK) return 4;
    ml_session* s = ml_session_open(NULL);
    unsigned char* p = (unsigned char*)ml_alloc_mem(s, 4, 0);
    p[4 + 31] ^= 0xFF; /* the 32nd tail byte is checked now */
    size_t found = ml_check_session(s);
    ml_session_close(s);
    ml_set_tail_bytes(16);
    if (found != 1) return 5;
    if (ml_set_clock_interval(0) != ML_ERR_BAD_CONFIG ||
        ml_set_clock_interval(65537) != ML_ERR_BAD_CONFIG)
        return 6;
    if (ml_set_clock_interval(1) != ML_OK || ml_set_clock_interval(16) != ML_OK) return 7;
    return 0;
}

/* A C server's allocation site, for the stack test. */
__attribute__((noinline)) static char* copy_header(ml_session* s, uint32_t size) {
    char* p = (char*)ml_alloc_mem(s, size, 0);
    __asm__ volatile("" ::: "memory"); /* keeps this frame (no tail call) */
    return p;
}

int c_api_stacks(void) {
    if (ml_set_stack_depth(ML_STACK_DEPTH_MAX + 1) != ML_ERR_BAD_CONFIG) return 1;
    if (ml_set_stack_depth(16) != ML_OK) return 2;
    ml_set_report_handler(on_report, NULL);
    g_reports = 0;
    ml_session* s = ml_session_open("127.0.0.1:3");
    char* p = copy_header(s, 8);
    if (p == NULL) return 3;
    memcpy(p, "overflow", 9); /* 9 bytes into 8 */
    if (ml_check_session(s) != 1 || g_reports != 1) return 4;
    ml_session_close(s);
    ml_set_report_handler(NULL, NULL);
    ml_set_stack_depth(0);
    /* The report names the allocating stack, innermost first: copy_header's call. */
    if (g_last.alloc_stack_id == 0 || g_last.alloc_backtrace_len < 2) return 5;
    uintptr_t site = (uintptr_t)g_last.alloc_backtrace[0], begin = (uintptr_t)&copy_header;
    if (site <= begin || site > begin + 4096) return 6;
    return 0;
}
