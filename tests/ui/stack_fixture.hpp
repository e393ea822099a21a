// A trace with known allocation sites for the stack views: per request, three functions
// allocate request memory in the proportions 60/30/10 % of those bytes, and a fourth keeps
// a small AllocMem block for the session (it grows per request). Recorded with call stacks
// on, through the real Recorder, symbolized when it stops.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "memlife/data/recorder.hpp"
#include "memlife/session.hpp"

namespace memlife::test {

struct SitesTrace {
    static constexpr int kSessions = 4;
    static constexpr int kRequests = 50;
    static constexpr std::uint32_t kParse = 600, kBuild = 300, kLog = 100; // request scope
    static constexpr std::uint32_t kCache = 40;       // session scope: the growing site
    static constexpr std::uint32_t kOverrunSize = 24; // with `corrupt`: one such block
    static constexpr std::uint64_t kPerSession =
        std::uint64_t(kRequests) * (kParse + kBuild + kLog + kCache);
    std::vector<std::uint64_t> sessions;
};

namespace sites {
// Each site is its own function (noinline: its own frame).
[[gnu::noinline]] inline void* parse_headers(Session& s) {
    void* p = s.alloc_request(SitesTrace::kParse);
    asm volatile("" ::: "memory");
    return p;
}
[[gnu::noinline]] inline void* build_response(Session& s) {
    void* p = s.alloc_request(SitesTrace::kBuild);
    asm volatile("" ::: "memory");
    return p;
}
[[gnu::noinline]] inline void* log_access(Session& s) {
    void* p = s.alloc_request(SitesTrace::kLog);
    asm volatile("" ::: "memory");
    return p;
}
// `fixed`: the bug fixed, the state kept for the request only (no growth).
[[gnu::noinline]] inline void* cache_session_state(Session& s, bool fixed) {
    void* p = fixed ? s.alloc_request(SitesTrace::kCache) : s.alloc_mem(SitesTrace::kCache);
    asm volatile("" ::: "memory");
    return p;
}
// The bug for the blocks view and the tail inspector: a write past the requested size.
[[gnu::noinline]] inline void overrun_buffer(Session& s) {
    auto* p = static_cast<char*>(s.alloc_mem(SitesTrace::kOverrunSize));
    p[SitesTrace::kOverrunSize] = '!';
    asm volatile("" ::: "memory");
}
[[gnu::noinline]] inline void serve_request(Session& s, bool fixed) {
    s.request_begin();
    s.set_notification(Notification::UrlMap);
    parse_headers(s);
    cache_session_state(s, fixed);
    s.set_notification(Notification::SendResponse);
    build_response(s);
    s.set_notification(Notification::Log);
    log_access(s);
    s.request_end();
    asm volatile("" ::: "memory");
}
} // namespace sites

// stackDepth 0 records the same workload without stacks; `corrupt` adds one overrun block
// (sites::overrun_buffer) in the last session's last request; `fixed` records the same
// program with its growing site fixed (compare mode's NEW).
inline SitesTrace writeSitesTrace(const std::string& path, std::uint32_t stackDepth = 16,
                                  bool corrupt = false, bool fixed = false) {
    SitesTrace ids;
    data::Recorder recorder(path);
    {
        Runtime runtime(Config{.stack_depth = stackDepth}, &recorder);
        for (int k = 0; k < SitesTrace::kSessions; ++k) {
            Session* s = runtime.open("10.1.0." + std::to_string(k + 1) + ":443");
            ids.sessions.push_back(s->id());
            for (int r = 0; r < SitesTrace::kRequests; ++r)
                sites::serve_request(*s, fixed);
            if (corrupt && k + 1 == SitesTrace::kSessions) {
                s->request_begin();
                sites::overrun_buffer(*s);
                s->request_end();
            }
            runtime.close(s);
        }
    }
    recorder.commit();
    return ids;
}

} // namespace memlife::test
