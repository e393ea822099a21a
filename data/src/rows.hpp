// The trace's rows as the reader's types: one place that knows which column is which, for
// the reader (reader.cpp) and the follower (follow.cpp). Session rows: validate::session_row.
#pragma once

#include "memlife/data/trace.hpp"
#include "store.hpp"

namespace memlife::data::rows {

// Statements over store::kCorruptionColumns / store::kLeakColumns.
CorruptionRow corruption(const store::Statement& s);
LeakRow leak(const store::Statement& s);
// A statement over store::kOutlivedColumns.
OutlivedRow outlived(const store::Statement& s);

// The meta table (checked: validate::check_meta), the schema version and the session count.
// `writer_active`: the live marker was held when the caller probed it, before this read
// (live_marker.hpp: a writer finishes by committing complete = 1 and only then lets go of
// the marker, so probe first, read second). Throws TraceError(Damaged).
TraceInfo info(sqlite3* db, const std::string& path, bool writer_active);

// The state of a trace whose meta says `complete`, the marker probed before reading it.
RecordingState recording_state(bool complete, bool writer_active);

} // namespace memlife::data::rows
