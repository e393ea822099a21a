// A thread inside libunwind, or walking the loader's list, holds the loader's lock
// (dl_iterate_phdr). A child forked at that moment inherits it held by a thread it does not
// have, and waits for it forever at its first unwind: a forking server (nginx's master and
// its workers) would hang. So memlife's walks hold this lock shared and fork takes it
// exclusively (stack_capture.cpp registers the handlers). The walks are the cache misses of
// a stack capture and the module list's rare changes: nothing a running server waits on.
#pragma once

#include <pthread.h>

namespace memlife {

extern pthread_rwlock_t g_loader_walk_lock;

class WalkingLoader {
public:
    WalkingLoader() noexcept { pthread_rwlock_rdlock(&g_loader_walk_lock); }
    ~WalkingLoader() { pthread_rwlock_unlock(&g_loader_walk_lock); }
    WalkingLoader(const WalkingLoader&) = delete;
    WalkingLoader& operator=(const WalkingLoader&) = delete;
};

} // namespace memlife
