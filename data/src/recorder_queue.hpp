// The recorder's producer queue. The instrumented threads append 48-byte records to their
// own buffer (a chain of fixed-size chunks, single producer / single consumer: a copy and
// one release store, no lock, no SQLite); a session's batch goes in as slim runs, three
// events per record (slim_run.hpp). Peer labels and reports travel through the same
// buffers as side records, so they keep their place in the stream and need no lock. The
// consumer (the writer loop) drains every buffer into a TraceWriter.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "codec.hpp"
#include "memlife/data/recorder.hpp"
#include "slim_run.hpp"

namespace memlife::data {

class TraceWriter;

class EventQueue {
public:
    using Clock = std::chrono::steady_clock;

    // `wake_consumer` is called (from a producer thread) when a chunk is published.
    EventQueue(BackPressure back_pressure, std::size_t max_buffered_events,
               std::function<void()> wake_consumer);
    ~EventQueue();
    EventQueue(const EventQueue&) = delete;
    EventQueue& operator=(const EventQueue&) = delete;

    // ---- producers (any thread) --------------------------------------------------------
    // The hot path: a TLS load, a compare, a 48-byte copy and a release store.
    void push(const Event& event) noexcept {
        if (tls_.queue_id == id_) [[likely]] {
            ThreadBuffer& b = *tls_.buffer;
            const std::uint32_t n = b.write_index;
            if (n < kChunkEvents) [[likely]] {
                copy_words(b.write_chunk->records[n], &event);
                b.write_chunk->count.store(n + 1, std::memory_order_release);
                b.write_index = n + 1;
                return;
            }
        }
        append(&event, false);
    }
    // A session's batch: packed into slim runs in the chunk, one release store.
    void push(const Event* events, std::size_t count) noexcept {
        if (tls_.queue_id == id_) [[likely]] {
            ThreadBuffer& b = *tls_.buffer;
            const std::uint32_t n = b.write_index;
            if (count < kChunkEvents - n) [[likely]] { // pack() needs count + 1 records of room
                b.write_index = n + static_cast<std::uint32_t>(
                                        slim::pack(events, count, b.write_chunk->records + n));
                b.write_chunk->count.store(b.write_index, std::memory_order_release);
                return;
            }
        }
        for (std::size_t i = 0; i < count; ++i) // across a chunk boundary (or the first call)
            append(&events[i], false);
    }
    // A session's batch with the stacks of its Allocs (stacks[i] for events[i]): the stacks
    // go first as a side record, the events as push() sends them.
    void push_stacked(const Event* events, const StackId* stacks, std::size_t count) noexcept;
    void push_peer(std::uint64_t session, std::string_view peer) noexcept;
    void push_report(const ml_report& report) noexcept;

    // Events dropped by back-pressure so far (BackPressure::Drop).
    std::uint64_t dropped();
    // From now on appends are refused, and producers waiting for room return.
    void close();

    // ---- the consumer (one thread at a time) --------------------------------------------
    // Feeds what the producers have published to `writer`; true if there was anything.
    // Without `partial`, only full chunks. Stops taking chunks once `deadline` has passed.
    bool drain_all(TraceWriter& writer, bool partial,
                   Clock::time_point deadline = Clock::time_point::max());
    // After a write failure: keeps draining so producers never block, and keeps nothing.
    void discard_all();
    // A full chunk is waiting (a seq_cst load: see wake_consumer in recorder_queue.cpp).
    bool full_chunk_waiting();

private:
    static constexpr std::uint32_t kChunkEvents = 4096;

    struct Chunk {
        // Raw storage: a chunk is recycled, never constructed per use.
        alignas(64) unsigned char records[kChunkEvents][sizeof(Event)];
        // Separate cache lines: the producer stores `count` per record, the consumer polls
        // `next` (set once per chunk); sharing a line would bounce it between the cores.
        alignas(64) std::atomic<std::uint32_t> count{0};
        alignas(64) std::atomic<Chunk*> next{nullptr};
    };

    // One thread's records for one queue: a chain of chunks from the consumer's read
    // position to the producer's write position.
    struct ThreadBuffer {
        ThreadBuffer(std::uint64_t queue, Chunk* first)
            : queue_id(queue), write_chunk(first), read_chunk(first) {}
        ~ThreadBuffer();
        const std::uint64_t queue_id;
        std::atomic<bool> abandoned{false};    // the thread has exited
        std::atomic<bool> queue_alive{true};   // false once the queue is gone
        std::atomic<std::uint64_t> dropped{0}; // written by the producer, read by anyone

        // Producer side.
        alignas(64) Chunk* write_chunk;
        std::uint32_t write_index = 0;
        std::uint64_t unreported_drops = 0; // dropped since the last Drop record

        // Consumer side.
        alignas(64) Chunk* read_chunk;
        std::uint32_t read_index = 0;
        std::uint8_t side_type = 0;
        std::uint64_t side_session = 0;
        std::size_t side_remaining = 0;
        std::string side_bytes;
        codec::StackFeed stacks; // of the session batch that follows
    };

    // The hot path's cache: which buffer this thread uses for which queue. Trivial and
    // constinit, so access is a plain TLS load (no guard, no wrapper call).
    struct TlsCache {
        std::uint64_t queue_id = 0;
        ThreadBuffer* buffer = nullptr;
    };
    static constinit thread_local TlsCache tls_;
    struct TlsOwner;

    // Copies the event as the producer wrote it, 8 bytes at a time. Session::emit fills the
    // Event field by field just before this call; 16-byte loads spanning two of those
    // stores cannot be forwarded from the store buffer and stall (~17 ns per event
    // measured), while 8-byte loads are forwarded. The empty asm keeps the compiler from
    // merging the words.
    static void copy_words(unsigned char* to, const Event* event) noexcept {
        const auto* from = reinterpret_cast<const unsigned char*>(event);
        for (std::size_t i = 0; i < sizeof(Event); i += 8) {
            std::uint64_t word;
            std::memcpy(&word, from + i, 8);
            asm volatile("" : "+r"(word));
            std::memcpy(to + i, &word, 8);
        }
    }

    // Producer side (recorder_queue.cpp).
    bool append(const void* record, bool side) noexcept;
    void append_side(std::uint8_t type, std::uint64_t session, const void* bytes,
                     std::size_t size) noexcept;
    ThreadBuffer* buffer_for_this_thread();
    bool next_chunk(ThreadBuffer& b, bool side);
    static void put(ThreadBuffer& b, const void* record);
    Chunk* take_chunk();
    void recycle(Chunk* c);

    // Consumer side.
    bool drain(ThreadBuffer& b, TraceWriter& writer, bool partial, Clock::time_point deadline,
               bool& complete);
    void process(ThreadBuffer& b, TraceWriter& writer, const unsigned char* record);
    void add_slim_run(TraceWriter& writer, const Event& header, const slim::Record* entries,
                      const codec::StackFeed* stacks);
    static void deliver_side(ThreadBuffer& b, TraceWriter& writer);

    const std::uint64_t id_;
    const BackPressure back_pressure_;
    const std::uint64_t max_chunks_in_flight_;
    const std::function<void()> wake_consumer_;

    std::mutex registry_mutex_;
    std::vector<std::shared_ptr<ThreadBuffer>> buffers_;
    std::uint64_t dropped_at_stop_ = 0; // by buffers whose thread has exited

    // First in, first out: the chunk the consumer read last is still in its core's cache;
    // the producer reuses the oldest one.
    std::mutex pool_mutex_;
    std::deque<Chunk*> pool_;
    std::atomic<std::uint64_t> chunks_in_flight_{0}; // filled chunks not yet recycled

    std::mutex space_mutex_; // back-pressure = block
    std::condition_variable space_cv_;
    std::atomic<int> space_waiters_{0};
    std::atomic<bool> closed_{false};

    std::size_t drain_round_ = 0; // drain_all's first buffer (consumer only)
    std::vector<Event> expanded_; // a slim run's events (consumer only)
};

} // namespace memlife::data
