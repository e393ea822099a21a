#include "live_marker.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "memlife/data/trace.hpp"

namespace memlife::data::live {

namespace {

struct flock first_byte(short type) {
    struct flock lock {};
    lock.l_type = type;
    lock.l_whence = SEEK_SET;
    lock.l_start = 0;
    lock.l_len = 1;
    return lock;
}

// The pid a writer left in its marker (0 if none).
long pid_in(int fd) {
    char text[32] = {};
    const ssize_t n = ::pread(fd, text, sizeof text - 1, 0);
    return n > 0 ? std::strtol(text, nullptr, 10) : 0;
}

bool same_file(int fd, const std::string& path) {
    struct stat open {
    }, named{};
    return ::fstat(fd, &open) == 0 && ::stat(path.c_str(), &named) == 0 &&
           open.st_dev == named.st_dev && open.st_ino == named.st_ino;
}

} // namespace

std::string marker_path(const std::string& trace) {
    return trace + "-live";
}

WriterMark::WriterMark(const std::string& trace) : path_(marker_path(trace)) {
    auto fail = [&](const std::string& reason) {
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
        throw TraceError(TraceError::Kind::Io, trace, reason);
    };
    // A few tries: a writer that just finished may unlink the file we opened.
    for (int attempt = 0; attempt < 8; ++attempt) {
        fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (fd_ < 0)
            fail("cannot create the live marker " + path_ + " (" + std::strerror(errno) + ")");
        struct flock lock = first_byte(F_WRLCK);
        if (::fcntl(fd_, F_OFD_SETLK, &lock) != 0) {
            if (errno != EAGAIN && errno != EACCES)
                fail("cannot lock the live marker " + path_ + " (" + std::strerror(errno) + ")");
            const long pid = pid_in(fd_);
            fail("is being recorded by another process" +
                 (pid > 0 ? " (pid " + std::to_string(pid) + ")" : std::string()));
        }
        if (same_file(fd_, path_)) {
            const std::string pid = std::to_string(::getpid()) + "\n";
            if (::ftruncate(fd_, 0) != 0 ||
                ::pwrite(fd_, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size()))
                fail("cannot write the live marker " + path_ + " (" + std::strerror(errno) + ")");
            return;
        }
        ::close(fd_);
        fd_ = -1;
    }
    fail("cannot take the live marker " + path_ + " (it keeps being replaced)");
}

void WriterMark::release() noexcept {
    if (fd_ < 0) return;
    ::unlink(path_.c_str());
    ::close(fd_);
    fd_ = -1;
}

FileIdentity FileIdentity::of(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return {};
    return {st.st_dev, st.st_ino, true};
}

bool writer_active(const std::string& path, const FileIdentity& opened) {
    if (opened.known && !(FileIdentity::of(path) == opened)) return false; // replaced
    const int fd = ::open(marker_path(path).c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    struct flock probe = first_byte(F_WRLCK);
    const bool held = ::fcntl(fd, F_OFD_GETLK, &probe) == 0 && probe.l_type != F_UNLCK;
    ::close(fd);
    return held;
}

} // namespace memlife::data::live
