// The teaching view's built-in example: a demo filter run through a real Runtime and
// FilterHost, in two variants (the what-if).
#pragma once

#include <cstdint>
#include <vector>

#include "memlife/event.hpp"
#include "memlife/notification.hpp"
#include "teaching/teachingscript.hpp"

namespace memlife::ui {

// The demo filter copies the URL at each URL_MAP with the memory the what-if chooses, keeps
// the user name from AUTHENTICATION with AllocMem (right: it is valid for the connection)
// and takes a scratch buffer with request memory at SEND_RESPONSE.
enum class ExampleMemory : std::uint8_t { Session, Request };

struct Example {
    static constexpr std::uint32_t kRequests = 3;
    static constexpr std::uint32_t kWhatIfRequests = 10; // growth lines of the what-if
    static constexpr std::uint32_t kUserNameBytes = 128; // AllocMem at AUTHENTICATION
    static constexpr std::uint32_t kUrlCopyBytes = 256;  // at each URL_MAP
    static constexpr std::uint32_t kScratchBytes = 4096; // alloc_request at SEND_RESPONSE
    static RequestShape shape();                         // every request's shape
};

// Runs the example through a real Runtime and FilterHost; returns the connection's events.
std::vector<Event> exampleEvents(ExampleMemory memory, std::uint32_t requests = Example::kRequests);
TeachingScript exampleScript(ExampleMemory memory);

// Live bytes (both scopes) just after each request ended, request 1 first.
std::vector<std::uint64_t> liveBytesAtRequestEnds(const std::vector<Event>& events);

} // namespace memlife::ui
