#include "connections.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/un.h>

#include <cstdio>
#include <cstring>

#include "stacks.hpp"
#include "standalone.hpp"
#include "stream.hpp"

namespace memlife::preload {

constinit FdTable g_fds;
constinit AddressMap g_blocks;
constinit std::atomic<bool> g_accepted{false};

namespace {

constexpr std::uint64_t kCloseWindowNs = 1'000'000'000; // the sweep ends older windows

std::atomic<std::uint64_t> next_session{0};
std::atomic<std::uint64_t> process_allocs{0}, process_bytes{0}, sessions_opened{0};
pthread_key_t exit_key;

// Every Connection ever made (the sweep and the exit visit them all) and the free ones.
// Objects are never freed: a block's entry or a thread's `current` may still point at
// one; the generation tells whether it is still the same connection.
struct Pool {
    pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;
    InternalArray<Connection*> all;
    InternalArray<Connection*> free;
};
Pool* pool = nullptr;

Connection* acquire_connection() noexcept {
    pthread_mutex_lock(&pool->mutex);
    Connection* c = nullptr;
    if (pool->free.size() > 0) {
        c = pool->free[pool->free.size() - 1];
        pool->free.pop();
    } else if ((c = make_internal<Connection>()) != nullptr && !pool->all.push(c)) {
        internal_free(c);
        c = nullptr;
    }
    pthread_mutex_unlock(&pool->mutex);
    return c;
}

void return_to_pool(Connection* c) noexcept {
    pthread_mutex_lock(&pool->mutex);
    pool->free.push(c);
    pthread_mutex_unlock(&pool->mutex);
}

// Calls fn for every connection object, outside the pool's lock (fn may finish one).
template <class F> void for_each_connection(F fn) noexcept {
    InternalArray<Connection*> all;
    pthread_mutex_lock(&pool->mutex);
    for (std::size_t i = 0; i < pool->all.size(); ++i)
        all.push(pool->all[i]);
    pthread_mutex_unlock(&pool->mutex);
    for (std::size_t i = 0; i < all.size(); ++i)
        fn(all[i]);
}

void peer_label(Connection& c, const sockaddr* addr, socklen_t len) noexcept {
    char host[INET6_ADDRSTRLEN] = {};
    int n = 0;
    if (addr == nullptr || len < sizeof(sa_family_t)) {
        n = std::snprintf(c.peer, sizeof c.peer, "fd %d", c.fd);
    } else if (addr->sa_family == AF_INET && len >= sizeof(sockaddr_in)) {
        const auto* in = reinterpret_cast<const sockaddr_in*>(addr);
        inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
        n = std::snprintf(c.peer, sizeof c.peer, "%s:%u", host, ntohs(in->sin_port));
    } else if (addr->sa_family == AF_INET6 && len >= sizeof(sockaddr_in6)) {
        const auto* in6 = reinterpret_cast<const sockaddr_in6*>(addr);
        inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
        n = std::snprintf(c.peer, sizeof c.peer, "[%s]:%u", host, ntohs(in6->sin6_port));
    } else if (addr->sa_family == AF_UNIX) {
        const auto* un = reinterpret_cast<const sockaddr_un*>(addr);
        const bool named = len > sizeof(sa_family_t) && un->sun_path[0] != '\0';
        n = std::snprintf(c.peer, sizeof c.peer, named ? "unix:%.*s" : "unix",
                          static_cast<int>(len - sizeof(sa_family_t)), un->sun_path);
    } else {
        n = std::snprintf(c.peer, sizeof c.peer, "fd %d", c.fd);
    }
    c.peer_size = static_cast<std::uint8_t>(n < 0 ? 0 : std::min<int>(n, sizeof c.peer - 1));
}

// The peer from getpeername (the caller's accept buffer may have been too small).
void label_from_socket(Connection& c) noexcept {
    sockaddr_storage peer{};
    socklen_t len = sizeof peer;
    if (::getpeername(c.fd, reinterpret_cast<sockaddr*>(&peer), &len) == 0)
        peer_label(c, reinterpret_cast<const sockaddr*>(&peer), len);
    else
        peer_label(c, nullptr, 0);
}

// An allocation's or release's time (see kClockInterval).
std::uint64_t block_time(Connection& c) noexcept {
    if (c.clock_count++ % kClockInterval == 0) c.last_ns = now_ns();
    return c.last_ns;
}

Event event_of(Connection& c, EventKind kind, std::uint64_t time_ns) noexcept {
    c.last_ns = time_ns;
    Event e;
    e.time_ns = time_ns;
    e.session = c.session;
    e.kind = kind;
    e.request = c.in_request ? c.request : 0;
    return e;
}

// Hands the connection's pending events to the stream (with its peer label first, once).
// The caller holds c.lock, so a connection's events reach the stream in order whichever
// thread produced them.
void hand_over(Connection& c) noexcept {
    if (c.pending == 0) return;
    const wire::Peer peer{c.session};
    Frame frames[2];
    std::size_t n = 0;
    if (!c.peer_sent)
        frames[n++] = {wire::FrameType::Peer, &peer, sizeof peer, c.peer, c.peer_size};
    if (stacks_on())
        frames[n++] = {wire::FrameType::StackedEvents, c.events, c.pending * sizeof(Event),
                       c.stacks, c.pending * sizeof(StackId)};
    else
        frames[n++] = {wire::FrameType::Events, c.events, c.pending * sizeof(Event)};
    g_stream.append(frames, n); // fails only once the stream has stopped: they are dropped
    c.peer_sent = true;
    c.pending = 0;
}

void emit(Connection& c, const Event& e, StackId stack = 0) noexcept {
    c.stacks[c.pending] = stack;
    c.events[c.pending++] = e;
    if (c.pending == kPendingEvents) hand_over(c);
}

// A connection inherited through fork opens its session in the child at its first use.
void open_session(Connection& c, std::uint64_t time_ns) noexcept {
    c.session = next_session.fetch_add(1, std::memory_order_relaxed) + 1;
    sessions_opened.fetch_add(1, std::memory_order_relaxed);
    emit(c, event_of(c, EventKind::SessionOpen, time_ns));
}

void set_exit_hook() noexcept {
    if (tls.exit_hook) return;
    tls.exit_hook = true;
    pthread_setspecific(exit_key, reinterpret_cast<void*>(1));
}

// Ends the close window of `c` (if still at `generation`): reports its blocks still live
// as outlived, then the SessionClose with what was freed in the window.
void finish(Connection* c, std::uint32_t generation) noexcept {
    std::uint64_t live = 0;
    wire::Outlived outlived;
    {
        Locked lock(c->lock);
        if (c->generation != generation || c->state != Connection::State::Closing) return;
        c->state = Connection::State::Finishing;
        hand_over(*c); // its earlier events go first
        live = c->live_blocks;
        outlived.session = c->session;
        outlived.requests = c->request;
        outlived.close_ns = c->close_ns;
    }
    if (live > 0) {
        InternalArray<BlockEntry> blocks;
        g_blocks.take_owned(c, generation, blocks);
        outlived.detected_ns = now_ns();
        for (std::size_t i = 0; i < blocks.size(); ++i) {
            outlived.block = blocks[i].block;
            outlived.address = blocks[i].address;
            outlived.size = blocks[i].size;
            outlived.alloc_request = blocks[i].request;
            outlived.stack = blocks[i].stack;
            const Frame frame{wire::FrameType::Outlived, &outlived, sizeof outlived};
            g_stream.append(&frame, 1);
        }
    }
    {
        Locked lock(c->lock);
        Event close = event_of(*c, EventKind::SessionClose, c->close_ns);
        close.size = c->released_bytes;
        close.block = c->released_blocks;
        emit(*c, close);
        hand_over(*c);
        c->recycle();
    }
    return_to_pool(c);
}

void on_thread_exit(void*) noexcept {
    Guard guard;
    KeepErrno keep;
    if (!armed()) return;
    end_close_window();
    fold_process_counts();
}

} // namespace

void Connection::recycle() noexcept {
    ++generation;
    state = State::Free;
    turn = Turn::Accepted;
    shut = in_request = peer_sent = false;
    peer_size = 0;
    fd = -1;
    session = 0;
    request = next_block = 0;
    live_blocks = close_ns = released_bytes = released_blocks = 0;
    pending = clock_count = 0;
    last_ns = 0;
}

bool FdTable::set(int fd, Connection* c) noexcept {
    if (static_cast<unsigned>(fd) >= kLimit) return false;
    auto* page = pages_[fd >> kPageBits].load(std::memory_order_acquire);
    if (page == nullptr) {
        lock();
        page = pages_[fd >> kPageBits].load(std::memory_order_relaxed);
        if (page == nullptr) {
            void* memory = internal_calloc(kPageMask + 1, sizeof(std::atomic<Connection*>));
            if (memory != nullptr) {
                page = new (memory) std::atomic<Connection*>[kPageMask + 1]();
                pages_[fd >> kPageBits].store(page, std::memory_order_release);
            }
        }
        unlock();
        if (page == nullptr) return false;
    }
    page[fd & kPageMask].store(c, std::memory_order_release);
    return true;
}

Connection* FdTable::take(int fd) noexcept {
    if (static_cast<unsigned>(fd) >= kLimit) return nullptr;
    auto* page = pages_[fd >> kPageBits].load(std::memory_order_acquire);
    if (page == nullptr || page[fd & kPageMask].load(std::memory_order_relaxed) == nullptr)
        return nullptr;
    return page[fd & kPageMask].exchange(nullptr, std::memory_order_acq_rel);
}

void fold_process_counts() noexcept {
    set_exit_hook();
    process_allocs.fetch_add(tls.process_allocs, std::memory_order_relaxed);
    process_bytes.fetch_add(tls.process_bytes, std::memory_order_relaxed);
    tls.process_allocs = tls.process_bytes = 0;
}

void on_accept(int fd) noexcept {
    if (!g_stream.start()) return;
    // A connection still at this number was closed where the hooks could not see it (in a
    // signal handler that interrupted them): it ends now.
    if (g_fds.get(fd) != nullptr) on_close(fd);
    end_close_window();
    Connection* c = acquire_connection();
    if (c == nullptr) return;
    const std::uint64_t now = now_ns();
    {
        Locked lock(c->lock);
        c->state = Connection::State::Open;
        c->fd = fd;
        label_from_socket(*c);
        open_session(*c, now);
        tls.current = c;
        tls.current_generation = c->generation;
    }
    g_accepted.store(true, std::memory_order_relaxed);
    g_fds.set(fd, c);
}

void on_io(Connection* c, bool is_read, bool transferred) noexcept {
    if (tls.closing != nullptr) end_close_window();
    std::uint32_t generation = 0;
    {
        Locked lock(c->lock);
        if (c->state != Connection::State::Open) return;
        generation = c->generation;
        if (c->session == 0) {
            if (!g_stream.start()) return;
            label_from_socket(*c);
            open_session(*c, now_ns());
        }
        if (transferred && !is_read) {
            c->turn = Connection::Turn::Wrote;
        } else if (transferred && c->turn != Connection::Turn::Read && !c->shut) {
            // A turn: the first read after a write (or after accept) begins a request.
            const std::uint64_t now = now_ns();
            if (c->in_request) emit(*c, event_of(*c, EventKind::RequestEnd, now));
            ++c->request;
            c->in_request = true;
            emit(*c, event_of(*c, EventKind::RequestBegin, now));
            hand_over(*c);
            c->turn = Connection::Turn::Read;
        } else if (transferred) {
            c->turn = Connection::Turn::Read;
        }
    }
    tls.current = c;
    tls.current_generation = generation;
}

void on_shutdown(Connection* c) noexcept {
    Locked lock(c->lock);
    c->shut = true;
}

void on_close(int fd) noexcept {
    Connection* c = g_fds.take(fd);
    if (c == nullptr) return;
    end_close_window();
    if (tls.current == c) tls.current = nullptr;
    c->lock.lock();
    if (c->state == Connection::State::Open && c->session == 0) {
        // Inherited through fork and never used here: nothing to record.
        c->recycle();
        c->lock.unlock();
        return_to_pool(c);
        return;
    }
    if (c->state == Connection::State::Open) {
        c->close_ns = now_ns();
        if (c->in_request) {
            emit(*c, event_of(*c, EventKind::RequestEnd, c->close_ns));
            c->in_request = false;
        }
        c->state = Connection::State::Closing;
        hand_over(*c);
        tls.closing = c;
        tls.closing_generation = c->generation;
        set_exit_hook();
    }
    c->lock.unlock();
}

void on_close_range(unsigned first, unsigned last) noexcept {
    g_fds.for_each_in(first, last, [](int fd) { on_close(fd); });
}

void end_close_window() noexcept {
    Connection* c = tls.closing;
    if (c == nullptr) return;
    tls.closing = nullptr;
    finish(c, tls.closing_generation);
}

void on_alloc(void* p, std::size_t size, StackId stack) noexcept {
    Connection* c = tls.current;
    if (c == nullptr) return count_process(size);
    Locked lock(c->lock);
    if (c->generation != tls.current_generation || c->state != Connection::State::Open ||
        c->session == 0) {
        tls.current = nullptr;
        return count_process(size);
    }
    BlockEntry entry;
    entry.address = reinterpret_cast<std::uintptr_t>(p);
    entry.size = size;
    entry.owner = c;
    entry.block = ++c->next_block;
    entry.generation = c->generation;
    entry.request = c->in_request ? c->request : 0;
    entry.stack = stack;
    if (!g_blocks.insert(entry)) return;
    ++c->live_blocks;
    Event e = event_of(*c, EventKind::Alloc, block_time(*c));
    e.block = entry.block;
    e.address = entry.address;
    e.size = size;
    e.flags = static_cast<std::uint8_t>(AllocOrigin::Noted);
    emit(*c, e, stack);
}

void release_block(const BlockEntry& entry) noexcept {
    Connection* c = entry.owner;
    Locked lock(c->lock);
    if (c->generation != entry.generation) return; // its close window has ended
    --c->live_blocks;
    if (c->state == Connection::State::Open) {
        Event e = event_of(*c, EventKind::Release, block_time(*c));
        e.block = entry.block;
        e.address = entry.address;
        e.size = entry.size;
        e.flags = static_cast<std::uint8_t>(AllocOrigin::Noted);
        emit(*c, e);
    } else { // Closing or Finishing: released at close
        c->released_bytes += entry.size;
        ++c->released_blocks;
    }
}

bool take_block(void* p, BlockEntry& entry) noexcept {
    return g_accepted.load(std::memory_order_relaxed) &&
           g_blocks.take(reinterpret_cast<std::uintptr_t>(p), entry);
}

void put_back(const BlockEntry& entry) noexcept {
    g_blocks.insert(entry);
}

bool on_free(void* p) noexcept {
    BlockEntry entry;
    if (!take_block(p, entry)) return false;
    release_block(entry);
    return true;
}

void finish_process(bool exiting) noexcept {
    if (!armed()) return;
    end_close_window();
    fold_process_counts();
    for_each_connection([](Connection* c) {
        std::uint32_t generation = 0;
        bool closing = false;
        {
            Locked lock(c->lock);
            closing = c->state == Connection::State::Closing;
            generation = c->generation;
            if (!closing) hand_over(*c); // open ones stay open in the trace
        }
        if (closing) finish(c, generation);
    });
    wire::Stats stats;
    stats.process_allocs = process_allocs.exchange(0);
    stats.process_bytes = process_bytes.exchange(0);
    stats.sessions = sessions_opened.exchange(0);
    const Frame frame{wire::FrameType::Stats, &stats, sizeof stats};
    g_stream.append(&frame, 1);
    if (exiting) {
        g_stream.close();
        g_mode.store(Mode::Stopped);
    } else {
        g_stream.flush();
    }
}

void sweep_connections() noexcept {
    const std::uint64_t now = now_ns();
    for_each_connection([now](Connection* c) {
        std::uint32_t generation = 0;
        bool stale = false;
        if (!c->lock.try_lock()) return;
        if (c->state == Connection::State::Closing && now - c->close_ns > kCloseWindowNs) {
            stale = true;
            generation = c->generation;
        } else if (c->state != Connection::State::Free) {
            hand_over(*c);
        }
        c->lock.unlock();
        if (stale) finish(c, generation);
    });
}

void prepare_fork() noexcept {
    stacks_prepare_fork(); // first: a module check appends to the stream
    pthread_mutex_lock(&pool->mutex);
    g_fds.lock();
    g_stream.lock_for_fork();
}

void parent_after_fork() noexcept {
    g_stream.unlock_after_fork();
    g_fds.unlock();
    pthread_mutex_unlock(&pool->mutex);
    stacks_parent_after_fork();
}

// The child has one thread. It records from here on, on a stream of its own: the parent's
// connection objects, blocks and pending events stay the parent's (left behind: another
// thread may have been changing them). A connection it inherited opens a session of its
// own at its first use.
void child_after_fork() noexcept {
    standalone_after_fork_child();
    g_stream.reset_in_child();
    stacks_after_fork_child();
    g_blocks.reset_after_fork();
    pool = make_internal<Pool>();
    g_fds.replace_all([](int fd) {
        Connection* c = pool != nullptr ? acquire_connection() : nullptr;
        if (c != nullptr) {
            c->state = Connection::State::Open;
            c->fd = fd;
        }
        return c;
    });
    tls.current = nullptr;
    tls.closing = nullptr;
    tls.process_allocs = tls.process_bytes = 0;
    process_allocs = 0;
    process_bytes = 0;
    sessions_opened = 0;
    next_session = 0;
    Mode expected = Mode::Recording;
    g_mode.compare_exchange_strong(expected, Mode::Armed);
    if (armed()) g_stream.connect();
}

void init_connections() noexcept {
    pool = make_internal<Pool>();
    pthread_key_create(&exit_key, on_thread_exit);
}

} // namespace memlife::preload
