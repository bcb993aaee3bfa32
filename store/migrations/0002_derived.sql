-- hazgate store, schema version 2: a smaller commit before the barrier.
--
-- The transaction the barrier waits for writes only what must survive a
-- power cut: the record (inspections, passages, decisions, alarms), its
-- audit row and its outbox messages, and the counters page. Every page it
-- touches costs a page write (about as much CPU as the fsync here), so the
-- indexes that only serve searches are no longer SQLite indexes on those
-- tables but small tables of their own, "derived": written by a follow-up
-- transaction right after the commit (synchronous=NORMAL: no fsync), and
-- rebuildable from the records at any time. Each is caught up to a
-- watermark kept in counters:
--   derived_inspections  inspections.rowid up to which check_results and
--                        inspection_search are written
--   derived_audit        audit.seq up to which audit_subjects is written
--   derived_outbox       outbox.seq up to which outbox_ids is written
-- Readers of derived tables first catch them up (store.flushDerived), and
-- Open catches up whatever a crash between the two transactions left.

-- Searching inspections: was the index inspections_search on inspections.
DROP INDEX inspections_search;
CREATE TABLE inspection_search (
    decided_at   TEXT NOT NULL,
    id           TEXT NOT NULL,
    plate_norm   TEXT NOT NULL,
    trailer_norm TEXT NOT NULL,
    driver_id    TEXT NOT NULL,
    escort_id    TEXT NOT NULL,
    waybill      TEXT NOT NULL,
    verdict      TEXT NOT NULL,
    PRIMARY KEY (decided_at, id)
) WITHOUT ROWID;
INSERT INTO inspection_search
    SELECT decided_at, id, plate_norm, trailer_norm, driver_id, escort_id, waybill, verdict FROM inspections;

-- check_results keeps its schema; its rows are now derived from
-- inspections.outcome (they were all written with their inspection so far).

-- Audit entries by subject: was the index audit_subject on audit.
DROP INDEX audit_subject;
CREATE TABLE audit_subjects (
    subject TEXT    NOT NULL,
    seq     INTEGER NOT NULL,
    PRIMARY KEY (subject, seq)
) WITHOUT ROWID;
INSERT INTO audit_subjects SELECT subject, seq FROM audit;

-- Outbox IDs: were UNIQUE on outbox (an index written by every commit).
-- The outbox is rebuilt without it; uniqueness is now the trigger
-- outbox_id_unique, which looks an ID up in outbox_ids and in the few rows
-- above the watermark that outbox_ids does not hold yet: reads of cached
-- pages instead of a page write.
CREATE TABLE outbox_v2 (
    seq        INTEGER PRIMARY KEY,
    id         TEXT NOT NULL,
    kind       TEXT NOT NULL CHECK (kind IN ('inspection', 'passage', 'alarm', 'status', 'telemetry')),
    event_seq  INTEGER,                  -- NULL for status and telemetry
    topic      TEXT NOT NULL CHECK (topic <> ''),
    lane       TEXT NOT NULL,
    payload    TEXT NOT NULL,            -- JSON, without seq
    created_at TEXT NOT NULL,
    sent_at    TEXT
);
INSERT INTO outbox_v2 SELECT seq, id, kind, event_seq, topic, lane, payload, created_at, sent_at FROM outbox;
DROP TABLE outbox; -- with its index and triggers
ALTER TABLE outbox_v2 RENAME TO outbox;

CREATE TABLE outbox_ids (
    id  TEXT PRIMARY KEY,
    seq INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO outbox_ids SELECT id, seq FROM outbox;

CREATE INDEX outbox_droppable ON outbox (seq)
    WHERE sent_at IS NULL AND kind IN ('status', 'telemetry');

-- As in 0001.
CREATE TRIGGER outbox_counters AFTER INSERT ON outbox
BEGIN
    UPDATE counters SET value = max(value, NEW.seq) WHERE name = 'outbox_seq';
    UPDATE counters SET value = max(value, NEW.event_seq) WHERE name = 'event_seq' AND NEW.event_seq IS NOT NULL;
    UPDATE counters SET value = value + 1 WHERE name = 'outbox_pending' AND NEW.sent_at IS NULL;
END;

CREATE TRIGGER outbox_pending_sent AFTER UPDATE OF sent_at ON outbox
WHEN OLD.sent_at IS NULL AND NEW.sent_at IS NOT NULL
BEGIN
    UPDATE counters SET value = value - 1 WHERE name = 'outbox_pending';
END;

CREATE TRIGGER outbox_pending_delete AFTER DELETE ON outbox
WHEN OLD.sent_at IS NULL
BEGIN
    UPDATE counters SET value = value - 1 WHERE name = 'outbox_pending';
END;

-- What UNIQUE (id) did. Every outbox row up to derived_outbox that still
-- exists is in outbox_ids; the rows above it are few (those committed since
-- the last follow-up) and found through the seq B-tree.
CREATE TRIGGER outbox_id_unique BEFORE INSERT ON outbox
WHEN EXISTS (SELECT 1 FROM outbox_ids WHERE id = NEW.id)
  OR EXISTS (SELECT 1 FROM outbox WHERE seq > (SELECT value FROM counters WHERE name = 'derived_outbox') AND id = NEW.id)
BEGIN
    SELECT RAISE(ABORT, 'UNIQUE constraint failed: outbox.id');
END;

CREATE TRIGGER outbox_id_fixed BEFORE UPDATE OF id ON outbox
WHEN NEW.id IS NOT OLD.id
BEGIN
    SELECT RAISE(ABORT, 'outbox.id is fixed');
END;

-- A row that is gone frees its ID, as it did under UNIQUE.
CREATE TRIGGER outbox_ids_delete AFTER DELETE ON outbox
BEGIN
    DELETE FROM outbox_ids WHERE id = OLD.id AND seq = OLD.seq;
END;

INSERT INTO counters (name, value) VALUES
    ('derived_inspections', (SELECT coalesce(max(rowid), 0) FROM inspections)),
    ('derived_audit', (SELECT coalesce(max(seq), 0) FROM audit)),
    ('derived_outbox', (SELECT value FROM counters WHERE name = 'outbox_seq'));
