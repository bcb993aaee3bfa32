-- gate_state gains the evacuation (issue 13 part 5):
--   evacuation '0' once ended (no row is '0'); while the gate evacuates,
--              who may end it: 'office' (started by a signed command: only
--              a command ends it) or 'kiosk' (started by a supervisor at
--              the kiosk: only a kiosk supervisor ends it). Any other
--              value is on, and only the office ends it.
-- SQLite cannot change a CHECK: the table is made again with its rows.

CREATE TABLE gate_state_new (
    name  TEXT PRIMARY KEY CHECK (name IN ('lockdown', 'evacuation')),
    value TEXT NOT NULL,
    by    TEXT NOT NULL,
    at    TEXT NOT NULL
) WITHOUT ROWID;

INSERT INTO gate_state_new (name, value, by, at) SELECT name, value, by, at FROM gate_state;
DROP TABLE gate_state;
ALTER TABLE gate_state_new RENAME TO gate_state;
