#include "cli.hpp"

#include <chrono>
#include <cstdio>
#include <fmt/format.h>
#include <random>
#include <stdexcept>
#include <unistd.h>

namespace memlife::cli {

int error(const std::string& command, const std::string& message, int code) {
    fmt::print(stderr, "memlife {}: {}\n", command, message);
    return code;
}

std::string temp_path_for(const std::string& path) {
    std::random_device rd;
    return fmt::format("{}.tmp-{}-{:08x}", path, ::getpid(), rd());
}

AtomicOutput::AtomicOutput(std::string path) : path_(std::move(path)) {
    if (path_ == "-") return;
    temp_ = temp_path_for(path_);
    file_.open(temp_, std::ios::binary | std::ios::trunc);
    if (!file_) throw std::runtime_error(path_ + ": cannot create the output file");
}

AtomicOutput::~AtomicOutput() {
    if (!committed_ && !temp_.empty()) {
        file_.close();
        std::remove(temp_.c_str());
    }
}

std::ostream& AtomicOutput::stream() {
    if (path_ == "-") return std::cout;
    return file_;
}

void AtomicOutput::commit() {
    if (path_ == "-") {
        std::cout.flush();
        committed_ = true;
        return;
    }
    file_.flush();
    const bool ok = static_cast<bool>(file_);
    file_.close();
    if (!ok || std::rename(temp_.c_str(), path_.c_str()) != 0) {
        std::remove(temp_.c_str());
        throw std::runtime_error(path_ + ": cannot write the output file");
    }
    committed_ = true;
}

Progress::Progress(std::string label, std::string unit)
    : label_(std::move(label)), unit_(std::move(unit)), enabled_(::isatty(STDERR_FILENO) == 1) {}

Progress::~Progress() {
    finish();
}

void Progress::update(std::uint64_t done, std::uint64_t total) {
    if (!enabled_) return;
    const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::steady_clock::now().time_since_epoch())
                         .count();
    if (now - last_ms_ < 100 && done != total) return;
    last_ms_ = now;
    const double pct =
        total != 0 ? 100.0 * static_cast<double>(done) / static_cast<double>(total) : 0;
    fmt::print(stderr, "\r{} {:5.1f}% ({}/{} {})\x1b[K", label_, pct, done, total, unit_);
    std::fflush(stderr);
    drawn_ = true;
}

void Progress::finish() {
    if (drawn_) {
        fmt::print(stderr, "\r\x1b[K");
        std::fflush(stderr);
        drawn_ = false;
    }
}

std::string format_bytes(double bytes) {
    const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int u = 0;
    const bool negative = bytes < 0;
    double v = negative ? -bytes : bytes;
    while (v >= 1024 && u < 4)
        v /= 1024, ++u;
    return fmt::format("{}{:.{}f} {}", negative ? "-" : "", v, u == 0 ? 0 : 1, units[u]);
}

} // namespace memlife::cli
