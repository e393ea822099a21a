// Comparing two traces: did the fix stop the growth? Sessions of two runs cannot be matched
// by id, so a comparison is of what each trace shows: distributions and totals over its
// sessions (from the summary tables), groups of sessions with the same key, the
// notifications that allocated, and (when both traces have call stacks) allocation sites
// matched by function and file rather than address, as heaptrack's diff does. Traces of
// different versions and kinds compare on what both have; what one lacks is named.
// Used by `memlife diff`, `memlife check --baseline` and the GUI's compare mode.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "memlife/data/trace.hpp"

namespace memlife::data {

class TraceReader;

// The spread of one per-session figure over a set of sessions.
struct Spread {
    std::uint64_t count = 0; // the sessions it is taken over (0: no value)
    double median = 0;       // the middle value (the mean of the two middle ones)
    double p95 = 0;          // nearest rank: the smallest value >= 95 % of the values
    double max = 0;
    double total = 0;
};
Spread spread_of(std::vector<double> values);

// What a set of sessions shows, from the `sessions` table (with its outlived blocks when the
// trace can show them).
struct SessionFigures {
    std::uint64_t sessions = 0;
    std::uint64_t open_sessions = 0; // not closed in the trace
    std::uint64_t requests = 0;
    Spread requests_per_session;
    Spread peak_bytes;
    Spread released_at_close_bytes; // over closed sessions
    // Over sessions with at least two requests (the slope of one point is not growth).
    Spread growth_bytes_per_request;
    std::uint64_t leaks = 0, leaked_bytes = 0, corruptions = 0;
    // Blocks still live after their connection closed (memlife record); nullopt: the
    // trace cannot have them (not a `memlife record` trace, and none found).
    std::optional<std::uint64_t> outlived_blocks, outlived_bytes;
};

// What the allocations made while one notification ran add up to.
struct NotificationFigures {
    Notification notification = Notification::None;
    std::uint64_t blocks = 0; // allocations
    std::uint64_t bytes = 0;  // bytes allocated
    // Bytes of those blocks still live when their session closed (or when the trace ends
    // with the session open): what makes a connection grow.
    std::uint64_t kept_bytes = 0;
    std::uint64_t leaks = 0, leaked_bytes = 0, corruptions = 0; // by allocating notification
};

// One frame of an allocation site's call stack.
struct SiteFrame {
    std::string function; // empty: not symbolized
    std::string file;
    std::uint32_t line = 0;
    std::string module;
};

// One allocation site (a call stack) and what its allocations add up to.
struct SiteFigures {
    std::vector<SiteFrame> frames; // innermost first
    std::uint64_t bytes_allocated = 0;
    std::uint64_t bytes_live_at_end = 0; // live when their session ended
    double growth_bytes_per_request = 0;
    std::uint64_t blocks = 0, leaks = 0, corruptions = 0;
};
// What matches a site across runs: each frame's function and file (an unsymbolized frame:
// its module), not addresses (they move with every run) nor lines (they move with a fix).
std::string site_key(const std::vector<SiteFrame>& frames);

// How sessions are put into like-for-like groups.
struct GroupBy {
    enum class Kind { None, PeerAddress, PeerGlobs };
    Kind kind = Kind::None;
    std::vector<std::string> globs; // PeerGlobs: a session joins the first that matches

    // From `--group-by` arguments: "peer" (the peer's address), or globs over the label.
    static GroupBy parse(const std::vector<std::string>& args);
    // The group of a session with this peer label: its address, the first matching glob,
    // or kOtherGroup.
    std::string key(std::string_view peer) const;
};
inline constexpr std::string_view kOtherGroup = "(other)";
// The address of a peer label: "10.0.0.7" of "10.0.0.7:51234", "::1" of "[::1]:80",
// "127.0.0.1" of "127.0.0.1:38672 (*1 4643#4643)" (an nginx import).
std::string peer_address(std::string_view label);

struct ProfileOptions {
    GroupBy group_by = {};
    // Order violations and the figures by notification need the events decoded (one pass
    // over the trace); everything else comes from the summary tables.
    bool decode_events = true;
    std::function<bool()> stop = {};        // polled while decoding: true stops (nothing decoded)
    std::function<void(int)> progress = {}; // percent of the events decoded
};

// What one trace shows, as far as a comparison needs it.
struct TraceProfile {
    std::string path;
    TraceInfo info;
    SessionFigures all;
    std::vector<std::pair<std::string, SessionFigures>> groups;      // sorted by key
    std::optional<std::uint64_t> order_violations;                   // nullopt: not decoded
    std::optional<std::vector<NotificationFigures>> by_notification; // nullopt: not decoded
    // Allocation sites; nullopt: the trace has no call stacks (sites_note says why).
    std::optional<std::vector<SiteFigures>> by_site;
    std::string sites_note;
};

// Reads a trace's profile. Throws TraceError (the reader's, or Usage for a bad glob).
TraceProfile profile_trace(const TraceReader& reader, const ProfileOptions& options = {});

// How a figure is written and judged.
enum class Measure : std::uint8_t { Count, Bytes, BytesPerRequest, CountPerRequest };
enum class Better : std::uint8_t { Lower, Neither };
enum class Verdict : std::uint8_t {
    Same,        // within the noise (or equal)
    Better,      // lower, where lower is better
    Worse,       // higher, where lower is better
    Changed,     // beyond the noise, where neither direction is better
    NotCompared, // one trace (or both) lacks it: why_not says which and why
};

struct MetricDelta {
    std::string key;   // stable, for scripts: "growth_bytes_per_request.p95"
    std::string label; // for people: "growth per request (p95)"
    Measure measure = Measure::Count;
    Better better = Better::Neither;
    std::optional<double> base, next; // nullopt: not in that trace
    // Why a side has no value, in a few words for a table cell: "not in this trace" (the
    // trace cannot have it), "no sessions", "no closed sessions", "not decoded", ...
    std::string base_missing, next_missing;
    Verdict verdict = Verdict::NotCompared;
    std::string why_not; // with NotCompared: a sentence naming the trace(s) and the reason

    double change() const { return base && next ? *next - *base : 0; }
    // nullopt when not compared or the base is 0.
    std::optional<double> change_percent() const;
};

// A row of a breakdown (a group, a notification, a site), in one trace or both.
struct RowComparison {
    std::string key;   // group key, notification name, site_key()
    std::string label; // for people
    bool in_base = false, in_next = false;
    std::vector<SiteFrame> frames; // sites: NEW's frames when it has the site, else BASE's
    std::vector<MetricDelta> metrics;
    const MetricDelta* find(std::string_view key) const;
};

struct CompareOptions {
    // A change no larger than this share of the base value (and, for bytes per request,
    // than one byte per request) is noise: Verdict::Same.
    double noise_percent = 5;
};

struct Comparison {
    TraceProfile base, next;
    double noise_percent = 5;
    std::vector<MetricDelta> totals;
    std::vector<RowComparison> groups;
    // Per request (each trace's own requests), so runs of different lengths compare.
    std::vector<RowComparison> by_notification;
    // Sorted by the size of the change in growth, then in bytes live at end.
    std::vector<RowComparison> by_site;
    std::vector<std::string> not_compared; // one line each: what, and which trace lacks it
    std::vector<std::string> notes;        // caveats (dropped events, ...)
    const MetricDelta* find(std::string_view key) const;
};

Comparison compare(TraceProfile base, TraceProfile next, const CompareOptions& options = {});

// The figures `memlife check --baseline` gates on: none may rise beyond the tolerance.
inline constexpr std::array<std::string_view, 3> kGateKeys{"growth_bytes_per_request.p95",
                                                           "leaked_bytes", "corruptions"};
// The gated totals that rose (Verdict::Worse), in kGateKeys order.
std::vector<MetricDelta> regressions(const Comparison& comparison);

// "250 B", "1.50 KiB", "217 B/request", "12", "0.5/request".
std::string format_measure(double value, Measure measure);
// "+250 B (+12.0%)", "-217 B (-100%)", "+3 (new)", "0"; "" when not compared.
std::string format_change(const MetricDelta& metric);
std::string_view verdict_name(Verdict verdict); // "same", "better", "worse", "changed", ...

} // namespace memlife::data
