// Real traces for the UI tests: the allocator (memlife::Runtime) records into a real trace
// file through the real Recorder, in the scenarios the views are made for.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>

#include "memlife/data/recorder.hpp"
#include "memlife/session.hpp"

namespace memlife::test {

struct KeepAliveTrace {
    static constexpr std::uint32_t kLeakRequests = 20;
    static constexpr std::uint32_t kLeakPerRequest = 1024; // AllocMem per request, kept
    static constexpr std::uint32_t kRequestScratch = 4096; // released at each request end
    static constexpr std::uint32_t kCorruptBlockSize = 100;
    static constexpr std::uint32_t kOverrun = 3; // bytes written past the corrupt block
    static constexpr std::uint32_t kNotedLeakSize = 256;

    std::uint64_t leaky = 0;   // keep-alive leak: AllocMem per request
    std::uint64_t clean = 0;   // request memory only: flat
    std::uint64_t corrupt = 0; // a write past the end of an AllocMem block
    std::uint64_t noted = 0;   // a noted request-scoped block never freed: a leak
    std::uint64_t busy = 0;    // many requests (only with busyRequests > 0)
};

// Writes the scenario to `path`; with busyRequests > 0 a fifth session carries that many
// keep-alive requests (six events each) to make a long event log.
inline KeepAliveTrace writeKeepAliveTrace(const std::string& path, std::uint32_t busyRequests = 0) {
    KeepAliveTrace ids;
    data::Recorder recorder(path);
    {
        Runtime runtime(Config{}, &recorder);

        Session* s = runtime.open("10.0.0.7:51234");
        ids.leaky = s->id();
        for (std::uint32_t i = 0; i < KeepAliveTrace::kLeakRequests; ++i) {
            s->request_begin();
            s->set_notification(Notification::UrlMap);
            s->alloc_mem(KeepAliveTrace::kLeakPerRequest);
            s->alloc_request(KeepAliveTrace::kRequestScratch);
            s->set_notification(Notification::EndOfRequest);
            s->request_end();
        }
        runtime.close(s);

        s = runtime.open("10.0.0.8:40000");
        ids.clean = s->id();
        for (int i = 0; i < 3; ++i) {
            s->request_begin();
            s->set_notification(Notification::PreprocHeaders);
            s->alloc_request(KeepAliveTrace::kRequestScratch);
            s->request_end();
        }
        runtime.close(s);

        s = runtime.open("10.0.0.9:1234");
        ids.corrupt = s->id();
        s->request_begin();
        s->set_notification(Notification::SendRawData);
        auto* block = static_cast<char*>(s->alloc_mem(KeepAliveTrace::kCorruptBlockSize));
        // The bug under test: a write past the requested size lands in the tail signature.
        std::memset(block + KeepAliveTrace::kCorruptBlockSize, 0, KeepAliveTrace::kOverrun);
        s->request_end();
        runtime.close(s); // END_OF_NET_SESSION: the tail check reports the corruption

        s = runtime.open("10.0.0.10:5555");
        ids.noted = s->id();
        static char pool_block[KeepAliveTrace::kNotedLeakSize];
        s->request_begin();
        s->set_notification(Notification::AuthComplete);
        s->note_alloc(pool_block, sizeof pool_block, Scope::Request);
        s->request_end(); // still live: a leak
        runtime.close(s);

        if (busyRequests > 0) {
            s = runtime.open("10.0.0.11:8080");
            ids.busy = s->id();
            for (std::uint32_t i = 0; i < busyRequests; ++i) {
                s->request_begin();
                s->set_notification(Notification::UrlMap);
                s->alloc_mem(32);
                s->alloc_request(64);
                s->set_notification(Notification::EndOfRequest);
                s->request_end();
            }
            runtime.close(s);
        }
    }
    recorder.commit();
    return ids;
}

} // namespace memlife::test
