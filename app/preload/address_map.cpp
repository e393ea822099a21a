#include "address_map.hpp"

namespace memlife::preload {

bool AddressMap::grow(Shard& s) noexcept {
    const std::uint64_t capacity = s.slots == nullptr ? 64 : (s.mask + 1) * 2;
    auto* slots = static_cast<BlockEntry*>(internal_calloc(capacity, sizeof(BlockEntry)));
    if (slots == nullptr) return false;
    BlockEntry* old = s.slots;
    const std::uint64_t old_capacity = old == nullptr ? 0 : s.mask + 1;
    s.slots = slots;
    s.mask = capacity - 1;
    for (std::uint64_t i = 0; i < old_capacity; ++i) {
        if (old[i].address == 0) continue;
        std::uint64_t at = home(s, hash(old[i].address));
        while (slots[at].address != 0)
            at = (at + 1) & s.mask;
        slots[at] = old[i];
    }
    internal_free(old);
    return true;
}

bool AddressMap::find(const Shard& s, std::uintptr_t address, std::uint64_t& at) noexcept {
    if (s.slots == nullptr) return false;
    for (at = home(s, hash(address)); s.slots[at].address != 0; at = (at + 1) & s.mask)
        if (s.slots[at].address == address) return true;
    return false;
}

// Backward-shift deletion: entries after the hole that may move closer to their home slot
// do, so lookups never need tombstones.
void AddressMap::erase_at(Shard& s, std::uint64_t at) noexcept {
    std::uint64_t hole = at;
    for (std::uint64_t next = (hole + 1) & s.mask; s.slots[next].address != 0;
         next = (next + 1) & s.mask) {
        const std::uint64_t ideal = home(s, hash(s.slots[next].address));
        // The entry at `next` may fill the hole unless its home lies cyclically in
        // (hole, next].
        const bool stays =
            hole <= next ? (ideal > hole && ideal <= next) : (ideal > hole || ideal <= next);
        if (stays) continue;
        s.slots[hole] = s.slots[next];
        hole = next;
    }
    s.slots[hole] = BlockEntry{};
    s.count.store(s.count.load(std::memory_order_relaxed) - 1, std::memory_order_relaxed);
}

bool AddressMap::insert(const BlockEntry& entry) noexcept {
    const std::uint64_t h = hash(entry.address);
    Shard& s = shard_of(h);
    Locked lock(s.lock);
    std::uint64_t at = 0;
    if (find(s, entry.address, at)) {
        s.slots[at] = entry;
        return true;
    }
    const std::uint64_t count = s.count.load(std::memory_order_relaxed);
    if ((s.slots == nullptr || (count + 1) * 2 > s.mask + 1) && !grow(s)) return false;
    for (at = home(s, h); s.slots[at].address != 0; at = (at + 1) & s.mask) {
    }
    s.slots[at] = entry;
    s.count.store(count + 1, std::memory_order_relaxed);
    return true;
}

bool AddressMap::take(std::uintptr_t address, BlockEntry& out) noexcept {
    Shard& s = shard_of(hash(address));
    if (s.count.load(std::memory_order_relaxed) == 0) return false;
    Locked lock(s.lock);
    std::uint64_t at = 0;
    if (!find(s, address, at)) return false;
    out = s.slots[at];
    erase_at(s, at);
    return true;
}

void AddressMap::take_owned(const Connection* owner, std::uint32_t generation,
                            InternalArray<BlockEntry>& out) noexcept {
    for (Shard& s : shards_) {
        Locked lock(s.lock);
        if (s.slots == nullptr || s.count.load(std::memory_order_relaxed) == 0) continue;
        const std::size_t first = out.size();
        for (std::uint64_t i = 0; i <= s.mask; ++i)
            if (s.slots[i].address != 0 && s.slots[i].owner == owner &&
                s.slots[i].generation == generation)
                out.push(s.slots[i]);
        for (std::size_t k = first; k < out.size(); ++k) {
            std::uint64_t at = 0;
            if (find(s, out[k].address, at)) erase_at(s, at);
        }
    }
}

void AddressMap::reset_after_fork() noexcept {
    for (Shard& s : shards_) {
        s.lock.reset();
        s.slots = nullptr;
        s.mask = 0;
        s.count.store(0, std::memory_order_relaxed);
    }
}

} // namespace memlife::preload
