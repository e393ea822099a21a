#include "guard.hpp"

#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <execinfo.h>
#include <mutex>
#include <sys/mman.h>
#include <unistd.h>

namespace memlife::detail {
namespace {

std::size_t page_size() noexcept {
    static const std::size_t size = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
    return size;
}

std::size_t round_up(std::size_t value, std::size_t to) noexcept {
    return (value + to - 1) / to * to;
}

// What the fault handler needs to know about one guarded block. Written under a mutex,
// read by the signal handler without one (a fault is the end of the process anyway).
struct GuardEntry {
    std::atomic<std::uintptr_t> guard_page{0}; // 0 = empty, 1 = tombstone
    Session* session = nullptr;
    std::uint64_t session_id = 0;
    std::uint64_t block_id = 0;
    std::uint8_t* data = nullptr;
    std::uint64_t size = 0;
    std::uint32_t request = 0;
    Notification notification = Notification::None;
    Scope scope = Scope::Session;
    StackId stack = 0; // the allocating stack
};

// A guarded block costs two mappings (vm.max_map_count is 65530 by default), so 2^16
// entries cover every block the kernel would let us map.
constexpr std::size_t kEntries = 1u << 16;
constexpr std::uintptr_t kTombstone = 1;
GuardEntry* g_entries = nullptr;
std::mutex g_mutex;
struct sigaction g_previous {};
bool g_installed = false;

std::size_t slot_of(std::uintptr_t page) noexcept {
    return static_cast<std::size_t>((page / page_size()) * 0x9E3779B97F4A7C15ull >> 48) &
           (kEntries - 1);
}

GuardEntry* find(std::uintptr_t page) noexcept {
    if (g_entries == nullptr) return nullptr;
    for (std::size_t i = 0, s = slot_of(page); i < kEntries; ++i, s = (s + 1) & (kEntries - 1)) {
        const std::uintptr_t key = g_entries[s].guard_page.load(std::memory_order_acquire);
        if (key == page) return &g_entries[s];
        if (key == 0) return nullptr;
    }
    return nullptr;
}

void write_all(const char* text, std::size_t len) noexcept {
    while (len > 0) {
        const ssize_t n = ::write(STDERR_FILENO, text, len);
        if (n <= 0) return;
        text += n;
        len -= static_cast<std::size_t>(n);
    }
}

void on_fault(int signo, siginfo_t* info, void* context) {
    const auto address = reinterpret_cast<std::uintptr_t>(info->si_addr);
    const GuardEntry* entry = find(address & ~(page_size() - 1));
    if (entry == nullptr) {
        // Not ours: give the fault to whoever had SIGSEGV before us (or the default).
        sigaction(SIGSEGV, &g_previous, nullptr);
        if ((g_previous.sa_flags & SA_SIGINFO) && g_previous.sa_sigaction != nullptr)
            g_previous.sa_sigaction(signo, info, context);
        else if (g_previous.sa_handler != SIG_DFL && g_previous.sa_handler != SIG_IGN &&
                 g_previous.sa_handler != nullptr)
            g_previous.sa_handler(signo);
        return; // re-executes the faulting access under the restored disposition
    }

    ml_report report{};
    report.kind = ML_REPORT_CORRUPTION;
    report.session_id = entry->session_id;
    report.block_id = entry->block_id;
    report.address = reinterpret_cast<std::uint64_t>(entry->data);
    report.size = entry->size;
    report.scope = static_cast<int>(entry->scope);
    report.alloc_request = entry->request;
    report.alloc_notification = flag(entry->notification);
    report.fault_address = address;
    const std::uintptr_t end = reinterpret_cast<std::uintptr_t>(entry->data) + entry->size;
    report.first_offset = address >= end ? static_cast<std::uint32_t>(address - end) : 0;
    report.modified_count = 1;
    report.time_ns = now_ns();
    Session* session = entry->session;
    if (session != nullptr) {
        report.request = session->current_request();
        report.last_notification = flag(session->notification());
    }
    std::snprintf(report.message, sizeof report.message,
                  "Heap block at 0x%llx modified at 0x%llx past requested size of %llu "
                  "(guard page fault)",
                  static_cast<unsigned long long>(report.address),
                  static_cast<unsigned long long>(address),
                  static_cast<unsigned long long>(report.size));
    report.backtrace_len = backtrace(report.backtrace, ML_BACKTRACE_MAX);
    set_alloc_stack(report, entry->stack); // lock-free reads of the stack tree

    write_all("memlife: ", 9);
    write_all(report.message, std::strlen(report.message));
    write_all("\n", 1);
    backtrace_symbols_fd(report.backtrace, report.backtrace_len, STDERR_FILENO);
    if (report.alloc_backtrace_len > 0) { // as pageheap keeps it: who allocated the block
        write_all("memlife: the block was allocated at:\n", 37);
        backtrace_symbols_fd(report.alloc_backtrace, report.alloc_backtrace_len, STDERR_FILENO);
    }

    if (session != nullptr)
        session->guard_fault(report); // Corruption event, report handler, sink flush
    else
        Runtime::global().deliver(report, nullptr);

    // Die as pageheap would: restore the default action; returning re-executes the write.
    signal(SIGSEGV, SIG_DFL);
}

void install_handler() noexcept {
    // Our own stack, so that the report can be made even when the fault is a stack overflow
    // next to a guarded block.
    static std::uint8_t alt_stack[64 * 1024];
    stack_t ss{};
    ss.ss_sp = alt_stack;
    ss.ss_size = sizeof alt_stack;
    sigaltstack(&ss, nullptr);

    void* warm[1];
    backtrace(warm, 1); // loads libgcc now: backtrace() may allocate on first use

    struct sigaction action {};
    action.sa_sigaction = on_fault;
    action.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&action.sa_mask);
    sigaction(SIGSEGV, &action, &g_previous);
    g_installed = true;
}

} // namespace

std::size_t guard_mapping_len(std::size_t size, std::size_t align) noexcept {
    return round_up(round_up(size, align), page_size()) + page_size();
}

bool guard_allocate(std::size_t size, std::size_t align, GuardAllocation& out) noexcept {
    const std::size_t len = guard_mapping_len(size, align);
    void* mapping = mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mapping == MAP_FAILED) return false;
    auto* base = static_cast<std::uint8_t*>(mapping);
    std::uint8_t* guard = base + len - page_size();
    if (mprotect(guard, page_size(), PROT_NONE) != 0) {
        munmap(mapping, len);
        return false;
    }
    out.mapping = mapping;
    out.mapping_len = len;
    out.data = guard - round_up(size, align);
    return true;
}

void guard_register(const GuardAllocation& allocation, Session* session,
                    const Session::Block& block) noexcept {
    std::lock_guard lock(g_mutex);
    if (g_entries == nullptr) g_entries = new (std::nothrow) GuardEntry[kEntries];
    if (g_entries == nullptr) return;
    if (!g_installed) install_handler();
    const auto page =
        reinterpret_cast<std::uintptr_t>(allocation.mapping) + allocation.mapping_len - page_size();
    for (std::size_t i = 0, s = slot_of(page); i < kEntries; ++i, s = (s + 1) & (kEntries - 1)) {
        GuardEntry& e = g_entries[s];
        const std::uintptr_t key = e.guard_page.load(std::memory_order_relaxed);
        if (key != 0 && key != kTombstone) continue;
        e.session = session;
        e.session_id = session->id();
        e.block_id = block.id;
        e.data = block.data;
        e.size = block.size;
        e.request = block.request;
        e.notification = block.notification;
        e.scope = block.scope;
        e.stack = block.stack;
        e.guard_page.store(page, std::memory_order_release);
        return;
    }
}

void guard_release(std::uint8_t* data, std::size_t size, std::size_t align) noexcept {
    const std::size_t len = guard_mapping_len(size, align);
    const auto page = reinterpret_cast<std::uintptr_t>(data) + round_up(size, align);
    void* mapping = reinterpret_cast<void*>(page - (len - page_size()));
    {
        std::lock_guard lock(g_mutex);
        if (g_entries != nullptr) {
            for (std::size_t i = 0, s = slot_of(page); i < kEntries;
                 ++i, s = (s + 1) & (kEntries - 1)) {
                const std::uintptr_t key = g_entries[s].guard_page.load(std::memory_order_relaxed);
                if (key == page) {
                    g_entries[s].guard_page.store(kTombstone, std::memory_order_release);
                    break;
                }
                if (key == 0) break;
            }
        }
    }
    munmap(mapping, len);
}

} // namespace memlife::detail
