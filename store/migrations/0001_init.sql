-- hazgate store, schema version 1.
-- Times are UTC text of one fixed width (2006-01-02T15:04:05.000000000Z), so
-- they sort and compare as text. Plates in *_norm and key columns are
-- normalised (registry.NormalizePlate); ID numbers have an upper-case X.

-- Registry ------------------------------------------------------------------

CREATE TABLE registry_meta (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    version     INTEGER NOT NULL,
    synced_at   TEXT    NOT NULL,
    source      TEXT    NOT NULL,
    imported_at TEXT    NOT NULL
);

CREATE TABLE vehicles (
    plate   TEXT PRIMARY KEY,            -- normalised
    kind    TEXT NOT NULL,
    carrier TEXT NOT NULL,
    doc     TEXT NOT NULL                -- the registry.Vehicle as JSON
) WITHOUT ROWID;

CREATE TABLE tanks (
    id      TEXT PRIMARY KEY,
    vehicle TEXT    NOT NULL,            -- normalised plate of the carrying vehicle
    pos     INTEGER NOT NULL,            -- order in the snapshot
    doc     TEXT    NOT NULL
) WITHOUT ROWID;
CREATE INDEX tanks_vehicle ON tanks (vehicle, pos);

CREATE TABLE persons (
    id_number TEXT PRIMARY KEY,          -- normalised; certificates are in doc
    name      TEXT NOT NULL,
    doc       TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE waybills (
    number      TEXT PRIMARY KEY,
    vehicle     TEXT NOT NULL,           -- normalised plates
    trailer     TEXT NOT NULL,
    driver      TEXT NOT NULL,           -- normalised ID numbers
    escort      TEXT NOT NULL,
    carrier     TEXT NOT NULL,
    valid_from  TEXT NOT NULL,           -- as written in the registry
    valid_until TEXT NOT NULL,
    doc         TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX waybills_vehicle ON waybills (vehicle);

CREATE TABLE blacklist (
    kind      TEXT NOT NULL CHECK (kind IN ('vehicle', 'person', 'carrier')),
    value     TEXT NOT NULL,             -- normalised for vehicles and persons
    raw_value TEXT NOT NULL,
    reason    TEXT NOT NULL,
    PRIMARY KEY (kind, value)
) WITHOUT ROWID;

-- Inspections and what follows them -----------------------------------------

CREATE TABLE inspections (
    id           TEXT PRIMARY KEY,
    gate         TEXT NOT NULL,
    lane         TEXT NOT NULL,
    direction    TEXT NOT NULL CHECK (direction IN ('in', 'out')),
    plate        TEXT NOT NULL,
    plate_norm   TEXT NOT NULL,
    trailer      TEXT NOT NULL,
    trailer_norm TEXT NOT NULL,
    driver_id    TEXT NOT NULL,
    escort_id    TEXT NOT NULL,
    waybill      TEXT NOT NULL,
    verdict      TEXT NOT NULL CHECK (verdict IN ('pass', 'reject', 'review')),
    decided_by   TEXT NOT NULL,
    arrived_at   TEXT NOT NULL,
    decided_at   TEXT NOT NULL,
    evidence     TEXT NOT NULL,          -- checks.Evidence as JSON
    outcome      TEXT NOT NULL,          -- checks.Outcome as JSON
    timings      TEXT NOT NULL           -- step -> nanoseconds after arrival
);
-- Every index costs a page write in the commit that the barrier waits for,
-- and an index on a key (plate, ID number, waybill) writes a page anywhere
-- in its tree. So there is one search index, in decision order, that holds
-- every key: each commit appends to its last page, and a search by key
-- reads it newest first, a few dozen bytes per inspection, without
-- touching the rows.
CREATE INDEX inspections_search ON inspections
    (decided_at, plate_norm, trailer_norm, driver_id, escort_id, waybill, verdict);

CREATE TABLE check_results (
    inspection_id TEXT NOT NULL REFERENCES inspections (id),
    check_id      TEXT NOT NULL,
    result        TEXT NOT NULL CHECK (result IN ('pass', 'fail', 'unknown')),
    reasons       TEXT NOT NULL,         -- JSON array of reason codes
    PRIMARY KEY (inspection_id, check_id)
) WITHOUT ROWID;
-- Searching is for the checks that did not pass; most rows are passes.
CREATE INDEX check_results_not_passed ON check_results (check_id, result) WHERE result <> 'pass';

CREATE TABLE passages (
    id            TEXT PRIMARY KEY,
    inspection_id TEXT REFERENCES inspections (id),
    gate          TEXT    NOT NULL,
    lane          TEXT    NOT NULL,
    direction     TEXT    NOT NULL CHECK (direction IN ('in', 'out')),
    plate         TEXT    NOT NULL,
    plate_norm    TEXT    NOT NULL,
    at            TEXT    NOT NULL,
    entry_id      TEXT REFERENCES inspections (id),
    stay_ns       INTEGER NOT NULL
);
CREATE INDEX passages_plate ON passages (plate_norm, direction, at);
CREATE INDEX passages_inspection ON passages (inspection_id);

CREATE TABLE decisions (
    id            INTEGER PRIMARY KEY,
    inspection_id TEXT NOT NULL REFERENCES inspections (id),
    operator      TEXT NOT NULL CHECK (operator <> ''),
    action        TEXT NOT NULL CHECK (action IN ('release', 'refuse')),
    reason        TEXT NOT NULL CHECK (reason <> ''),
    at            TEXT NOT NULL
);
CREATE INDEX decisions_inspection ON decisions (inspection_id);

CREATE TABLE alarms (
    id     TEXT PRIMARY KEY,
    gate   TEXT NOT NULL,
    lane   TEXT NOT NULL,
    kind   TEXT NOT NULL,
    detail TEXT NOT NULL,
    at     TEXT NOT NULL
);
CREATE INDEX alarms_at ON alarms (at);

-- Face images, purged after the retention period. No foreign key: an image
-- may be kept before its inspection is committed.
CREATE TABLE media (
    id            INTEGER PRIMARY KEY,
    inspection_id TEXT NOT NULL,
    kind          TEXT NOT NULL,
    data          BLOB NOT NULL,
    created_at    TEXT NOT NULL
);
CREATE INDEX media_inspection ON media (inspection_id);
CREATE INDEX media_created ON media (created_at);

-- Counters, all on one page (a commit touches it anyway). The triggers on
-- audit and outbox keep them, except outbox_low, which MarkSent moves.
-- event_seq       the gate's event sequence (inspection, passage, alarm)
-- outbox_seq      the last outbox seq handed out
-- outbox_low      every outbox seq below it is sent or gone
-- outbox_pending  the number of unsent outbox rows
-- audit_seq       the last audit seq handed out, so rows deleted from the
--                 end of the audit log show as a gap
CREATE TABLE counters (
    name  TEXT PRIMARY KEY,
    value INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO counters (name, value) VALUES
    ('event_seq', 0), ('outbox_seq', 0), ('outbox_low', 1), ('outbox_pending', 0), ('audit_seq', 0);

-- Audit log: append-only, each row hashed with the previous row's hash.
-- A new row's seq is counters.audit_seq + 1.

CREATE TABLE audit (
    seq       INTEGER PRIMARY KEY,
    ts        TEXT NOT NULL,
    actor     TEXT NOT NULL,
    action    TEXT NOT NULL,
    subject   TEXT NOT NULL,
    detail    TEXT NOT NULL,             -- JSON
    prev_hash TEXT NOT NULL,
    hash      TEXT NOT NULL
);
CREATE INDEX audit_subject ON audit (subject, seq);

CREATE TRIGGER audit_seq AFTER INSERT ON audit
BEGIN
    UPDATE counters SET value = max(value, NEW.seq) WHERE name = 'audit_seq';
END;

CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN
    SELECT RAISE(ABORT, 'audit is append-only');
END;

CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN
    SELECT RAISE(ABORT, 'audit is append-only');
END;

-- Outbox: every message for the uplink, written in the transaction that
-- creates it. seq is the delivery order (from counters.outbox_seq) and is
-- never reused; event_seq is the gate's event sequence, strictly +1 over
-- inspections, passages and alarms. Unsent rows are found from
-- counters.outbox_low up, in seq order.

CREATE TABLE outbox (
    seq        INTEGER PRIMARY KEY,
    id         TEXT NOT NULL UNIQUE,
    kind       TEXT NOT NULL CHECK (kind IN ('inspection', 'passage', 'alarm', 'status', 'telemetry')),
    event_seq  INTEGER,                  -- NULL for status and telemetry
    topic      TEXT NOT NULL CHECK (topic <> ''),
    lane       TEXT NOT NULL,
    payload    TEXT NOT NULL,            -- JSON, without seq
    created_at TEXT NOT NULL,
    sent_at    TEXT
);
CREATE INDEX outbox_droppable ON outbox (seq)
    WHERE sent_at IS NULL AND kind IN ('status', 'telemetry');

-- A new row's seq is counters.outbox_seq + 1, and an event's event_seq is
-- counters.event_seq + 1.
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
