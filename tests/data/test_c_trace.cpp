// memlife/trace.h: a C program's sessions recorded into a trace through the C API, read
// back with the reader; every error code of the recording calls.
#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "memlife/data/reader.hpp"
#include "memlife/memlife.h"
#include "memlife/trace.h"
#include "temp_dir.hpp"

using namespace memlife;
using namespace memlife::data;
using memlife::test::TempDir;

namespace {

// One keep-alive connection through the C API: `requests` requests, one AllocMem each that
// lives until the close, request memory, and (optionally) a tail overrun and a leaked
// noted block.
void c_connection(const char* peer, int requests, bool faults) {
    ml_session* s = ml_session_open(peer);
    ASSERT_NE(s, nullptr);
    static int noted; // another allocator's memory
    for (int r = 0; r < requests; ++r) {
        ASSERT_EQ(ml_request_begin(s), ML_OK);
        ASSERT_EQ(ml_set_notification(s, ML_NOTIFY_URL_MAP), ML_OK);
        char* kept = static_cast<char*>(ml_alloc_mem(s, 100, 0));
        ASSERT_NE(kept, nullptr);
        if (faults && r == 1) kept[100] = 'X'; // one past the end: the tail
        ASSERT_NE(ml_alloc_request(s, 1000), nullptr);
        ASSERT_EQ(ml_set_notification(s, ML_NOTIFY_END_OF_REQUEST), ML_OK);
        ASSERT_EQ(ml_request_end(s), ML_OK);
    }
    if (faults) {
        ASSERT_EQ(ml_note_alloc(s, &noted, sizeof noted, ML_SCOPE_SESSION), ML_OK);
    }
    ml_session_close(s);
}

} // namespace

TEST(CTrace, RecordsTheSessionsOpenedWhileRecording) {
    TempDir dir;
    const std::string path = dir.file("c.mltrace");
    c_connection("before", 2, false); // not recorded

    ASSERT_EQ(ml_trace_start(path.c_str()), ML_OK);
    EXPECT_EQ(ml_trace_start(path.c_str()), ML_ERR_TRACE_ACTIVE);
    EXPECT_EQ(ml_last_error(), ML_ERR_TRACE_ACTIVE);
    c_connection("10.0.0.1:5000", 5, true);
    c_connection("10.0.0.2:5001", 3, false);
    ml_session* open = ml_session_open("still open");
    ASSERT_EQ(ml_request_begin(open), ML_OK);
    EXPECT_EQ(ml_trace_flush(), ML_OK);
    {
        // Flushed: what the sessions handed over is already in the file.
        const TraceReader reader(path);
        EXPECT_EQ(reader.sessions().size(), 3u);
    }
    EXPECT_EQ(ml_trace_stop(), ML_ERR_SESSIONS_OPEN); // `open` still records into it
    EXPECT_EQ(ml_last_error(), ML_ERR_SESSIONS_OPEN);
    ASSERT_EQ(ml_request_end(open), ML_OK);
    ml_session_close(open);
    ASSERT_EQ(ml_trace_stop(), ML_OK);
    c_connection("after", 2, false); // not recorded
    EXPECT_EQ(ml_trace_stop(), ML_ERR_NO_TRACE);

    const TraceReader reader(path);
    const TraceInfo info = reader.info();
    EXPECT_EQ(info.source, "c-api");
    EXPECT_EQ(info.sessions, 3u);
    const std::vector<SessionRow> sessions = reader.sessions();
    ASSERT_EQ(sessions.size(), 3u);
    EXPECT_EQ(sessions[0].peer, "10.0.0.1:5000");
    EXPECT_EQ(sessions[0].requests, 5u);
    EXPECT_EQ(sessions[0].corruptions, 1u);
    EXPECT_EQ(sessions[0].leaks, 1u);
    EXPECT_NEAR(sessions[0].growth_bytes_per_request, 100.0, 0.5); // the keep-alive leak
    EXPECT_EQ(sessions[1].peer, "10.0.0.2:5001");
    EXPECT_EQ(sessions[1].requests, 3u);
    EXPECT_EQ(sessions[1].corruptions, 0u);
    EXPECT_EQ(sessions[2].peer, "still open");
    EXPECT_TRUE(sessions[2].closed());
    const auto corruptions = reader.corruptions();
    ASSERT_EQ(corruptions.size(), 1u);
    EXPECT_EQ(corruptions[0].found[0], 'X');
    EXPECT_EQ(corruptions[0].alloc_notification, Notification::UrlMap);
    EXPECT_TRUE(reader.order_violations().empty());

    // A second recording in the same process.
    const std::string second = dir.file("second.mltrace");
    ASSERT_EQ(ml_trace_start(second.c_str()), ML_OK);
    c_connection("again", 1, false);
    ASSERT_EQ(ml_trace_stop(), ML_OK);
    EXPECT_EQ(TraceReader(second).sessions().size(), 1u);
}

TEST(CTrace, ErrorsAreCodesAndOneLine) {
    EXPECT_EQ(ml_trace_start(nullptr), ML_ERR_INVALID_PARAMETER);
    EXPECT_EQ(ml_trace_start(""), ML_ERR_INVALID_PARAMETER);
    EXPECT_EQ(ml_trace_flush(), ML_ERR_NO_TRACE);
    EXPECT_EQ(ml_trace_stop(), ML_ERR_NO_TRACE);
    EXPECT_EQ(ml_last_error(), ML_ERR_NO_TRACE);
    const char* missing = "/nonexistent-memlife-dir/x.mltrace";
    EXPECT_EQ(ml_trace_start(missing), ML_ERR_TRACE_IO);
    const std::string error = ml_trace_error();
    EXPECT_EQ(error.rfind(std::string(missing) + ": ", 0), 0u) << error;
    EXPECT_EQ(error.find('\n'), std::string::npos);
    EXPECT_EQ(ml_trace_flush(), ML_ERR_NO_TRACE); // nothing started
    for (int code : {ML_ERR_TRACE_ACTIVE, ML_ERR_NO_TRACE, ML_ERR_TRACE_IO, ML_ERR_SESSIONS_OPEN})
        EXPECT_STRNE(ml_strerror(code), "unknown error") << code;
}
