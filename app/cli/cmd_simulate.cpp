// memlife simulate --scenario S -o TRACE: demo filters driven through the real filter
// host and allocator into a real trace. Same seed, same trace content (ids, sizes, order
// within each session; timestamps and addresses are real and differ between runs).
#include <atomic>
#include <chrono>
#include <fmt/format.h>
#include <random>
#include <thread>

#include "cli.hpp"
#include "demo_filters.hpp"
#include "memlife/data/recorder.hpp"

namespace memlife::cli {
namespace {

struct Scenario {
    std::string name;
    std::vector<DemoFilter> filters;
    double overrun_rate = 0;
    std::string summary;
};

const std::vector<Scenario>& scenarios() {
    static const std::vector<Scenario> list{
        {"keepalive-leak",
         {DemoFilter::Leaky},
         0,
         "a filter copies each request's URL and headers with AllocMem: growth until close"},
        {"per-request", {DemoFilter::Clean}, 0, "the same work with request memory: flat"},
        {"tail-overrun",
         {DemoFilter::Clean, DemoFilter::Overrun},
         0.1,
         "a filter writes one byte past its block in ~10% of requests: corruptions"},
        {"missing-free",
         {DemoFilter::Clean, DemoFilter::MissingFree},
         0,
         "memory noted per request and never freed: leaks"},
        {"mixed",
         {DemoFilter::Leaky, DemoFilter::Clean, DemoFilter::Overrun, DemoFilter::MissingFree},
         0.05,
         "all of the above"},
    };
    return list;
}

// A deterministic 64-bit hash of the seed and a position (splitmix64).
std::uint64_t mix(std::uint64_t seed, std::uint64_t a, std::uint64_t b = 0) {
    std::uint64_t x = seed + 0x9E3779B97F4A7C15ull * (a + 1) + 0xBF58476D1CE4E5B9ull * (b + 1);
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

Request make_request(std::uint64_t seed, std::uint64_t connection, std::uint32_t index,
                     std::uint32_t count) {
    std::mt19937_64 rng(mix(seed, connection, index));
    Request r;
    static const char* paths[] = {
        "/",       "/index.html", "/api/items", "/static/app.js", "/images/logo.png",
        "/search", "/login",      "/cart"};
    r.url = paths[rng() % 8];
    if (rng() % 3 == 0) r.url += fmt::format("?q={}&page={}", rng() % 100000, rng() % 50);
    r.method = rng() % 10 == 0 ? "POST" : "GET";
    r.headers = {{"Host", "memlife.test"},
                 {"User-Agent", "memlife-simulate/1.0"},
                 {"Accept", "*/*"},
                 {"Cookie", std::string(16 + rng() % 240, 'c')}};
    r.keep_alive = index + 1 < count;
    r.raw_reads = 1 + static_cast<std::uint32_t>(rng() % 2);
    r.url_maps = 1 + static_cast<std::uint32_t>(rng() % 2);
    r.body_reads = r.method == "POST" ? 1 : 0;
    if (r.body_reads) r.body = std::string(64 + rng() % 512, 'b');
    r.raw_sends = 1 + static_cast<std::uint32_t>(rng() % 3);
    return r;
}

} // namespace

Command add_simulate(CLI::App& app) {
    auto* cmd = app.add_subcommand("simulate", "Drive demo filters through the real pipeline "
                                               "and allocator into a trace");
    struct Args {
        std::string scenario, output;
        std::uint64_t connections = 100;
        std::uint32_t requests = 20, threads = 1;
        std::uint64_t seed = 1;
        std::uint32_t clock_interval = kDefaultClockInterval;
        std::uint32_t stacks = kDefaultStacks;
        bool force = false;
    };
    auto a = std::make_shared<Args>();
    std::vector<std::string> names;
    std::string help = "Scenario:";
    for (const auto& s : scenarios()) {
        names.push_back(s.name);
        help += "\n  " + s.name + ": " + s.summary;
    }
    cmd->add_option("--scenario", a->scenario, help)->required()->check(CLI::IsMember(names));
    cmd->add_option("-o,--output", a->output, "The trace to write")->required();
    cmd->add_flag("--force", a->force, "Replace an existing trace");
    cmd->add_option("--connections", a->connections, "Client connections (sessions)")
        ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{100'000'000}));
    cmd->add_option("--requests-per-connection", a->requests, "Keep-alive requests per connection")
        ->check(CLI::Range(1u, 10'000'000u));
    cmd->add_option("--threads", a->threads, "Worker threads (one session per thread at a time)")
        ->check(CLI::Range(1u, 256u));
    cmd->add_option("--seed", a->seed, "Seed: same seed, same trace content");
    cmd->add_option(
           "--clock-interval", a->clock_interval,
           "Allocations read the clock every Nth time per connection (1: every one, ~10 ns each)")
        ->check(CLI::Range(1u, kMaxClockInterval))
        ->capture_default_str();
    add_stacks_option(*cmd, a->stacks);
    return {
        cmd, [a]() -> int {
            const Scenario* scenario = nullptr;
            for (const auto& s : scenarios())
                if (s.name == a->scenario) scenario = &s;
            if (int code = claim_output("simulate", a->output, a->force, OutputKind::Trace))
                return code;
            // Before any thread starts; destroyed last, after the recorder.
            InterruptCleanup interrupt_cleanup(a->output);
            std::optional<data::Recorder> recorder;
            try {
                recorder.emplace(a->output,
                                 data::RecorderOptions{.source = "simulate", .atomic = true});
            } catch (const data::TraceError& e) {
                return error("simulate", e.what(), kFailed);
            }
            Runtime runtime(Config{.clock_interval = a->clock_interval, .stack_depth = a->stacks},
                            &*recorder);
            FilterHost host(runtime);
            const std::uint64_t seed = a->seed;
            for (DemoFilter f : scenario->filters)
                add_demo_filter(
                    host, f, [seed, rate = scenario->overrun_rate](const FilterContext& ctx) {
                        const auto h = mix(seed ^ 0x6F76657272756E, ctx.session.id(), ctx.request);
                        return static_cast<double>(h % 1'000'000) < rate * 1'000'000;
                    });
            host.set_handler([](const Request& r, Response& response) {
                response.body = "simulated response for " + r.url + "\n";
            });

            const std::uint64_t total = a->connections * a->requests;
            std::atomic<std::uint64_t> done{0};
            std::atomic<std::uint32_t> finished{0};
            // Each thread keeps up to 8 connections open at once and serves them
            // round-robin, so sessions overlap in time as on a real server.
            auto worker = [&](std::uint32_t t) {
                constexpr std::uint64_t kOpenAtOnce = 8;
                std::vector<std::uint64_t> mine;
                for (std::uint64_t c = t; c < a->connections; c += a->threads)
                    mine.push_back(c);
                // A write failure (full disk, `ulimit -f`) stops the simulation at once.
                const auto recording_failed = [&] { return recorder->failed(); };
                for (std::size_t wave = 0; wave < mine.size() && !recording_failed();
                     wave += kOpenAtOnce) {
                    std::vector<std::pair<std::uint64_t, Session*>> open;
                    for (std::size_t k = wave; k < std::min(mine.size(), wave + kOpenAtOnce); ++k) {
                        const std::uint64_t c = mine[k];
                        Session* s = runtime.open(
                            fmt::format("192.0.2.{}:{}", 1 + c % 254, 40000 + c % 20000), c + 1);
                        if (s != nullptr) open.emplace_back(c, s);
                    }
                    for (std::uint32_t i = 0; i < a->requests && !recording_failed(); ++i) {
                        for (auto& [c, s] : open) {
                            if (s == nullptr) continue;
                            const auto outcome =
                                host.run_request(*s, make_request(seed, c, i, a->requests));
                            done.fetch_add(1, std::memory_order_relaxed);
                            if (!outcome.keep_connection) {
                                host.end_session(*s);
                                s = nullptr;
                                done.fetch_add(a->requests - 1 - i, std::memory_order_relaxed);
                            }
                        }
                    }
                    for (auto& [c, s] : open)
                        if (s != nullptr) host.end_session(*s);
                }
                finished.fetch_add(1);
            };
            Progress progress("simulating " + a->scenario, "requests");
            std::vector<std::thread> threads;
            for (std::uint32_t t = 0; t < a->threads; ++t)
                threads.emplace_back(worker, t);
            while (finished.load() < a->threads) {
                progress.update(done.load(), total);
                std::this_thread::sleep_for(std::chrono::milliseconds(50));
            }
            for (auto& th : threads)
                th.join();
            progress.finish();
            try {
                recorder->commit();
            } catch (const data::TraceError& e) {
                std::string why = e.what();
                if (done.load() < total)
                    why += fmt::format("; stopped after {} of {} requests", done.load(), total);
                return error("simulate", why, kFailed);
            }
            fmt::print(stderr, "memlife simulate: wrote {} ({} connections, {} requests)\n",
                       a->output, a->connections, total);
            return kOk;
        }};
}

} // namespace memlife::cli
