// Internal to the importers: splits a file or a memory buffer into lines through one fixed
// buffer, so memory stays bounded whatever the input size.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "memlife/data/import.hpp"

namespace memlife::data::import_detail {

// A line longer than this is delivered cut to this length with `overlong` set (no event
// line of either format comes near it; the importers reject or skip such lines).
inline constexpr std::size_t kMaxLine = 1u << 20;
// A line that goes on past this ends the import in every mode: the input is not text (e.g.
// /dev/zero), and skipping it would never end.
inline constexpr std::uint64_t kGiveUpLine = 64u << 20;
// Room for one line of kMaxLine plus 1 MiB of reading.
inline constexpr std::size_t kReadBuffer = kMaxLine + (1u << 20);

struct Line {
    std::string_view text; // without the '\n' (and without a trailing '\r')
    std::uint64_t number = 0;
    bool terminated = true; // false: the last line of the input had no '\n'
    bool overlong = false;
};

class ByteSource {
public:
    virtual ~ByteSource() = default;
    // Fills up to n bytes; returns 0 at the end. Throws ImportError on I/O errors.
    virtual std::size_t read(char* dst, std::size_t n) = 0;
    virtual std::uint64_t total() const = 0; // 0 = unknown
    // Bytes of line buffer to use (a small in-memory input needs no more than its size).
    virtual std::size_t buffer_size() const { return kReadBuffer; }
};

// Opens `path` (ImportError "PATH: reason" when missing or unreadable).
std::unique_ptr<ByteSource> open_file(const std::string& path);
std::unique_ptr<ByteSource> open_memory(std::string_view text);

// Calls on_line(const Line&) for every line, reports progress, counts bytes and lines.
// Templated on the callback so the per-line call inlines: this loop is the importers' hot
// path (memchr over a 1 MiB buffer, no iostream and no per-line allocation). Throws
// ImportError("NAME:LINE: ...") for a line longer than kGiveUpLine.
template <class OnLine>
void for_each_line(ByteSource& source, const ImportOptions& options, ImportStats& stats,
                   const std::string& name, OnLine&& on_line) {
    const std::size_t capacity = source.buffer_size();
    std::unique_ptr<char[]> buffer(new char[capacity]);
    const std::uint64_t total = source.total();
    std::size_t begin = 0, end = 0; // unconsumed bytes: buffer[begin, end)
    bool skipping_rest = false;     // inside an overlong line already delivered
    std::uint64_t skipped = 0;      // bytes of that line so far
    std::uint64_t number = 0;
    auto deliver = [&](const char* p, std::size_t n, bool terminated, bool overlong) {
        if (n != 0 && p[n - 1] == '\r') --n;
        ++number;
        on_line(Line{std::string_view(p, n), number, terminated, overlong});
    };
    for (;;) {
        if (begin != 0) { // keep the partial line, at the front
            std::memmove(buffer.get(), buffer.get() + begin, end - begin);
            end -= begin;
            begin = 0;
        }
        const std::size_t got = source.read(buffer.get() + end, capacity - end);
        stats.bytes += got;
        if (got == 0) break;
        end += got;
        while (begin < end) {
            const char* start = buffer.get() + begin;
            const char* nl = static_cast<const char*>(std::memchr(start, '\n', end - begin));
            if (nl == nullptr) {
                if (skipping_rest) {
                    skipped += end - begin;
                    begin = end;
                    if (skipped > kGiveUpLine)
                        throw ImportError(name, number,
                                          "line longer than 64 MiB (the input is not text)");
                } else if (end - begin > kMaxLine) { // deliver the head, drop the rest
                    deliver(start, kMaxLine, true, true);
                    skipping_rest = true;
                    skipped = end - begin;
                    begin = end;
                }
                break;
            }
            const auto length = static_cast<std::size_t>(nl - start);
            if (!skipping_rest) deliver(start, std::min(length, kMaxLine), true, length > kMaxLine);
            skipping_rest = false;
            begin += length + 1;
        }
        if (options.progress) options.progress(stats.bytes, total);
    }
    if (begin < end && !skipping_rest) deliver(buffer.get() + begin, end - begin, false, false);
    stats.lines = number;
    if (options.progress) options.progress(stats.bytes, total);
}

// Runs one importer over a source: every line to importer.on_line(const Line&), then
// importer.finish() (end-of-input checks and leak reports), then a flush of the sink.
template <class Importer>
ImportStats run_importer(ByteSource& source, EventSink& sink, const ImportOptions& options,
                         const std::string& name) {
    ImportStats stats;
    Importer importer(sink, options, name, stats);
    for_each_line(source, options, stats, name, [&](const Line& line) { importer.on_line(line); });
    importer.finish();
    sink.flush();
    return stats;
}

// The importers over an open source (the *_to_trace functions open their input once, so
// that a FIFO works).
ImportStats import_nginx_source(ByteSource& source, EventSink& sink, const ImportOptions& options,
                                const std::string& name);
ImportStats import_jsonl_source(ByteSource& source, EventSink& sink, const ImportOptions& options,
                                const std::string& name);

// For error messages: the text cut to `max` bytes with control bytes replaced, so that a
// reason stays one printable line whatever the input.
std::string printable(std::string_view text, std::size_t max = 40);

} // namespace memlife::data::import_detail
