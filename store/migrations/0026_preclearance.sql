-- hazgate store, schema version 26: pre-clearance (issue 16 part 2).
--
-- preclearances holds every pre-clearance the gate judged and published:
-- an appointment's documentary checks, run against the registry (and the
-- waybill service) before the vehicle arrives. A row is written only when
-- the appointment's result changed since its last row (fingerprint: the
-- checks' results and reason codes, the verdict and the clock's state), so
-- the same appointment and the same data are not published again and
-- again. The latest row of an appointment is its pre-clearance; the older
-- rows are its history. A pre-clearance is never a pass at the lane: every
-- check is judged again on arrival.
CREATE TABLE preclearances (
    id               TEXT PRIMARY KEY,        -- ULID, the event's id
    gate             TEXT NOT NULL,
    appointment_id   TEXT NOT NULL,
    plate            TEXT NOT NULL,
    plate_norm       TEXT NOT NULL,
    trigger          TEXT NOT NULL CHECK (trigger IN ('registry', 'schedule', 'recheck')),
    verdict          TEXT NOT NULL CHECK (verdict IN ('pass', 'reject', 'review')),
    judged_at        TEXT NOT NULL,           -- when the checks ran
    judged_for       TEXT NOT NULL,           -- the instant the documents were judged at
    registry_version INTEGER NOT NULL,
    clock_synced     INTEGER NOT NULL CHECK (clock_synced IN (0, 1)),
    fingerprint      TEXT NOT NULL,
    doc              TEXT NOT NULL            -- JSON: the appointment, the waybill, every check with its reasons
);
CREATE INDEX preclearances_appointment ON preclearances (appointment_id, judged_at);
CREATE INDEX preclearances_judged_at ON preclearances (judged_at);

-- The outbox takes the kind 'preclearance' (the events/preclearance
-- message, an event with its seq like the others). SQLite cannot change a
-- CHECK, so the table is rebuilt as in 0012, with its indexes (0025's
-- too) and triggers; the rows, their seqs and the counters are kept as
-- they are.
CREATE TABLE outbox_v26 (
    seq        INTEGER PRIMARY KEY,
    id         TEXT NOT NULL,
    kind       TEXT NOT NULL CHECK (kind IN ('inspection', 'passage', 'alarm', 'decision', 'preclearance', 'status', 'telemetry')),
    event_seq  INTEGER,                  -- NULL for status and telemetry
    topic      TEXT NOT NULL CHECK (topic <> ''),
    lane       TEXT NOT NULL,
    payload    TEXT NOT NULL,            -- JSON, without seq
    created_at TEXT NOT NULL,
    sent_at    TEXT
);
INSERT INTO outbox_v26 SELECT seq, id, kind, event_seq, topic, lane, payload, created_at, sent_at FROM outbox;
DROP TRIGGER outbox_counters;
DROP TRIGGER outbox_pending_sent;
DROP TRIGGER outbox_pending_delete;
DROP TRIGGER outbox_id_unique;
DROP TRIGGER outbox_id_fixed;
DROP TRIGGER outbox_ids_delete;
DROP TABLE outbox; -- with its index
ALTER TABLE outbox_v26 RENAME TO outbox;

CREATE INDEX outbox_droppable ON outbox (seq)
    WHERE sent_at IS NULL AND kind IN ('status', 'telemetry');

-- As in 0002 and 0012.
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

CREATE TRIGGER outbox_ids_delete AFTER DELETE ON outbox
BEGIN
    DELETE FROM outbox_ids WHERE id = OLD.id AND seq = OLD.seq;
END;

-- As in 0025.
CREATE INDEX outbox_event_seq ON outbox (event_seq) WHERE event_seq IS NOT NULL;
