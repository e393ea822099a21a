#include "stacks.hpp"

#include <cstdlib>
#include <cstring>

#include "preload.hpp"
#include "stream.hpp"
#include "wire.hpp"

namespace memlife::preload {
namespace {

std::uint32_t depth = 0;
// The highest node id whose module was in a Modules frame appended to the stream.
std::atomic<std::uint32_t> ready{0};
// One module check at a time; a thread that finds it taken does not wait (see below).
SpinLock module_lock;
ModuleListVersion module_version;

// The Modules frame being built: records of wire::Module, each followed by its path and
// build id.
struct ModuleFrame {
    char* data = nullptr;
    std::size_t size = 0, capacity = 0;
    bool full = false;

    void add(const LoadedModule& m) noexcept {
        const std::size_t path = std::min<std::size_t>(std::strlen(m.path), 4095);
        const std::size_t id = std::strlen(m.build_id);
        const std::size_t need = sizeof(wire::Module) + path + id;
        if (full || size + need > wire::kMaxFrame) {
            full = true; // the rest are not sent: their addresses show unresolved
            return;
        }
        if (size + need > capacity) {
            std::size_t grown = capacity == 0 ? 8192 : capacity;
            while (grown < size + need)
                grown *= 2;
            void* p = internal_realloc(data, grown);
            if (p == nullptr) {
                full = true;
                return;
            }
            data = static_cast<char*>(p);
            capacity = grown;
        }
        wire::Module header;
        header.load_address = m.load_address;
        header.start = m.start;
        header.size = m.size;
        header.path_size = static_cast<std::uint16_t>(path);
        header.build_id_size = static_cast<std::uint16_t>(id);
        std::memcpy(data + size, &header, sizeof header);
        std::memcpy(data + size + sizeof header, m.path, path);
        std::memcpy(data + size + sizeof header + path, m.build_id, id);
        size += need;
    }
};

// Sends the module list when the loader's changed (always the first time). Called outside
// every other memlife lock: dl_iterate_phdr takes the loader's lock, and a program's
// dl_iterate_phdr callback may allocate.
void check_modules() noexcept {
    // Taken by another thread: it is checking now (or that thread is this one, inside a
    // dl_iterate_phdr callback): never wait, which could deadlock on the loader's lock.
    if (!module_lock.try_lock()) return;
    // Every node made so far was made from code loaded now.
    const std::uint32_t made = stack_node_count();
    ModuleFrame frame;
    const bool visited = visit_loaded_modules(
        module_version,
        [](const LoadedModule& m, void* f) { static_cast<ModuleFrame*>(f)->add(m); }, &frame);
    bool sent = true;
    if (visited && frame.size > 0) {
        const Frame f{wire::FrameType::Modules, nullptr, 0, frame.data, frame.size};
        sent = g_stream.append(&f, 1);
    }
    internal_free(frame.data);
    if (sent) {
        std::uint32_t seen = ready.load(std::memory_order_relaxed);
        while (seen < made && !ready.compare_exchange_weak(seen, made, std::memory_order_release)) {
        }
    }
    module_lock.unlock();
}

std::atomic<int> unwinder_pipe[2] = {-1, -1};
std::atomic<bool> unwinder_pipe_closed{false};

} // namespace

void note_unwinder_pipe(const int fds[2]) noexcept {
    unwinder_pipe[0].store(fds[0], std::memory_order_relaxed);
    unwinder_pipe[1].store(fds[1], std::memory_order_relaxed);
    unwinder_pipe_closed.store(false, std::memory_order_release);
}

void program_closed(unsigned first, unsigned last) noexcept {
    for (const auto& fd : unwinder_pipe) {
        const int n = fd.load(std::memory_order_relaxed);
        if (n >= 0 && static_cast<unsigned>(n) >= first && static_cast<unsigned>(n) <= last)
            unwinder_pipe_closed.store(true, std::memory_order_release);
    }
}

bool refused_unwinder_fd(int fd) noexcept {
    return unwinder_pipe_closed.load(std::memory_order_acquire) &&
           (fd == unwinder_pipe[0].load(std::memory_order_relaxed) ||
            fd == unwinder_pipe[1].load(std::memory_order_relaxed));
}

void init_stacks() noexcept {
    depth = 16;
    if (const char* value = std::getenv("MEMLIFE_STACKS"); value != nullptr && *value != '\0') {
        char* end = nullptr;
        const unsigned long n = std::strtoul(value, &end, 10);
        if (*end != '\0' || n > kMaxStackDepth)
            warn("MEMLIFE_STACKS is not a number of frames from 0 to 64; recording 16 frames");
        else
            depth = static_cast<std::uint32_t>(n);
    }
    // The hooks' own frames say nothing about the caller.
    if (depth != 0) skip_frames_of_module(reinterpret_cast<const void*>(&init_stacks));
}

bool stacks_on() noexcept {
    return depth != 0;
}

StackId capture_allocation_stack() noexcept {
    if (depth == 0) return 0;
    const StackId id = capture_stack(depth);
    if (id > ready.load(std::memory_order_acquire)) {
        check_modules();
        // Another thread is checking (or the stream stopped): the stack is not sendable
        // yet, and this allocation goes without one rather than wait.
        if (id > ready.load(std::memory_order_acquire)) return 0;
    }
    return id;
}

std::uint32_t stack_nodes_ready() noexcept {
    return ready.load(std::memory_order_acquire);
}

void stacks_prepare_fork() noexcept {
    module_lock.lock();
}

void stacks_parent_after_fork() noexcept {
    module_lock.unlock();
}

void stacks_after_fork_child() noexcept {
    ready.store(0, std::memory_order_relaxed);
    module_version = ModuleListVersion{};
    module_lock.reset();
}

} // namespace memlife::preload
