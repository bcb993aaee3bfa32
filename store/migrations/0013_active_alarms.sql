-- hazgate store, schema version 13: the alarms that are still on.
--
-- An alarm that can end (a device in fault, the broker unreachable, the
-- registry stale, the disk low, the gate locked down) is raised once, kept
-- here while its condition lasts and cleared with an event that carries the
-- same id. Kept in the store so that a restart neither raises a fault that
-- is still there a second time nor forgets to clear one that has gone.
--
-- key names the condition ("device_fault/in-1/idcard", "registry_stale"),
-- id is the alarm's id (the id of the alarm row and of its raised event).

CREATE TABLE active_alarms (
    key       TEXT PRIMARY KEY CHECK (key <> ''),
    id        TEXT NOT NULL UNIQUE,
    lane      TEXT NOT NULL,
    kind      TEXT NOT NULL CHECK (kind <> ''),
    code      TEXT NOT NULL,
    raised_at TEXT NOT NULL
) WITHOUT ROWID;
