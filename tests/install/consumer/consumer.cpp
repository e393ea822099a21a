#include <memlife/session.hpp>

int main() {
    memlife::Runtime runtime;
    memlife::Session* s = runtime.open("consumer");
    s->request_begin();
    auto* p = static_cast<char*>(s->alloc_mem(8));
    p[8] = 0; // one past the end
    const bool caught = s->check() == 1;
    runtime.close(s);
    return caught ? 0 : 1;
}
