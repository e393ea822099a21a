// Shared by the importer tests: an EventSink that keeps everything it receives.
#pragma once

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "memlife/event.hpp"

namespace memlife::test {

struct Report {
    ml_report report;
    std::string message;
};

class RecordingSink : public EventSink {
public:
    std::vector<Event> events;
    std::vector<std::pair<std::uint64_t, std::string>> peers; // session, peer
    std::vector<ml_report> reports;

    void on_event(const Event& e) noexcept override { events.push_back(e); }
    void on_session_open(const Event& e, std::string_view peer) noexcept override {
        peers.emplace_back(e.session, std::string(peer));
        events.push_back(e);
    }
    void on_report(const ml_report& r) noexcept override { reports.push_back(r); }

    std::vector<Event> of_session(std::uint64_t session) const {
        std::vector<Event> out;
        for (const Event& e : events)
            if (e.session == session) out.push_back(e);
        return out;
    }
    std::size_t count(EventKind kind, std::uint64_t session = 0) const {
        std::size_t n = 0;
        for (const Event& e : events)
            n += e.kind == kind && (session == 0 || e.session == session);
        return n;
    }
};

inline std::string fixture(const std::string& name) {
    return std::string(MEMLIFE_SOURCE_DIR) + "/tests/fixtures/" + name;
}

inline std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

} // namespace memlife::test
