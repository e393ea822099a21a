#include "gui_launch.hpp"

#include "cli.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>

namespace memlife::cli {

std::string gui_program() {
    if (const char* set = std::getenv("MEMLIFE_GUI"); set != nullptr && *set != '\0') return set;
    return (own_directory() / "memlife-gui").string();
}

std::string start_following_gui(const std::string& trace) {
    const std::string gui = gui_program();
    // The exec's outcome comes back through a close-on-exec pipe: EOF once it ran, else the
    // errno. The intermediate child makes the GUI a grandchild that init reaps.
    int report[2];
    if (::pipe2(report, O_CLOEXEC) != 0)
        return std::string("cannot start ") + gui + " (" + std::strerror(errno) + ")";
    const pid_t child = ::fork();
    if (child == 0) {
        ::setsid();
        if (::fork() == 0) {
            sigset_t none;
            sigemptyset(&none);
            ::sigprocmask(SIG_SETMASK, &none, nullptr);
            for (int s : {SIGINT, SIGTERM, SIGHUP, SIGPIPE, SIGXFSZ, SIGCHLD})
                ::signal(s, SIG_DFL);
            ::execl(gui.c_str(), gui.c_str(), "--follow", trace.c_str(),
                    static_cast<char*>(nullptr));
            const int error = errno;
            (void)!::write(report[1], &error, sizeof error);
            ::_exit(127);
        }
        ::_exit(0);
    }
    ::close(report[1]);
    if (child < 0) {
        ::close(report[0]);
        return std::string("cannot start ") + gui + " (" + std::strerror(errno) + ")";
    }
    ::waitpid(child, nullptr, 0);
    int error = 0;
    ssize_t n;
    while ((n = ::read(report[0], &error, sizeof error)) < 0 && errno == EINTR) {
    }
    ::close(report[0]);
    if (n == static_cast<ssize_t>(sizeof error))
        return "cannot run " + gui + " (" + std::strerror(error) + ")";
    return {};
}

} // namespace memlife::cli
