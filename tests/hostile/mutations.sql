-- The hostile-trace set (issue 18): each entry is applied with sqlite3 to a copy of a
-- recorded trace by make-set.sh. An entry is a line "-- NAME: what it does" followed by its
-- SQL, up to a blank line. Some are refused when the trace is opened, some by the full check
-- of `report` and `check`, some open everywhere and must be shown without harm (huge but
-- consistent values, labels at the recorder's limit). docs/trace-format.md, "What a reader
-- refuses", says which is which.

-- incomplete: the writer did not finish (killed, failed, or still recording)
UPDATE meta SET value = 0 WHERE key = 'complete';

-- negative-count: a count of -1
UPDATE sessions SET requests = -1 WHERE id = 2;

-- text-count: text in an integer column
UPDATE sessions SET requests = 'many' WHERE id = 2;

-- text-everywhere: text in every integer column of every session
UPDATE sessions SET open_ns = 'a', close_ns = 'b', requests = 'c', peak_bytes = 'd', events = 'e', first_seq = 'f', last_seq = 'g';

-- real-count: a fraction where a count goes
UPDATE sessions SET blocks = 1.5 WHERE id = 3;

-- blob-count: random bytes where a count goes
UPDATE sessions SET leaks = randomblob(8) WHERE id = 3;

-- huge-count: 2^63-1 requests
UPDATE sessions SET requests = 9223372036854775807 WHERE id = 2;

-- huge-requests: more requests than a 32-bit request number holds
UPDATE sessions SET requests = 4294967297 WHERE id = 2;

-- wrapping-totals: totals that wrap a 64-bit sum
UPDATE sessions SET leaked_bytes = 9223372036854775807;

-- wrapping-totals-half: two sessions of 2^62 requests each
UPDATE sessions SET released_at_close_bytes = 4611686018427387904 WHERE id < 3;

-- sessions-deleted: the sessions table emptied, the events left
DELETE FROM sessions;

-- session-deleted: one session's row gone
DELETE FROM sessions WHERE id = 5;

-- batches-deleted: the events gone, the sessions left
DELETE FROM event_batches;

-- requests-deleted: the request summaries gone
DELETE FROM request_batches;

-- events-inflated: a session claims more events than its batches hold
UPDATE sessions SET events = events * 3, last_seq = last_seq + 2 * events WHERE id = 4;

-- meta-events-huge: more events than the file can hold
UPDATE meta SET value = 4000000000000 WHERE key = 'events';

-- meta-text: text in a meta count
UPDATE meta SET value = 'lots' WHERE key = 'events';

-- meta-deleted: no meta at all
DELETE FROM meta;

-- meta-negative-times: negative first and last times
UPDATE meta SET value = -1 WHERE key IN ('first_ns', 'last_ns');

-- time-resolution-zero: a time step of 0
UPDATE meta SET value = '0' WHERE key = 'time_resolution_ns';

-- time-resolution-huge: a time step of 2^63-1 ns (opens: the report and the views say so)
UPDATE meta SET value = '9223372036854775807' WHERE key = 'time_resolution_ns';

-- dropped-huge: 2^63-1 dropped events (opens: a count the report prints)
UPDATE meta SET value = 9223372036854775807 WHERE key = 'dropped_events';

-- renumbered: every batch's sequence numbers moved
UPDATE event_batches SET first_seq = first_seq + 1000000, last_seq = last_seq + 1000000;

-- renumbered-consistently: one session's numbers moved with its row and the meta count
UPDATE event_batches SET first_seq = first_seq + 100000, last_seq = last_seq + 100000 WHERE session = 3;
UPDATE sessions SET first_seq = first_seq + 100000, last_seq = last_seq + 100000 WHERE id = 3;
UPDATE meta SET value = value + 100000 WHERE key = 'events';

-- same-seq: every batch starting at sequence number 1
UPDATE event_batches SET first_seq = 1;

-- batch-count-huge: a batch claiming two billion events
UPDATE event_batches SET count = 2000000000 WHERE session = 2;

-- batch-count-negative: a negative batch count
UPDATE event_batches SET count = -1 WHERE session = 2;

-- random-blobs: every event batch's bytes replaced by random ones
UPDATE event_batches SET data = randomblob(length(data));

-- random-request-blobs: every request batch's bytes replaced by random ones
UPDATE request_batches SET data = randomblob(length(data));

-- empty-blobs: empty event batches
UPDATE event_batches SET data = x'';

-- text-blobs: text where the BLOBs go
UPDATE event_batches SET data = 'hello';
UPDATE request_batches SET data = 'hello';

-- request-batch-huge: a request batch claiming a billion requests
UPDATE request_batches SET count = 1000000000, last_number = 2000000000 WHERE session = 1;

-- request-values-huge: a request batch whose records hold 2^63-1 live bytes and request number 2^32-1 (opens: the views must not draw per request number or per byte)
UPDATE request_batches SET count = 2, last_number = 4294967295, data = x'000000feffffffffffffffff010000000000fdffffff0f000001000000000000' WHERE batch = 0;

-- live-start-huge: a batch that starts at 2^63-1 live bytes (opens)
UPDATE event_batches SET live_bytes_at_start = 9223372036854775807 WHERE id IN (SELECT max(id) FROM event_batches GROUP BY session);

-- session-ids-huge: the largest and a negative session id, consistently in every table
UPDATE event_batches SET session = 9223372036854775807 WHERE session = 1;
UPDATE request_batches SET session = 9223372036854775807 WHERE session = 1;
UPDATE sessions SET id = 9223372036854775807 WHERE id = 1;
UPDATE event_batches SET session = -7 WHERE session = 2;
UPDATE request_batches SET session = -7 WHERE session = 2;
UPDATE sessions SET id = -7 WHERE id = 2;

-- reversed-times: sessions that close before they open
UPDATE sessions SET open_ns = 9000000000000000000, close_ns = 1;

-- far-close: a session closing at 9e18 ns, beyond the trace's last time
UPDATE sessions SET close_ns = 9000000000000000000 WHERE id = 1;

-- far-everything: sessions lasting 9e18 ns with the trace's last time moved along (opens: only the full check sees it)
UPDATE meta SET value = 9000000000000000000 WHERE key = 'last_ns';
UPDATE sessions SET close_ns = 9000000000000000000;

-- far-batches: every batch ending at 9e18 ns (opens)
UPDATE meta SET value = 9000000000000000000 WHERE key = 'last_ns';
UPDATE event_batches SET last_ns = 9000000000000000000;

-- zero-first: the trace starting at time 0 and a session opening at 1 ns (opens)
UPDATE meta SET value = 0 WHERE key = 'first_ns';
UPDATE sessions SET open_ns = 1 WHERE id = 1;

-- huge-label: a peer label of 100 KB
UPDATE sessions SET peer = printf('%.*c', 102400, 'x') WHERE id = 1;

-- max-labels: every peer label 1024 bytes of terminal escapes, controls and invalid UTF-8 (opens)
UPDATE sessions SET peer = CAST(substr(CAST(replace(hex(zeroblob(240)), '00', CAST(x'1b5b33316d0a0d09ff' AS TEXT)) AS BLOB), 1, 1024) AS TEXT);

-- blob-label: bytes where the label goes
UPDATE sessions SET peer = randomblob(16) WHERE id = 1;

-- huge-source: a 100 KB source name
UPDATE meta SET value = printf('%.*c', 102400, 's') WHERE key = 'source';

-- huge-growth: growth of 1e300 bytes per request, and -1e300 (opens)
UPDATE sessions SET growth_bytes_per_request = 1e300 WHERE id = 1;
UPDATE sessions SET growth_bytes_per_request = -1e300 WHERE id = 2;

-- infinite-growth: an infinite growth
UPDATE sessions SET growth_bytes_per_request = 9e999 WHERE id = 1;

-- huge-bytes: a peak of 4e18 bytes (opens)
UPDATE sessions SET peak_bytes = 4000000000000000000, released_at_close_bytes = 4000000000000000000, leaked_bytes = 4000000000000000000 WHERE id = 1;

-- view: a view calling fts3_tokenizer
CREATE VIEW v AS SELECT fts3_tokenizer('simple') AS pointer;

-- view-named-events: a view that would hide the events virtual table
CREATE VIEW events AS SELECT 1 AS seq;

-- trigger: a trigger
CREATE TRIGGER t AFTER INSERT ON meta BEGIN DELETE FROM sessions; END;

-- fts3: an fts3 table (its tokenizer is a pointer)
CREATE VIRTUAL TABLE f USING fts3(x);
INSERT INTO f VALUES('hello');

-- extra-table: a table memlife does not write
CREATE TABLE evil(x);

-- extra-index: an index memlife does not write
CREATE INDEX by_peer ON sessions(peer);

-- expression-index: memlife's index name on an expression
DROP INDEX event_batches_by_session;
CREATE INDEX event_batches_by_session ON event_batches(session, abs(first_seq));

-- generated-column: a generated column
ALTER TABLE sessions ADD COLUMN g GENERATED ALWAYS AS (peer || 'x');

-- renamed-column: a column renamed
ALTER TABLE sessions RENAME COLUMN peer TO label;

-- dropped-table: a table dropped
DROP TABLE leaks;

-- dropped-index: an index dropped
DROP INDEX event_batches_by_seq;

-- analyze: statistics tables added
ANALYZE;

-- retyped-table: the sessions table rebuilt without types or constraints (opens: same values)
CREATE TABLE s2 AS SELECT * FROM sessions;
DROP TABLE sessions;
ALTER TABLE s2 RENAME TO sessions;

-- added-column: a plain column at the end of a table (opens: the format allows it)
ALTER TABLE sessions ADD COLUMN note TEXT;

-- newer-schema: a schema version from the future
PRAGMA user_version = 99;

-- no-schema-version: no schema version
PRAGMA user_version = 0;

-- foreign-application: another application's database
PRAGMA application_id = 1234;
