-- Gate-wide state that must survive a restart. One row per name:
--   lockdown   '1' while the gate is locked down (every lane holds its
--              barrier closed), '0' once lifted; no row is '0'.
-- by is who last set it (an operator, "remote:<key>", ...), at when.
-- The audit log says why; this table is only the current value.

CREATE TABLE gate_state (
    name  TEXT PRIMARY KEY CHECK (name IN ('lockdown')),
    value TEXT NOT NULL,
    by    TEXT NOT NULL,
    at    TEXT NOT NULL
) WITHOUT ROWID;
