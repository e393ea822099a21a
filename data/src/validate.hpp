// What a reader checks before it believes a trace (docs/trace-format.md, "What a reader
// refuses"). A trace is a file anyone can edit with sqlite3, so nothing in it is trusted:
//
//   1. its schema objects (at open, every reader including `memlife sql`): only the tables
//      and indexes of store::kSchemaSql, no views, triggers, virtual or generated columns;
//   2. its summary (at open, TraceReader): meta and the sessions table, typed, in range and
//      consistent with each other and with the event batches' index (no BLOB is read);
//   3. each sessions row as it is read (types, ranges, reversed or out-of-range times,
//      labels longer than the recorder writes);
//   4. on demand (check_batches, `report` and `check`): every event batch row against the
//      sessions and meta (one pass over the batch rows, BLOBs not decoded).
//
// Every failure is one TraceError naming the file: Foreign for schema objects,
// Damaged for values. Kept in one place so that new tables (a newer schema version) and new
// checks are added here and nowhere else.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "memlife/data/trace.hpp"
#include "store.hpp"

namespace memlife::data::validate {

// The recorder's longest peer label (bytes): a longer one was not written by memlife.
inline constexpr std::size_t kMaxPeerBytes = 1024;
// meta.command (memlife record's command line): what the recorder keeps of it.
inline constexpr std::size_t kMaxCommandBytes = 64 * 1024;

// 1. Throws TraceError(Foreign) unless the schema holds exactly the tables and indexes of
// store::kSchemaSql (those added in a later version than `version` may be absent) with at
// least their columns, and nothing else.
void check_schema(sqlite3* db, const std::string& path, std::uint32_t version);

// The tables a query on a trace may read: the trace's own tables and sqlite_schema.
bool is_trace_table(std::string_view name);

// What the summary check established, for the row checks that follow.
struct Summary {
    TraceInfo info;
    std::uint64_t sessions_with_events = 0;
};

// 2. Throws TraceError(Damaged) naming the first impossible value.
Summary check_summary(sqlite3* db, const std::string& path);

// The meta table alone (the first part of check_summary; a follower reads it every poll):
// info without sessions, schema_version and recording. Throws TraceError(Damaged).
TraceInfo check_meta(sqlite3* db, const std::string& path);

// 3. The sessions row at `s` (a statement over store::kSessionColumns), checked against the
// trace's summary. Throws TraceError(Damaged).
SessionRow session_row(const store::Statement& s, const TraceInfo& info, const std::string& path);

// 4. Throws TraceError(Damaged) at the first batch row that contradicts its session's row or
// the meta table.
void check_batches(sqlite3* db, const std::string& path, const TraceInfo& info);

// Text from the file made fit for a one-line message: at most 64 bytes, control and
// non-ASCII bytes as \xNN.
std::string printable(std::string_view text);

} // namespace memlife::data::validate
