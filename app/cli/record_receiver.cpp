#include "record_receiver.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <fmt/format.h>
#include <stdexcept>
#include <unordered_map>

#include "wire.hpp"

namespace memlife::cli {

namespace wire = preload::wire;

struct RecordReceiver::Client {
    int fd = -1;
    std::thread thread;
    bool done = false; // guarded by the receiver's mutex
};

namespace {

// Reads whole frames from a stream socket through one buffer.
class FrameReader {
public:
    explicit FrameReader(int fd) : fd_(fd), buffer_(1u << 16) {}
    // The next frame's header and payload (valid until the next call); false at the end
    // of the stream or on a read error.
    bool next(wire::FrameHeader& header, const unsigned char*& payload) {
        if (!fill(sizeof header)) return false;
        std::memcpy(&header, buffer_.data() + begin_, sizeof header);
        if (header.size > wire::kMaxFrame) throw std::runtime_error("oversized frame");
        if (!fill(sizeof header + header.size)) return false;
        payload = buffer_.data() + begin_ + sizeof header;
        begin_ += sizeof header + header.size;
        return true;
    }

private:
    bool fill(std::size_t need) {
        if (end_ - begin_ >= need) return true;
        if (buffer_.size() - begin_ < need) { // move what is left to the front
            std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
            end_ -= begin_;
            begin_ = 0;
            if (buffer_.size() < need) buffer_.resize(need);
        }
        while (end_ - begin_ < need) {
            const ssize_t n = ::read(fd_, buffer_.data() + end_, buffer_.size() - end_);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) return false;
            end_ += static_cast<std::size_t>(n);
        }
        return true;
    }

    int fd_;
    std::vector<unsigned char> buffer_;
    std::size_t begin_ = 0, end_ = 0;
};

template <class T> T read_struct(const unsigned char* payload, std::uint32_t size) {
    if (size < sizeof(T)) throw std::runtime_error("short frame");
    T value;
    std::memcpy(&value, payload, sizeof value);
    return value;
}

} // namespace

RecordReceiver::RecordReceiver(data::Recorder& recorder, RecordedStacks& stacks)
    : recorder_(recorder), stacks_(stacks) {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern =
        std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/memlife-record-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr)
        throw std::runtime_error(fmt::format("cannot create a directory for the recording "
                                             "socket ({})",
                                             std::strerror(errno)));
    directory_ = pattern;
    socket_path_ = directory_ + "/socket";
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (socket_path_.size() >= sizeof addr.sun_path) {
        std::filesystem::remove_all(directory_);
        throw std::runtime_error("the recording socket's path is too long (set TMPDIR)");
    }
    std::memcpy(addr.sun_path, socket_path_.c_str(), socket_path_.size() + 1);
    listen_fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (listen_fd_ < 0 ||
        ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(listen_fd_, 64) != 0 || ::pipe2(wake_, O_CLOEXEC) != 0) {
        const std::string reason = std::strerror(errno);
        if (listen_fd_ >= 0) ::close(listen_fd_);
        std::filesystem::remove_all(directory_);
        throw std::runtime_error("cannot listen on the recording socket (" + reason + ")");
    }
    acceptor_ = std::thread([this] { accept_loop(); });
}

RecordReceiver::~RecordReceiver() {
    stop_accepting();
    disconnect_all();
    for (int fd : wake_)
        if (fd >= 0) ::close(fd);
    std::error_code ignored;
    std::filesystem::remove_all(directory_, ignored);
}

void RecordReceiver::stop_accepting() {
    if (!acceptor_.joinable()) return;
    const char byte = 0;
    (void)!::write(wake_[1], &byte, 1);
    acceptor_.join();
    ::close(listen_fd_);
    listen_fd_ = -1;
    ::unlink(socket_path_.c_str());
}

void RecordReceiver::accept_loop() {
    for (;;) {
        pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {wake_[0], POLLIN, 0}};
        if (::poll(fds, 2, -1) < 0) {
            if (errno == EINTR) continue;
            return;
        }
        if (fds[1].revents != 0) return;
        const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (fd < 0) continue;
        std::lock_guard lock(mutex_);
        auto& client = clients_.emplace_back(std::make_unique<Client>());
        client->fd = fd;
        ++active_;
        Client* c = client.get();
        c->thread = std::thread([this, c] { serve(*c); });
    }
}

bool RecordReceiver::wait_idle(std::chrono::milliseconds timeout) {
    const auto until = std::chrono::steady_clock::now() + timeout;
    while (active_.load() != 0 && std::chrono::steady_clock::now() < until)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    return active_.load() == 0;
}

void RecordReceiver::disconnect_all() {
    std::vector<std::unique_ptr<Client>> clients;
    {
        std::lock_guard lock(mutex_);
        for (auto& c : clients_)
            if (!c->done) ::shutdown(c->fd, SHUT_RDWR);
        clients.swap(clients_);
    }
    for (auto& c : clients) {
        if (c->thread.joinable()) c->thread.join();
        ::close(c->fd);
    }
}

RecordTotals RecordReceiver::totals() const {
    std::lock_guard lock(mutex_);
    return totals_;
}

// One process's stream. Its events go to the recorder from this thread only, so each
// session's events keep their order.
void RecordReceiver::serve(Client& client) {
    RecordTotals mine;
    std::unordered_map<std::uint64_t, std::uint64_t> ids; // the process's session -> trace's
    std::unordered_map<std::uint64_t, std::string> peers; // labels not yet opened
    std::vector<Event> batch;
    std::vector<StackId> batch_stacks; // the trace's ids, beside `batch` (frames with stacks)
    bool stacked = false;              // some in `batch` has a stack
    std::uint64_t last_local = 0, last_id = 0; // the last mapping used
    int pid = 0;
    ProcessStacks process_stacks(stacks_);
    auto deliver = [&] {
        if (stacked)
            recorder_.on_stacked_events(batch.data(), batch_stacks.data(), batch.size());
        else if (!batch.empty())
            recorder_.on_events(batch.data(), batch.size());
        batch.clear();
        batch_stacks.clear();
        stacked = false;
    };
    try {
        FrameReader reader(client.fd);
        wire::FrameHeader header{};
        const unsigned char* payload = nullptr;
        bool hello = false;
        while (reader.next(header, payload)) {
            if (!hello && header.type != wire::FrameType::Hello)
                throw std::runtime_error("no hello");
            switch (header.type) {
            case wire::FrameType::Hello: {
                const auto h = read_struct<wire::Hello>(payload, header.size);
                if (h.version != wire::kVersion)
                    throw std::runtime_error(fmt::format("library version {} (memlife expects {})",
                                                         h.version, wire::kVersion));
                pid = h.pid;
                hello = true;
                ++mine.processes;
                std::string command(reinterpret_cast<const char*>(payload) + sizeof h,
                                    header.size - sizeof h);
                while (!command.empty() && command.back() == '\0')
                    command.pop_back();
                std::replace(command.begin(), command.end(), '\0', ' ');
                std::lock_guard lock(mutex_);
                if (totals_.first_command.empty()) totals_.first_command = command;
                break;
            }
            case wire::FrameType::Peer: {
                const auto p = read_struct<wire::Peer>(payload, header.size);
                peers[p.session].assign(reinterpret_cast<const char*>(payload) + sizeof p,
                                        header.size - sizeof p);
                break;
            }
            case wire::FrameType::Events:
            case wire::FrameType::StackedEvents: {
                const bool with_stacks = header.type == wire::FrameType::StackedEvents;
                const std::size_t record = sizeof(Event) + (with_stacks ? sizeof(StackId) : 0);
                if (header.size % record != 0) throw std::runtime_error("bad events frame");
                const std::size_t count = header.size / record;
                const unsigned char* stack_ids = payload + count * sizeof(Event);
                for (std::size_t i = 0; i < count; ++i) {
                    Event e;
                    std::memcpy(&e, payload + i * sizeof e, sizeof e);
                    StackId stack = 0;
                    if (with_stacks && e.kind == EventKind::Alloc) {
                        std::uint32_t local_stack = 0;
                        std::memcpy(&local_stack, stack_ids + i * sizeof local_stack,
                                    sizeof local_stack);
                        stack = process_stacks.trace_id(local_stack);
                    }
                    const auto kind = static_cast<int>(e.kind);
                    if (kind < 1 || kind > kEventKindMax) throw std::runtime_error("bad event");
                    if (e.kind == EventKind::SessionOpen) {
                        const std::uint64_t id = ++next_session_;
                        ids[e.session] = id;
                        last_local = 0;
                        auto label = peers.extract(e.session);
                        const std::string peer = fmt::format(
                            "{} (pid {})", label.empty() ? std::string("?") : label.mapped(), pid);
                        deliver();
                        e.session = id;
                        recorder_.on_session_open(e, peer);
                        ++mine.sessions;
                        continue;
                    }
                    const std::uint64_t local = e.session;
                    if (local != last_local) { // a frame holds one connection's events
                        const auto found = ids.find(local);
                        if (found == ids.end()) continue; // opened before a lost frame
                        last_local = local;
                        last_id = found->second;
                    }
                    e.session = last_id;
                    batch.push_back(e);
                    batch_stacks.push_back(stack);
                    stacked = stacked || stack != 0;
                    if (e.kind == EventKind::RequestBegin) ++mine.requests;
                    if (e.kind == EventKind::SessionClose) {
                        ids.erase(local);
                        last_local = 0;
                    }
                }
                deliver();
                break;
            }
            case wire::FrameType::Modules:
                process_stacks.modules(payload, header.size);
                break;
            case wire::FrameType::StackNodes:
                process_stacks.nodes(payload, header.size);
                break;
            case wire::FrameType::Outlived: {
                const auto o = read_struct<wire::Outlived>(payload, header.size);
                const auto found = ids.find(o.session);
                if (found == ids.end()) break;
                ml_report report{};
                report.kind = ML_REPORT_OUTLIVED;
                report.session_id = found->second;
                report.request = o.requests;
                report.alloc_request = o.alloc_request;
                report.block_id = o.block;
                report.address = o.address;
                report.size = o.size;
                report.scope = ML_SCOPE_SESSION;
                report.time_ns = o.detected_ns;
                report.alloc_stack_id = process_stacks.trace_id(o.stack);
                std::snprintf(report.message, sizeof report.message,
                              "Outlived its connection: %llu bytes at 0x%llx allocated in "
                              "request %u still live after the connection closed (pid %d)",
                              static_cast<unsigned long long>(o.size),
                              static_cast<unsigned long long>(o.address), o.alloc_request, pid);
                recorder_.on_report(report);
                ++mine.outlived;
                mine.outlived_bytes += o.size;
                break;
            }
            case wire::FrameType::Stats: {
                const auto s = read_struct<wire::Stats>(payload, header.size);
                mine.process_allocs += s.process_allocs;
                mine.process_bytes += s.process_bytes;
                break;
            }
            default:
                throw std::runtime_error("unknown frame");
            }
        }
    } catch (const std::exception& e) {
        deliver();
        ++mine.protocol_errors;
        fmt::print(stderr, "memlife record: the stream of process {} is cut off: {}\n", pid,
                   e.what());
    }
    std::lock_guard lock(mutex_);
    totals_.processes += mine.processes;
    totals_.sessions += mine.sessions;
    totals_.requests += mine.requests;
    totals_.outlived += mine.outlived;
    totals_.outlived_bytes += mine.outlived_bytes;
    totals_.process_allocs += mine.process_allocs;
    totals_.process_bytes += mine.process_bytes;
    totals_.protocol_errors += mine.protocol_errors;
    client.done = true;
    --active_;
}

} // namespace memlife::cli
