// memlife serve --listen 127.0.0.1:PORT [-o TRACE [--gui]] [--filters leaky,clean,...]
// A real HTTP/1.1 keep-alive server: every connection is a session, every request goes
// through the filter host, and the bytes the filter host produced go to the client as they
// are. SIGINT/SIGTERM/SIGHUP close the sessions and commit the trace.
#include <signal.h>
#include <unistd.h>

#include <csignal>
#include <fmt/format.h>
#include <iostream>
#include <unistd.h>

#include "cli.hpp"
#include "demo_filters.hpp"
#include "gui_launch.hpp"
#include "http_server.hpp"
#include "memlife/data/recorder.hpp"

namespace memlife::cli {
namespace {

class FilterHostHandler : public HttpHandler {
public:
    explicit FilterHostHandler(FilterHost& host) : host_(host) {}
    void* on_open(const std::string& peer) override { return host_.open_session(peer); }
    HttpReply on_request(void* connection, const HttpRequest& http) override {
        auto* session = static_cast<Session*>(connection);
        if (session == nullptr) { // the runtime refused the session
            Response unavailable;
            unavailable.status = 503;
            unavailable.body = "no session for this connection\n";
            return {unavailable.wire(false), true};
        }
        Request r;
        r.method = http.method;
        r.url = http.target;
        r.headers = http.headers;
        r.keep_alive = http.keep_alive;
        r.raw = http.head;
        r.body = http.body;
        r.body_reads = http.body.empty() ? 0 : 1;
        // The response passes SEND_RAW_DATA in two pieces, so that a filter can fail half-way
        // through it (the client gets the first piece, then the connection closes).
        r.raw_sends = 2;
        RequestOutcome outcome = host_.run_request(*session, r);
        return {std::move(outcome.wire), !outcome.keep_connection};
    }
    void on_close(void* connection) override {
        if (connection != nullptr) host_.end_session(*static_cast<Session*>(connection));
    }

private:
    FilterHost& host_;
};

std::chrono::milliseconds seconds(double s) {
    return std::chrono::milliseconds(static_cast<std::int64_t>(s * 1000 + 0.5));
}

} // namespace

Command add_serve(CLI::App& app) {
    auto* cmd = app.add_subcommand("serve", "Serve HTTP/1.1 with keep-alive through the filter "
                                            "host, recording a trace");
    struct Args {
        std::string listen = "127.0.0.1:8080", output;
        std::vector<std::string> filters{"leaky", "clean"};
        bool allow_remote = false, force = false, gui = false;
        std::uint32_t clock_interval = kDefaultClockInterval;
        std::uint32_t stacks = kDefaultStacks;
        std::size_t max_connections = 1024, max_header_bytes = 64 * 1024, max_body_bytes = 1 << 20;
        double idle_timeout = 60, header_timeout = 10, body_timeout = 30;
    };
    auto a = std::make_shared<Args>();
    cmd->add_option("--listen", a->listen, "HOST:PORT, an IPv4 address (PORT 0: any free port)")
        ->capture_default_str();
    cmd->add_option("-o,--output", a->output, "The trace to record (omit: no recording)");
    cmd->add_flag("--force", a->force, "Replace an existing trace");
    cmd->add_flag("--gui", a->gui, "Open memlife-gui following the trace while it is recorded");
    cmd->add_option("--filters", a->filters,
                    "Demo filters, comma-separated: leaky, clean, overrun, missing-free, responder")
        ->delimiter(',')
        ->check(CLI::IsMember(demo_filter_names()));
    cmd->add_flag("--allow-remote", a->allow_remote, "Listen on a non-loopback address");
    cmd->add_option(
           "--clock-interval", a->clock_interval,
           "Allocations read the clock every Nth time per connection (1: every one, ~10 ns each)")
        ->check(CLI::Range(1u, kMaxClockInterval))
        ->capture_default_str();
    add_stacks_option(*cmd, a->stacks);
    cmd->add_option("--max-connections", a->max_connections,
                    "Connections served at once (at most the open-file limit less 32)")
        ->check(CLI::Range(std::size_t{1}, std::size_t{1'000'000}))
        ->capture_default_str();
    cmd->add_option("--max-header-bytes", a->max_header_bytes,
                    "Largest request head (request line and headers): 431 above")
        ->check(CLI::Range(std::size_t{256}, std::size_t{16} << 20))
        ->capture_default_str();
    cmd->add_option("--max-body-bytes", a->max_body_bytes, "Largest request body: 413 above")
        ->check(CLI::Range(std::size_t{0}, std::size_t{1} << 30))
        ->capture_default_str();
    cmd->add_option("--idle-timeout", a->idle_timeout,
                    "Seconds a connection may wait between requests, or not read its responses")
        ->check(CLI::Range(0.01, 86400.0))
        ->capture_default_str();
    cmd->add_option("--header-timeout", a->header_timeout,
                    "Seconds from a request's first byte to the end of its headers: 408 after")
        ->check(CLI::Range(0.01, 86400.0))
        ->capture_default_str();
    cmd->add_option("--body-timeout", a->body_timeout,
                    "Seconds from the end of the headers to the end of the body: 408 after")
        ->check(CLI::Range(0.01, 86400.0))
        ->capture_default_str();
    return {
        cmd, [a]() -> int {
            ServerOptions options;
            try {
                parse_listen_address(a->listen, options.host, options.port);
            } catch (const std::invalid_argument& e) {
                return error("serve", "--listen " + a->listen + ": " + e.what(), kUnusable);
            }
            options.allow_remote = a->allow_remote;
            if (!options.allow_remote && !is_loopback(options.host))
                return error("serve",
                             "--listen " + a->listen +
                                 ": refusing a non-loopback address (use --allow-remote)",
                             kUnusable);
            options.limits = {a->max_connections,         a->max_header_bytes,
                              a->max_body_bytes,          seconds(a->idle_timeout),
                              seconds(a->header_timeout), seconds(a->body_timeout)};
            if (!a->output.empty()) {
                if (auto why = output_refusal(a->output, a->force, OutputKind::Trace); !why.empty())
                    return error("serve", why, kUnusable);
            }
            if (a->gui && a->output.empty())
                return error("serve", "--gui needs -o TRACE (the GUI follows the trace)",
                             kUnusable);
            if (a->gui && ::access(gui_program().c_str(), X_OK) != 0)
                return error("serve", "--gui: cannot run " + gui_program(), kFailed);

            // Listen first: nothing is created or replaced unless the server can serve.
            // The server blocks SIGINT/SIGTERM/SIGHUP before any thread starts (the recorder's
            // writer inherits the mask), so only its signalfd sees them. A write past
            // `ulimit -f` fails as an I/O error instead of killing the process.
            std::signal(SIGXFSZ, SIG_IGN);
            std::optional<HttpServer> server;
            try {
                server.emplace(options);
            } catch (const std::exception& e) {
                return error("serve", e.what(), kFailed);
            }
            std::optional<data::Recorder> recorder;
            if (!a->output.empty()) {
                // A write failure (full disk, `ulimit -f`) ends the server at once, as SIGTERM
                // does (the server reads it from its signalfd): every session is closed and
                // the trace keeps what was committed before the failure.
                data::RecorderOptions recording{.source = "serve"};
                recording.on_failure = [](const std::string& message) {
                    error("serve", message + "; stopping the server", kFailed);
                    ::kill(::getpid(), SIGTERM);
                };
                try {
                    recorder.emplace(a->output, std::move(recording));
                } catch (const data::TraceError& e) {
                    return error("serve", e.what(), kFailed);
                }
                // The trace exists and is live: the GUI opens it following. A GUI that
                // cannot start is said once; serving and recording go on.
                if (a->gui)
                    if (const std::string why = start_following_gui(a->output); !why.empty())
                        error("serve", "--gui: " + why, kFailed);
            }
            Runtime runtime(Config{.clock_interval = a->clock_interval, .stack_depth = a->stacks},
                            recorder ? &*recorder : nullptr);
            FilterHost host(runtime);
            for (const auto& name : a->filters)
                add_demo_filter(host, demo_filter_from_name(name));
            host.set_handler([](const Request& r, Response& response) {
                response.headers.emplace_back("Content-Type", "text/plain; charset=utf-8");
                response.headers.emplace_back("Server", "memlife-serve");
                response.body = fmt::format("memlife serve: {} {}\n", r.method, r.url);
            });
            FilterHostHandler handler(host);
            std::cout << fmt::format("memlife serve: listening on {}:{}{}\n", options.host,
                                     server->port(), recorder ? ", recording to " + a->output : "")
                      << std::flush;
            try {
                server->run(handler);
            } catch (const std::exception& e) {
                return error("serve", e.what(), kFailed);
            }
            if (recorder) {
                const bool failed = recorder->failed(); // and said so when it happened
                try {
                    recorder->commit();
                } catch (const data::TraceError& e) {
                    return failed ? kFailed : error("serve", e.what(), kFailed);
                }
            }
            std::cout << "memlife serve: stopped, sessions closed" << std::endl;
            return kOk;
        }};
}

} // namespace memlife::cli
