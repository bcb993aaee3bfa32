-- hazgate store, schema version 12: one operator decision per inspection,
-- and the decision's own event.
--
-- A release or a refusal closes the case: a second decision on the same
-- inspection is refused. The store checks it in the transaction that
-- records the decision (store.RecordDecision, ErrDecided); the trigger
-- decisions_once refuses it again for any other writer. It is a trigger
-- and not a UNIQUE index so that a file that already holds a second
-- decision (a second refusal was accepted before) upgrades and keeps both:
-- nothing recorded is lost.
CREATE TRIGGER decisions_once BEFORE INSERT ON decisions
WHEN EXISTS (SELECT 1 FROM decisions WHERE inspection_id = NEW.inspection_id)
BEGIN
    SELECT RAISE(ABORT, 'decision already recorded for this inspection');
END;

-- The outbox takes the kind 'decision' (the events/decision message, an
-- event with its seq like the others). SQLite cannot change a CHECK, so the
-- table is rebuilt as in 0002, with its index and triggers; the rows, their
-- seqs and the counters are kept as they are.
CREATE TABLE outbox_v12 (
    seq        INTEGER PRIMARY KEY,
    id         TEXT NOT NULL,
    kind       TEXT NOT NULL CHECK (kind IN ('inspection', 'passage', 'alarm', 'decision', 'status', 'telemetry')),
    event_seq  INTEGER,                  -- NULL for status and telemetry
    topic      TEXT NOT NULL CHECK (topic <> ''),
    lane       TEXT NOT NULL,
    payload    TEXT NOT NULL,            -- JSON, without seq
    created_at TEXT NOT NULL,
    sent_at    TEXT
);
INSERT INTO outbox_v12 SELECT seq, id, kind, event_seq, topic, lane, payload, created_at, sent_at FROM outbox;
DROP TRIGGER outbox_counters;
DROP TRIGGER outbox_pending_sent;
DROP TRIGGER outbox_pending_delete;
DROP TRIGGER outbox_id_unique;
DROP TRIGGER outbox_id_fixed;
DROP TRIGGER outbox_ids_delete;
DROP TABLE outbox; -- with its index
ALTER TABLE outbox_v12 RENAME TO outbox;

CREATE INDEX outbox_droppable ON outbox (seq)
    WHERE sent_at IS NULL AND kind IN ('status', 'telemetry');

-- As in 0002.
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
