// The recorder's two halves. The instrumented threads append 48-byte records to their own
// buffer (a chain of fixed-size chunks, single producer / single consumer: a copy and one
// release store, no lock, no SQLite); a session's batch goes in as slim runs, three events
// per record (slim_run.hpp). The writer thread drains every buffer, at once when a
// chunk fills and at least every flush interval, and feeds a TraceWriter.
#include "memlife/data/recorder.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <deque>
#include <mutex>
#include <new>
#include <stdexcept>
#include <thread>
#include <vector>

#include "slim_run.hpp"
#include "store.hpp"
#include "trace_writer.hpp"

namespace memlife::data {

namespace {

constexpr std::uint32_t kChunkEvents = 4096;
constexpr std::size_t kPoolChunks = 64; // recycled chunks kept for reuse

// Records that are not events travel through the same buffers, so that they keep their
// place in the stream and need no lock: a header record (kind kSideRecord, flags = type,
// session, size = byte length) followed by the bytes, 48 per record.
constexpr auto kSideRecord = static_cast<EventKind>(0xF0);
enum SideType : std::uint8_t { kPeer = 1, kReport = 2 };
constexpr std::size_t kMaxPeer = 1024;

// A report travels as its ml_report up to the backtrace (which a trace does not keep),
// followed by the message's bytes.
constexpr std::size_t kReportPrefix = offsetof(ml_report, backtrace_len);

struct Chunk {
    // Raw storage: a chunk is recycled, never constructed per use.
    alignas(64) unsigned char records[kChunkEvents][sizeof(Event)];
    // Separate cache lines: the producer stores `count` per record, the writer polls
    // `next` (set once per chunk); sharing a line would bounce it between the cores.
    alignas(64) std::atomic<std::uint32_t> count{0};
    alignas(64) std::atomic<Chunk*> next{nullptr};
};

std::atomic<std::uint64_t> next_recorder_id{1};

// One thread's records for one recorder: a chain of chunks from the writer's read
// position to the producer's write position.
struct ThreadBuffer {
    ThreadBuffer(std::uint64_t recorder, Chunk* first)
        : recorder_id(recorder), write_chunk(first), read_chunk(first) {}
    ~ThreadBuffer() {
        for (Chunk* c = read_chunk; c != nullptr;) {
            Chunk* next = c->next.load(std::memory_order_relaxed);
            delete c;
            c = next;
        }
    }
    const std::uint64_t recorder_id;
    std::atomic<bool> abandoned{false};     // the thread has exited
    std::atomic<bool> recorder_alive{true}; // false once the recorder is gone
    std::atomic<std::uint64_t> dropped{0};  // written by the producer, read by anyone

    // Producer side.
    alignas(64) Chunk* write_chunk;
    std::uint32_t write_index = 0;
    std::uint64_t unreported_drops = 0; // dropped since the last Drop record

    // Consumer side (writer thread).
    alignas(64) Chunk* read_chunk;
    std::uint32_t read_index = 0;
    std::uint8_t side_type = 0;
    std::uint64_t side_session = 0;
    std::size_t side_remaining = 0;
    std::string side_bytes;
};

// The hot path's cache: which buffer this thread uses for which recorder. Trivial, so
// access is a plain TLS load (no guard, no constructor call).
struct TlsCache {
    std::uint64_t recorder_id = 0;
    ThreadBuffer* buffer = nullptr;
};
thread_local TlsCache tls_cache;

// Owns this thread's buffers; at thread exit marks them abandoned so the writer drains
// and drops them.
struct TlsOwner {
    std::vector<std::shared_ptr<ThreadBuffer>> buffers;
    ~TlsOwner() {
        for (auto& b : buffers)
            b->abandoned.store(true, std::memory_order_release);
        tls_cache = {};
    }
};
thread_local TlsOwner tls_owner;

} // namespace

using Clock = std::chrono::steady_clock;

struct Recorder::Impl {
    const std::uint64_t id = next_recorder_id.fetch_add(1);
    RecorderOptions options;
    std::string path;       // the trace as the caller named it
    std::string write_path; // where SQLite writes (a temporary name when atomic)
    store::Database db;
    std::unique_ptr<TraceWriter> writer;

    std::mutex registry_mutex;
    std::vector<std::shared_ptr<ThreadBuffer>> buffers;

    // First in, first out: the chunk the writer read last is still in the writer core's
    // cache; the producer reuses the oldest one.
    std::mutex pool_mutex;
    std::deque<Chunk*> pool;
    std::atomic<std::uint64_t> chunks_in_flight{0}; // filled chunks not yet recycled
    std::uint64_t max_chunks_in_flight = 1;

    std::mutex space_mutex; // back-pressure = block
    std::condition_variable space_cv;
    std::atomic<int> space_waiters{0};

    std::mutex control_mutex; // writer thread control
    std::condition_variable writer_cv, flushed_cv;
    std::atomic<bool> writer_waiting{false};
    bool work_hint = false, stop = false, writer_exited = false;
    std::uint64_t flush_requested = 0, flush_done = 0;
    std::string error; // first writer failure
    std::thread thread;

    std::size_t drain_round = 0; // drain_all's first buffer (writer thread only)
    std::vector<Event> expanded; // a slim run's events (writer thread only)
    std::atomic<bool> closed{false};
    bool finished = false;
    std::atomic<std::uint64_t> skipped_lines{0}, malformed_lines{0};
    std::uint64_t dropped_at_stop = 0;

    ~Impl() {
        for (auto& b : buffers)
            b->recorder_alive.store(false, std::memory_order_release);
        buffers.clear();
        for (Chunk* c : pool)
            delete c;
    }

    // ---- producer side ------------------------------------------------------------
    ThreadBuffer* buffer_for_this_thread() {
        auto& owned = tls_owner.buffers;
        std::erase_if(owned, [](const std::shared_ptr<ThreadBuffer>& b) {
            return !b->recorder_alive.load(std::memory_order_acquire);
        });
        for (auto& b : owned)
            if (b->recorder_id == id) return tls_cache = {id, b.get()}, b.get();
        auto buffer = std::make_shared<ThreadBuffer>(id, take_chunk());
        {
            std::lock_guard lock(registry_mutex);
            buffers.push_back(buffer);
        }
        owned.push_back(buffer);
        tls_cache = {id, buffer.get()};
        return buffer.get();
    }

    Chunk* take_chunk() {
        {
            std::lock_guard lock(pool_mutex);
            if (!pool.empty()) {
                Chunk* c = pool.front();
                pool.pop_front();
                return c;
            }
        }
        return new Chunk;
    }

    void recycle(Chunk* c) {
        c->count.store(0, std::memory_order_relaxed);
        c->next.store(nullptr, std::memory_order_relaxed);
        {
            std::lock_guard lock(pool_mutex);
            if (pool.size() < kPoolChunks) {
                pool.push_back(c);
                c = nullptr;
            }
        }
        delete c;
        chunks_in_flight.fetch_sub(1, std::memory_order_release);
        if (space_waiters.load(std::memory_order_acquire) > 0) {
            std::lock_guard lock(space_mutex);
            space_cv.notify_all();
        }
    }

    // After publishing a chunk (a seq_cst store of `next`): the writer stores writer_waiting
    // and then loads `next`, all four seq_cst, so either it sees the chunk or this sees it
    // waiting (no fence: TSan does not model fences).
    void wake_writer() {
        if (writer_waiting.load(std::memory_order_seq_cst)) {
            std::lock_guard lock(control_mutex);
            work_hint = true;
            writer_cv.notify_one();
        }
    }

    // The current chunk is full: chain a new one, unless back-pressure says otherwise.
    // `side` records (peer labels, reports) are never dropped.
    bool next_chunk(ThreadBuffer& b, bool side) {
        if (chunks_in_flight.load(std::memory_order_acquire) >= max_chunks_in_flight) {
            if (options.back_pressure == BackPressure::Drop && !side) return false;
            if (options.back_pressure == BackPressure::Block) {
                wake_writer();
                space_waiters.fetch_add(1, std::memory_order_acq_rel);
                std::unique_lock lock(space_mutex);
                while (chunks_in_flight.load(std::memory_order_acquire) >= max_chunks_in_flight &&
                       !closed.load(std::memory_order_acquire))
                    space_cv.wait_for(lock, std::chrono::milliseconds(10));
                space_waiters.fetch_sub(1, std::memory_order_acq_rel);
            }
        }
        Chunk* c = take_chunk();
        chunks_in_flight.fetch_add(1, std::memory_order_relaxed);
        b.write_chunk->next.store(c, std::memory_order_seq_cst); // see wake_writer()
        b.write_chunk = c;
        b.write_index = 0;
        wake_writer();
        return true;
    }

    void put(ThreadBuffer& b, const void* record) {
        std::memcpy(b.write_chunk->records[b.write_index], record, sizeof(Event));
        b.write_chunk->count.store(++b.write_index, std::memory_order_release);
    }

    // Appends one record; false when dropped.
    bool append(const void* record, bool side) {
        if (closed.load(std::memory_order_acquire)) return false;
        ThreadBuffer* b = tls_cache.recorder_id == id ? tls_cache.buffer : buffer_for_this_thread();
        if (b->write_index == kChunkEvents) {
            if (!next_chunk(*b, side)) {
                ++b->unreported_drops;
                b->dropped.fetch_add(1, std::memory_order_relaxed);
                return false;
            }
            if (b->unreported_drops != 0 && !side) {
                // Mark the gap in the stream where it happened (the count is in the
                // metadata as well).
                Event drop;
                drop.time_ns = now_ns();
                drop.kind = EventKind::Drop;
                drop.size = b->unreported_drops;
                b->unreported_drops = 0;
                put(*b, &drop);
            }
        }
        put(*b, record);
        return true;
    }

    void append_side(SideType type, std::uint64_t session, const void* bytes, std::size_t size) {
        Event header;
        header.kind = kSideRecord;
        header.flags = type;
        header.session = session;
        header.size = size;
        if (!append(&header, true)) return;
        const auto* p = static_cast<const unsigned char*>(bytes);
        for (std::size_t off = 0; off < size; off += sizeof(Event)) {
            unsigned char record[sizeof(Event)] = {};
            std::memcpy(record, p + off, std::min(sizeof(Event), size - off));
            append(record, true);
        }
    }

    std::uint64_t dropped() {
        std::lock_guard lock(registry_mutex);
        std::uint64_t n = dropped_at_stop;
        for (auto& b : buffers)
            n += b->dropped.load(std::memory_order_relaxed);
        return n;
    }

    // ---- writer side --------------------------------------------------------------
    void process(ThreadBuffer& b, const unsigned char* record) {
        if (b.side_remaining > 0) {
            const std::size_t n = std::min(sizeof(Event), b.side_remaining);
            b.side_bytes.append(reinterpret_cast<const char*>(record), n);
            b.side_remaining -= n;
            if (b.side_remaining == 0) deliver_side(b);
            return;
        }
        // Read in place, no copy: the producer memcpy'd an Event into these 16-byte aligned
        // bytes (which creates one there).
        const Event& e = *std::launder(reinterpret_cast<const Event*>(record));
        if (e.kind == kSideRecord) {
            b.side_type = e.flags;
            b.side_session = e.session;
            b.side_remaining = e.size;
            b.side_bytes.clear();
            if (e.size == 0) deliver_side(b);
            return;
        }
        writer->add(e);
    }

    void add_slim_run(const Event& header, const slim::Record* entries) {
        if (expanded.size() < header.size) expanded.resize(header.size);
        slim::unpack(header, entries, expanded.data());
        for (std::size_t done = 0; done < header.size;) // every kind is an EventKind
            done += std::max<std::size_t>(
                1, writer->add_events(expanded.data() + done, header.size - done));
    }

    void deliver_side(ThreadBuffer& b) {
        if (b.side_type == kPeer) {
            writer->set_peer(b.side_session, b.side_bytes);
        } else if (b.side_type == kReport && b.side_bytes.size() >= kReportPrefix) {
            ml_report report{};
            std::memcpy(&report, b.side_bytes.data(), kReportPrefix);
            report.tail_len = std::min<std::uint32_t>(report.tail_len, ML_TAIL_MAX);
            const std::size_t len =
                std::min<std::size_t>(b.side_bytes.size() - kReportPrefix, ML_MESSAGE_MAX - 1);
            std::memcpy(report.message, b.side_bytes.data() + kReportPrefix, len);
            writer->add_report(report);
        }
        b.side_bytes.clear();
        b.side_bytes.shrink_to_fit();
    }

    // Processes what the buffer's producer has published; true if anything was there.
    // Without `partial`, only full chunks: the chunk being filled is left alone (reading
    // its count while the producer stores it would bounce the cache line on every append).
    // Stops after a chunk once `deadline` has passed: a producer as fast as the writer would
    // otherwise keep it here, and no commit would happen while the producer runs. `complete`
    // tells whether it reached the producer's position.
    bool drain(ThreadBuffer& b, bool partial, Clock::time_point deadline, bool& complete) {
        bool any = false;
        complete = true;
        for (;;) {
            Chunk* c = b.read_chunk;
            Chunk* next = c->next.load(std::memory_order_acquire);
            if (next == nullptr && !partial) return any;
            const std::uint32_t count = c->count.load(std::memory_order_acquire);
            any = any || b.read_index < count;
            while (b.read_index < count) {
                if (b.side_remaining == 0) { // a run of events, up to the next other record
                    const auto* events =
                        std::launder(reinterpret_cast<const Event*>(c->records[b.read_index]));
                    b.read_index += static_cast<std::uint32_t>(
                        writer->add_events(events, count - b.read_index));
                    if (b.read_index == count) break;
                    const Event& header =
                        *std::launder(reinterpret_cast<const Event*>(c->records[b.read_index]));
                    if (header.kind == slim::kSlimRun) {
                        // Published at once by on_events(), so all of it is below count.
                        const std::uint64_t records = slim::run_records(header.size);
                        if (records > count - b.read_index)
                            throw std::logic_error("recorder buffer: a slim run is cut short");
                        add_slim_run(header, c->records + b.read_index + 1);
                        b.read_index += static_cast<std::uint32_t>(records);
                        continue;
                    }
                }
                process(b, c->records[b.read_index++]);
            }
            if (b.read_index < kChunkEvents) return any;
            if (next == nullptr) next = c->next.load(std::memory_order_acquire);
            if (next == nullptr) return any;
            b.read_chunk = next;
            b.read_index = 0;
            recycle(c);
            if (Clock::now() >= deadline) return complete = false, any;
        }
    }

    bool drain_all(bool partial, Clock::time_point deadline = Clock::time_point::max()) {
        std::vector<std::shared_ptr<ThreadBuffer>> snapshot;
        {
            std::lock_guard lock(registry_mutex);
            snapshot = buffers;
        }
        // Each call starts with the next buffer, so that with a deadline no thread's buffer
        // always comes last.
        if (!snapshot.empty())
            std::rotate(snapshot.begin(),
                        snapshot.begin() +
                            static_cast<std::ptrdiff_t>(drain_round++ % snapshot.size()),
                        snapshot.end());
        bool any = false;
        for (auto& b : snapshot) {
            const bool gone = b->abandoned.load(std::memory_order_acquire);
            bool complete = false;
            any = drain(*b, partial, deadline, complete) || any;
            if (gone && partial && complete) { // its thread has exited and all it appended is in
                std::lock_guard lock(registry_mutex);
                dropped_at_stop += b->dropped.load(std::memory_order_relaxed);
                std::erase(buffers, b);
            }
        }
        return any;
    }

    bool full_chunk_waiting() {
        std::lock_guard lock(registry_mutex);
        for (auto& b : buffers)
            if (b->read_chunk->next.load(std::memory_order_seq_cst) != nullptr) return true;
        return false;
    }

    TraceWriter::Counters counters(bool complete) {
        return {dropped(), skipped_lines.load(), malformed_lines.load(), complete};
    }

    void run() {
        const auto interval =
            std::chrono::milliseconds(std::max<std::uint32_t>(1, options.flush_interval_ms));
        auto last_commit = Clock::now();
        bool failed = false;
        std::uint64_t flush_seen = 0; // the last flush request already served
        for (;;) {
            std::uint64_t flush_target = 0;
            bool stopping = false;
            {
                std::unique_lock lock(control_mutex);
                if (!stop && !work_hint && flush_requested == flush_done) {
                    writer_waiting.store(true, std::memory_order_seq_cst);
                    lock.unlock();
                    const bool work = full_chunk_waiting();
                    lock.lock();
                    if (!work)
                        writer_cv.wait_until(lock, last_commit + interval, [&] {
                            return stop || work_hint || flush_requested != flush_done;
                        });
                    writer_waiting.store(false, std::memory_order_relaxed);
                }
                work_hint = false;
                flush_target = flush_requested;
                stopping = stop;
            }
            try {
                if (failed) {
                    discard_all();
                } else {
                    const auto now = Clock::now();
                    const bool must_drain = flush_target != flush_seen || stopping;
                    const bool commit = now - last_commit >= interval || must_drain;
                    // A flush or the stop needs everything; a periodic commit takes what a
                    // quarter interval drains (the rest goes into the next one), and drains
                    // between commits end when the next commit is due.
                    drain_all(commit, must_drain ? Clock::time_point::max()
                                      : commit   ? now + interval / 4
                                                 : last_commit + interval);
                    if (commit) {
                        writer->commit(counters(false), false);
                        last_commit = Clock::now();
                    }
                }
            } catch (const std::exception& ex) {
                failed = true;
                std::lock_guard lock(control_mutex);
                if (error.empty()) error = ex.what();
            }
            {
                std::lock_guard lock(control_mutex);
                flush_seen = flush_target;
                if (flush_target > flush_done) {
                    flush_done = flush_target;
                    flushed_cv.notify_all();
                }
                if (stopping) {
                    writer_exited = true;
                    flushed_cv.notify_all();
                    return;
                }
            }
        }
    }

    // After a write failure: keep draining so producers never block, and keep nothing.
    void discard_all() {
        std::vector<std::shared_ptr<ThreadBuffer>> snapshot;
        {
            std::lock_guard lock(registry_mutex);
            snapshot = buffers;
        }
        for (auto& b : snapshot) {
            for (;;) {
                Chunk* c = b->read_chunk;
                b->read_index = c->count.load(std::memory_order_acquire);
                if (b->read_index < kChunkEvents) break;
                Chunk* next = c->next.load(std::memory_order_acquire);
                if (next == nullptr) break;
                b->read_chunk = next;
                b->read_index = 0;
                recycle(c);
            }
            b->side_remaining = 0;
        }
    }

    void stop_writer() {
        {
            std::lock_guard lock(control_mutex);
            stop = true;
            writer_cv.notify_one();
        }
        if (thread.joinable()) thread.join();
        closed.store(true, std::memory_order_release);
        std::lock_guard lock(space_mutex);
        space_cv.notify_all();
    }

    void remove_files(const std::string& base) {
        for (const char* suffix : {"", "-wal", "-shm", "-journal"})
            ::unlink((base + suffix).c_str());
    }
};

Recorder::Recorder(const std::string& path, RecorderOptions options)
    : impl_(std::make_unique<Impl>()) {
    Impl& im = *impl_;
    im.options = std::move(options);
    im.path = path;
    im.write_path = im.options.atomic
                        ? path + ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(im.id)
                        : path;
    im.max_chunks_in_flight =
        std::max<std::uint64_t>(1, im.options.max_buffered_events / kChunkEvents);
    // The empty trace is built under a temporary name and renamed into place, so that a
    // process killed at any moment leaves either no file or a trace that opens.
    const std::string fresh = im.write_path + ".new";
    auto open = [&](const std::string& file) {
        if (sqlite3_open_v2(file.c_str(), im.db.out(),
                            SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                            nullptr) != SQLITE_OK) {
            const std::string reason =
                im.db.get() != nullptr ? sqlite3_errmsg(im.db.get()) : "out of memory";
            im.db.close();
            throw store::SqlError(reason);
        }
    };
    try {
        im.remove_files(fresh);
        open(fresh);
        // WAL (persistent in the file): a commit appends to the log, readers never see a
        // partial transaction, and a killed process leaves a file that recovers to its last
        // commit. synchronous: see RecorderOptions::durable.
        im.db.exec("PRAGMA page_size = 32768");
        im.db.exec("PRAGMA journal_mode = WAL");
        create_schema(im.db, im.options);
        im.db.close(); // checkpoints and removes the -wal file
        im.remove_files(im.write_path);
        if (std::rename(fresh.c_str(), im.write_path.c_str()) != 0)
            throw store::SqlError(std::strerror(errno));
        open(im.write_path);
        im.db.exec(im.options.durable ? "PRAGMA synchronous = NORMAL" : "PRAGMA synchronous = OFF");
        // Checkpoint every 8 MiB: the WAL stays in the page cache, and little is left for
        // the final checkpoint in commit().
        im.db.exec("PRAGMA wal_autocheckpoint = 256");
        im.writer = std::make_unique<TraceWriter>(im.db.get());
    } catch (const std::exception& ex) {
        im.db.close();
        im.remove_files(fresh);
        throw TraceError(TraceError::Kind::Io, path,
                         std::string("cannot create the trace (") + ex.what() + ")");
    }
    im.thread = std::thread([&im] { im.run(); });
}

Recorder::~Recorder() {
    if (!impl_->finished) {
        if (impl_->options.atomic) {
            abort();
        } else {
            try {
                commit();
            } catch (const std::exception& ex) {
                std::fprintf(stderr, "memlife: %s\n", ex.what());
            }
        }
    }
}

// The hot path: a TLS load, a compare, a 48-byte copy and a release store.
// Copies the event as the producer wrote it, 8 bytes at a time. Session::emit fills the
// Event field by field just before this call; 16-byte loads spanning two of those stores
// cannot be forwarded from the store buffer and stall (~17 ns per event measured), while
// 8-byte loads are forwarded. The empty asm keeps the compiler from merging the words.
static inline void copy_words(unsigned char* to, const Event* event) noexcept {
    const auto* from = reinterpret_cast<const unsigned char*>(event);
    for (std::size_t i = 0; i < sizeof(Event); i += 8) {
        std::uint64_t word;
        std::memcpy(&word, from + i, 8);
        asm volatile("" : "+r"(word));
        std::memcpy(to + i, &word, 8);
    }
}

void Recorder::on_event(const Event& event) noexcept {
    Impl& im = *impl_;
    const TlsCache& cache = tls_cache;
    if (cache.recorder_id == im.id) [[likely]] {
        ThreadBuffer& b = *cache.buffer;
        const std::uint32_t n = b.write_index;
        if (n < kChunkEvents) [[likely]] {
            copy_words(b.write_chunk->records[n], &event);
            b.write_chunk->count.store(n + 1, std::memory_order_release);
            b.write_index = n + 1;
            return;
        }
    }
    im.append(&event, false);
}

// A session's batch: packed into slim runs in the chunk (see slim_run.hpp), one release
// store.
void Recorder::on_events(const Event* events, std::size_t count) noexcept {
    Impl& im = *impl_;
    const TlsCache& cache = tls_cache;
    if (cache.recorder_id == im.id) [[likely]] {
        ThreadBuffer& b = *cache.buffer;
        const std::uint32_t n = b.write_index;
        if (count < kChunkEvents - n) [[likely]] { // pack() needs count + 1 records of room
            b.write_index = n + static_cast<std::uint32_t>(
                                    slim::pack(events, count, b.write_chunk->records + n));
            b.write_chunk->count.store(b.write_index, std::memory_order_release);
            return;
        }
    }
    for (std::size_t i = 0; i < count; ++i) // across a chunk boundary (or the first call)
        im.append(&events[i], false);
}

void Recorder::on_session_open(const Event& event, std::string_view peer) noexcept {
    impl_->append_side(kPeer, event.session, peer.data(), std::min(peer.size(), kMaxPeer));
    on_event(event);
}

void Recorder::on_report(const ml_report& report) noexcept {
    if (report.kind != ML_REPORT_CORRUPTION && report.kind != ML_REPORT_LEAK) return;
    unsigned char bytes[kReportPrefix + ML_MESSAGE_MAX];
    std::memcpy(bytes, &report, kReportPrefix);
    const std::size_t len = strnlen(report.message, ML_MESSAGE_MAX);
    std::memcpy(bytes + kReportPrefix, report.message, len);
    impl_->append_side(kReport, report.session_id, bytes, kReportPrefix + len);
}

void Recorder::flush() noexcept {
    Impl& im = *impl_;
    if (im.closed.load(std::memory_order_acquire)) return;
    std::unique_lock lock(im.control_mutex);
    if (im.writer_exited) return;
    const std::uint64_t target = ++im.flush_requested;
    im.writer_cv.notify_one();
    im.flushed_cv.wait(lock, [&] { return im.flush_done >= target || im.writer_exited; });
}

void Recorder::set_skipped_lines(std::uint64_t n) {
    impl_->skipped_lines.store(n);
}

void Recorder::set_malformed_lines(std::uint64_t n) {
    impl_->malformed_lines.store(n);
}

void Recorder::commit() {
    Impl& im = *impl_;
    if (im.finished) return;
    im.finished = true;
    im.stop_writer();
    std::string error;
    {
        std::lock_guard lock(im.control_mutex);
        error = im.error;
    }
    if (error.empty()) {
        try {
            im.drain_all(true); // anything appended while the writer stopped
            im.writer->commit(im.counters(true), true);
            im.writer.reset();
            // A finished trace is one self-contained file: fold the WAL back in.
            im.db.exec("PRAGMA journal_mode = DELETE");
        } catch (const std::exception& ex) {
            error = ex.what();
        }
    }
    im.writer.reset();
    im.db.close();
    if (error.empty() && im.options.atomic &&
        std::rename(im.write_path.c_str(), im.path.c_str()) != 0)
        error = std::string("cannot rename the temporary file into place (") +
                std::strerror(errno) + ")";
    if (!error.empty()) {
        if (im.options.atomic) im.remove_files(im.write_path);
        throw TraceError(TraceError::Kind::Io, im.path, "cannot write the trace (" + error + ")");
    }
}

void Recorder::abort() noexcept {
    Impl& im = *impl_;
    if (im.finished) return;
    if (!im.options.atomic) {
        try {
            commit();
        } catch (const std::exception& ex) {
            std::fprintf(stderr, "memlife: %s\n", ex.what());
        }
        return;
    }
    im.finished = true;
    im.stop_writer();
    im.writer.reset();
    im.db.close();
    im.remove_files(im.write_path);
}

std::uint64_t Recorder::dropped_events() const {
    return impl_->dropped();
}

const std::string& Recorder::path() const {
    return impl_->path;
}

} // namespace memlife::data
