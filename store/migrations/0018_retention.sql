-- hazgate store, schema version 18: records are purged after their
-- retention period (store/retention.go).
--
-- The audit log stays a hash chain when its oldest entries go: the anchor
-- holds the seq and hash of the last entry purged, so that the chain is
-- verified from it (the first entry kept has seq = anchor.seq + 1 and
-- prev_hash = anchor.hash). The transaction that moves the anchor also
-- appends an "audit.purged" entry that names it, so a moved anchor shows in
-- the chain itself. Only entries up to the anchor may be deleted; the anchor
-- only moves forward and is never deleted.

CREATE TABLE audit_anchor (
    one  INTEGER PRIMARY KEY CHECK (one = 1),
    seq  INTEGER NOT NULL CHECK (seq > 0),
    hash TEXT    NOT NULL CHECK (length(hash) = 64),
    at   TEXT    NOT NULL
);

CREATE TRIGGER audit_anchor_forward BEFORE UPDATE ON audit_anchor
WHEN NEW.seq < OLD.seq
BEGIN
    SELECT RAISE(ABORT, 'the audit anchor only moves forward');
END;

CREATE TRIGGER audit_anchor_no_delete BEFORE DELETE ON audit_anchor
BEGIN
    SELECT RAISE(ABORT, 'the audit anchor is never deleted');
END;

DROP TRIGGER audit_no_delete;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
WHEN OLD.seq > coalesce((SELECT seq FROM audit_anchor), 0)
BEGIN
    SELECT RAISE(ABORT, 'audit is append-only: only entries up to the purge anchor may be deleted');
END;

-- An exit's passage names the inspection that let the vehicle in
-- (entry_id). Deleting an inspection looks its passages up by both
-- columns (the foreign keys do, and the purge does first); entry passages
-- leave entry_id NULL, so the index holds only exits.
CREATE INDEX passages_entry ON passages (entry_id) WHERE entry_id IS NOT NULL;
