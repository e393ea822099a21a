// The call stacks of the allocations a connection makes (memlife record --stacks N, or
// MEMLIFE_STACKS=N with MEMLIFE_TRACE; 16 frames unless told, 0: off). Captured with the
// core's capture_stack into this process's stack tree; the stream sends the tree's new
// nodes before the events that name them, and the loaded modules before the nodes in
// them (docs/record.md, "Call stacks").
#pragma once

#include <cstdint>

#include "memlife/stacks.hpp"

namespace memlife::preload {

// Reads MEMLIFE_STACKS. At start, before any hook records.
void init_stacks() noexcept;
bool stacks_on() noexcept;

// The stack of the allocation being hooked (the program's frames: the hook's own are
// skipped); 0 when stacks are off or the stack cannot be sent (see stack_nodes_ready).
StackId capture_allocation_stack() noexcept;

// Nodes 1..this may be sent: the modules they are in were sent before. The stream sends
// no node beyond it, and an event never names one.
std::uint32_t stack_nodes_ready() noexcept;

// fork: no module check runs across it (it walks the loader's list, see core's
// loader_walk.hpp). The child has a stream of its own: it sends its modules (and the nodes
// it inherited) again.
void stacks_prepare_fork() noexcept;
void stacks_parent_after_fork() noexcept;
void stacks_after_fork_child() noexcept;

// libunwind (under capture_stack) checks addresses with a read and a write on a pipe of its
// own, made on the first capture and again whenever a check finds it gone. A daemon that
// closes every descriptor closes that pipe too, and may give its numbers to its sockets:
// libunwind would then read a byte off the program's connection. So the hooks tell these
// functions what happens to the pipe, and refuse libunwind's next use of a number the
// program has closed (it then makes a new pipe). docs/record.md, "Call stacks".
void note_unwinder_pipe(const int fds[2]) noexcept; // pipe2 called inside memlife
void program_closed(unsigned first, unsigned last) noexcept;
// A read, write or close from inside memlife on an unwinder descriptor the program has
// closed since: read and write fail with EBADF, close does nothing.
bool refused_unwinder_fd(int fd) noexcept;

} // namespace memlife::preload
