#include "line_reader.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace memlife::data::import_detail {

namespace {

class FileSource final : public ByteSource {
public:
    explicit FileSource(const std::string& path) : path_(path) {
        fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd_ < 0) throw ImportError(path, 0, std::strerror(errno));
        struct stat st {};
        if (::fstat(fd_, &st) == 0) {
            if (S_ISDIR(st.st_mode)) {
                ::close(fd_);
                throw ImportError(path, 0, std::strerror(EISDIR));
            }
            if (S_ISREG(st.st_mode)) total_ = static_cast<std::uint64_t>(st.st_size);
        }
        ::posix_fadvise(fd_, 0, 0, POSIX_FADV_SEQUENTIAL);
    }
    ~FileSource() override { ::close(fd_); }
    FileSource(const FileSource&) = delete;
    FileSource& operator=(const FileSource&) = delete;

    std::size_t read(char* dst, std::size_t n) override {
        for (;;) {
            const ssize_t got = ::read(fd_, dst, n);
            if (got >= 0) return static_cast<std::size_t>(got);
            if (errno != EINTR) throw ImportError(path_, 0, std::strerror(errno));
        }
    }
    std::uint64_t total() const override { return total_; }

private:
    std::string path_;
    int fd_ = -1;
    std::uint64_t total_ = 0;
};

class MemorySource final : public ByteSource {
public:
    explicit MemorySource(std::string_view text) : text_(text) {}
    std::size_t read(char* dst, std::size_t n) override {
        const std::size_t count = std::min(n, text_.size() - offset_);
        if (count == 0) return 0; // (memcpy from a null data() is undefined even for 0 bytes)
        std::memcpy(dst, text_.data() + offset_, count);
        offset_ += count;
        return count;
    }
    std::uint64_t total() const override { return text_.size(); }
    std::size_t buffer_size() const override { return std::min(kReadBuffer, text_.size() + 1); }

private:
    std::string_view text_;
    std::size_t offset_ = 0;
};

} // namespace

std::unique_ptr<ByteSource> open_file(const std::string& path) {
    return std::make_unique<FileSource>(path);
}

std::unique_ptr<ByteSource> open_memory(std::string_view text) {
    return std::make_unique<MemorySource>(text);
}

std::string printable(std::string_view text, std::size_t max) {
    std::string out;
    for (char c : text.substr(0, max))
        out += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? '?' : c;
    if (text.size() > max) out += "...";
    return out;
}

} // namespace memlife::data::import_detail
