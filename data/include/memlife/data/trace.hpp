// Types shared by the trace writer and reader (data/). The file format itself is
// documented in docs/trace-format.md (a contract).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>

#include "memlife/event.hpp"
#include "memlife/notification.hpp"

namespace memlife::data {

// Every failure to open or read a trace. what() is one line: "PATH: reason".
class TraceError : public std::runtime_error {
public:
    enum class Kind {
        Missing,     // no such file
        Empty,       // zero bytes
        NotSqlite,   // not an SQLite database (random bytes, a text file, ...)
        Truncated,   // an SQLite file cut short, or malformed
        Foreign,     // an SQLite database, but not a memlife trace (or with objects added)
        Damaged,     // a memlife trace whose values are impossible or contradict each other
        NewerSchema, // a memlife trace from a newer version
        Io,          // cannot read / write (permissions, disk full, ...)
        Usage,       // a wrong argument (unknown session, bad window, ...)
    };
    TraceError(Kind kind, std::string path, const std::string& reason)
        : std::runtime_error(path + ": " + reason), kind_(kind), path_(std::move(path)) {}
    Kind kind() const { return kind_; }
    const std::string& path() const { return path_; }

private:
    Kind kind_;
    std::string path_;
};

// Whether a trace's writer is still at work (docs/trace-format.md, "The live marker").
enum class RecordingState : std::uint8_t {
    Finished,    // meta complete = 1: the writer finished the trace
    Live,        // complete = 0 and the writer holds the live marker: being recorded now
    Interrupted, // complete = 0 and no writer: it was killed, crashed or failed to write
                 // ("recording stopped unexpectedly"); what was committed reads
};

struct TraceInfo {
    std::uint32_t schema_version = 0;
    std::string source;                // "recorder", "simulate", "serve", "nginx", "jsonl", ...
    std::string created;               // ISO 8601 UTC
    std::uint64_t events = 0;          // events stored
    std::uint64_t dropped_events = 0;  // lost to back-pressure (drop mode), never silent
    std::uint64_t skipped_lines = 0;   // importers: lines that were not pool activity
    std::uint64_t malformed_lines = 0; // importers in lenient mode
    std::uint64_t sessions = 0;
    std::uint64_t first_ns = 0, last_ns = 0;
    // How precise event times are: 1 = measured nanoseconds. Above 1 (an nginx import: one
    // second) the order of events is real but times within a step are made up (and so
    // are durations shorter than it).
    std::uint64_t time_resolution_ns = 1;
    // meta.complete: the writer finished the trace. False when it was killed, failed to
    // write, or is still recording: what was committed reads, but the end may be missing
    // (reader.hpp: completeness_note() says so in words). Not the same as damaged: a damaged
    // trace does not open at all (TraceError::Kind::Damaged).
    bool complete = true;
    // memlife record (source "record"): the recorded command line, the processes that
    // streamed, and the allocations made while no connection was current (the process's,
    // shown apart from the sessions). Empty / 0 in other traces.
    std::string command;
    std::uint64_t processes = 0;
    std::uint64_t process_allocations = 0;
    std::uint64_t process_allocated_bytes = 0;
    // Finished exactly when complete; otherwise the live marker tells a trace being recorded
    // (Live: it grows while it is read, memlife/data/follow.hpp) from one whose writer
    // stopped (Interrupted).
    RecordingState recording = RecordingState::Finished;
};

struct SessionRow {
    std::uint64_t id = 0;
    std::string peer;
    std::uint64_t open_ns = 0;
    std::uint64_t close_ns = 0; // 0 = never closed in the trace
    std::uint32_t requests = 0;
    std::uint64_t peak_bytes = 0;
    std::uint64_t released_at_close_bytes = 0;
    double growth_bytes_per_request = 0; // least-squares slope of live bytes at request ends
    std::uint64_t corruptions = 0;
    std::uint64_t leaks = 0;
    std::uint64_t leaked_bytes = 0;
    std::uint64_t blocks = 0; // allocations made in the session
    std::uint64_t events = 0;
    // Blocks still live after the connection closed (memlife record; table `outlived`).
    std::uint64_t outlived = 0;
    std::uint64_t outlived_bytes = 0;
    std::uint64_t live_bytes = 0; // after the session's last event (0 once closed)
    bool closed() const { return close_ns != 0; }
};

struct RequestRow {
    std::uint64_t session = 0;
    std::uint32_t number = 0; // 1-based within the session
    std::uint64_t begin_ns = 0;
    std::uint64_t end_ns = 0;            // 0 = never ended
    std::uint64_t live_bytes_at_end = 0; // session live bytes just after the request ended
    std::uint64_t peak_bytes = 0;        // session peak during the request
    std::uint64_t blocks = 0;            // allocations made during the request
    std::uint64_t released_bytes = 0;    // released by the request scope at its end
    std::uint64_t corruptions = 0;
    std::uint64_t leaks = 0;
};

struct SeriesPoint {
    std::uint64_t time_ns = 0;
    std::uint64_t live_bytes = 0;
};

enum class TailStatus : std::uint8_t { Intact, Corrupted, NotChecked /* noted blocks, live */ };

// What released a block (a leaked block is released by its scope's end, or never).
enum class ReleasedBy : std::uint8_t {
    Nothing,      // still live at the end of the trace
    Free,         // its own Release event (noted blocks)
    RequestEnd,   // its request's end released the request scope
    SessionClose, // its session's close released everything still live
};

struct BlockRow {
    std::uint64_t session = 0;
    std::uint64_t id = 0;
    std::uint64_t address = 0;
    std::uint64_t size = 0;
    Scope scope = Scope::Session;
    AllocOrigin origin = AllocOrigin::AllocMem;
    Notification notification = Notification::None;
    std::uint32_t request = 0;
    std::uint64_t alloc_ns = 0;
    std::uint64_t release_ns = 0; // 0 = still live at the end of the trace
    ReleasedBy released_by = ReleasedBy::Nothing;
    TailStatus tail = TailStatus::Intact;
    bool leaked = false;
    bool outlived = false;   // still live after its connection closed (memlife record)
    std::uint64_t stack = 0; // the allocating stack (memlife/data/stacks.hpp); 0 = none
};

struct CorruptionRow {
    std::uint64_t session = 0;
    std::uint32_t request = 0;       // at detection
    std::uint32_t alloc_request = 0; // at allocation
    std::uint64_t block = 0;
    std::uint64_t address = 0;
    std::uint64_t size = 0;
    Scope scope = Scope::Session;
    Notification alloc_notification = Notification::None;
    Notification last_notification = Notification::None;
    std::uint64_t time_ns = 0;
    std::uint32_t first_offset = 0;
    std::uint32_t modified_count = 0;
    std::string expected; // raw tail bytes
    std::string found;
    std::uint64_t fault_address = 0; // guard-page faults
    std::string message;
    std::uint64_t stack = 0; // the block's allocating stack; 0 = none recorded
};

struct LeakRow {
    std::uint64_t session = 0;
    std::uint32_t request = 0;
    std::uint32_t alloc_request = 0;
    std::uint64_t block = 0;
    std::uint64_t address = 0;
    std::uint64_t size = 0;
    Scope scope = Scope::Session;
    Notification alloc_notification = Notification::None;
    std::uint64_t time_ns = 0;
    std::string message;
    std::uint64_t stack = 0; // the block's allocating stack; 0 = none recorded
};

// A block still live when its connection's close window ended (memlife record; the table
// `outlived`, docs/trace-format.md). The trace releases it with the session's close; the
// process kept it.
struct OutlivedRow {
    std::uint64_t session = 0;
    std::uint32_t request = 0;       // at detection: the connection's last request
    std::uint32_t alloc_request = 0; // request running when it was allocated (0: none)
    std::uint64_t block = 0;
    std::uint64_t address = 0;
    std::uint64_t size = 0;
    std::uint64_t time_ns = 0; // when the close window ended
    std::string message;
};

struct TimeWindow {
    std::uint64_t begin_ns = 0;
    std::uint64_t end_ns = UINT64_MAX;
};

} // namespace memlife::data
