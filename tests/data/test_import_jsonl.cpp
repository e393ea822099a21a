// The JSON-lines importer on hand-made files (tests/fixtures/import/*.jsonl): every field,
// reports, strict errors, lenient counts, bad files.
#include <gtest/gtest.h>

#include "memlife/data/import.hpp"
#include "test_import_sink.hpp"

using namespace memlife;
using memlife::data::ImportError;
using memlife::data::ImportOptions;
using memlife::data::ImportStats;
using memlife::test::fixture;
using memlife::test::RecordingSink;

namespace {

std::string strict_error(const std::string& path) {
    RecordingSink sink;
    try {
        data::import_jsonl(path, sink);
    } catch (const ImportError& e) {
        return e.what();
    }
    return "";
}

std::string buffer_error(const std::string& text) {
    RecordingSink sink;
    try {
        data::import_jsonl_buffer(text, sink, {}, "t.jsonl");
    } catch (const ImportError& e) {
        return e.what();
    }
    return "";
}

TEST(ImportJsonl, DecodesEveryField) {
    RecordingSink sink;
    const ImportStats stats = data::import_jsonl(fixture("import/valid.jsonl"), sink);
    EXPECT_EQ(stats.lines, 11u);
    EXPECT_EQ(stats.skipped_lines, 1u); // the blank line
    EXPECT_EQ(stats.events, 10u);
    EXPECT_EQ(stats.sessions, 1u);
    EXPECT_EQ(stats.open_sessions, 0u);
    EXPECT_EQ(stats.leaks, 1u);
    ASSERT_EQ(sink.events.size(), 10u);
    ASSERT_EQ(sink.peers.size(), 1u);
    EXPECT_EQ(sink.peers[0], (std::pair<std::uint64_t, std::string>{1, "10.0.0.7:51234"}));

    const Event& open = sink.events[0];
    EXPECT_EQ(open.kind, EventKind::SessionOpen);
    EXPECT_EQ(open.time_ns, 1000u);
    const Event& notification = sink.events[2];
    EXPECT_EQ(notification.kind, EventKind::Notification);
    EXPECT_EQ(notification.notification, Notification::UrlMap);
    const Event& alloc = sink.events[3];
    EXPECT_EQ(alloc.kind, EventKind::Alloc);
    EXPECT_EQ(alloc.time_ns, 1200u);
    EXPECT_EQ(alloc.session, 1u);
    EXPECT_EQ(alloc.request, 1u);
    EXPECT_EQ(alloc.block, 1u);
    EXPECT_EQ(alloc.address, 0x7f0000001000u);
    EXPECT_EQ(alloc.size, 256u);
    EXPECT_EQ(alloc.scope, Scope::Session);
    EXPECT_EQ(alloc.notification, Notification::UrlMap);
    EXPECT_EQ(alloc.flags, static_cast<std::uint8_t>(AllocOrigin::AllocMem));
    const Event& noted = sink.events[4];
    EXPECT_EQ(noted.scope, Scope::Request);
    EXPECT_EQ(noted.flags, static_cast<std::uint8_t>(AllocOrigin::Noted));
    const Event& corruption = sink.events[8];
    EXPECT_EQ(corruption.kind, EventKind::Corruption);
    EXPECT_EQ(corruption.flags, 3u);
    const Event& close = sink.events[9];
    EXPECT_EQ(close.kind, EventKind::SessionClose);
    EXPECT_EQ(close.size, 256u);
    EXPECT_EQ(close.block, 1u);

    ASSERT_EQ(sink.reports.size(), 2u);
    const ml_report& leak = sink.reports[0];
    EXPECT_EQ(leak.kind, ML_REPORT_LEAK);
    EXPECT_EQ(leak.block_id, 2u);
    EXPECT_EQ(leak.alloc_request, 1u);
    EXPECT_EQ(leak.scope, ML_SCOPE_REQUEST);
    EXPECT_EQ(leak.time_ns, 1400u);
    EXPECT_STREQ(leak.message, "Leak: 4096 bytes at 0x7f0000002000 allocated in NONE of request 1 "
                               "still live at end of request");
    const ml_report& c = sink.reports[1];
    EXPECT_EQ(c.kind, ML_REPORT_CORRUPTION);
    EXPECT_EQ(c.address, 0x7f0000001000u);
    EXPECT_EQ(c.alloc_notification, static_cast<std::uint32_t>(ML_NOTIFY_URL_MAP));
    EXPECT_EQ(c.first_offset, 3u);
    EXPECT_EQ(c.modified_count, 1u);
    ASSERT_EQ(c.tail_len, 4u);
    EXPECT_EQ(c.expected[0], 0xa1);
    EXPECT_EQ(c.expected[3], 0xd4);
    EXPECT_EQ(c.found[3], 0x00);
    EXPECT_STREQ(
        c.message,
        "Heap block at 0x7f0000001000 modified at 0x7f0000001103 past requested size of 256");
}

TEST(ImportJsonl, UnknownEventKind) {
    const std::string path = fixture("import/unknown-kind.jsonl");
    EXPECT_EQ(strict_error(path), path + ":2: unknown event kind \"teleport\"");
    RecordingSink sink;
    ImportOptions lenient;
    lenient.lenient = true;
    const ImportStats stats = data::import_jsonl(path, sink, lenient);
    EXPECT_EQ(stats.malformed_lines, 1u);
    EXPECT_EQ(stats.events, 2u);
}

TEST(ImportJsonl, TruncatedLine) {
    const std::string path = fixture("import/truncated-line.jsonl");
    EXPECT_EQ(strict_error(path), path + ":2: invalid JSON at column 50");
    // The last line cut short (no newline, no closing brace) is malformed too.
    EXPECT_EQ(buffer_error("{\"kind\":\"session_open\",\"t\":1,\"session\":1}\n{\"kind\":\"sess"),
              "t.jsonl:2: invalid JSON at column 14");
}

TEST(ImportJsonl, BadFieldsAndReferences) {
    const std::string path = fixture("import/bad-fields.jsonl");
    EXPECT_EQ(strict_error(path), path + ":2: session 2 is not open");
    RecordingSink sink;
    ImportOptions lenient;
    lenient.lenient = true;
    const ImportStats stats = data::import_jsonl(path, sink, lenient);
    EXPECT_EQ(stats.malformed_lines, 4u); // unknown session, negative size, time back, array
    EXPECT_EQ(stats.events, 2u);

    const std::string open = "{\"kind\":\"session_open\",\"t\":1,\"session\":1}\n";
    EXPECT_EQ(buffer_error(open + "{\"kind\":\"alloc\",\"t\":2,\"session\":1,\"size\":-8}\n"),
              "t.jsonl:2: \"size\" must be an integer from 0 to 18446744073709551615");
    EXPECT_EQ(buffer_error(open + "{\"kind\":\"alloc\",\"t\":0,\"session\":1}\n"),
              "t.jsonl:2: time goes backwards (t 0 after 1)");
    EXPECT_EQ(buffer_error(open + open), "t.jsonl:2: session 1 is already open");
    EXPECT_EQ(buffer_error(open + "[1]\n"), "t.jsonl:2: not a JSON object");
    EXPECT_EQ(buffer_error(open + "{\"t\":2}\n"), "t.jsonl:2: missing \"kind\"");
    EXPECT_EQ(buffer_error(open + "{\"kind\":\"alloc\",\"session\":1}\n"),
              "t.jsonl:2: missing \"t\"");
    EXPECT_EQ(
        buffer_error(open + "{\"kind\":\"alloc\",\"t\":2,\"session\":1,\"address\":\"12\"}\n"),
        "t.jsonl:2: \"address\" must be a hex string \"0x...\"");
    EXPECT_EQ(buffer_error(open + "{\"kind\":\"alloc\",\"t\":2,\"session\":1,\"scope\":\"x\"}\n"),
              "t.jsonl:2: unknown scope \"x\"");
    EXPECT_EQ(buffer_error(open + "{\"kind\":\"alloc\",\"t\":2,\"session\":1,\"origin\":\"x\"}\n"),
              "t.jsonl:2: unknown origin \"x\"");
    EXPECT_EQ(buffer_error(
                  open + "{\"kind\":\"notification\",\"t\":2,\"session\":1,\"notification\":7}\n"),
              "t.jsonl:2: \"notification\" must be a string");
    EXPECT_EQ(buffer_error(open + "{\"kind\":\"notification\",\"t\":2,\"session\":1,"
                                  "\"notification\":\"LUNCH\"}\n"),
              "t.jsonl:2: unknown notification \"LUNCH\"");
    EXPECT_EQ(
        buffer_error(open + "{\"kind\":\"leak\",\"t\":2,\"session\":1,\"expected\":\"ab\"}\n"),
        "t.jsonl:2: \"expected\" and \"found\" must have the same length");
    // A number beyond a double: nlohmann-json throws out_of_range, not parse_error (fuzzing).
    EXPECT_EQ(buffer_error(open + "{\"kind\":\"alloc\",\"t\":1e999999,\"session\":1}\n"),
              "t.jsonl:2: invalid JSON (number out of range)");
    EXPECT_EQ(buffer_error(open + "{\"kind\":\"drop\",\"t\":2,\"size\":5}\n"), "");
    // An address may also be a plain number; unknown keys are ignored (forward compatible).
    RecordingSink numbers;
    data::import_jsonl_buffer(
        open + "{\"kind\":\"alloc\",\"t\":2,\"session\":1,\"address\":4096,\"color\":\"red\"}\n",
        numbers);
    ASSERT_EQ(numbers.events.size(), 2u);
    EXPECT_EQ(numbers.events[1].address, 4096u);
}

TEST(ImportJsonl, BadFilesGiveOneLineErrors) {
    const std::string missing = "/nonexistent/memlife/trace.jsonl";
    EXPECT_EQ(strict_error(missing), missing + ": No such file or directory");
    EXPECT_EQ(buffer_error(""), "t.jsonl: empty file");
    EXPECT_EQ(buffer_error("\n\n"), "t.jsonl: no events (not a memlife JSON-lines trace)");
    const std::string foreign = fixture("nginx-debug-keepalive.log");
    EXPECT_EQ(strict_error(foreign), foreign + ":1: invalid JSON at column 5");
    // A foreign file in lenient mode is not silently an empty trace.
    RecordingSink sink;
    ImportOptions lenient;
    lenient.lenient = true;
    EXPECT_THROW(data::import_jsonl(foreign, sink, lenient), ImportError);
    std::string junk(4096, '\0');
    for (std::size_t i = 0; i < junk.size(); ++i)
        junk[i] = static_cast<char>(i * 7919 % 251);
    EXPECT_THROW(data::import_jsonl_buffer(junk, sink, lenient), ImportError);
}

// A file that reopens session 1 after closing it holds two connections: strict mode refuses
// it at the line (ids must not be reused); lenient mode keeps them apart, the second under
// the next free id, each with its own peer.
TEST(ImportJsonl, ReusedSessionIdIsNotMerged) {
    const std::string text =
        "{\"kind\":\"session_open\",\"t\":1,\"session\":1,\"peer\":\"first\"}\n"
        "{\"kind\":\"session_close\",\"t\":2,\"session\":1}\n"
        "{\"kind\":\"session_open\",\"t\":3,\"session\":2,\"peer\":\"two\"}\n"
        "{\"kind\":\"session_open\",\"t\":4,\"session\":1,\"peer\":\"again\"}\n"
        "{\"kind\":\"request_begin\",\"t\":5,\"session\":1,\"request\":1}\n"
        "{\"kind\":\"session_close\",\"t\":6,\"session\":1}\n"
        "{\"kind\":\"session_open\",\"t\":7,\"session\":3,\"peer\":\"three\"}\n";
    EXPECT_EQ(buffer_error(text),
              "t.jsonl:4: session 1 was opened before (session ids must not be reused)");
    RecordingSink sink;
    ImportOptions lenient;
    lenient.lenient = true;
    const ImportStats stats = data::import_jsonl_buffer(text, sink, lenient);
    EXPECT_EQ(stats.sessions, 4u);
    EXPECT_EQ(stats.malformed_lines, 0u);
    using Peer = std::pair<std::uint64_t, std::string>;
    // The reopened session 1 became session 3 (1 and 2 were taken); the file's own session 3
    // then takes the next free id, 4.
    EXPECT_EQ(sink.peers,
              (std::vector<Peer>{{1, "first"}, {2, "two"}, {3, "again"}, {4, "three"}}));
    EXPECT_EQ(sink.of_session(1).size(), 2u);
    ASSERT_EQ(sink.of_session(3).size(), 3u);
    EXPECT_EQ(sink.of_session(3)[1].kind, EventKind::RequestBegin);
    EXPECT_EQ(stats.open_sessions, 2u); // 2 and 4
}

// Lines are bounded at 1 MiB, however they arrive (a line that fits the read buffer used
// to pass up to 2 MiB); a line past 64 MiB ends the import in every mode.
TEST(ImportJsonl, LinesAreBoundedAtOneMiB) {
    const std::string open = "{\"kind\":\"session_open\",\"t\":1,\"session\":1}";
    const std::size_t mib = 1u << 20;
    const std::string at_limit = open + std::string(mib - open.size(), ' ') + "\n";
    const std::string past_limit = open + std::string(mib + 1 - open.size(), ' ') + "\n";
    EXPECT_EQ(buffer_error(at_limit), "");
    EXPECT_EQ(buffer_error(past_limit), "t.jsonl:1: line longer than 1 MiB");
    EXPECT_EQ(buffer_error(open + "\n" + std::string(3 * mib, ' ') + "\n"),
              "t.jsonl:2: line longer than 1 MiB");
    ImportOptions lenient;
    lenient.lenient = true;
    RecordingSink sink;
    EXPECT_EQ(data::import_jsonl_buffer(open + "\n" + past_limit, sink, lenient).malformed_lines,
              1u);
    try {
        data::import_jsonl_buffer(open + "\n" + std::string(65 * mib, 'x'), sink, lenient,
                                  "zero.jsonl");
        FAIL() << "no error";
    } catch (const ImportError& e) {
        EXPECT_STREQ(e.what(), "zero.jsonl:2: line longer than 64 MiB (the input is not text)");
    }
}

} // namespace
