// LD_PRELOAD=libmemlife_preload.so MEMLIFE_TRACE=TRACE PROGRAM, without `memlife record`:
// the first process starts the receiver itself (`memlife record --receive`).
#pragma once

namespace memlife::preload {

// With MEMLIFE_TRACE set and no receiver yet: starts one and returns its socket path
// (also exported as MEMLIFE_RECORD_SOCKET for the processes this one starts); otherwise
// nullptr.
const char* start_standalone_receiver() noexcept;
// In the process that started the receiver, at its exit: waits until the receiver has
// written the trace.
void finish_standalone() noexcept;
// In a forked child: only the first process holds the receiver's lifeline.
void standalone_after_fork_child() noexcept;

} // namespace memlife::preload
