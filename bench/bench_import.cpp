// nginx import throughput against `wc -l` on the same file, same run. The log is synthetic:
// the real capture's three connections (tests/fixtures/nginx-debug-keepalive.log) repeated
// with fresh connection numbers and timestamps up to ~200 MB (MEMLIFE_BENCH_IMPORT_MB).
//   import_nginx_mb_per_s_vs_wc   import into a counting sink, MB/s   baseline: wc -l MB/s
//   import_nginx_mb_per_s         the same                            baseline: the 50 MB/s target
//   import_nginx_trace_mb_per_s   import into a trace file (Recorder) baseline: the 50 MB/s target
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "figures.hpp"
#include "memlife/data/import.hpp"

namespace {

using Clock = std::chrono::steady_clock;

class CountingSink : public memlife::EventSink {
public:
    std::uint64_t events = 0, bytes = 0;
    void on_event(const memlife::Event& e) noexcept override {
        ++events;
        bytes += e.size;
    }
};

// Writes the synthetic log; returns its size in bytes.
std::uint64_t write_log(const std::string& path, std::uint64_t target_bytes) {
    std::ifstream in(std::string(MEMLIFE_SOURCE_DIR) + "/tests/fixtures/nginx-debug-keepalive.log");
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);)
        lines.push_back(line);
    // The connections: from the first "accept on" to the last connection pool's free.
    std::size_t first = 0, last = 0;
    for (std::size_t i = 0; i < lines.size(); ++i) {
        if (first == 0 && lines[i].find("accept on ") != std::string::npos) first = i;
        if (lines[i].find("free: 0000562491449970, unused:") != std::string::npos) last = i;
    }
    std::FILE* out = std::fopen(path.c_str(), "w");
    if (out == nullptr) return 0;
    std::uint64_t written = 0, connection = 0;
    std::time_t second = 1795538531; // 2026/11/24 16:42:11 UTC
    for (std::uint64_t round = 0; written < target_bytes; ++round) {
        if (round % 50 == 0) ++second; // ~150 connections a second
        char stamp[32];
        std::tm tm{};
        gmtime_r(&second, &tm);
        std::strftime(stamp, sizeof stamp, "%Y/%m/%d %H:%M:%S", &tm);
        for (std::size_t i = first; i <= last; ++i) {
            std::string line = lines[i];
            if (line.size() > 19 && line[4] == '/' && line[13] == ':') line.replace(0, 19, stamp);
            // Renumber *1..*3 of the capture to fresh connection numbers.
            const std::size_t star = line.find(": *");
            if (star != std::string::npos && star + 4 < line.size() && line[star + 4] == ' ')
                line.replace(star + 3, 1, std::to_string(connection + (line[star + 3] - '0')));
            line += '\n';
            written += std::fwrite(line.data(), 1, line.size(), out);
        }
        connection += 3;
    }
    std::fclose(out);
    return written;
}

double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

long max_rss_kb() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return usage.ru_maxrss;
}

} // namespace

int main() {
    const char* mb_env = std::getenv("MEMLIFE_BENCH_IMPORT_MB");
    const std::uint64_t target = (mb_env != nullptr ? std::strtoull(mb_env, nullptr, 10) : 200)
                                 << 20;
    const std::string dir = std::getenv("TMPDIR") != nullptr ? std::getenv("TMPDIR") : "/tmp";
    const std::string log = dir + "/memlife-bench-import-" + std::to_string(::getpid()) + ".log";
    const std::string trace =
        dir + "/memlife-bench-import-" + std::to_string(::getpid()) + ".trace";
    const std::uint64_t size = write_log(log, target);
    if (size == 0) {
        std::fprintf(stderr, "bench_import: cannot write %s\n", log.c_str());
        return 1;
    }
    const double mb = static_cast<double>(size) / 1e6;
    const std::string wc = "wc -l '" + log + "' > /dev/null";
    if (std::system(wc.c_str()) != 0) return 1; // warms the page cache too

    // Best of three for each side, interleaved so that both see the same machine load.
    double import_s = 1e9, wc_s = 1e9, trace_s = 1e9;
    CountingSink sink;
    const long rss_before = max_rss_kb();
    memlife::data::ImportStats stats;
    for (int run = 0; run < 3; ++run) {
        auto start = Clock::now();
        sink = CountingSink{};
        stats = memlife::data::import_nginx(log, sink);
        import_s = std::min(import_s, seconds_since(start));
        start = Clock::now();
        if (std::system(wc.c_str()) != 0) return 1;
        wc_s = std::min(wc_s, seconds_since(start));
    }
    const long rss_after = max_rss_kb();
    try {
        auto start = Clock::now();
        memlife::data::import_nginx_to_trace(log, trace);
        trace_s = seconds_since(start);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bench_import: trace import failed: %s\n", e.what());
    }
    std::remove(log.c_str());
    std::remove(trace.c_str());

    std::fprintf(stderr,
                 "bench_import: %.1f MB, %llu lines, %llu events, %llu sessions; import %.3f s, "
                 "wc -l %.3f s, to trace %.3f s; max RSS growth during import %ld KiB\n",
                 mb, static_cast<unsigned long long>(stats.lines),
                 static_cast<unsigned long long>(sink.events),
                 static_cast<unsigned long long>(stats.sessions), import_s, wc_s, trace_s,
                 rss_after - rss_before);
    memlife::bench::print_figure("import_nginx_mb_per_s_vs_wc", mb / import_s, "MB/s", mb / wc_s);
    memlife::bench::print_figure("import_nginx_mb_per_s", mb / import_s, "MB/s", 50.0);
    if (trace_s < 1e9)
        memlife::bench::print_figure("import_nginx_trace_mb_per_s", mb / trace_s, "MB/s", 50.0);
    return 0;
}
