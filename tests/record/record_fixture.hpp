// Shared by the record tests: running `memlife record` around a program, curl as the
// client, and reading the resulting trace per client port.
#pragma once

#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "../app/process.hpp"
#include "memlife/data/reader.hpp"

namespace memlife::test {

// TempDir and slurp come from tests/app/process.hpp.

// A child process: argv executed with extra environment, stdout readable through a pipe,
// stderr into a file. Killed (SIGKILL) if still running at destruction.
class Child {
public:
    Child(const std::vector<std::string>& argv, const std::string& stderr_file,
          const std::vector<std::string>& env = {}) {
        int out[2];
        if (::pipe2(out, O_CLOEXEC) != 0) return;
        pid_ = ::fork();
        if (pid_ == 0) {
            ::dup2(out[1], STDOUT_FILENO);
            const int err = ::open(stderr_file.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
            if (err >= 0) ::dup2(err, STDERR_FILENO);
            for (const std::string& e : env)
                ::putenv(const_cast<char*>(e.c_str()));
            std::vector<char*> args;
            for (const std::string& a : argv)
                args.push_back(const_cast<char*>(a.c_str()));
            args.push_back(nullptr);
            ::execvp(args[0], args.data());
            ::_exit(127);
        }
        ::close(out[1]);
        out_ = out[0];
    }
    ~Child() {
        if (out_ >= 0) ::close(out_);
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
        }
    }
    Child(const Child&) = delete;
    Child& operator=(const Child&) = delete;

    pid_t pid() const { return pid_; }
    // The next line of its standard output ("" at the end).
    std::string line() {
        std::string text;
        char c;
        while (::read(out_, &c, 1) == 1 && c != '\n')
            text += c;
        return text;
    }
    // Its exit code (128+N for signal N), or -1 when it is still running after `timeout`.
    int wait(std::chrono::seconds timeout = std::chrono::seconds(30)) {
        int status = 0;
        for (auto until = std::chrono::steady_clock::now() + timeout;
             std::chrono::steady_clock::now() < until;
             std::this_thread::sleep_for(std::chrono::milliseconds(10)))
            if (::waitpid(pid_, &status, WNOHANG) == pid_) {
                pid_ = -1;
                return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            }
        return -1;
    }

private:
    pid_t pid_ = -1;
    int out_ = -1;
};

// Runs a shell command line; its exit code and standard output.
struct Shell {
    int exit_code = -1;
    std::string out;
};
inline Shell shell(const std::string& command) {
    Shell r;
    FILE* p = ::popen(command.c_str(), "r");
    if (p == nullptr) return r;
    char buffer[4096];
    for (std::size_t n; (n = std::fread(buffer, 1, sizeof buffer, p)) > 0;)
        r.out.append(buffer, n);
    const int status = ::pclose(p);
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return r;
}

// One curl run: `requests` keep-alive requests to `url` on one connection. Returns the
// local port of that connection (curl prints it per transfer; all must be the same), or 0.
inline int curl_keepalive(const std::string& url, int requests) {
    std::string command = "curl -sS --max-time 10 -w '%{local_port}\\n'";
    for (int i = 0; i < requests; ++i)
        command += " -o /dev/null '" + url + "'";
    const Shell r = shell(command);
    if (r.exit_code != 0) return 0;
    std::istringstream lines(r.out);
    int port = 0, count = 0;
    for (int p; lines >> p; ++count) {
        if (port != 0 && p != port) return 0; // a second connection
        port = p;
    }
    return count == requests ? port : 0;
}

// The client port in a peer label: "127.0.0.1:PORT ..." -> PORT.
inline int peer_port(const std::string& peer) {
    const auto colon = peer.find(':');
    return colon == std::string::npos ? 0 : std::atoi(peer.c_str() + colon + 1);
}

// Requests per session, keyed by the client's port.
inline std::map<int, std::uint32_t> requests_by_port(const data::TraceReader& trace) {
    std::map<int, std::uint32_t> r;
    for (const data::SessionRow& s : trace.sessions())
        r[peer_port(s.peer)] = s.requests;
    return r;
}

// The size of each session's first block (for nginx: the connection pool), by port.
inline std::map<int, std::uint64_t> first_block_by_port(const data::TraceReader& trace) {
    std::map<int, std::uint64_t> r;
    for (const data::SessionRow& s : trace.sessions())
        trace.for_each_block(s.id, [&](const data::BlockRow& b) {
            if (b.id != 1) return true;
            r[peer_port(s.peer)] = b.size;
            return false;
        });
    return r;
}

} // namespace memlife::test
