// stack_sites TRACE [--no-symbolize]: a program with known allocation sites, for the call-
// stack acceptance tests (test_stacks.cpp). It records TRACE with call stacks and prints, as
// JSON on stdout, what a correct report must say about each site: its function, the line of
// its allocating call, the bytes it allocated and whether it grows per request.
//
// Per request, in bytes: read_body 60 % (request memory, in three blocks), parse_headers 30 %
// (request memory), log_line 10 % (malloc'd, noted and freed again); and cache_entry, whose
// session memory (AllocMem) lives until the close: it grows.
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>

#include "memlife/data/recorder.hpp"
#include "memlife/session.hpp"

using namespace memlife;

namespace {

constexpr int kSessions = 4, kRequests = 100;
constexpr std::uint32_t kBodyBlock = 200, kBodyBlocks = 3; // 600 bytes per request
constexpr std::uint32_t kHeaders = 300, kLog = 100, kCache = 64;

// Each site its own function (noipa: its own frame, never inlined nor folded with another of
// the same code; the barrier keeps the call from becoming a tail call, which would leave no
// frame), and the line of its allocating call.
constexpr int kBodyLine = __LINE__ + 2;
[[gnu::noipa]] void* read_body(Session& s, std::uint32_t n) {
    void* p = s.alloc_request(n);
    asm volatile("" ::: "memory");
    return p;
}
constexpr int kHeadersLine = __LINE__ + 2;
[[gnu::noipa]] void* parse_headers(Session& s, std::uint32_t n) {
    void* p = s.alloc_request(n);
    asm volatile("" ::: "memory");
    return p;
}
constexpr int kLogLine = __LINE__ + 5;
[[gnu::noipa]] void* log_line(Session& s, std::uint32_t n) {
    void* p = std::malloc(n);
    if (p == nullptr) std::abort();
    std::memset(p, 'l', n);
    if (s.note_alloc(p, n, Scope::Request) != ML_OK) std::abort();
    asm volatile("" ::: "memory");
    return p;
}
constexpr int kCacheLine = __LINE__ + 2;
[[gnu::noipa]] void* cache_entry(Session& s, std::uint32_t n) {
    void* p = s.alloc_mem(n);
    asm volatile("" ::: "memory");
    return p;
}

[[gnu::noinline]] void handle_request(Session& s) {
    s.request_begin();
    s.set_notification(Notification::PreprocHeaders);
    std::memset(parse_headers(s, kHeaders), 'h', kHeaders);
    s.set_notification(Notification::UrlMap);
    for (std::uint32_t i = 0; i < kBodyBlocks; ++i)
        std::memset(read_body(s, kBodyBlock), 'b', kBodyBlock);
    std::memset(cache_entry(s, kCache), 'c', kCache);
    s.set_notification(Notification::Log);
    void* log = log_line(s, kLog);
    if (s.note_free(log) != ML_OK) std::abort();
    std::free(log);
    s.request_end();
}

nlohmann::json site(const char* function, int line, std::uint64_t bytes_per_request, bool grows) {
    return {{"function", function},
            {"line", line},
            {"bytes_allocated", bytes_per_request * kSessions * kRequests},
            {"grows", grows}};
}

} // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::cerr << "usage: stack_sites TRACE [--no-symbolize]\n";
        return 2;
    }
    data::RecorderOptions options;
    options.symbolize = !(argc > 2 && std::string(argv[2]) == "--no-symbolize");
    try {
        data::Recorder recorder(argv[1], options);
        Runtime runtime(Config{.stack_depth = 32}, &recorder);
        for (int k = 0; k < kSessions; ++k) {
            Session* s = runtime.open("10.0.0." + std::to_string(k + 1) + ":443");
            for (int r = 0; r < kRequests; ++r)
                handle_request(*s);
            runtime.close(s);
        }
        recorder.commit();
    } catch (const std::exception& e) {
        std::cerr << "stack_sites: " << e.what() << '\n';
        return 1;
    }
    const nlohmann::json sites = {site("read_body", kBodyLine, kBodyBlock * kBodyBlocks, false),
                                  site("parse_headers", kHeadersLine, kHeaders, false),
                                  site("log_line", kLogLine, kLog, false),
                                  site("cache_entry", kCacheLine, kCache, true)};
    std::cout << nlohmann::json{{"file", __FILE__}, {"sites", sites}}.dump() << '\n';
    return 0;
}
