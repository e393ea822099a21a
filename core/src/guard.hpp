// Guard-page mode (the pageheap analog): every block gets its own mapping whose last page
// is PROT_NONE, and the block's end abuts that page, so the first byte written past it
// faults. A SIGSEGV handler maps the fault to the block and reports it before the process
// dies.
#pragma once

#include <cstddef>
#include <cstdint>

#include "memlife/session.hpp"

namespace memlife::detail {

struct GuardAllocation {
    void* mapping = nullptr;
    std::size_t mapping_len = 0;
    std::uint8_t* data = nullptr;
};

// Maps a block of `size` bytes whose end (rounded up to `align`) abuts a guard page.
// Returns false when the system refuses the mapping or the fault registry is full.
bool guard_allocate(std::size_t size, std::size_t align, GuardAllocation& out) noexcept;
// Registers the block for the fault handler (installing the handler on first use).
void guard_register(const GuardAllocation& allocation, Session* session,
                    const Session::Block& block) noexcept;
// Unmaps a block made by guard_allocate(size, align) whose data starts at `data`.
void guard_release(std::uint8_t* data, std::size_t size, std::size_t align) noexcept;
std::size_t guard_mapping_len(std::size_t size, std::size_t align) noexcept;

} // namespace memlife::detail
