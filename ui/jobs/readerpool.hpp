// The readers of one trace for the jobs: a TraceReader (or StackReader) serves one thread at
// a time, so a job borrows one (opened on first need, kept for the next job: its SQLite
// cache stays warm) and gives it back when done. Never used on the GUI thread: after the
// loader, every read of a trace happens in a job (guiThreadUses() counts violations, for
// the tests).
#pragma once

#include <QString>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "memlife/data/reader.hpp"
#include "memlife/data/stacks.hpp"

namespace memlife::ui {

class ReaderPool {
public:
    static constexpr std::size_t kMaxIdle = 4;

    explicit ReaderPool(const QString& path);

    // Runs fn(const data::TraceReader&) with a reader no other thread uses meanwhile and
    // returns what fn returns. Throws data::TraceError when no reader can be opened.
    template <class Fn> decltype(auto) use(Fn&& fn) {
        Lease<data::TraceReader> lease(*this, traces_);
        return fn(static_cast<const data::TraceReader&>(*lease.reader));
    }
    // The same for the call stacks (memlife/data/stacks.hpp).
    template <class Fn> decltype(auto) useStacks(Fn&& fn) {
        Lease<data::StackReader> lease(*this, stacks_);
        return fn(static_cast<const data::StackReader&>(*lease.reader));
    }
    // Adds a reader already open (the loader's), for later jobs.
    void give(std::unique_ptr<data::TraceReader> reader);
    void give(std::unique_ptr<data::StackReader> reader);

    // The recording of this trace just ended: closes the idle readers, and closes each one
    // given back instead of keeping it until the recorder has folded its WAL back (the
    // TRACE-wal file is gone) or kLetGoFor has passed. Folding needs every other connection
    // to the trace closed (docs/trace-format.md, "Following a trace being recorded").
    static constexpr std::chrono::milliseconds kLetGoFor{5000};
    void letGo();

    // How many times a reader was taken on the GUI thread, since the process started.
    static std::uint64_t guiThreadUses();

private:
    template <class Reader> using Idle = std::vector<std::unique_ptr<Reader>>;
    template <class Reader> struct Lease {
        Lease(ReaderPool& pool, Idle<Reader>& idle)
            : pool(pool), idle(idle), reader(pool.take(idle)) {}
        ~Lease() { pool.put(idle, std::move(reader)); }
        Lease(const Lease&) = delete;
        Lease& operator=(const Lease&) = delete;
        ReaderPool& pool;
        Idle<Reader>& idle;
        std::unique_ptr<Reader> reader;
    };
    template <class Reader> std::unique_ptr<Reader> take(Idle<Reader>& idle);
    template <class Reader> void put(Idle<Reader>& idle, std::unique_ptr<Reader> reader);

    bool keeps() const; // under mutex_

    std::string path_;
    std::mutex mutex_;
    Idle<data::TraceReader> traces_;
    Idle<data::StackReader> stacks_;
    std::chrono::steady_clock::time_point lettingGoUntil_{}; // past: readers are kept
};

} // namespace memlife::ui
