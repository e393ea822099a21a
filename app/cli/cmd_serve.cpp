// memlife serve --listen 127.0.0.1:PORT [-o TRACE] [--filters leaky,clean,overrun]
// A real HTTP/1.1 keep-alive server: every connection is a session, every request goes
// through the filter host. SIGINT/SIGTERM close the sessions and flush the trace.
#include <csignal>
#include <fmt/format.h>
#include <iostream>

#include "cli.hpp"
#include "demo_filters.hpp"
#include "http_server.hpp"
#include "memlife/data/recorder.hpp"

namespace memlife::cli {
namespace {

class FilterHostHandler : public HttpHandler {
public:
    explicit FilterHostHandler(FilterHost& host) : host_(host) {}
    void* on_open(const std::string& peer) override { return host_.open_session(peer); }
    HttpResponse on_request(void* connection, const HttpRequest& http) override {
        auto* session = static_cast<Session*>(connection);
        Request r;
        r.method = http.method;
        r.url = http.target;
        for (const auto& [name, value] : http.headers)
            r.headers.emplace_back(name, value);
        r.keep_alive = http.keep_alive;
        r.body = http.body;
        r.body_reads = http.body.empty() ? 0 : 1;
        const RequestOutcome outcome = host_.run_request(*session, r);
        HttpResponse response;
        response.status = outcome.response.status;
        response.reason = outcome.response.reason.empty() ? "OK" : outcome.response.reason;
        response.body = outcome.response.body;
        response.close = !outcome.keep_connection;
        return response;
    }
    void on_close(void* connection) override {
        if (connection != nullptr) host_.end_session(*static_cast<Session*>(connection));
    }

private:
    FilterHost& host_;
};

} // namespace

Command add_serve(CLI::App& app) {
    auto* cmd = app.add_subcommand("serve", "Serve HTTP/1.1 with keep-alive through the filter "
                                            "host, recording a trace");
    struct Args {
        std::string listen = "127.0.0.1:8080", output;
        std::vector<std::string> filters{"leaky", "clean"};
        bool allow_remote = false;
        std::uint32_t clock_interval = kDefaultClockInterval;
    };
    auto a = std::make_shared<Args>();
    cmd->add_option("--listen", a->listen, "HOST:PORT (PORT 0: any free port)")
        ->capture_default_str();
    cmd->add_option("-o,--output", a->output, "The trace to record (omit: no recording)");
    cmd->add_option("--filters", a->filters,
                    "Demo filters, comma-separated: leaky, clean, overrun, missing-free")
        ->delimiter(',')
        ->check(CLI::IsMember(demo_filter_names()));
    cmd->add_flag("--allow-remote", a->allow_remote, "Listen on a non-loopback address");
    cmd->add_option(
           "--clock-interval", a->clock_interval,
           "Allocations read the clock every Nth time per connection (1: every one, ~10 ns each)")
        ->check(CLI::Range(1u, kMaxClockInterval))
        ->capture_default_str();
    return {cmd, [a]() -> int {
                ServerOptions options;
                const auto colon = a->listen.rfind(':');
                try {
                    if (colon == std::string::npos) throw std::invalid_argument("no port");
                    options.host = a->listen.substr(0, colon);
                    const unsigned long port = std::stoul(a->listen.substr(colon + 1));
                    if (port > 65535) throw std::invalid_argument("port");
                    options.port = static_cast<std::uint16_t>(port);
                } catch (const std::exception&) {
                    return error("serve", "--listen " + a->listen + ": expected HOST:PORT",
                                 kUnusable);
                }
                options.allow_remote = a->allow_remote;

                // Block SIGINT/SIGTERM before any thread starts (the recorder's writer
                // inherits the mask), so only the server's signalfd sees them.
                sigset_t signals;
                sigemptyset(&signals);
                sigaddset(&signals, SIGINT);
                sigaddset(&signals, SIGTERM);
                pthread_sigmask(SIG_BLOCK, &signals, nullptr);

                std::optional<data::Recorder> recorder;
                if (!a->output.empty()) {
                    try {
                        recorder.emplace(a->output, data::RecorderOptions{.source = "serve"});
                    } catch (const data::TraceError& e) {
                        return error("serve", e.what(), kFailed);
                    }
                }
                Runtime runtime(Config{.clock_interval = a->clock_interval},
                                recorder ? &*recorder : nullptr);
                FilterHost host(runtime);
                for (const auto& name : a->filters)
                    add_demo_filter(host, demo_filter_from_name(name));
                host.set_handler([](const Request& r, Response& response) {
                    response.body = fmt::format("memlife serve: {} {}\n", r.method, r.url);
                });
                FilterHostHandler handler(host);
                try {
                    HttpServer server(options, handler);
                    std::cout << fmt::format("memlife serve: listening on {}:{}{}\n", options.host,
                                             server.port(),
                                             recorder ? ", recording to " + a->output : "")
                              << std::flush;
                    server.run();
                } catch (const std::exception& e) {
                    return error("serve", e.what(), kFailed);
                }
                if (recorder) {
                    try {
                        recorder->commit();
                    } catch (const data::TraceError& e) {
                        return error("serve", e.what(), kFailed);
                    }
                }
                std::cout << "memlife serve: stopped, sessions closed" << std::endl;
                return kOk;
            }};
}

} // namespace memlife::cli
