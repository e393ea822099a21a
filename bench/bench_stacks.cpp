// Call stacks: what recording them costs, each figure against a baseline of the same run.
//
// The workload: 10M allocations in sessions of 1000 requests x 10 allocations whose blocks
// live until their session ends, made five calls deep (connection, request, filter, copy,
// allocation: a stack worth unwinding). Each variant runs as a process of its own (this
// program, --workload MODE), timed from start to exit: heaptrack can only be measured so.
//   stacks_recording_vs_heaptrack  memlife recording with stacks (depth 16) against
//                                  heaptrack running the same workload written with
//                                  malloc/free (target: at most 0.5)
//   session_recording_vs_malloc    memlife recording without stacks against the plain
//                                  malloc version (target: at most 1.25)
//   stacks_recording_vs_malloc     with stacks, against the plain malloc version
//   heaptrack_vs_malloc            heaptrack against the plain malloc version
//   stacks_trace_size_vs_without   the trace's size with stacks against without (target: at
//                                  most 1.5)
//   capture_stack_ns_vs_malloc     one capture_stack(16) against a malloc+free pair, 12 calls
//                                  deep, and the unwinders it was chosen against, the same
//                                  depth: unw_backtrace_ns_vs_malloc (libunwind, its per-thread
//                                  cache), glibc_backtrace_ns_vs_malloc, frame_pointers_ns_vs_
//                                  malloc (only works when every frame keeps one)
// The machine is shared and noisy: kRounds interleaved rounds, each figure the round with
// the median ratio.
#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#define UNW_LOCAL_ONLY
#include <execinfo.h>
#include <libunwind.h>

#include "figures.hpp"
#include "memlife/data/recorder.hpp"
#include "memlife/session.hpp"
#include "memlife/stacks.hpp"
#include "workloads.hpp"

extern char** environ;
int stack_chain(int levels, int (*leaf)());
int frame_pointer_walk(void** out, int max);

namespace {

std::uint64_t g_allocations = 10'000'000; // --workload MODE TRACE [ALLOCATIONS]
constexpr int kRequests = 1000, kPerRequest = 10;
constexpr int kRounds = 3;

// ---- the workload, five calls deep ----------------------------------------------------

template <class Heap> [[gnu::noinline]] void* copy_header(Heap& heap, std::uint32_t size) {
    void* p = heap.allocate(size);
    asm volatile("" ::: "memory"); // no tail call: this frame stays
    return p;
}
template <class Heap> [[gnu::noinline]] void run_filter(Heap& heap, std::size_t& next) {
    const auto& sizes = memlife::bench::allocation_sizes();
    for (int a = 0; a < kPerRequest; ++a)
        benchmark::DoNotOptimize(copy_header(heap, sizes[next++ & 4095]));
    asm volatile("" ::: "memory");
}
template <class Heap> [[gnu::noinline]] void handle_request(Heap& heap, std::size_t& next) {
    heap.request_begin();
    run_filter(heap, next);
    heap.request_end();
}
template <class Heap> [[gnu::noinline]] void handle_connection(Heap& heap, std::size_t& next) {
    heap.open();
    for (int r = 0; r < kRequests; ++r)
        handle_request(heap, next);
    heap.close();
}
template <class Heap> void workload(Heap& heap) {
    std::size_t next = 0;
    for (std::uint64_t done = 0; done < g_allocations; done += kRequests * kPerRequest)
        handle_connection(heap, next);
}

// malloc, the blocks freed when their session ends (as a server frees a connection's).
struct MallocHeap {
    std::vector<void*> live;
    void open() { live.reserve(kRequests * kPerRequest); }
    void request_begin() {}
    void request_end() {}
    void* allocate(std::uint32_t size) {
        void* p = std::malloc(size);
        live.push_back(p);
        return p;
    }
    void close() {
        for (void* p : live)
            std::free(p);
        live.clear();
    }
};

struct SessionHeap {
    memlife::Runtime& runtime;
    memlife::Session* session = nullptr;
    void open() { session = runtime.open("10.0.0.7:51234"); }
    void request_begin() {
        session->request_begin();
        session->set_notification(memlife::Notification::UrlMap);
    }
    void request_end() { session->request_end(); }
    void* allocate(std::uint32_t size) { return session->alloc_mem(size); }
    void close() { runtime.close(session); }
};

int run_workload(const std::string& mode, const char* trace) {
    if (mode == "malloc") {
        MallocHeap heap;
        workload(heap);
        return 0;
    }
    const std::uint32_t depth = mode == "stacks" ? 16 : 0;
    memlife::data::Recorder recorder(trace);
    memlife::Runtime runtime(memlife::Config{.stack_depth = depth}, &recorder);
    SessionHeap heap{runtime};
    workload(heap);
    recorder.commit(); // with stacks: symbolized here, as a recording is
    return 0;
}

// ---- the driver ------------------------------------------------------------------------

using Clock = std::chrono::steady_clock;

std::string self_path() {
    return std::filesystem::read_symlink("/proc/self/exe").string();
}

// Runs argv with stdout and stderr to /dev/null; wall seconds, or -1 when it failed.
double timed_run(std::vector<std::string> args) {
    std::vector<char*> argv;
    for (auto& a : args)
        argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
    const auto start = Clock::now();
    pid_t pid = 0;
    const int rc = posix_spawnp(&pid, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) return -1;
    int status = 0;
    waitpid(pid, &status, 0);
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? seconds : -1;
}

bool have_heaptrack() {
    return std::system("command -v heaptrack >/dev/null 2>&1") == 0;
}

double file_size(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 ? static_cast<double>(st.st_size) : 0;
}

struct Pair {
    double value, baseline;
};

void print_median(const char* name, std::vector<Pair> pairs, const char* unit) {
    pairs.erase(std::remove_if(pairs.begin(), pairs.end(),
                               [](const Pair& p) { return p.value <= 0 || p.baseline <= 0; }),
                pairs.end());
    if (pairs.empty()) {
        std::printf("%-36s %14s (a run failed)\n", name, "-");
        return;
    }
    std::sort(pairs.begin(), pairs.end(), [](const Pair& a, const Pair& b) {
        return a.value / a.baseline < b.value / b.baseline;
    });
    const Pair& median = pairs[pairs.size() / 2];
    memlife::bench::print_figure(name, median.value, unit, median.baseline);
}

// Each unwinder 12 calls deep (stack_chain.cpp, built with frame pointers), 16 frames.
constexpr int kChainLevels = 11;
void* g_frames[64];
template <int (*Leaf)()> void unwind_loop(benchmark::State& state) {
    for (auto _ : state)
        benchmark::DoNotOptimize(stack_chain(kChainLevels, Leaf));
}
int memlife_leaf() {
    return static_cast<int>(memlife::capture_stack(16));
}
int libunwind_leaf() {
    return unw_backtrace(g_frames, 16);
}
int glibc_leaf() {
    return backtrace(g_frames, 16);
}
int frame_pointer_leaf() {
    return frame_pointer_walk(g_frames, 16);
}
void BM_CaptureStack(benchmark::State& state) {
    unwind_loop<memlife_leaf>(state);
}
void BM_UnwBacktrace(benchmark::State& state) {
    unw_set_caching_policy(unw_local_addr_space, UNW_CACHE_PER_THREAD);
    unwind_loop<libunwind_leaf>(state);
}
void BM_GlibcBacktrace(benchmark::State& state) {
    unwind_loop<glibc_leaf>(state);
}
void BM_FramePointers(benchmark::State& state) {
    unwind_loop<frame_pointer_leaf>(state);
}
int nothing_leaf() {
    return 0;
}
void BM_ChainOnly(benchmark::State& state) { // the chain's own cost, for reference
    unwind_loop<nothing_leaf>(state);
}
BENCHMARK(BM_CaptureStack);
BENCHMARK(BM_UnwBacktrace);
BENCHMARK(BM_GlibcBacktrace);
BENCHMARK(BM_FramePointers);
BENCHMARK(BM_ChainOnly);
using memlife::bench::BM_MallocFree;
BENCHMARK(BM_MallocFree);

} // namespace

int main(int argc, char** argv) {
    if (argc >= 3 && std::strcmp(argv[1], "--workload") == 0) {
        if (argc >= 5) g_allocations = std::strtoull(argv[4], nullptr, 10);
        return run_workload(argv[2], argc >= 4 ? argv[3] : "");
    }

    memlife::bench::figure("capture_stack_ns_vs_malloc", "BM_CaptureStack", "BM_MallocFree");
    memlife::bench::figure("unw_backtrace_ns_vs_malloc", "BM_UnwBacktrace", "BM_MallocFree");
    memlife::bench::figure("glibc_backtrace_ns_vs_malloc", "BM_GlibcBacktrace", "BM_MallocFree");
    memlife::bench::figure("frame_pointers_ns_vs_malloc", "BM_FramePointers", "BM_MallocFree");
    memlife::bench::figure("call_chain_only_ns_vs_malloc", "BM_ChainOnly", "BM_MallocFree");
    memlife::bench::run_figures(argc, argv);

    char pattern[] = "/tmp/memlife-bench-stacks-XXXXXX";
    const std::string dir = ::mkdtemp(pattern);
    const std::string self = self_path();
    const std::string with = dir + "/stacks.mltrace", without = dir + "/plain.mltrace";
    const bool heaptrack = have_heaptrack();
    std::vector<Pair> vs_heaptrack, session_vs_malloc, stacks_vs_malloc, heaptrack_vs_malloc, size;
    for (int round = 0; round < kRounds; ++round) {
        std::filesystem::remove(with);
        std::filesystem::remove(without);
        const double plain = timed_run({self, "--workload", "malloc"});
        const double recorded = timed_run({self, "--workload", "session", without});
        const double stacks = timed_run({self, "--workload", "stacks", with});
        const double traced =
            heaptrack
                ? timed_run({"heaptrack", "-o", dir + "/heaptrack", self, "--workload", "malloc"})
                : -1;
        for (const auto& entry : std::filesystem::directory_iterator(dir))
            if (entry.path().filename().string().rfind("heaptrack", 0) == 0)
                std::filesystem::remove(entry.path());
        vs_heaptrack.push_back({stacks, traced});
        session_vs_malloc.push_back({recorded, plain});
        stacks_vs_malloc.push_back({stacks, plain});
        heaptrack_vs_malloc.push_back({traced, plain});
        size.push_back({file_size(with), file_size(without)});
    }
    std::filesystem::remove_all(dir);
    if (heaptrack)
        print_median("stacks_recording_vs_heaptrack", vs_heaptrack, "s");
    else
        std::printf("%-36s %14s (heaptrack is not installed)\n", "stacks_recording_vs_heaptrack",
                    "-");
    print_median("session_recording_vs_malloc", session_vs_malloc, "s");
    print_median("stacks_recording_vs_malloc", stacks_vs_malloc, "s");
    if (heaptrack) print_median("heaptrack_vs_malloc", heaptrack_vs_malloc, "s");
    print_median("stacks_trace_size_vs_without", size, "bytes");
    return 0;
}
