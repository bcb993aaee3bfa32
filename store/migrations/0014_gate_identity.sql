-- hazgate store, schema version 14: which gate the file belongs to.
--
-- One row: the park and gate names of the configuration `hazgate run` last
-- started with (set at every start), so that `hazgate restore` can refuse a
-- backup made on another gate. at is when it was set.

CREATE TABLE gate_identity (
    one  INTEGER PRIMARY KEY CHECK (one = 1),
    park TEXT NOT NULL CHECK (park <> ''),
    gate TEXT NOT NULL CHECK (gate <> ''),
    at   TEXT NOT NULL
);
