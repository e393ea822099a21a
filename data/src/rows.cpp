#include "rows.hpp"

#include "validate.hpp"

namespace memlife::data::rows {

namespace {

Notification notification_of_flag(std::uint32_t flag) {
    return notification_from_flag(flag).value_or(Notification::None);
}

// The columns corruptions, leaks and outlived blocks share.
template <const auto& c, class Row> void read_finding_columns(const store::Statement& s, Row& r) {
    r.session = s.u64(c["session"]);
    r.request = s.u32(c["request"]);
    r.alloc_request = s.u32(c["alloc_request"]);
    r.block = s.u64(c["block"]);
    r.address = s.u64(c["address"]);
    r.size = s.u64(c["size"]);
    r.time_ns = s.u64(c["time_ns"]);
    r.message = s.text(c["message"]);
}

// ... and those only corruptions and leaks have.
template <const auto& c, class Row> void read_report_columns(const store::Statement& s, Row& r) {
    read_finding_columns<c>(s, r);
    r.scope = s.i64(c["scope"]) == ML_SCOPE_REQUEST ? Scope::Request : Scope::Session;
    r.alloc_notification = notification_of_flag(s.u32(c["alloc_notification"]));
}

// The report columns `c` of `table`, then its stack (0 before schema version 3): the stack
// is result column c's size.
template <const auto& c> std::string select_reports(std::string_view table, bool with_stack) {
    return "SELECT " + c.names() + (with_stack ? ", stack" : ", 0") + " FROM " + std::string(table);
}

} // namespace

std::string select_corruptions(bool with_stack) {
    return select_reports<store::kCorruptionColumns>("corruptions", with_stack);
}

std::string select_leaks(bool with_stack) {
    return select_reports<store::kLeakColumns>("leaks", with_stack);
}

CorruptionRow corruption(const store::Statement& s) {
    constexpr const auto& c = store::kCorruptionColumns;
    CorruptionRow r;
    read_report_columns<c>(s, r);
    r.stack = s.u64(c.size());
    r.last_notification = notification_of_flag(s.u32(c["last_notification"]));
    r.first_offset = s.u32(c["first_offset"]);
    r.modified_count = s.u32(c["modified_count"]);
    r.expected = s.blob(c["expected"]);
    r.found = s.blob(c["found"]);
    r.fault_address = s.u64(c["fault_address"]);
    return r;
}

OutlivedRow outlived(const store::Statement& s) {
    OutlivedRow r;
    read_finding_columns<store::kOutlivedColumns>(s, r);
    return r;
}

LeakRow leak(const store::Statement& s) {
    LeakRow r;
    read_report_columns<store::kLeakColumns>(s, r);
    r.stack = s.u64(store::kLeakColumns.size());
    return r;
}

RecordingState recording_state(bool complete, bool writer_active) {
    return complete        ? RecordingState::Finished
           : writer_active ? RecordingState::Live
                           : RecordingState::Interrupted;
}

TraceInfo info(sqlite3* db, const std::string& path, bool writer_active) {
    TraceInfo info = validate::check_meta(db, path);
    info.recording = recording_state(info.complete, writer_active);
    store::Statement v(db, "PRAGMA user_version");
    info.schema_version = v.step() ? v.u32(0) : store::kSchemaVersion;
    v.reset();
    store::Statement count(db, "SELECT count(*) FROM sessions");
    if (count.step()) info.sessions = count.u64(0);
    count.reset();
    return info;
}

std::string sessions_sql(bool has_outlived, std::string_view where) {
    std::string sql = "SELECT " + store::kSessionColumns.names();
    if (has_outlived)
        sql += ", coalesce(o.outlived_blocks, 0), coalesce(o.outlived_bytes, 0) FROM sessions "
               "LEFT JOIN (SELECT session, count(*) AS outlived_blocks, total(size) AS "
               "outlived_bytes FROM outlived GROUP BY session) AS o ON o.session = sessions.id";
    else
        sql += ", 0, 0 FROM sessions";
    return sql + std::string(where);
}

SessionRow session_with_outlived(const store::Statement& s, const TraceInfo& bounds,
                                 const std::string& path) {
    SessionRow r = validate::session_row(s, bounds, path);
    constexpr int extra = static_cast<int>(store::kSessionColumns.size());
    // Sizes are summed as doubles (no wrap); a hostile negative or huge sum is refused, not
    // cast (a cast out of range is undefined).
    const double bytes = s.real(extra + 1);
    if (!(bytes >= 0 && bytes < 9.2e18))
        throw TraceError(TraceError::Kind::Damaged, path,
                         "outlived sizes of session " + std::to_string(r.id) + " out of range");
    r.outlived = s.u64(extra);
    r.outlived_bytes = static_cast<std::uint64_t>(bytes);
    return r;
}

} // namespace memlife::data::rows
