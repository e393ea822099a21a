#include <memlife/memlife.h>
#include <string.h>

int main(void) {
    ml_session* s = ml_session_open("c consumer");
    char* p = (char*)ml_alloc_mem(s, 4, 0);
    memcpy(p, "abcd", 4);
    size_t corruptions = ml_check_session(s);
    ml_session_close(s);
    return corruptions == 0 ? 0 : 1;
}
