// Which connection each live block belongs to, by address: written by the allocating
// thread, read and erased by whichever thread frees the block. On the path of every free,
// so hand-written: 64 shards, each an open-addressing table (linear probing, backward-shift
// deletion, no tombstones) behind its own spin lock; a free of memory no connection owns
// costs a hash, an uncontended lock and one or two probes. See docs/record.md.
#pragma once

#include <cstdint>

#include "preload.hpp"

namespace memlife::preload {

struct BlockEntry {
    std::uintptr_t address = 0; // 0: an empty slot
    std::uint64_t size = 0;
    Connection* owner = nullptr;
    std::uint32_t block = 0;      // block id within the owner's session
    std::uint32_t generation = 0; // the owner's generation when allocated
    std::uint32_t request = 0;    // request running when allocated (0: none)
    std::uint32_t stack = 0;      // its allocating stack (0: none)
};

// A growable array in memory from the real allocator (memlife's own bookkeeping).
template <class T> class InternalArray {
public:
    InternalArray() = default;
    ~InternalArray() { internal_free(data_); }
    InternalArray(const InternalArray&) = delete;
    InternalArray& operator=(const InternalArray&) = delete;
    bool push(const T& value) noexcept {
        if (size_ == capacity_) {
            const std::size_t grown = capacity_ == 0 ? 16 : capacity_ * 2;
            void* p = internal_realloc(data_, grown * sizeof(T));
            if (p == nullptr) return false;
            data_ = static_cast<T*>(p);
            capacity_ = grown;
        }
        data_[size_++] = value;
        return true;
    }
    void pop() noexcept { --size_; }
    std::size_t size() const noexcept { return size_; }
    T& operator[](std::size_t i) noexcept { return data_[i]; }
    void clear() noexcept { size_ = 0; }

private:
    T* data_ = nullptr;
    std::size_t size_ = 0, capacity_ = 0;
};

class AddressMap {
public:
    // Adds (or replaces: a free the hooks did not see, e.g. from inside memlife) an entry.
    // False when out of memory: the block is then not recorded.
    bool insert(const BlockEntry& entry) noexcept;
    // Removes the entry at `address` into `out`; false when no connection owns it.
    bool take(std::uintptr_t address, BlockEntry& out) noexcept;
    // Removes every entry of `owner` at `generation`, appending them to `out`.
    void take_owned(const Connection* owner, std::uint32_t generation,
                    InternalArray<BlockEntry>& out) noexcept;
    // In a forked child: starts empty (the parent's blocks are the child's process memory;
    // the old tables are left behind, another thread may have been changing them).
    void reset_after_fork() noexcept;

private:
    static constexpr unsigned kShardBits = 6;
    struct alignas(64) Shard {
        SpinLock lock;
        BlockEntry* slots = nullptr;
        std::uint64_t mask = 0; // capacity - 1
        // Written under the lock; read without it by take(), which skips an empty shard
        // (a free reaches take() after the insert of its block: the program passed the
        // pointer from the allocating thread to the freeing one).
        std::atomic<std::uint64_t> count{0};
    };
    static std::uint64_t hash(std::uintptr_t address) noexcept {
        return (address >> 4) * 0x9E3779B97F4A7C15ull;
    }
    Shard& shard_of(std::uint64_t h) noexcept { return shards_[h >> (64 - kShardBits)]; }
    static std::uint64_t home(const Shard& s, std::uint64_t h) noexcept {
        return (h >> 16) & s.mask;
    }
    static bool grow(Shard& s) noexcept;
    static bool find(const Shard& s, std::uintptr_t address, std::uint64_t& at) noexcept;
    static void erase_at(Shard& s, std::uint64_t at) noexcept;

    Shard shards_[1u << kShardBits];
};

} // namespace memlife::preload
