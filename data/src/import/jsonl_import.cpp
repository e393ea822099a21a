// JSON-lines importer (format: docs/trace-format.md, "JSON-lines format"). Parsing goes
// through nlohmann-json: it is not a hot path (a server emitting JSON pays far more than we
// do reading it), and a hand-written JSON parser would be a liability.
#include <charconv>
#include <iterator>
#include <map>
#include <optional>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "jsonl_schema.hpp"
#include "line_reader.hpp"
#include "memlife/data/import.hpp"

namespace memlife::data {

namespace {

using import_detail::Line;
using import_detail::printable;
using json = nlohmann::json;

// A malformed line: the reason, without "FILE:LINE: ".
struct Malformed {
    std::string reason;
};

std::optional<EventKind> kind_from_name(std::string_view name) {
    for (int k = 1; k <= kEventKindMax; ++k)
        if (memlife::name(static_cast<EventKind>(k)) == name) return static_cast<EventKind>(k);
    return std::nullopt;
}

// Session ids ever opened, as ranges (recordings number sessions 1, 2, 3, ...: a few
// ranges however many sessions), so that memory stays bounded by the open sessions.
class IdSet {
public:
    bool contains(std::uint64_t id) const {
        auto it = ranges_.upper_bound(id);
        return it != ranges_.begin() && std::prev(it)->second >= id;
    }
    void insert(std::uint64_t id) { // id is not in the set
        auto next = ranges_.upper_bound(id);
        if (next != ranges_.begin()) {
            auto prev = std::prev(next);
            if (prev->second + 1 == id) {
                prev->second = id;
                if (next != ranges_.end() && next->first == id + 1) {
                    prev->second = next->second;
                    ranges_.erase(next);
                }
                return;
            }
        }
        if (next != ranges_.end() && next->first == id + 1) {
            const std::uint64_t last = next->second;
            ranges_.erase(next);
            ranges_.emplace(id, last);
            return;
        }
        ranges_.emplace(id, id);
    }
    std::uint64_t max() const { return ranges_.empty() ? 0 : ranges_.rbegin()->second; }

private:
    std::map<std::uint64_t, std::uint64_t> ranges_; // first -> last
};

class JsonlImporter {
public:
    JsonlImporter(EventSink& sink, const ImportOptions& options, std::string name,
                  ImportStats& stats)
        : sink_(sink), options_(options), name_(std::move(name)), stats_(stats) {}

    void on_line(const Line& line) {
        if (!line.overlong && line.text.find_first_not_of(" \t") == std::string_view::npos) {
            ++stats_.skipped_lines;
            return;
        }
        try {
            if (line.overlong) throw Malformed{"line longer than 1 MiB"};
            decode(line.text);
        } catch (const Malformed& m) {
            if (!options_.lenient) throw ImportError(name_, line.number, m.reason);
            ++stats_.malformed_lines;
        }
    }

    void finish() {
        stats_.open_sessions = open_.size();
        if (stats_.bytes == 0) throw ImportError(name_, 0, "empty file");
        if (stats_.events == 0)
            throw ImportError(name_, 0, "no events (not a memlife JSON-lines trace)");
    }

private:
    void decode(std::string_view text);

    static std::uint64_t unsigned_field(const json& object, const char* key, std::uint64_t max,
                                        std::uint64_t fallback = 0) {
        const auto it = object.find(key);
        if (it == object.end()) return fallback;
        if (!it->is_number_unsigned() || it->get<std::uint64_t>() > max)
            throw Malformed{std::string("\"") + key + "\" must be an integer from 0 to " +
                            std::to_string(max)};
        return it->get<std::uint64_t>();
    }
    static const std::string* string_field(const json& object, const char* key) {
        const auto it = object.find(key);
        if (it == object.end()) return nullptr;
        if (!it->is_string()) throw Malformed{std::string("\"") + key + "\" must be a string"};
        return &it->get_ref<const std::string&>();
    }
    static std::uint64_t address_field(const json& object, const char* key) {
        const auto it = object.find(key);
        if (it == object.end()) return 0;
        if (it->is_number_unsigned()) return it->get<std::uint64_t>();
        if (it->is_string()) {
            const std::string& s = it->get_ref<const std::string&>();
            std::uint64_t v = 0;
            if (s.size() > 2 && s.size() <= 18 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
                const auto [end, ec] = std::from_chars(s.data() + 2, s.data() + s.size(), v, 16);
                if (ec == std::errc() && end == s.data() + s.size()) return v;
            }
        }
        throw Malformed{std::string("\"") + key + "\" must be a hex string \"0x...\""};
    }
    static Notification notification_field(const json& object, const char* key) {
        const std::string* s = string_field(object, key);
        if (s == nullptr) return Notification::None;
        const auto n = notification_from_name(*s);
        if (!n) throw Malformed{"unknown notification \"" + printable(*s) + "\""};
        return *n;
    }
    static std::string bytes_field(const json& object, const char* key) {
        const std::string* s = string_field(object, key);
        if (s == nullptr) return {};
        std::string out;
        if (s->size() % 2 == 0 && s->size() <= 2 * ML_TAIL_MAX) {
            for (std::size_t i = 0; i < s->size(); i += 2) {
                unsigned v = 0;
                const auto [end, ec] = std::from_chars(s->data() + i, s->data() + i + 2, v, 16);
                if (ec != std::errc() || end != s->data() + i + 2) break;
                out += static_cast<char>(v);
            }
            if (out.size() * 2 == s->size()) return out;
        }
        throw Malformed{std::string("\"") + key + "\" must be at most " +
                        std::to_string(ML_TAIL_MAX) + " bytes as hex digits"};
    }

    EventSink& sink_;
    const ImportOptions& options_;
    std::string name_;
    ImportStats& stats_;
    // Sessions open now (bounded by open sessions), by the file's id.
    struct OpenSession {
        std::uint64_t id;      // in the trace: the file's, or a new one for a reused id
        std::uint64_t last_ns; // the time of its last event
    };
    std::unordered_map<std::uint64_t, OpenSession> open_;
    IdSet used_; // trace ids given out
};

void JsonlImporter::decode(std::string_view text) {
    json object;
    try {
        object = json::parse(text);
    } catch (const json::parse_error& e) {
        throw Malformed{"invalid JSON at column " + std::to_string(e.byte)};
    } catch (const json::exception&) { // out_of_range: a number beyond a double (found by fuzzing)
        throw Malformed{"invalid JSON (number out of range)"};
    }
    if (!object.is_object()) throw Malformed{"not a JSON object"};
    const std::string* kind_name = string_field(object, "kind");
    if (kind_name == nullptr) throw Malformed{"missing \"kind\""};
    const auto kind = kind_from_name(*kind_name);
    if (!kind) throw Malformed{"unknown event kind \"" + printable(*kind_name) + "\""};
    if (!object.contains("t")) throw Malformed{"missing \"t\""};

    Event e;
    e.kind = *kind;
    e.time_ns = unsigned_field(object, "t", UINT64_MAX);
    e.session = unsigned_field(object, "session", UINT64_MAX);
    e.request = static_cast<std::uint32_t>(unsigned_field(object, "request", UINT32_MAX));
    e.block = unsigned_field(object, "block", UINT64_MAX);
    e.address = address_field(object, "address");
    e.size = unsigned_field(object, "size", UINT64_MAX);
    if (const std::string* scope = string_field(object, "scope")) {
        if (*scope == jsonl::kScopeNames[0])
            e.scope = Scope::Session;
        else if (*scope == jsonl::kScopeNames[1])
            e.scope = Scope::Request;
        else
            throw Malformed{"unknown scope \"" + printable(*scope) + "\""};
    }
    e.notification = notification_field(object, "notification");
    if (jsonl::has_origin(e.kind)) {
        if (const std::string* origin = string_field(object, "origin")) {
            const auto o = jsonl::origin_from_name(*origin);
            if (!o) throw Malformed{"unknown origin \"" + printable(*origin) + "\""};
            e.flags = static_cast<std::uint8_t>(*o);
        }
    } else {
        e.flags = static_cast<std::uint8_t>(unsigned_field(object, "flags", 255));
    }

    if (e.kind != EventKind::Drop) {
        if (e.session == 0) throw Malformed{"missing \"session\" (ids start at 1)"};
        const auto open = open_.find(e.session);
        if (e.kind == EventKind::SessionOpen && open != open_.end())
            throw Malformed{"session " + std::to_string(e.session) + " is already open"};
        if (e.kind != EventKind::SessionOpen && open == open_.end())
            throw Malformed{"session " + std::to_string(e.session) + " is not open"};
        // A reused id would merge two connections into one session of the trace.
        if (e.kind == EventKind::SessionOpen && used_.contains(e.session) && !options_.lenient)
            throw Malformed{"session " + std::to_string(e.session) +
                            " was opened before (session ids must not be reused)"};
        // Time only has an order within a session: a recording's threads (and sessions that
        // hand over their events in batches) interleave in the stream in delivery order.
        if (open != open_.end() && e.time_ns < open->second.last_ns)
            throw Malformed{"time goes backwards (t " + std::to_string(e.time_ns) + " after " +
                            std::to_string(open->second.last_ns) + ")"};
    }
    const std::string* peer =
        e.kind == EventKind::SessionOpen ? string_field(object, "peer") : nullptr;
    const std::uint64_t file_session = e.session;
    if (e.kind == EventKind::SessionOpen) {
        // Lenient: a reused id starts a session of its own, under the next free id.
        const std::uint64_t id = used_.contains(e.session) ? used_.max() + 1 : e.session;
        if (id == 0) throw Malformed{"no session id left"};
        used_.insert(id);
        open_.emplace(file_session, OpenSession{id, e.time_ns});
    }
    if (const auto open = open_.find(file_session);
        open != open_.end() && e.kind != EventKind::Drop)
        e.session = open->second.id;

    // Everything is validated: deliver.
    if (e.kind == EventKind::Corruption || e.kind == EventKind::Leak) {
        ml_report r{};
        r.kind = e.kind == EventKind::Corruption ? ML_REPORT_CORRUPTION : ML_REPORT_LEAK;
        r.session_id = e.session;
        r.request = e.request;
        r.alloc_request =
            static_cast<std::uint32_t>(unsigned_field(object, "alloc_request", UINT32_MAX));
        r.block_id = e.block;
        r.address = e.address;
        r.size = e.size;
        r.scope = static_cast<int>(e.scope);
        r.alloc_notification = flag(notification_field(object, "alloc_notification"));
        r.last_notification = flag(notification_field(object, "last_notification"));
        r.time_ns = unsigned_field(object, "report_t", UINT64_MAX, e.time_ns);
        r.first_offset =
            static_cast<std::uint32_t>(unsigned_field(object, "first_offset", UINT32_MAX));
        r.modified_count =
            static_cast<std::uint32_t>(unsigned_field(object, "modified_count", UINT32_MAX));
        const std::string expected = bytes_field(object, "expected");
        const std::string found = bytes_field(object, "found");
        if (expected.size() != found.size())
            throw Malformed{"\"expected\" and \"found\" must have the same length"};
        r.tail_len = static_cast<std::uint32_t>(expected.size());
        std::memcpy(r.expected, expected.data(), expected.size());
        std::memcpy(r.found, found.data(), found.size());
        r.fault_address = address_field(object, "fault_address");
        if (const std::string* message = string_field(object, "message"))
            message->copy(r.message, sizeof r.message - 1); // cut to ML_MESSAGE_MAX - 1
        sink_.on_event(e);
        sink_.on_report(r);
        if (e.kind == EventKind::Leak) ++stats_.leaks;
    } else if (e.kind == EventKind::SessionOpen) {
        sink_.on_session_open(e, peer != nullptr ? std::string_view(*peer) : std::string_view());
        ++stats_.sessions;
    } else {
        if (e.kind == EventKind::SessionClose) open_.erase(file_session);
        sink_.on_event(e);
    }
    ++stats_.events;
    if (auto open = open_.find(file_session); open != open_.end()) open->second.last_ns = e.time_ns;
}

} // namespace

ImportStats import_detail::import_jsonl_source(import_detail::ByteSource& source, EventSink& sink,
                                               const ImportOptions& options,
                                               const std::string& name) {
    return run_importer<JsonlImporter>(source, sink, options, name);
}

ImportStats import_jsonl(const std::string& path, EventSink& sink, const ImportOptions& options) {
    auto source = import_detail::open_file(path);
    return import_detail::run_importer<JsonlImporter>(*source, sink, options, path);
}

ImportStats import_jsonl_buffer(std::string_view text, EventSink& sink,
                                const ImportOptions& options, const std::string& name) {
    auto source = import_detail::open_memory(text);
    return import_detail::run_importer<JsonlImporter>(*source, sink, options, name);
}

} // namespace memlife::data
