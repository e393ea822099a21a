#include <array>
#include <mutex>

#include "last_error.hpp"
#include "memlife/session.hpp"

namespace memlife {
namespace {

// A C handle is not a pointer: it encodes the slot and its generation, with the low bits
// set so that no real (aligned) pointer decodes as a handle. A closed session's handle
// then fails the generation check instead of touching reused memory.
constexpr std::uint64_t kHandleTag = 0x5;
constexpr std::uint32_t kChunkSlots = 1024;
constexpr std::uint32_t kMaxChunks = 4096; // 4M sessions open at once

std::uint64_t encode(std::uint32_t slot, std::uint32_t generation) {
    return (std::uint64_t{generation} << 32) | (std::uint64_t{slot} << 3) | kHandleTag;
}

} // namespace

struct Runtime::Slots {
    struct Entry {
        std::atomic<Session*> session{nullptr};
        std::atomic<std::uint32_t> generation{1};
        std::atomic<bool> open{false};
    };
    struct Chunk {
        std::array<Entry, kChunkSlots> entries;
    };
    std::array<std::atomic<Chunk*>, kMaxChunks> chunks{};
    mutable std::mutex mutex; // open/close only; lookups are lock-free
    std::vector<std::uint32_t> free_slots;
    std::uint32_t next_slot = 0;
    std::size_t open_count = 0;
    Config config;

    Entry* entry(std::uint32_t slot) const {
        if (slot / kChunkSlots >= kMaxChunks) return nullptr;
        Chunk* c = chunks[slot / kChunkSlots].load(std::memory_order_acquire);
        return c == nullptr ? nullptr : &c->entries[slot % kChunkSlots];
    }
    ~Slots() {
        for (auto& c : chunks) {
            Chunk* chunk = c.load();
            if (chunk == nullptr) continue;
            for (auto& e : chunk->entries)
                delete e.session.load();
            delete chunk;
        }
    }
};

Runtime::Runtime(Config config, EventSink* sink) : slots_(std::make_unique<Slots>()), sink_(sink) {
    if (validate(config) != ML_OK) config = Config{};
    slots_->config = config;
}

Runtime::~Runtime() {
    std::lock_guard lock(slots_->mutex);
    for (std::uint32_t s = 0; s < slots_->next_slot; ++s) {
        Slots::Entry* e = slots_->entry(s);
        if (e != nullptr && e->open.load()) e->session.load()->close();
    }
}

Runtime& Runtime::global() {
    static Runtime* runtime = new Runtime(); // never destroyed: usable from atexit and signals
    return *runtime;
}

Config Runtime::config() const {
    std::lock_guard lock(slots_->mutex);
    return slots_->config;
}

int Runtime::set_config(const Config& config) {
    if (validate(config) != ML_OK) return detail::fail(ML_ERR_BAD_CONFIG);
    std::lock_guard lock(slots_->mutex);
    slots_->config = config;
    return ML_OK;
}

void Runtime::set_sink(EventSink* sink) {
    sink_.store(sink, std::memory_order_release);
}

void Runtime::set_report_handler(ml_report_fn fn, void* user) {
    report_user_.store(user, std::memory_order_release);
    report_fn_.store(fn, std::memory_order_release);
}

void Runtime::deliver(const ml_report& report, EventSink* sink) const noexcept {
    if (sink != nullptr) sink->on_report(report);
    if (ml_report_fn fn = report_fn_.load(std::memory_order_acquire); fn != nullptr)
        fn(&report, report_user_.load(std::memory_order_acquire));
}

Session* Runtime::open(std::string_view peer) {
    return open(peer, 0);
}

Session* Runtime::open(std::string_view peer, std::uint64_t id) {
    if (id == 0) {
        id = next_session_id_.fetch_add(1);
    } else {
        std::uint64_t next = next_session_id_.load();
        while (next <= id && !next_session_id_.compare_exchange_weak(next, id + 1)) {
        }
    }
    Session* session = nullptr;
    Config config;
    {
        std::lock_guard lock(slots_->mutex);
        config = slots_->config;
        std::uint32_t slot;
        if (!slots_->free_slots.empty()) {
            slot = slots_->free_slots.back();
            slots_->free_slots.pop_back();
        } else {
            slot = slots_->next_slot;
            if (slot / kChunkSlots >= kMaxChunks)
                return detail::fail_null(ML_ERR_NOT_ENOUGH_MEMORY);
            auto& chunk = slots_->chunks[slot / kChunkSlots];
            if (chunk.load() == nullptr) {
                auto* c = new (std::nothrow) Slots::Chunk;
                if (c == nullptr) return detail::fail_null(ML_ERR_NOT_ENOUGH_MEMORY);
                chunk.store(c, std::memory_order_release);
            }
            ++slots_->next_slot;
        }
        Slots::Entry* e = slots_->entry(slot);
        session = e->session.load();
        if (session == nullptr) {
            session = new (std::nothrow) Session(*this);
            if (session == nullptr) {
                slots_->free_slots.push_back(slot);
                return detail::fail_null(ML_ERR_NOT_ENOUGH_MEMORY);
            }
            session->slot_ = slot;
            e->session.store(session, std::memory_order_release);
        }
        session->generation_ = e->generation.load();
        e->open.store(true, std::memory_order_release);
        ++slots_->open_count;
    }
    try {
        session->reset(id, peer, config, sink());
    } catch (const std::bad_alloc&) {
        close(session);
        return detail::fail_null(ML_ERR_NOT_ENOUGH_MEMORY);
    }
    return session;
}

void Runtime::close(Session* session) {
    if (session == nullptr) return;
    session->close();
    std::lock_guard lock(slots_->mutex);
    Slots::Entry* e = slots_->entry(session->slot_);
    if (e == nullptr || !e->open.load()) return;
    e->open.store(false, std::memory_order_release);
    e->generation.fetch_add(1, std::memory_order_acq_rel);
    slots_->free_slots.push_back(session->slot_);
    --slots_->open_count;
}

std::size_t Runtime::open_sessions() const {
    std::lock_guard lock(slots_->mutex);
    return slots_->open_count;
}

ml_session* Runtime::handle(const Session* session) const {
    return reinterpret_cast<ml_session*>(
        static_cast<std::uintptr_t>(encode(session->slot_, session->generation_)));
}

Session* Runtime::lookup(const ml_session* handle) const {
    const auto value = static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(handle));
    if ((value & 0x7) != kHandleTag) return detail::fail_null(ML_ERR_INVALID_CONTEXT);
    const auto slot = static_cast<std::uint32_t>((value & 0xFFFFFFFFu) >> 3);
    const auto generation = static_cast<std::uint32_t>(value >> 32);
    Slots::Entry* e = slots_->entry(slot);
    if (e == nullptr || e->session.load(std::memory_order_acquire) == nullptr)
        return detail::fail_null(ML_ERR_INVALID_CONTEXT);
    const std::uint32_t current = e->generation.load(std::memory_order_acquire);
    if (generation != current || !e->open.load(std::memory_order_acquire)) {
        // An older generation of this slot: a session that existed and was closed.
        return detail::set_last_error(generation < current ? ML_ERR_SESSION_CLOSED
                                                           : ML_ERR_INVALID_CONTEXT),
               nullptr;
    }
    return e->session.load(std::memory_order_acquire);
}

} // namespace memlife
