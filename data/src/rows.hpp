// The trace's rows as the reader's types: one place that knows which column is which, for
// the reader (reader.cpp) and the follower (follow.cpp). Session rows: validate::session_row.
#pragma once

#include <string>
#include <string_view>

#include "memlife/data/trace.hpp"
#include "store.hpp"

namespace memlife::data::rows {

// The corruptions' / leaks' columns, then the stack (0 before schema version 3, whose
// tables lack it), from their table; a row of it is read by corruption() / leak().
std::string select_corruptions(bool with_stack);
std::string select_leaks(bool with_stack);
CorruptionRow corruption(const store::Statement& s);
LeakRow leak(const store::Statement& s);
// A statement over store::kOutlivedColumns.
OutlivedRow outlived(const store::Statement& s);

// The sessions with their outlived blocks counted (without the table `outlived`: 0), then
// `where` (e.g. " WHERE sessions.id = ?"); a row of it is read by session_with_outlived().
std::string sessions_sql(bool has_outlived, std::string_view where);
// A row of sessions_sql(): the session (checked against `bounds`: validate::session_row) and
// its outlived blocks. Throws TraceError(Damaged).
SessionRow session_with_outlived(const store::Statement& s, const TraceInfo& bounds,
                                 const std::string& path);

// The meta table (checked: validate::check_meta), the schema version and the session count.
// `writer_active`: the live marker was held when the caller probed it, before this read
// (live_marker.hpp: a writer finishes by committing complete = 1 and only then lets go of
// the marker, so probe first, read second). Throws TraceError(Damaged).
TraceInfo info(sqlite3* db, const std::string& path, bool writer_active);

// The state of a trace whose meta says `complete`, the marker probed before reading it.
RecordingState recording_state(bool complete, bool writer_active);

} // namespace memlife::data::rows
