// Running the real `memlife` executable from tests.
#pragma once

#include <fcntl.h>

#include <cstdlib>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace memlife::test {

struct Result {
    int exit_code = -1;
    std::string out, err;
};

inline std::string slurp(const std::filesystem::path& p) {
    std::ifstream f(p, std::ios::binary);
    std::stringstream s;
    s << f.rdbuf();
    return s.str();
}

inline std::string quote(const std::string& s) {
    std::string q = "'";
    for (char c : s)
        q += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return q + "'";
}

// A scratch directory removed at the end of the test.
struct TempDir {
    std::filesystem::path path;
    TempDir() {
        char tmpl[] = "/tmp/memlife-test-XXXXXX";
        path = ::mkdtemp(tmpl);
    }
    ~TempDir() { std::filesystem::remove_all(path); }
    std::string operator/(const std::string& name) const { return (path / name).string(); }
};

// Runs the shell command `command` (already quoted as needed), keeping its stdout and stderr.
inline Result run_command(const std::string& command, const TempDir& dir) {
    const std::string out = dir / ".stdout", err = dir / ".stderr";
    const std::string cmd = fmt::format("{} >{} 2>{}", command, quote(out), quote(err));
    const int status = std::system(cmd.c_str());
    Result r;
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    r.out = slurp(out);
    r.err = slurp(err);
    return r;
}

// Runs `memlife ARGS` (ARGS already quoted as needed).
inline Result run_memlife(const std::string& args, const TempDir& dir) {
    return run_command(quote(MEMLIFE_CLI) + " " + args, dir);
}

// `memlife ARGS` as a child with its stderr in `err_file` (stdout to /dev/null); `in_child`
// runs before exec (setrlimit, ...).
inline pid_t spawn_memlife(const std::vector<std::string>& args, const std::string& err_file,
                           const std::function<void()>& in_child = {}) {
    std::vector<std::string> argv{MEMLIFE_CLI};
    argv.insert(argv.end(), args.begin(), args.end());
    std::vector<char*> cargv;
    for (auto& a : argv)
        cargv.push_back(a.data());
    cargv.push_back(nullptr);
    const pid_t pid = ::fork();
    if (pid == 0) {
        const int err = ::open(err_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        ::dup2(err, STDERR_FILENO);
        const int null = ::open("/dev/null", O_WRONLY);
        ::dup2(null, STDOUT_FILENO);
        if (in_child) in_child();
        ::execv(MEMLIFE_CLI, cargv.data());
        ::_exit(127);
    }
    return pid;
}

// Exit code, or 128 + the signal that ended it.
inline int wait_for(pid_t pid) {
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

} // namespace memlife::test
